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
	// FieldOwner is the field manager of everything the operator creates and applies.
	FieldOwner = "inference-operator"

	// replicasHandoffOwner holds a Deployment's spec.replicas for the moment autoscaling
	// takes over from a fixed count: the operator stops applying the field, and without
	// another owner the API server would reset it to 1 and kill running pods. The
	// HorizontalPodAutoscaler then takes the field over the first time it scales.
	replicasHandoffOwner = "inference-operator-replicas-handoff"

	// repairOwner is the field manager of the patch that repairs a child a hand edit left
	// invalid. Its managedFields entry is removed right after the repair, so that it never
	// keeps a field on the child that the InferenceService no longer asks for.
	repairOwner = "inference-operator-repair"

	// createOnlyResourceVersion makes an apply fail with Conflict when the object exists
	// (see createChild).
	createOnlyResourceVersion = "1"
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

// errPreviousChild reports a child left by a deleted InferenceService of the same name:
// the garbage collector is removing it, and the child of this one is created once it is gone.
type errPreviousChild struct {
	kind, name string
}

func (e *errPreviousChild) Error() string {
	return fmt.Sprintf("waiting for the %s %q of the previous InferenceService of this name to be deleted", e.kind, e.name)
}

// readChild returns the child of isvc of obj's kind as the cache holds it, or nil when
// there is none. It returns an *errConflict when the object of that name belongs to
// someone else, and an *errPreviousChild when it belongs to a deleted InferenceService of
// the same name.
//
// The cache holds only children labelled as the operator's; an unlabelled object of the
// same name is not seen here, and the create that follows fails on it instead.
func (r *InferenceServiceReconciler) readChild(ctx context.Context, isvc *servingv1alpha1.InferenceService, kind client.Object) (client.Object, error) {
	obj := newObjectLike(kind)
	key := client.ObjectKeyFromObject(isvc)
	if err := r.Get(ctx, key, obj); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, nil
		}
		return nil, fmt.Errorf("reading %s %s: %w", kindOf(r.Scheme, obj), key, err)
	}
	if err := r.checkControlled(isvc, obj); err != nil {
		return nil, err
	}
	return obj, nil
}

// checkControlled tells whether obj is controlled by isvc, and if not, by whom.
func (r *InferenceServiceReconciler) checkControlled(isvc *servingv1alpha1.InferenceService, obj client.Object) error {
	if metav1.IsControlledBy(obj, isvc) {
		return nil
	}
	ref := metav1.GetControllerOf(obj)
	if ref != nil && ref.Kind == "InferenceService" && ref.Name == isvc.Name && ref.APIVersion == servingv1alpha1.GroupVersion.String() {
		// Same kind, namespace and name but another UID: an InferenceService that was
		// deleted and re-created. Only one of that name can exist at a time.
		return &errPreviousChild{kind: kindOf(r.Scheme, obj), name: obj.GetName()}
	}
	conflict := &errConflict{kind: kindOf(r.Scheme, obj), name: obj.GetName()}
	if ref != nil {
		conflict.owner = ref.Kind + "/" + ref.Name
	}
	return conflict
}

// createChild creates desired, which the cache does not hold, and returns the stored
// object. It never adopts an object someone else created in the meantime: the request is
// a create-only apply, a server-side apply whose metadata.resourceVersion precondition no
// stored object can meet ("1", the revision of an empty etcd, which no write ever gets),
// so the API server creates the child or answers Conflict when the name is taken. A plain
// create (POST) would do the same in one request too, but it records an Update entry in
// managedFields that owns every value the API server defaulted (a Deployment's replicas
// among them), which the operator's applies could then neither release nor remove.
// When the name is taken by a child of isvc that the cache has not seen yet, that child
// is applied.
func (r *InferenceServiceReconciler) createChild(ctx context.Context, isvc *servingv1alpha1.InferenceService, desired client.Object) (client.Object, error) {
	content, err := ApplyContent(desired)
	if err != nil {
		return nil, err
	}
	digest := digestOfContent(content)
	content.SetResourceVersion(createOnlyResourceVersion)
	key := client.ObjectKeyFromObject(desired)
	stored, err := r.apply(ctx, content)
	if err == nil {
		ownedDigests.rememberApplied(stored, digest)
		return decodeAs(desired, stored)
	}
	if !apierrors.IsConflict(err) {
		return nil, fmt.Errorf("creating %s %s: %w", content.GetKind(), key, err)
	}
	existing := newObjectLike(desired)
	if err := r.APIReader.Get(ctx, key, existing); err != nil {
		return nil, fmt.Errorf("reading %s %s: %w", content.GetKind(), key, err)
	}
	if err := r.checkControlled(isvc, existing); err != nil {
		return nil, err
	}
	return r.applyChild(ctx, desired, existing)
}

