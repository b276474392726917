package controller

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"

	appsv1 "k8s.io/api/apps/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	servingv1alpha1 "github.com/inferenceops/inference-operator/api/v1alpha1"
)

const (
	// FieldOwner is the field manager of everything the operator applies.
	FieldOwner = "inference-operator"

	// replicasHandoffOwner holds a Deployment's spec.replicas for the moment autoscaling
	// takes over from a fixed count: the operator stops applying the field, and without
	// another owner the API server would reset it to 1 and kill running pods. The
	// HorizontalPodAutoscaler then takes the field over the first time it scales.
	replicasHandoffOwner = "inference-operator-replicas-handoff"
)

// errConflict reports an object with a child's name that this InferenceService does not
// control. The operator never adopts or overwrites it.
type errConflict struct {
	kind, name string
	owner      string
}

func (e *errConflict) Error() string {
	owner := "no controller"
	if e.owner != "" {
		owner = "controller " + e.owner
	}
	return fmt.Sprintf("a %s named %q already exists and is not managed by this InferenceService (it has %s); "+
		"rename the InferenceService or delete the %s", e.kind, e.name, owner, e.kind)
}

// getOwned reads the child named after isvc into obj. It returns found=false when there
// is none, and an *errConflict when one exists that isvc does not control.
//
// The cache holds only labelled children, so a miss is checked against the API server
// before the operator creates anything: an unlabelled object of the same name must not be
// adopted by a server-side apply. After creation the child is in the cache and this costs
// no request.
func (r *InferenceServiceReconciler) getOwned(ctx context.Context, isvc *servingv1alpha1.InferenceService, obj client.Object) (found bool, err error) {
	key := client.ObjectKeyFromObject(isvc)
	err = r.Get(ctx, key, obj)
	if apierrors.IsNotFound(err) {
		err = r.APIReader.Get(ctx, key, obj)
	}
	if apierrors.IsNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("reading %s %s: %w", kindOf(r.Scheme, obj), key, err)
	}
	if !metav1.IsControlledBy(obj, isvc) {
		conflict := &errConflict{kind: kindOf(r.Scheme, obj), name: obj.GetName()}
		if ref := metav1.GetControllerOf(obj); ref != nil {
			conflict.owner = ref.Kind + "/" + ref.Name
		}
		return true, conflict
	}
	return true, nil
}

// apply writes desired with server-side apply under FieldOwner, forcing ownership of
// every field it sets, and reads the stored object back into into.
//
// live is the child as the cache holds it, or nil when there is none. When the fields the
// operator owns on live already hold exactly what desired would apply, nothing is sent:
// an apply of an unchanged object is still a write request, and a resync of thousands of
// InferenceServices must cost none.
func (r *InferenceServiceReconciler) apply(ctx context.Context, desired, live, into client.Object) error {
	content, err := toApplyConfiguration(desired)
	if err != nil {
		return err
	}
	if live != nil && appliedAlready(live, content) {
		reflect.ValueOf(into).Elem().Set(reflect.ValueOf(live).Elem())
		return nil
	}
	stored := content.DeepCopy()
	err = r.Apply(ctx, client.ApplyConfigurationFromUnstructured(stored), client.FieldOwner(FieldOwner), client.ForceOwnership)
	if apierrors.IsInvalid(err) {
		// A hand edit can leave list entries the operator does not own beside the ones it
		// applies (a Service port whose number was changed keeps its name, and the API
		// server refuses two ports named "http"). Server-side apply cannot remove another
		// manager's entries, so the operator's fields are written over the live object
		// once, and the apply is tried again.
		if repaired, repairErr := r.overwriteSpec(ctx, content); repairErr != nil {
			err = errors.Join(err, repairErr)
		} else if repaired {
			stored = content.DeepCopy()
			err = r.Apply(ctx, client.ApplyConfigurationFromUnstructured(stored), client.FieldOwner(FieldOwner), client.ForceOwnership)
		}
	}
	if err != nil {
		return fmt.Errorf("applying %s %s: %w", content.GetKind(), client.ObjectKeyFromObject(desired), err)
	}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(stored.Object, into); err != nil {
		return fmt.Errorf("decoding applied %s: %w", content.GetKind(), err)
	}
	return nil
}

