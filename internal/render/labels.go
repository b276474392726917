package render

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	servingv1alpha1 "github.com/inferenceops/inference-operator/api/v1alpha1"
)

const (
	// ManagedByValue is the app.kubernetes.io/managed-by value on every child. The
	// manager's cache selects children by it, so it never holds objects it does not manage.
	ManagedByValue = "inference-operator"

	// LabelManagedBy is the standard managed-by label key.
	LabelManagedBy = "app.kubernetes.io/managed-by"
	// LabelName is the standard name label key.
	LabelName = "app.kubernetes.io/name"
	// LabelInstance is the standard instance label key.
	LabelInstance = "app.kubernetes.io/instance"
	// LabelComponent is the standard component label key.
	LabelComponent = "app.kubernetes.io/component"
	// LabelInferenceService names the InferenceService a pod belongs to. It is the only
	// key of the Deployment selector, so the selector never changes with the spec.
	LabelInferenceService = "serving.inferenceops.dev/inferenceservice"

	componentValue = "inference-server"
	nameValue      = "inference-service"

	// ContainerName is the name of the model server container.
	ContainerName = "inference-server"
	// PortName names the inference port on the container and the Service.
	PortName = "http"

	// deploymentKind is the kind of the scale target of the HPA and the ScaledObject.
	deploymentKind = "Deployment"
)

// SelectorLabels are the labels that select the pods of an InferenceService. They depend
// only on its name, which never changes, so the immutable Deployment selector stays valid.
func SelectorLabels(isvc *servingv1alpha1.InferenceService) map[string]string {
	return map[string]string{LabelInferenceService: isvc.Name}
}

// Labels are the labels every child carries.
func Labels(isvc *servingv1alpha1.InferenceService) map[string]string {
	return map[string]string{
		LabelName:             nameValue,
		LabelInstance:         isvc.Name,
		LabelComponent:        componentValue,
		LabelManagedBy:        ManagedByValue,
		LabelInferenceService: isvc.Name,
	}
}

// podLabels are the labels of the pod template: the user's podLabels with the operator's
// labels on top, so a user label can never break the selector.
func podLabels(isvc *servingv1alpha1.InferenceService) map[string]string {
	labels := make(map[string]string, len(isvc.Spec.PodLabels)+5)
	for k, v := range isvc.Spec.PodLabels {
		labels[k] = v
	}
	for k, v := range Labels(isvc) {
		labels[k] = v
	}
	return labels
}

// objectMeta is the metadata shared by every child: the CR's name and namespace, the
// standard labels and a controller owner reference to the InferenceService.
func objectMeta(isvc *servingv1alpha1.InferenceService) metav1.ObjectMeta {
	return metav1.ObjectMeta{
		Name:            isvc.Name,
		Namespace:       isvc.Namespace,
		Labels:          Labels(isvc),
		OwnerReferences: []metav1.OwnerReference{OwnerReference(isvc)},
	}
}

// OwnerReference is the controller owner reference every child carries, so that the
// garbage collector removes children with their InferenceService.
func OwnerReference(isvc *servingv1alpha1.InferenceService) metav1.OwnerReference {
	return metav1.OwnerReference{
		APIVersion:         servingv1alpha1.GroupVersion.String(),
		Kind:               "InferenceService",
		Name:               isvc.Name,
		UID:                isvc.UID,
		Controller:         ptr.To(true),
		BlockOwnerDeletion: ptr.To(true),
	}
}