// applyChild writes desired over live, a child of the InferenceService, with server-side
// apply under FieldOwner, forcing ownership of every field it sets, and returns the stored
// object.
//
// When the fields the operator owns on live already hold exactly what desired would
// apply, nothing is sent: an apply of an unchanged object is still a write request, and
// a resync of thousands of InferenceServices must cost none.
func (r *InferenceServiceReconciler) applyChild(ctx context.Context, desired, live client.Object) (client.Object, error) {
	content, err := ApplyContent(desired)
	if err != nil {
		return nil, err
	}
	owned, digest := ownedFieldsOf(live), digestOfContent(content)
	if owned.digest != "" && owned.digest == digest {
		return live, nil
	}
	if owned.updateEntry {
		if err := r.dropUpdateEntry(ctx, content); err != nil {
			return nil, err
		}
	}
	stored, err := r.apply(ctx, content)
	if apierrors.IsInvalid(err) {
		// A hand edit can leave what the operator's apply cannot undo: list entries of
		// another field manager beside the operator's (two Service ports named "http"),
		// or a field the API server defaulted that no longer fits (a Deployment's
		// rollingUpdate once the strategy is Recreate). Server-side apply never removes
		// fields it does not own, so the child is repaired once and applied again.
		if repairErr := r.repairChild(ctx, content); repairErr != nil {
			return nil, errors.Join(err, repairErr)
		}
		if stored, err = r.apply(ctx, content); err == nil {
			err = r.dropManager(ctx, stored, repairOwner, metav1.ManagedFieldsOperationUpdate)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("applying %s %s: %w", content.GetKind(), client.ObjectKeyFromObject(desired), err)
	}
	ownedDigests.rememberApplied(stored, digest)
	return decodeAs(desired, stored)
}

// decodeAs decodes stored into a new object of like's Go type.
func decodeAs(like client.Object, stored *unstructured.Unstructured) (client.Object, error) {
	into := newObjectLike(like)
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(stored.Object, into); err != nil {
		return nil, fmt.Errorf("decoding %s: %w", stored.GetKind(), err)
	}
	return into, nil
}

// apply sends one server-side apply of content and returns what the API server stored.
func (r *InferenceServiceReconciler) apply(ctx context.Context, content *unstructured.Unstructured) (*unstructured.Unstructured, error) {
	stored := content.DeepCopy()
	err := r.Apply(ctx, client.ApplyConfigurationFromUnstructured(stored), client.FieldOwner(FieldOwner), client.ForceOwnership)
	return stored, err
}

// dropUpdateEntry removes the Update entry of FieldOwner from the child's managedFields
// before the next apply. Older versions of the operator left one with their repair
// patch; it co-owns what the Apply entry owns, and server-side apply removes a field the
// applier stops setting only when no other entry owns it.
func (r *InferenceServiceReconciler) dropUpdateEntry(ctx context.Context, content *unstructured.Unstructured) error {
	live, err := r.readUncached(ctx, content)
	if err != nil {
		return err
	}
	return r.dropManager(ctx, live, FieldOwner, metav1.ManagedFieldsOperationUpdate)
}

// dropManager removes the managedFields entry of manager with operation op from obj, so
// that the fields it held are owned by the remaining managers only.
func (r *InferenceServiceReconciler) dropManager(ctx context.Context, obj client.Object, manager string, op metav1.ManagedFieldsOperationType) error {
	var ops []map[string]any
	entries := obj.GetManagedFields()
	// From the end, so that each index stays valid after the removals before it.
	for i := len(entries) - 1; i >= 0; i-- {
		if e := entries[i]; e.Manager == manager && e.Operation == op && e.Subresource == "" {
			path := fmt.Sprintf("/metadata/managedFields/%d", i)
			ops = append(ops,
				map[string]any{"op": "test", "path": path + "/manager", "value": manager},
				map[string]any{"op": "remove", "path": path},
			)
		}
	}
	return r.patchManagedFields(ctx, obj, ops)
}

// patchManagedFields sends a JSON patch of managedFields alone. The test operations in ops
// make it fail, rather than touch the wrong entry, when the list changed since it was read.
func (r *InferenceServiceReconciler) patchManagedFields(ctx context.Context, obj client.Object, ops []map[string]any) error {
	if len(ops) == 0 {
		return nil
	}
	patch, err := json.Marshal(ops)
	if err != nil {
		return err
	}
	if err := r.Patch(ctx, obj, client.RawPatch(types.JSONPatchType, patch)); err != nil {
		return fmt.Errorf("updating the field ownership of %s %s: %w", kindOf(r.Scheme, obj), client.ObjectKeyFromObject(obj), err)
	}
	return nil
}

// readUncached reads the stored object content describes from the API server, with the
// managedFields the cache drops.
func (r *InferenceServiceReconciler) readUncached(ctx context.Context, content *unstructured.Unstructured) (*unstructured.Unstructured, error) {
	live := &unstructured.Unstructured{}
	live.SetGroupVersionKind(content.GroupVersionKind())
	if err := r.APIReader.Get(ctx, client.ObjectKeyFromObject(content), live); err != nil {
		return nil, fmt.Errorf("reading %s %s: %w", content.GetKind(), client.ObjectKeyFromObject(content), err)
	}
	return live, nil
}

// repairChild writes the desired spec over the live child with a JSON merge patch under
// repairOwner: every field the operator renders gets the desired value, lists are
// replaced whole, and inside the fields it renders, map keys it does not render are
// removed (the API server defaults them again). Top-level spec fields the operator does
// not render (a Service's clusterIP, a Deployment's replicas while an HPA scales) and
// metadata maps (labels and annotations, such as a rollout restart's) are kept. A merge
// patch needs only the patch permission the operator already has.
func (r *InferenceServiceReconciler) repairChild(ctx context.Context, content *unstructured.Unstructured) error {
	live, err := r.readUncached(ctx, content)
	if err != nil {
		return err
	}
	key := client.ObjectKeyFromObject(content)
	desiredSpec, _, _ := unstructured.NestedMap(content.Object, "spec")
	liveSpec, _, _ := unstructured.NestedMap(live.Object, "spec")
	spec := map[string]any{}
	for k, v := range desiredSpec {
		spec[k] = replacing(liveSpec[k], v)
	}
	patch, err := json.Marshal(map[string]any{"spec": spec})
	if err != nil {
		return err
	}
	if err := r.Patch(ctx, live, client.RawPatch(types.MergePatchType, patch), client.FieldOwner(repairOwner)); err != nil {
		return fmt.Errorf("repairing %s %s: %w", content.GetKind(), key, err)
	}
	return nil
}

// replacing returns the merge patch value that turns live into desired: desired itself,
// with, in maps, null for every key of live that desired lacks. Maps named metadata are
// merged as they are, so labels and annotations others added are kept.
func replacing(live, desired any) any {
	desiredMap, ok := desired.(map[string]any)
	liveMap, liveOK := live.(map[string]any)
	if !ok || !liveOK {
		return desired
	}
	out := make(map[string]any, len(desiredMap))
	for k, v := range desiredMap {
		if k == "metadata" {
			out[k] = v
			continue
		}
		out[k] = replacing(liveMap[k], v)
	}
	for k := range liveMap {
		if _, ok := desiredMap[k]; !ok {
			out[k] = nil
		}
	}
	return out
}

// deleteChild deletes live, a child the spec no longer asks for.
func (r *InferenceServiceReconciler) deleteChild(ctx context.Context, live client.Object) error {
	uid := live.GetUID()
	err := r.Delete(ctx, live, client.Preconditions{UID: &uid}, client.PropagationPolicy(metav1.DeletePropagationBackground))
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("deleting %s %s: %w", kindOf(r.Scheme, live), client.ObjectKeyFromObject(live), err)
	}
	return nil
}

