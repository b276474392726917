package render

import (
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	servingv1alpha1 "github.com/inferenceops/inference-operator/api/v1alpha1"
)

// PodDisruptionBudget builds the PDB that limits voluntary evictions, or returns nil when
// spec.podDisruptionBudget is not set.
func PodDisruptionBudget(isvc *servingv1alpha1.InferenceService) *policyv1.PodDisruptionBudget {
	pdb := isvc.Spec.PodDisruptionBudget
	if pdb == nil {
		return nil
	}
	pdb = pdb.DeepCopy()
	return &policyv1.PodDisruptionBudget{
		TypeMeta:   metav1.TypeMeta{APIVersion: policyv1.SchemeGroupVersion.String(), Kind: "PodDisruptionBudget"},
		ObjectMeta: objectMeta(isvc),
		Spec: policyv1.PodDisruptionBudgetSpec{
			Selector:       &metav1.LabelSelector{MatchLabels: SelectorLabels(isvc)},
			MinAvailable:   pdb.MinAvailable,
			MaxUnavailable: pdb.MaxUnavailable,
		},
	}
}
