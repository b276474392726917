package main

import (
	"context"
	"fmt"
	"sync"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	servingv1alpha1 "github.com/inferenceops/inference-operator/api/v1alpha1"
)

// inferenceServiceName names the i-th InferenceService of a namespace; the prefix tells
// the figure's objects apart in logs.
func inferenceServiceName(prefix string, i int) string {
	return fmt.Sprintf("%s-%05d", prefix, i)
}

// newInferenceService is the InferenceService every figure uses: one model server
// container with requests and limits, autoscaling between 1 and 10 replicas on the
// default CPU metric. The API server fills in the remaining defaults (port, probes path,
// Service type and port).
func newInferenceService(namespace, name string) *servingv1alpha1.InferenceService {
	return &servingv1alpha1.InferenceService{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name},
		Spec: servingv1alpha1.InferenceServiceSpec{
			Image: "registry.example/iris:1",
			Resources: corev1.ResourceRequirements{
				Requests: corev1.ResourceList{
					corev1.ResourceCPU:    resource.MustParse("100m"),
					corev1.ResourceMemory: resource.MustParse("128Mi"),
				},
				Limits: corev1.ResourceList{
					corev1.ResourceCPU:    resource.MustParse("1"),
					corev1.ResourceMemory: resource.MustParse("256Mi"),
				},
			},
			Autoscaling: &servingv1alpha1.AutoscalingSpec{MinReplicas: ptr.To[int32](1), MaxReplicas: 10},
		},
	}
}

func createNamespace(ctx context.Context, c client.Client, name string) error {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
	if err := c.Create(ctx, ns); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("creating namespace %s: %w", name, err)
	}
	return nil
}

// createInferenceServices creates the InferenceServices from..to-1 of prefix in namespace,
// workers at a time, with an unthrottled client.
func createInferenceServices(ctx context.Context, c client.Client, namespace, prefix string, from, to, workers int) error {
	err := parallel(ctx, to-from, workers, func(ctx context.Context, i int) error {
		return createIgnoringExisting(ctx, c, newInferenceService(namespace, inferenceServiceName(prefix, from+i)))
	})
	if err != nil {
		return fmt.Errorf("creating InferenceServices in %s: %w", namespace, err)
	}
	return nil
}

// createIgnoringExisting creates obj; an object that exists already counts as created
// (client-go retries a request the API server throttled, which may have gone through).
func createIgnoringExisting(ctx context.Context, c client.Client, obj client.Object) error {
	if err := c.Create(ctx, obj); err != nil && !apierrors.IsAlreadyExists(err) {
		return err
	}
	return nil
}

// childCounts are the Deployments, Services and HPAs of a namespace.
type childCounts struct {
	Deployments int `json:"deployments"`
	Services    int `json:"services"`
	HPAs        int `json:"hpas"`
}

func (c childCounts) String() string {
	return fmt.Sprintf("%d Deployments, %d Services, %d HPAs", c.Deployments, c.Services, c.HPAs)
}

// countChildren lists the children in namespace from the API server (metadata only).
func countChildren(ctx context.Context, c client.Client, namespace string) (childCounts, error) {
	count := func(gvk schema.GroupVersionKind) (int, error) {
		list := &metav1.PartialObjectMetadataList{}
		list.SetGroupVersionKind(gvk)
		if err := c.List(ctx, list, client.InNamespace(namespace)); err != nil {
			return 0, fmt.Errorf("listing %s in %s: %w", gvk.Kind, namespace, err)
		}
		return len(list.Items), nil
	}
	var counts childCounts
	var err error
	if counts.Deployments, err = count(appsv1.SchemeGroupVersion.WithKind("DeploymentList")); err != nil {
		return counts, err
	}
	if counts.Services, err = count(corev1.SchemeGroupVersion.WithKind("ServiceList")); err != nil {
		return counts, err
	}
	counts.HPAs, err = count(autoscalingv2.SchemeGroupVersion.WithKind("HorizontalPodAutoscalerList"))
	return counts, err
}

// countInferenceServices counts the InferenceServices of the whole cluster: the manager
// watches every namespace, so all of them are what its memory holds.
func countInferenceServices(ctx context.Context, c client.Client) (int, error) {
	return countInferenceServicesIn(ctx, c, "")
}

// countInferenceServicesIn counts the InferenceServices of one namespace ("": all).
func countInferenceServicesIn(ctx context.Context, c client.Client, namespace string) (int, error) {
	list := &metav1.PartialObjectMetadataList{}
	list.SetGroupVersionKind(servingv1alpha1.GroupVersion.WithKind("InferenceServiceList"))
	if err := c.List(ctx, list, client.InNamespace(namespace)); err != nil {
		return 0, fmt.Errorf("listing InferenceServices: %w", err)
	}
	return len(list.Items), nil
}

// createUnrelated creates n Deployments, n ConfigMaps and n Secrets in namespace that
// the operator does not manage: no app.kubernetes.io/managed-by=inference-operator label,
// no owner. The manager's cache selects children by that label and does not watch
// ConfigMaps or Secrets at all, so none of these should reach its memory.
func createUnrelated(ctx context.Context, c client.Client, namespace string, n, workers int) error {
	err := parallel(ctx, 3*n, workers, func(ctx context.Context, i int) error {
		name := fmt.Sprintf("unrelated-%05d", i/3)
		labels := map[string]string{"app.kubernetes.io/name": name, "app.kubernetes.io/managed-by": "someone-else"}
		meta := metav1.ObjectMeta{Namespace: namespace, Name: name, Labels: labels}
		var obj client.Object
		switch i % 3 {
		case 0:
			obj = &appsv1.Deployment{ObjectMeta: meta, Spec: appsv1.DeploymentSpec{
				Replicas: ptr.To[int32](1),
				Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app.kubernetes.io/name": name}},
				Template: corev1.PodTemplateSpec{
					ObjectMeta: metav1.ObjectMeta{Labels: labels},
					Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "registry.example/app:1"}}},
				},
			}}
		case 1:
			obj = &corev1.ConfigMap{ObjectMeta: meta, Data: map[string]string{"setting": "value-" + name}}
		default:
			obj = &corev1.Secret{ObjectMeta: meta, StringData: map[string]string{"token": "secret-" + name}}
		}
		return createIgnoringExisting(ctx, c, obj)
	})
	if err != nil {
		return fmt.Errorf("creating unrelated objects in %s: %w", namespace, err)
	}
	return nil
}

// parallel calls fn for 0..n-1 on workers goroutines and returns the first error (the
// remaining calls then see a cancelled context).
func parallel(ctx context.Context, n, workers int, fn func(ctx context.Context, i int) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(workers, n) {
		wg.Go(func() {
			for i := range next {
				if err := fn(ctx, i); err != nil {
					cancel(err)
				}
			}
		})
	}
feed:
	for i := range n {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	return context.Cause(ctx)
}