// handOffReplicas keeps pods running when autoscaling takes over from a fixed count.
// While the operator owns spec.replicas, a second field manager first applies a count,
// so the field keeps an owner (and a value) once the operator's apply stops setting it:
// the ownership transfer the Kubernetes server-side apply documentation describes for
// handing replicas to an HPA. The count is the current one clamped to the autoscaler's
// bounds: an HPA leaves a target it finds at 0 alone ("scaling disabled"), so a service
// handed over at 0 would otherwise stay at 0 for ever.
func (r *InferenceServiceReconciler) handOffReplicas(ctx context.Context, live *appsv1.Deployment, minReplicas, maxReplicas int32) error {
	if live.Spec.Replicas == nil || !ownedFieldsOf(live).replicas {
		return nil
	}
	count := min(max(*live.Spec.Replicas, minReplicas), maxReplicas)
	if err := r.applyHandoffReplicas(ctx, live, count); err != nil {
		return fmt.Errorf("handing spec.replicas of Deployment %s over to the autoscaler: %w", client.ObjectKeyFromObject(live), err)
	}
	return nil
}

// applyHandoffReplicas applies count as the Deployment's spec.replicas under
// replicasHandoffOwner, a field manager whose ownership the autoscaler's first scale replaces.
func (r *InferenceServiceReconciler) applyHandoffReplicas(ctx context.Context, live *appsv1.Deployment, count int32) error {
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "apps/v1",
		"kind":       "Deployment",
		"metadata":   map[string]any{"name": live.Name, "namespace": live.Namespace},
		"spec":       map[string]any{"replicas": int64(count)},
	}}
	return r.Apply(ctx, client.ApplyConfigurationFromUnstructured(u), client.FieldOwner(replicasHandoffOwner), client.ForceOwnership)
}

