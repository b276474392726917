// Package v1alpha1 contains the API types of the serving.inferenceops.dev group, version v1alpha1.
//
// +kubebuilder:object:generate=true
// +groupName=serving.inferenceops.dev
package v1alpha1

import (
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/scheme"
)

var (
	// GroupVersion is the group and version of the InferenceService API.
	GroupVersion = schema.GroupVersion{Group: "serving.inferenceops.dev", Version: "v1alpha1"}

	// SchemeBuilder registers the types of this group version with a runtime.Scheme.
	SchemeBuilder = &scheme.Builder{GroupVersion: GroupVersion}

	// AddToScheme adds the types of this group version to a runtime.Scheme.
	AddToScheme = SchemeBuilder.AddToScheme
)
