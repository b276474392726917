package controller

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"slices"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	appsv1ac "k8s.io/client-go/applyconfigurations/apps/v1"
	autoscalingv2ac "k8s.io/client-go/applyconfigurations/autoscaling/v2"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	policyv1ac "k8s.io/client-go/applyconfigurations/policy/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// ownedFieldsAnnotation carries, on cached copies of children only, what the operator
// needs from their managedFields once those are dropped to save memory. It is never
// sent to the API server. Its value holds the resourceVersion it was computed for, so a
// value found on an object straight from the API server (set there by someone else)
// is ignored.
const ownedFieldsAnnotation = "serving.inferenceops.dev/cached-owned-fields"

// Marks of ownedFieldsAnnotation, joined by commas ("-" for none).
const (
	// ownsReplicasMark: the operator owns spec.replicas.
	ownsReplicasMark = "owns-replicas"
	// updateEntryMark: the operator holds an Update entry (see ownedFields.updateEntry).
	updateEntryMark = "update-entry"
)

// ownedFields sums up the fields the operator owns on a child.
type ownedFields struct {
	// digest is a hash of those fields and their values, comparable with digestOfContent.
	digest string
	// replicas tells whether they include spec.replicas (Deployments).
	replicas bool
	// updateEntry tells that FieldOwner also holds an Update entry in managedFields, left
	// by an older version of the operator's repair patch. It is removed before the next apply.
	updateEntry bool
}

// ownedFieldsOf reads the summary from the cache annotation when it belongs to obj's
// resourceVersion, or else computes it from obj's managedFields.
func ownedFieldsOf(obj client.Object) ownedFields {
	if v, ok := obj.GetAnnotations()[ownedFieldsAnnotation]; ok && len(obj.GetManagedFields()) == 0 {
		if parts := strings.Split(v, " "); len(parts) == 3 && parts[0] == obj.GetResourceVersion() {
			marks := strings.Split(parts[2], ",")
			return ownedFields{
				digest:      parts[1],
				replicas:    slices.Contains(marks, ownsReplicasMark),
				updateEntry: slices.Contains(marks, updateEntryMark),
			}
		}
	}
	return computeOwnedFields(obj)
}

// computeOwnedFields sums up the fields of the operator's Apply entry in obj's
// managedFields. The digest is extracted from the object (see extractOwnedDigest) unless
// ownedDigests remembers it for the same state of the operator's entries.
func computeOwnedFields(obj client.Object) ownedFields {
	var result ownedFields
	for _, e := range obj.GetManagedFields() {
		if e.Manager == FieldOwner && e.Subresource == "" && e.Operation == metav1.ManagedFieldsOperationUpdate {
			result.updateEntry = true
		}
	}
	if dep, ok := obj.(*appsv1.Deployment); ok {
		result.replicas = ownsField(dep.ManagedFields, FieldOwner, "f:spec", "f:replicas")
	}
	key, keyed := ownedDigests.keyOf(obj)
	if keyed {
		if digest, ok := ownedDigests.get(key); ok {
			result.digest = digest
			return result
		}
	}
	result.digest = extractOwnedDigest(obj)
	if keyed && result.digest != "" {
		ownedDigests.put(key, result.digest)
	}
	return result
}

// extractOwnedDigest extracts the fields of the operator's Apply entry, with their values,
// from obj and returns their digest; empty when obj is not a child kind or on error.
func extractOwnedDigest(obj client.Object) string {
	var (
		owned any
		err   error
	)
	switch obj := obj.(type) {
	case *appsv1.Deployment:
		owned, err = appsv1ac.ExtractDeployment(obj, FieldOwner)
	case *corev1.Service:
		owned, err = corev1ac.ExtractService(obj, FieldOwner)
	case *autoscalingv2.HorizontalPodAutoscaler:
		owned, err = autoscalingv2ac.ExtractHorizontalPodAutoscaler(obj, FieldOwner)
	case *policyv1.PodDisruptionBudget:
		owned, err = policyv1ac.ExtractPodDisruptionBudget(obj, FieldOwner)
	case *unstructured.Unstructured:
		// A custom resource of another project (a ScaledObject, a PodMonitor): its schema is
		// not compiled in (see extractUnstructured).
		owned, err = extractUnstructured(obj)
	default:
		return ""
	}
	if err != nil {
		return ""
	}
	digest, err := digestOf(owned)
	if err != nil {
		return ""
	}
	return digest
}

