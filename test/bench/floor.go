package main

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
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

// runFloor is the raw floor of figure 1: a plain client-go program that does what the job
// must write and nothing else: it creates the same N Deployments, N Services and N HPAs
// the operator would and writes each InferenceService's status once (a merge patch of
// the status subresource, as the operator's), with the operator's client settings. No
// read, no apply. It returns how long that took. The N InferenceServices whose status it
// writes are created before its clock starts and deleted after it stops, so that no
// manager started later on the same API server sees them.
//
// "The same QPS/burst" is meant the way the manager applies it: controller-runtime builds
// one REST client, with its own token bucket, for every kind, so --kube-api-qps limits
// Deployments, Services and HPAs each on their own. The floor therefore uses one typed
// client per kind (each with its own token bucket) rather than one Clientset, whose
// single token bucket would make the floor slower than the operator's limits allow.
// s.Workers goroutines each create one object's three children in turn, as a reconcile
// does.
func runFloor(ctx context.Context, admin *rest.Config, c client.Client, namespace string, n int, s setting) (_ time.Duration, err error) {
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
	statusClient, err := client.New(cfg, client.Options{Scheme: c.Scheme()})
	if err != nil {
		return 0, err
	}
	if err := createInferenceServices(ctx, c, namespace, "floor", 0, n, s.Workers); err != nil {
		return 0, err
	}
	defer func() {
		if delErr := c.DeleteAllOf(context.WithoutCancel(ctx), &servingv1alpha1.InferenceService{}, client.InNamespace(namespace)); delErr != nil && err == nil {
			err = fmt.Errorf("deleting the floor's InferenceServices: %w", delErr)
		}
	}()

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
		patch, err := json.Marshal(map[string]any{"status": floorStatus(isvc)})
		if err != nil {
			return err
		}
		if err := statusClient.Status().Patch(ctx, isvc, client.RawPatch(types.MergePatchType, patch)); err != nil {
			return fmt.Errorf("writing the status of InferenceService %s: %w", isvc.Name, err)
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("floor: %w", err)
	}
	return time.Since(start), nil
}

// floorStatus is the status the floor writes for isvc: the fields and conditions the
// operator's first status write of a new InferenceService carries (no pod yet), in the
// same words, so that the floor's write weighs what the operator's does.
func floorStatus(isvc *servingv1alpha1.InferenceService) servingv1alpha1.InferenceServiceStatus {
	now := metav1.Now()
	// Every condition of a new service carries the same message.
	condition := func(t string, status metav1.ConditionStatus, reason string) metav1.Condition {
		return metav1.Condition{Type: t, Status: status, ObservedGeneration: isvc.Generation, LastTransitionTime: now, Reason: reason,
			Message: "the Deployment has not reported on the current pod template yet"}
	}
	return servingv1alpha1.InferenceServiceStatus{
		ObservedGeneration: isvc.Generation,
		Conditions: []metav1.Condition{
			condition(servingv1alpha1.ConditionReady, metav1.ConditionFalse, servingv1alpha1.ReasonDeploymentPending),
			condition(servingv1alpha1.ConditionAvailable, metav1.ConditionFalse, servingv1alpha1.ReasonDeploymentPending),
			condition(servingv1alpha1.ConditionProgressing, metav1.ConditionTrue, servingv1alpha1.ReasonRolloutInProgress),
			condition(servingv1alpha1.ConditionReconciling, metav1.ConditionTrue, servingv1alpha1.ReasonDeploymentPending),
		},
		DesiredReplicas: 1,
		MinReplicas:     1,
		MaxReplicas:     isvc.Spec.Autoscaling.MaxReplicas,
		Targets:         "cpu: <unknown>/80%",
		Selector:        "app.kubernetes.io/instance=" + isvc.Name + ",app.kubernetes.io/name=inferenceservice",
		URL:             "http://" + isvc.Name + "." + isvc.Namespace + ".svc.cluster.local:80",
		RenderRevision:  1,
	}
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