// overwriteSpec writes every top-level field of the desired spec over the live object
// with a JSON merge patch, which replaces lists wholesale, so that list entries another
// manager added are gone. Fields of the live spec the operator does not render (a
// Service's clusterIP, a Deployment's replicas while an HPA scales) are kept. A merge
// patch needs only the patch permission the operator already has. It reports false when
// there is no live object to repair.
func (r *InferenceServiceReconciler) overwriteSpec(ctx context.Context, content *unstructured.Unstructured) (bool, error) {
	desiredSpec, _, _ := unstructured.NestedMap(content.Object, "spec")
	patch, err := json.Marshal(map[string]any{"spec": desiredSpec})
	if err != nil {
		return false, err
	}
	live := &unstructured.Unstructured{}
	live.SetGroupVersionKind(content.GroupVersionKind())
	live.SetNamespace(content.GetNamespace())
	live.SetName(content.GetName())
	err = r.Patch(ctx, live, client.RawPatch(types.MergePatchType, patch), client.FieldOwner(FieldOwner))
	if apierrors.IsNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("overwriting the spec of %s %s: %w", content.GetKind(), client.ObjectKeyFromObject(content), err)
	}
	return true, nil
}

// toApplyConfiguration turns a typed object built by the render package into the
// unstructured content of an apply request. Typed objects serialise some zero values
// (creationTimestamp: null, an empty status); they are dropped so the operator claims
// only the fields it means to set.
func toApplyConfiguration(obj client.Object) (*unstructured.Unstructured, error) {
	content, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		return nil, fmt.Errorf("converting %T: %w", obj, err)
	}
	delete(content, "status")
	pruneNulls(content)
	return &unstructured.Unstructured{Object: content}, nil
}

func pruneNulls(m map[string]any) {
	for k, v := range m {
		switch v := v.(type) {
		case nil:
			delete(m, k)
		case map[string]any:
			pruneNulls(v)
		case []any:
			for _, item := range v {
				if im, ok := item.(map[string]any); ok {
					pruneNulls(im)
				}
			}
		}
	}
}

// deleteOwned deletes the child named after isvc if the cache holds one that isvc
// controls. It is used for children the spec no longer asks for (the HPA when
// autoscaling is turned off, the PDB when it is removed).
func (r *InferenceServiceReconciler) deleteOwned(ctx context.Context, isvc *servingv1alpha1.InferenceService, obj client.Object) (deleted bool, err error) {
	if err := r.Get(ctx, client.ObjectKeyFromObject(isvc), obj); err != nil {
		return false, client.IgnoreNotFound(err)
	}
	if !metav1.IsControlledBy(obj, isvc) {
		return false, nil
	}
	uid := obj.GetUID()
	err = r.Delete(ctx, obj, client.Preconditions{UID: &uid}, client.PropagationPolicy(metav1.DeletePropagationBackground))
	if apierrors.IsNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("deleting %s %s: %w", kindOf(r.Scheme, obj), client.ObjectKeyFromObject(obj), err)
	}
	return true, nil
}

// handOffReplicas keeps a Deployment's current replica count when autoscaling takes over
// from a fixed count. While the operator's own apply owns spec.replicas, a second field
// manager first applies the same value, so the field keeps an owner (and its value) once
// the operator's apply stops setting it. This is the ownership transfer the Kubernetes
// server-side apply documentation describes for handing replicas to an HPA.
func (r *InferenceServiceReconciler) handOffReplicas(ctx context.Context, live *appsv1.Deployment) error {
	if live.Spec.Replicas == nil || !ownedFieldsOf(live).replicas {
		return nil
	}
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "apps/v1",
		"kind":       "Deployment",
		"metadata":   map[string]any{"name": live.Name, "namespace": live.Namespace},
		"spec":       map[string]any{"replicas": int64(*live.Spec.Replicas)},
	}}
	if err := r.Apply(ctx, client.ApplyConfigurationFromUnstructured(u), client.FieldOwner(replicasHandoffOwner)); err != nil {
		return fmt.Errorf("handing spec.replicas of Deployment %s over to the autoscaler: %w", client.ObjectKeyFromObject(live), err)
	}
	return nil
}

func kindOf(scheme *runtime.Scheme, obj runtime.Object) string {
	if gvks, _, err := scheme.ObjectKinds(obj); err == nil && len(gvks) > 0 {
		return gvks[0].Kind
	}
	return fmt.Sprintf("%T", obj)
}

func asConflict(err error) (*errConflict, bool) {
	var c *errConflict
	ok := errors.As(err, &c)
	return c, ok
}
