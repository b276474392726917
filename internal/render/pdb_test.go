package render_test

import (
	"testing"

	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	servingv1alpha1 "github.com/inferenceops/inference-operator/api/v1alpha1"
	"github.com/inferenceops/inference-operator/internal/render"
)

func TestPodDisruptionBudget(t *testing.T) {
	tests := []struct {
		name               string
		pdb                *servingv1alpha1.PodDisruptionBudgetSpec
		wantMinAvailable   *intstr.IntOrString
		wantMaxUnavailable *intstr.IntOrString
	}{
		{name: "not set: no PDB"},
		{
			name:             "minAvailable as a count",
			pdb:              &servingv1alpha1.PodDisruptionBudgetSpec{MinAvailable: ptr.To(intstr.FromInt32(1))},
			wantMinAvailable: ptr.To(intstr.FromInt32(1)),
		},
		{
			name:               "maxUnavailable as a percentage",
			pdb:                &servingv1alpha1.PodDisruptionBudgetSpec{MaxUnavailable: ptr.To(intstr.FromString("25%"))},
			wantMaxUnavailable: ptr.To(intstr.FromString("25%")),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			isvc := newInferenceService(func(isvc *servingv1alpha1.InferenceService) { isvc.Spec.PodDisruptionBudget = tt.pdb })

			pdb := render.PodDisruptionBudget(isvc)

			if tt.pdb == nil {
				g.Expect(pdb).To(BeNil())
				return
			}
			g.Expect(pdb).NotTo(BeNil())
			g.Expect(pdb.Spec.MinAvailable).To(Equal(tt.wantMinAvailable))
			g.Expect(pdb.Spec.MaxUnavailable).To(Equal(tt.wantMaxUnavailable))
			g.Expect(pdb.Spec.Selector.MatchLabels).To(Equal(map[string]string{"serving.inferenceops.dev/inferenceservice": "llm"}),
				"the PDB must select the pods of this service and no others")
		})
	}
}
