package main

import (
	"context"
	"fmt"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/rest"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	servingv1alpha1 "github.com/inferenceops/inference-operator/api/v1alpha1"
)

// childKind is one of the three children every InferenceService of the benchmark has.
type childKind int

const (
	deploymentChild childKind = iota
	serviceChild
	hpaChild
	childKinds
)

// namespaceWatch follows one namespace through informers (a watch each, no polling) and
// records when each InferenceService first reported its current generation and when each
// child first appeared. Times are taken as the events arrive.
type namespaceWatch struct {
	namespace string
	stop      context.CancelFunc

	mu sync.Mutex
	// changed is closed and replaced on every recorded change, to wake waiters.
	changed   chan struct{}
	converged map[string]time.Time
	children  map[string]*[childKinds]time.Time
}

// watchNamespace starts informers on the namespace's InferenceServices and, with
// children, on its Deployments, Services and HPAs (metadata only), and returns once they
// have listed what exists.
func watchNamespace(ctx context.Context, cfg *rest.Config, scheme *runtime.Scheme, namespace string, children bool) (*namespaceWatch, error) {
	ctx, cancel := context.WithCancel(ctx)
	w := &namespaceWatch{namespace: namespace, stop: cancel, changed: make(chan struct{}),
		converged: map[string]time.Time{}, children: map[string]*[childKinds]time.Time{}}
	c, err := cache.New(cfg, cache.Options{Scheme: scheme, DefaultNamespaces: map[string]cache.Config{namespace: {}}})
	if err != nil {
		cancel()
		return nil, err
	}
	handlers := map[client.Object]func(obj any){&servingv1alpha1.InferenceService{}: w.observeInferenceService}
	if children {
		for kind, gvk := range map[childKind]schema.GroupVersionKind{
			deploymentChild: appsv1.SchemeGroupVersion.WithKind("Deployment"),
			serviceChild:    corev1.SchemeGroupVersion.WithKind("Service"),
			hpaChild:        autoscalingv2.SchemeGroupVersion.WithKind("HorizontalPodAutoscaler"),
		} {
			meta := &metav1.PartialObjectMetadata{}
			meta.SetGroupVersionKind(gvk)
			handlers[meta] = w.childObserver(kind)
		}
	}
	for obj, observe := range handlers {
		informer, err := c.GetInformer(ctx, obj)
		if err != nil {
			cancel()
			return nil, fmt.Errorf("watching %T in %s: %w", obj, namespace, err)
		}
		if _, err := informer.AddEventHandler(toolscache.ResourceEventHandlerFuncs{
			AddFunc:    observe,
			UpdateFunc: func(_, obj any) { observe(obj) },
		}); err != nil {
			cancel()
			return nil, err
		}
	}
	go func() { _ = c.Start(ctx) }()
	if !c.WaitForCacheSync(ctx) {
		cancel()
		return nil, fmt.Errorf("the watches on namespace %s did not sync", namespace)
	}
	return w, nil
}

func (w *namespaceWatch) observeInferenceService(obj any) {
	isvc, ok := obj.(*servingv1alpha1.InferenceService)
	if !ok || isvc.Status.ObservedGeneration != isvc.Generation {
		return
	}
	now := time.Now()
	w.mu.Lock()
	defer w.mu.Unlock()
	if _, seen := w.converged[isvc.Name]; !seen {
		w.converged[isvc.Name] = now
		w.notifyLocked()
	}
}

func (w *namespaceWatch) childObserver(kind childKind) func(obj any) {
	return func(obj any) {
		meta, ok := obj.(client.Object)
		if !ok {
			return
		}
		now := time.Now()
		w.mu.Lock()
		defer w.mu.Unlock()
		times := w.children[meta.GetName()]
		if times == nil {
			times = &[childKinds]time.Time{}
			w.children[meta.GetName()] = times
		}
		if times[kind].IsZero() {
			times[kind] = now
			w.notifyLocked()
		}
	}
}

func (w *namespaceWatch) notifyLocked() {
	close(w.changed)
	w.changed = make(chan struct{})
}

// wait blocks until done, called under the lock on every change, returns true.
func (w *namespaceWatch) wait(ctx context.Context, done func() bool) error {
	for {
		w.mu.Lock()
		ok, changed := done(), w.changed
		w.mu.Unlock()
		if ok {
			return nil
		}
		select {
		case <-ctx.Done():
			return context.Cause(ctx)
		case <-changed:
		}
	}
}

// waitConverged waits until n InferenceServices of the namespace have reported their
// generation and returns when the last of them did.
func (w *namespaceWatch) waitConverged(ctx context.Context, n int) (time.Time, error) {
	err := w.wait(ctx, func() bool { return len(w.converged) >= n })
	w.mu.Lock()
	defer w.mu.Unlock()
	if err != nil {
		return time.Time{}, fmt.Errorf("waiting for %d InferenceServices in %s to report their generation (%d did): %w",
			n, w.namespace, len(w.converged), err)
	}
	var last time.Time
	for _, t := range w.converged {
		if t.After(last) {
			last = t
		}
	}
	return last, nil
}

// waitChildren waits until the Deployment, Service and HPA named name exist and returns
// when the last of them appeared.
func (w *namespaceWatch) waitChildren(ctx context.Context, name string) (time.Time, error) {
	var last time.Time
	err := w.wait(ctx, func() bool {
		times := w.children[name]
		if times == nil {
			return false
		}
		last = time.Time{}
		for _, t := range times {
			if t.IsZero() {
				return false
			}
			if t.After(last) {
				last = t
			}
		}
		return true
	})
	if err != nil {
		return time.Time{}, fmt.Errorf("waiting for the children of %s/%s: %w", w.namespace, name, err)
	}
	return last, nil
}

// waitConvergedName waits until the InferenceService name has reported its generation.
func (w *namespaceWatch) waitConvergedName(ctx context.Context, name string) error {
	if err := w.wait(ctx, func() bool { _, ok := w.converged[name]; return ok }); err != nil {
		return fmt.Errorf("waiting for %s/%s to report its generation: %w", w.namespace, name, err)
	}
	return nil
}
