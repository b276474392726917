package render_test

import (
	"testing"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	servingv1alpha1 "github.com/inferenceops/inference-operator/api/v1alpha1"
	"github.com/inferenceops/inference-operator/internal/render"
)

func TestService(t *testing.T) {
	tests := []struct {
		name            string
		service         servingv1alpha1.ServiceSpec
		wantType        corev1.ServiceType
		wantPort        int32
		wantAnnotations map[string]string
		wantURL         string
	}{
		{
			name:     "defaults: ClusterIP on port 80",
			wantType: corev1.ServiceTypeClusterIP,
			wantPort: 80,
			wantURL:  "http://llm.ml.svc.cluster.local:80",
		},
		{
			name:     "NodePort on a custom port",
			service:  servingv1alpha1.ServiceSpec{Type: "NodePort", Port: 8000},
			wantType: corev1.ServiceTypeNodePort,
			wantPort: 8000,
			wantURL:  "http://llm.ml.svc.cluster.local:8000",
		},
		{
			name: "LoadBalancer with annotations",
			service: servingv1alpha1.ServiceSpec{
				Type:        "LoadBalancer",
				Annotations: map[string]string{"service.beta.kubernetes.io/aws-load-balancer-internal": "true"},
			},
			wantType:        corev1.ServiceTypeLoadBalancer,
			wantPort:        80,
			wantAnnotations: map[string]string{"service.beta.kubernetes.io/aws-load-balancer-internal": "true"},
			wantURL:         "http://llm.ml.svc.cluster.local:80",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			isvc := newInferenceService(func(isvc *servingv1alpha1.InferenceService) {
				isvc.Spec.Service = *tt.service.DeepCopy()
				isvc.Spec.Port = 9000
			})

			svc := render.Service(isvc)

			g.Expect(svc.Spec.Type).To(Equal(tt.wantType))
			g.Expect(svc.Annotations).To(Equal(tt.wantAnnotations))
			g.Expect(svc.Spec.Ports).To(Equal([]corev1.ServicePort{{
				Name:       "http",
				Protocol:   corev1.ProtocolTCP,
				Port:       tt.wantPort,
				TargetPort: intstr.FromString("http"),
			}}), "the Service forwards to the container port by name, whatever spec.port is")
			g.Expect(svc.Spec.Selector).To(Equal(map[string]string{"serving.inferenceops.dev/inferenceservice": "llm"}))
			g.Expect(render.URL(isvc, render.Config{})).To(Equal(tt.wantURL))
		})
	}
}

// A cluster whose DNS domain is not cluster.local gets URLs in its own domain.
func TestURLInTheClusterDomain(t *testing.T) {
	isvc := newInferenceService()

	NewWithT(t).Expect(render.URL(isvc, render.Config{ClusterDomain: "prod.example"})).
		To(Equal("http://llm.ml.svc.prod.example:80"))
}
