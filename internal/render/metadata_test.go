package render_test

import (
	"testing"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	servingv1alpha1 "github.com/inferenceops/inference-operator/api/v1alpha1"
	"github.com/inferenceops/inference-operator/internal/render"
)

// Every child is named after the InferenceService, carries the managed-by label the
// manager's cache selects on, and is controlled by the InferenceService so that the
// garbage collector deletes it with its owner.
func TestChildrenMetadata(t *testing.T) {
	isvc := newInferenceService(withEverything)
	tests := []struct {
		kind  string
		child client.Object
	}{
		{"Deployment", render.Deployment(isvc)},
		{"Service", render.Service(isvc)},
		{"HorizontalPodAutoscaler", render.HorizontalPodAutoscaler(isvc)},
		{"PodDisruptionBudget", render.PodDisruptionBudget(isvc)},
	}
	for _, tt := range tests {
		t.Run(tt.kind, func(t *testing.T) {
			g := NewWithT(t)

			g.Expect(tt.child.GetObjectKind().GroupVersionKind().Kind).To(Equal(tt.kind))
			g.Expect(tt.child.GetName()).To(Equal("llm"))
			g.Expect(tt.child.GetNamespace()).To(Equal("ml"))
			g.Expect(tt.child.GetLabels()).To(Equal(map[string]string{
				"app.kubernetes.io/name":                    "inference-service",
				"app.kubernetes.io/instance":                "llm",
				"app.kubernetes.io/component":               "inference-server",
				"app.kubernetes.io/managed-by":              "inference-operator",
				"serving.inferenceops.dev/inferenceservice": "llm",
			}))
			g.Expect(tt.child.GetOwnerReferences()).To(Equal([]metav1.OwnerReference{{
				APIVersion:         "serving.inferenceops.dev/v1alpha1",
				Kind:               "InferenceService",
				Name:               "llm",
				UID:                fixtureUID,
				Controller:         ptr.To(true),
				BlockOwnerDeletion: ptr.To(true),
			}}))
			g.Expect(metav1.IsControlledBy(tt.child, isvc)).To(BeTrue())
		})
	}
}

// Builders are pure: rendering must leave the InferenceService exactly as it was, also
// where they fill in defaults.
func TestBuildersDoNotMutateTheirInput(t *testing.T) {
	fixtures := map[string]*servingv1alpha1.InferenceService{
		"minimal":        newInferenceService(),
		"fixed replicas": newInferenceService(withReplicas(3)),
		"empty autoscaling": newInferenceService(func(isvc *servingv1alpha1.InferenceService) {
			isvc.Spec.Autoscaling = &servingv1alpha1.AutoscalingSpec{}
		}),
		"every field set":   newInferenceService(withEverything),
		"user given probes": newInferenceService(withEverything, withUserProbes),
	}
	builders := map[string]func(*servingv1alpha1.InferenceService) any{
		"Deployment":              func(isvc *servingv1alpha1.InferenceService) any { return render.Deployment(isvc) },
		"Service":                 func(isvc *servingv1alpha1.InferenceService) any { return render.Service(isvc) },
		"HorizontalPodAutoscaler": func(isvc *servingv1alpha1.InferenceService) any { return render.HorizontalPodAutoscaler(isvc) },
		"PodDisruptionBudget":     func(isvc *servingv1alpha1.InferenceService) any { return render.PodDisruptionBudget(isvc) },
		"Autoscaling":             func(isvc *servingv1alpha1.InferenceService) any { return render.Autoscaling(isvc) },
	}
	for fixtureName, fixture := range fixtures {
		for builderName, build := range builders {
			t.Run(builderName+"/"+fixtureName, func(t *testing.T) {
				isvc := fixture.DeepCopy()
				before := isvc.DeepCopy()

				build(isvc)

				NewWithT(t).Expect(isvc).To(Equal(before))
			})
		}
	}
}
