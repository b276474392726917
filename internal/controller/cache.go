package controller

import (
	"fmt"
	"slices"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"

	"github.com/inferenceops/inference-operator/internal/render"
)

// CacheOptions returns the manager cache settings the controller relies on:
//   - children are cached only when labelled app.kubernetes.io/managed-by=inference-operator,
//     so the cache never holds every Deployment or Service of the cluster;
//   - managedFields are dropped from cached objects, and the pod template from cached
//     Deployments, which keeps memory low; of children, the cache keeps a digest of the
//     fields the operator owns instead (see trimChild);
//   - pods are not in this cache but in one of their own, label-selected the same way
//     (see podcache.New);
//   - a read of a kind that has no informer fails instead of silently starting a
//     cluster-wide one.
//
// namespaces limits the cache to those namespaces; empty means all. optional are the
// optional child kinds (ScaledObject, PodMonitor) whose CRDs are served at start (see
// ServedOptionalKinds): their cache is label-selected too. One whose CRD is installed
// later is cached once asked for, unselected, since a cache cannot be configured for a
// kind the API server did not serve when it was built.
func CacheOptions(namespaces []string, optional ...schema.GroupVersionKind) cache.Options {
	managed := cache.ByObject{Label: managedSelector(), Transform: trimChild}
	opts := cache.Options{
		DefaultTransform:            defaultTransform,
		ReaderFailOnMissingInformer: true,
		DefaultNamespaces:           namespaceConfigs(namespaces),
		ByObject: map[client.Object]cache.ByObject{
			&appsv1.Deployment{}:                     managed,
			&corev1.Service{}:                        managed,
			&autoscalingv2.HorizontalPodAutoscaler{}: managed,
			&policyv1.PodDisruptionBudget{}:          managed,
		},
	}
	for _, gvk := range optional {
		opts.ByObject[unstructuredOf(gvk)] = managed
	}
	return opts
}

// managedSelector selects the objects labelled as managed by the operator.
func managedSelector() labels.Selector {
	return labels.SelectorFromSet(labels.Set{render.LabelManagedBy: render.ManagedByValue})
}

// namespaceConfigs is a cache's DefaultNamespaces for namespaces; nil (all) when empty.
func namespaceConfigs(namespaces []string) map[string]cache.Config {
	if len(namespaces) == 0 {
		return nil
	}
	configs := make(map[string]cache.Config, len(namespaces))
	for _, ns := range namespaces {
		configs[ns] = cache.Config{}
	}
	return configs
}

// ClientOptions returns the manager client settings the controller relies on: reads of
// unstructured objects, the optional child kinds (ScaledObject, PodMonitor), come from
// the cache like the typed ones. controller-runtime's client sends them to the API server
// by default, which cost two GETs per reconcile of every InferenceService on a cluster
// with KEDA's and the Prometheus Operator's CRDs.
func ClientOptions() client.Options {
	return client.Options{Cache: &client.CacheOptions{Unstructured: true}}
}

// trimChild is the cache transform of children: it sums up the operator's owned fields
// into ownedFieldsAnnotation, then drops managedFields and, from Deployments, the pod
// template, which nothing reads from the cache. A cached Deployment is then a fraction
// of its size on the API server.
func trimChild(in any) (any, error) {
	obj, ok := in.(client.Object)
	if !ok || len(obj.GetManagedFields()) == 0 {
		// Not an object, or one this transform has seen already.
		return in, nil
	}
	owned := computeOwnedFields(obj)
	var marks []string
	if owned.replicas {
		marks = append(marks, ownsReplicasMark)
	}
	if owned.updateEntry {
		marks = append(marks, updateEntryMark)
	}
	if len(marks) == 0 {
		marks = []string{"-"}
	}
	annotations := obj.GetAnnotations()
	if annotations == nil {
		annotations = map[string]string{}
	}
	annotations[ownedFieldsAnnotation] = fmt.Sprintf("%s %s %s", obj.GetResourceVersion(), owned.digest, strings.Join(marks, ","))
	obj.SetAnnotations(annotations)
	obj.SetManagedFields(nil)
	if dep, ok := obj.(*appsv1.Deployment); ok {
		dep.Spec.Template = corev1.PodTemplateSpec{}
	}
	return obj, nil
}

// stripManagedFields is controller-runtime's transform that drops managedFields.
var stripManagedFields = cache.TransformStripManagedFields()

// defaultTransform is the transform of the kinds CacheOptions names no transform for. An
// optional child kind whose CRD was installed after the manager started is one: its
// informer starts when the reconciler first reads it, without CacheOptions' selection
// and transform. Its objects get trimChild all the same, so that the operator's owned
// fields of a child are known and a child in shape is not applied again at every
// reconcile; those of other objects cost only the look for the operator's entry.
// Everything else just loses its managedFields.
func defaultTransform(in any) (any, error) {
	if u, ok := in.(*unstructured.Unstructured); ok && slices.Contains(optionalGVKs, u.GroupVersionKind()) {
		return trimChild(in)
	}
	return stripManagedFields(in)
}

func unstructuredOf(gvk schema.GroupVersionKind) *unstructured.Unstructured {
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(gvk)
	return u
}

// ServedOptionalKinds returns the optional child kinds whose CRDs the API server serves
// now, for CacheOptions.
func ServedOptionalKinds(cfg *rest.Config) ([]schema.GroupVersionKind, error) {
	httpClient, err := rest.HTTPClientFor(cfg)
	if err != nil {
		return nil, err
	}
	mapper, err := apiutil.NewDynamicRESTMapper(cfg, httpClient)
	if err != nil {
		return nil, err
	}
	var served []schema.GroupVersionKind
	for _, gvk := range optionalGVKs {
		_, err := mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
		switch {
		case err == nil:
			served = append(served, gvk)
		case !meta.IsNoMatchError(err):
			return nil, fmt.Errorf("looking up %s: %w", gvk.Kind, err)
		}
	}
	return served, nil
}
