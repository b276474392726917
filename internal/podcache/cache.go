package podcache

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// IndexInferenceService is the pod cache's index of the pods the operator reads by the
// InferenceService they belong to (see List).
const IndexInferenceService = "inferenceService"

// Scheme is the scheme of the pod cache: v1 Pod is a Pod there.
func Scheme() (*runtime.Scheme, error) {
	s := runtime.NewScheme()
	s.AddKnownTypeWithName(corev1.SchemeGroupVersion.WithKind("Pod"), &Pod{})
	s.AddKnownTypeWithName(corev1.SchemeGroupVersion.WithKind("PodList"), &PodList{})
	metav1.AddToGroupVersion(s, corev1.SchemeGroupVersion)
	if err := s.SetVersionPriority(corev1.SchemeGroupVersion); err != nil {
		return nil, err
	}
	return s, nil
}

// Cache is the pod cache. GetCache makes the manager start it with its own cache and
// wait until it has synced before any controller starts.
type Cache struct{ cache.Cache }

// GetCache returns the cache, for the manager's group of caches.
func (c Cache) GetCache() cache.Cache { return c.Cache }

// New builds the pod cache of mgr and adds it to mgr: only the pods selector selects, in
// the namespaces of the manager's cache (nil: all), read as JSON, the only encoding Pod
// decodes.
func New(mgr ctrl.Manager, namespaces map[string]cache.Config, selector labels.Selector) (Cache, error) {
	scheme, err := Scheme()
	if err != nil {
		return Cache{}, err
	}
	cfg := rest.CopyConfig(mgr.GetConfig())
	cfg.ContentType = runtime.ContentTypeJSON
	cfg.AcceptContentTypes = runtime.ContentTypeJSON
	c, err := cache.New(cfg, cache.Options{
		Scheme:                      scheme,
		Mapper:                      mgr.GetRESTMapper(),
		HTTPClient:                  mgr.GetHTTPClient(),
		ReaderFailOnMissingInformer: true,
		DefaultNamespaces:           namespaces,
		ByObject:                    map[client.Object]cache.ByObject{&Pod{}: {Label: selector}},
	})
	if err != nil {
		return Cache{}, fmt.Errorf("creating the pod cache: %w", err)
	}
	// Without the index, listing one service's pods walks every pod of its namespace: a
	// resync of N services in one namespace would read N² pods.
	err = c.IndexField(context.Background(), &Pod{}, IndexInferenceService, func(o client.Object) []string {
		if name := o.(*Pod).InferenceService(); name != "" {
			return []string{name}
		}
		return nil
	})
	if err != nil {
		return Cache{}, fmt.Errorf("indexing the pod cache: %w", err)
	}
	if err := mgr.Add(Cache{c}); err != nil {
		return Cache{}, err
	}
	return Cache{c}, nil
}

// List returns the pods of the InferenceService namespace/name that the operator reads
// (see Pod), from reader, the pod cache.
func List(ctx context.Context, reader client.Reader, namespace, name string) ([]Pod, error) {
	list := &PodList{}
	if err := reader.List(ctx, list, client.InNamespace(namespace), client.MatchingFields{IndexInferenceService: name}); err != nil {
		return nil, err
	}
	return list.Items, nil
}
