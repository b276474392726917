package main

import (
	"context"
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	appsv1client "k8s.io/client-go/kubernetes/typed/apps/v1"
	autoscalingv2client "k8s.io/client-go/kubernetes/typed/autoscaling/v2"
	corev1client "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	servingv1alpha1 "github.com/inferenceops/inference-operator/api/v1alpha1"
	"github.com/inferenceops/inference-operator/internal/render"
)

// floorManagedBy replaces the managed-by label on the floor's objects. The manager caches
// every object labelled app.kubernetes.io/managed-by=inference-operator, so the floor's
// 3N ownerless objects would otherwise sit in its cache (and in figure 4's memory) when
// it starts on the same API server later. The value has the same length, so the objects
// weigh the same as the operator's.
const floorManagedBy = "bench-floor-client"

// runFloor is the raw floor of figure 1: a plain client-go program that creates the same N
// Deployments, N Services and N HPAs the operator would, with the operator's client
// settings, and nothing else (no reads, no status). It returns how long that took.
//
// "The same QPS/burst" is meant the way the manager applies it: controller-runtime builds
// one REST client, with its own token bucket, for every kind, so --kube-api-qps limits
// Deployments, Services and HPAs each on their own. The floor therefore uses one typed
// client per kind (each with its own token bucket) rather than one Clientset, whose
// single token bucket would make the floor slower than the operator's limits allow.
// s.Workers goroutines each create one object's three children in turn, as a reconcile
// does.
func runFloor(ctx context.Context, admin *rest.Config, c client.Client, namespace string, n int, s setting) (time.Duration, error) {
	template, err := defaultedInferenceService(ctx, c, namespace)
	if err != nil {
		return 0, err
	}
	cfg := rest.CopyConfig(admin)
	cfg.QPS, cfg.Burst = float32(s.QPS), s.Burst
	apps, err := appsv1client.NewForConfig(cfg)
	if err != nil {
		return 0, err
	}
	core, err := corev1client.NewForConfig(cfg)
	if err != nil {
		return 0, err
	}
	autoscaling, err := autoscalingv2client.NewForConfig(cfg)
	if err != nil {
		return 0, err
	}

	start := time.Now()
	err = parallel(ctx, n, s.Workers, func(ctx context.Context, i int) error {
		isvc := template.DeepCopy()
		isvc.Name = inferenceServiceName("floor", i)
		deployment, service, hpa := render.Deployment(isvc), render.Service(isvc), render.HorizontalPodAutoscaler(isvc)
		for _, meta := range []*metav1.ObjectMeta{&deployment.ObjectMeta, &service.ObjectMeta, &hpa.ObjectMeta} {
			meta.OwnerReferences = nil
			meta.Labels[render.LabelManagedBy] = floorManagedBy
		}
		if _, err := apps.Deployments(namespace).Create(ctx, deployment, metav1.CreateOptions{}); err != nil {
			return fmt.Errorf("creating Deployment %s: %w", deployment.Name, err)
		}
		if _, err := core.Services(namespace).Create(ctx, service, metav1.CreateOptions{}); err != nil {
			return fmt.Errorf("creating Service %s: %w", service.Name, err)
		}
		if _, err := autoscaling.HorizontalPodAutoscalers(namespace).Create(ctx, hpa, metav1.CreateOptions{}); err != nil {
			return fmt.Errorf("creating HPA %s: %w", hpa.Name, err)
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("floor: %w", err)
	}
	return time.Since(start), nil
}

// defaultedInferenceService returns the benchmark's InferenceService as the API server
// stores it, defaults filled in, from a dry-run create (nothing is stored).
func defaultedInferenceService(ctx context.Context, c client.Client, namespace string) (*servingv1alpha1.InferenceService, error) {
	isvc := newInferenceService(namespace, "floor-template")
	if err := c.Create(ctx, isvc, client.DryRunAll); err != nil {
		return nil, fmt.Errorf("dry-run create of an InferenceService: %w", err)
	}
	if render.HorizontalPodAutoscaler(isvc) == nil {
		return nil, fmt.Errorf("the benchmark's InferenceService renders no HPA")
	}
	return isvc, nil
}
