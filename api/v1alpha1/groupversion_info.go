// Package v1alpha1 contains the API types of the serving.inferenceops.dev group, version v1alpha1.
//
// The package depends only on the standard library, k8s.io/api and k8s.io/apimachinery,
// so that other projects can import the types cheaply.
//
// +kubebuilder:object:generate=true
// +groupName=serving.inferenceops.dev
package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

var (
	// GroupVersion is the group and version of the InferenceService API.
	GroupVersion = schema.GroupVersion{Group: "serving.inferenceops.dev", Version: "v1alpha1"}

	// SchemeBuilder registers the types of this group version with a runtime.Scheme.
	SchemeBuilder = runtime.NewSchemeBuilder(addKnownTypes)

	// AddToScheme adds the types of this group version to a runtime.Scheme.
	AddToScheme = SchemeBuilder.AddToScheme
)

func addKnownTypes(scheme *runtime.Scheme) error {
	scheme.AddKnownTypes(GroupVersion, &InferenceService{}, &InferenceServiceList{})
	metav1.AddToGroupVersion(scheme, GroupVersion)
	return nil
}