// extractUnstructured returns the fields of the operator's Apply entry, with their values,
// from obj, a kind whose schema the operator does not compile in. It walks the entry's
// field set over the object: a field with owned fields below it is descended into, and
// a field owned as a whole (a leaf of the set) is copied whole, value and all. The API
// server makes a map or struct its schema calls atomic (a label selector) such a leaf,
// and structured-merge-diff's deduced schema, which knows no atomic maps, would extract
// it empty. Lists are copied whole, as that schema does.
func extractUnstructured(obj *unstructured.Unstructured) (map[string]any, error) {
	extracted := map[string]any{}
	for _, e := range obj.GetManagedFields() {
		if e.Manager != FieldOwner || e.Operation != metav1.ManagedFieldsOperationApply || e.Subresource != "" || e.FieldsV1 == nil {
			continue
		}
		var fields map[string]any
		if err := json.Unmarshal(e.FieldsV1.GetRawBytes(), &fields); err != nil {
			return nil, err
		}
		extracted = ownedPart(fields, obj.Object)
		break
	}
	extracted["apiVersion"], extracted["kind"] = obj.GetAPIVersion(), obj.GetKind()
	md, _ := extracted["metadata"].(map[string]any)
	if md == nil {
		md = map[string]any{}
		extracted["metadata"] = md
	}
	md["name"], md["namespace"] = obj.GetName(), obj.GetNamespace()
	return extracted, nil
}

// ownedPart is the part of object that the field set fields (FieldsV1 JSON) names.
func ownedPart(fields, object map[string]any) map[string]any {
	out := map[string]any{}
	for key, sub := range fields {
		name, ok := strings.CutPrefix(key, "f:")
		if !ok {
			continue // "." (the node itself); list keys do not occur below an object
		}
		value, ok := object[name]
		if !ok {
			continue
		}
		children, _ := sub.(map[string]any)
		if nested, isMap := value.(map[string]any); isMap && len(children) > 0 {
			out[name] = ownedPart(children, nested)
			continue
		}
		out[name] = value
	}
	return out
}

// digestOfContent is the digest of an apply configuration, comparable with
// ownedFields.digest. Equal digests are the server-side apply way of saying "this apply
// would change nothing":
//   - a field the operator stops rendering is still owned, so it shows as a difference
//     and the next apply removes it;
//   - a field someone else changed by hand moved to their field manager, so it is missing
//     from the operator's set and the next apply takes it back;
//   - values the API server defaulted are owned by nobody and never compared.
//
// It is empty on error, which never equals a digest: the apply is then sent.
func digestOfContent(content *unstructured.Unstructured) string {
	digest, err := digestOf(content.Object)
	if err != nil {
		return ""
	}
	return digest
}

// digestOf hashes v's JSON form with empty objects left out. The builders leave some
// struct fields empty (a Deployment's strategy when the spec sets none); applying them
// claims no field, so they never appear among the fields the operator owns. JSON
// objects are written with sorted keys, so equal values hash equally.
func digestOf(v any) (string, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	var generic any
	if err := json.Unmarshal(raw, &generic); err != nil {
		return "", err
	}
	raw, err = json.Marshal(pruneEmpty(generic))
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(raw)
	return hex.EncodeToString(sum[:]), nil
}

func pruneEmpty(v any) any {
	switch v := v.(type) {
	case map[string]any:
		for k, item := range v {
			if m, ok := pruneEmpty(item).(map[string]any); ok && len(m) == 0 {
				delete(v, k)
			}
		}
	case []any:
		for _, item := range v {
			pruneEmpty(item)
		}
	}
	return v
}

// ownsField tells whether manager's Apply entry in managedFields owns the field at path.
func ownsField(entries []metav1.ManagedFieldsEntry, manager string, path ...string) bool {
	for _, e := range entries {
		if e.Manager != manager || e.Operation != metav1.ManagedFieldsOperationApply || e.FieldsV1 == nil {
			continue
		}
		var fields map[string]any
		if err := json.Unmarshal(e.FieldsV1.GetRawBytes(), &fields); err != nil {
			continue
		}
		node := fields
		for i, p := range path {
			next, ok := node[p].(map[string]any)
			if !ok {
				break
			}
			if i == len(path)-1 {
				return true
			}
			node = next
		}
	}
	return false
}
