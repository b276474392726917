package render

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	servingv1alpha1 "github.com/inferenceops/inference-operator/api/v1alpha1"
)

// Service builds the Service that exposes the inference port. It selects pods by the
// InferenceService label only; Kubernetes sends traffic only to pods whose readiness
// probe passes.
func Service(isvc *servingv1alpha1.InferenceService) *corev1.Service {
	meta := objectMeta(isvc)
	meta.Annotations = copyMap(isvc.Spec.Service.Annotations)
	return &corev1.Service{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Service"},
		ObjectMeta: meta,
		Spec: corev1.ServiceSpec{
			Type:     serviceType(isvc),
			Selector: SelectorLabels(isvc),
			Ports: []corev1.ServicePort{{
				Name:       PortName,
				Protocol:   corev1.ProtocolTCP,
				Port:       ServicePort(isvc),
				TargetPort: intstr.FromString(PortName),
			}},
		},
	}
}

// ServicePort is the port the Service listens on.
func ServicePort(isvc *servingv1alpha1.InferenceService) int32 {
	return orDefault(isvc.Spec.Service.Port, servingv1alpha1.DefaultServicePort)
}

// URL is the in-cluster address of an InferenceService, in the cluster's DNS domain.
func URL(isvc *servingv1alpha1.InferenceService, cfg Config) string {
	domain := cfg.ClusterDomain
	if domain == "" {
		domain = DefaultClusterDomain
	}
	return fmt.Sprintf("http://%s.%s.svc.%s:%d", isvc.Name, isvc.Namespace, domain, ServicePort(isvc))
}

func serviceType(isvc *servingv1alpha1.InferenceService) corev1.ServiceType {
	if isvc.Spec.Service.Type == "" {
		return corev1.ServiceTypeClusterIP
	}
	return corev1.ServiceType(isvc.Spec.Service.Type)
}