// ApplyContent turns a typed object built by the render package into the unstructured
// content of the operator's apply request for it. It is exported for the admission
// suite, which sends exactly what the operator sends. Typed objects serialise some zero values
// (creationTimestamp: null, an empty status); they are dropped so the operator claims
// only the fields it means to set.
func ApplyContent(obj client.Object) (*unstructured.Unstructured, error) {
	if u, ok := obj.(*unstructured.Unstructured); ok {
		// The converter hands an unstructured object's own map back: the content would
		// share it, and what createChild sets on the content (its create-only
		// resourceVersion) would reach the desired object and every apply after.
		obj = u.DeepCopy()
	}
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

func kindOf(scheme *runtime.Scheme, obj runtime.Object) string {
	if gvks, _, err := scheme.ObjectKinds(obj); err == nil && len(gvks) > 0 {
		return gvks[0].Kind
	}
	return fmt.Sprintf("%T", obj)
}

// newObjectLike returns a new, empty object of the same Go type as obj.
func newObjectLike(obj client.Object) client.Object {
	if u, ok := obj.(*unstructured.Unstructured); ok {
		fresh := &unstructured.Unstructured{}
		fresh.SetGroupVersionKind(u.GroupVersionKind())
		return fresh
	}
	return reflect.New(reflect.TypeOf(obj).Elem()).Interface().(client.Object)
}
