package controller

import (
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/inferenceops/inference-operator/internal/render"
)

// CacheOptions returns the manager cache settings the controller relies on:
//   - children are cached only when labelled app.kubernetes.io/managed-by=inference-operator,
//     so the cache never holds every Deployment or Service of the cluster;
//   - managedFields are dropped from cached objects, and the pod template from cached
//     Deployments, which keeps memory low; of children, the cache keeps a digest of the
//     fields the operator owns instead (see trimChild);
//   - a read of a kind that has no informer fails instead of silently starting a
//     cluster-wide one.
//
// namespaces limits the cache to those namespaces; empty means all.
func CacheOptions(namespaces []string) cache.Options {
	managed := cache.ByObject{
		Label:     labels.SelectorFromSet(labels.Set{render.LabelManagedBy: render.ManagedByValue}),
		Transform: trimChild,
	}
	opts := cache.Options{
		DefaultTransform:            cache.TransformStripManagedFields(),
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
