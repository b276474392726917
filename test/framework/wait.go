package framework

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	servingv1alpha1 "github.com/inferenceops/inference-operator/api/v1alpha1"
)

// InferenceService reads an InferenceService.
func (c *Cluster) InferenceService(ctx context.Context, namespace, name string) (*servingv1alpha1.InferenceService, error) {
	isvc := &servingv1alpha1.InferenceService{}
	err := c.Client.Get(ctx, types.NamespacedName{Namespace: namespace, Name: name}, isvc)
	return isvc, err
}

// ConditionIs checks, for Eventually, that an InferenceService's condition has the status
// and that its status describes the current generation.
func (c *Cluster) ConditionIs(ctx context.Context, namespace, name, conditionType string, status metav1.ConditionStatus) func() error {
	return func() error {
		isvc, err := c.InferenceService(ctx, namespace, name)
		if err != nil {
			return err
		}
		if isvc.Status.ObservedGeneration != isvc.Generation {
			return fmt.Errorf("status describes generation %d, the spec is at %d", isvc.Status.ObservedGeneration, isvc.Generation)
		}
		cond := meta.FindStatusCondition(isvc.Status.Conditions, conditionType)
		if cond == nil {
			return fmt.Errorf("no %s condition yet", conditionType)
		}
		if cond.Status != status {
			return fmt.Errorf("%s is %s (%s: %s), want %s", conditionType, cond.Status, cond.Reason, cond.Message, status)
		}
		return nil
	}
}

// ConditionStatus is the status of a condition, "" when it is missing.
func ConditionStatus(conditions []metav1.Condition, conditionType string) metav1.ConditionStatus {
	if cond := meta.FindStatusCondition(conditions, conditionType); cond != nil {
		return cond.Status
	}
	return ""
}
