package controller

import (
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/inferenceops/inference-operator/internal/render"
)

// CacheOptions returns the manager cache settings the controller relies on:
//   - children are cached only when labelled app.kubernetes.io/managed-by=inference-operator,
//     so the cache never holds every Deployment or Service of the cluster;
//   - managedFields are dropped from cached objects except the operator's own entries
//     (needed to hand spec.replicas over to an HPA), which keeps memory low;
//   - a read of a kind that has no informer fails instead of silently starting a
//     cluster-wide one.
//
// namespaces limits the cache to those namespaces; empty means all.
func CacheOptions(namespaces []string) cache.Options {
	managed := cache.ByObject{Label: labels.SelectorFromSet(labels.Set{render.LabelManagedBy: render.ManagedByValue})}
	opts := cache.Options{
		DefaultTransform:            keepOwnManagedFields,
		ReaderFailOnMissingInformer: true,
		ByObject: map[client.Object]cache.ByObject{
			&appsv1.Deployment{}:                     managed,
			&corev1.Service{}:                        managed,
			&autoscalingv2.HorizontalPodAutoscaler{}: managed,
			&policyv1.PodDisruptionBudget{}:          managed,
		},
	}
	if len(namespaces) > 0 {
		opts.DefaultNamespaces = make(map[string]cache.Config, len(namespaces))
		for _, ns := range namespaces {
			opts.DefaultNamespaces[ns] = cache.Config{}
		}
	}
	return opts
}

// keepOwnManagedFields drops every managedFields entry but the operator's own.
func keepOwnManagedFields(in any) (any, error) {
	obj, err := meta.Accessor(in)
	if err != nil {
		return in, nil
	}
	entries := obj.GetManagedFields()
	if len(entries) == 0 {
		return in, nil
	}
	kept := make([]metav1.ManagedFieldsEntry, 0, 1)
	for _, e := range entries {
		if e.Manager == FieldOwner {
			kept = append(kept, e)
		}
	}
	if len(kept) == 0 {
		kept = nil
	}
	obj.SetManagedFields(kept)
	return in, nil
}
