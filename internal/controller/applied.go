package controller

import (
	"encoding/json"
	"reflect"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	appsv1ac "k8s.io/client-go/applyconfigurations/apps/v1"
	autoscalingv2ac "k8s.io/client-go/applyconfigurations/autoscaling/v2"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	policyv1ac "k8s.io/client-go/applyconfigurations/policy/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// appliedAlready tells whether the fields FieldOwner owns on live, read from live's
// managedFields, hold exactly the apply configuration content. It is the server-side
// apply way of asking "would this apply change anything?":
//   - a field the operator stops rendering is still owned, so it shows as a difference
//     and the next apply removes it;
//   - a field someone else changed by hand moved to their field manager, so it is missing
//     from the operator's set and the next apply takes it back;
//   - values the API server defaulted are owned by nobody and never compared.
//
// Any error, or a kind it does not know, answers false: the apply is then sent.
func appliedAlready(live client.Object, content *unstructured.Unstructured) bool {
	var (
		owned any
		err   error
	)
	switch live := live.(type) {
	case *appsv1.Deployment:
		owned, err = appsv1ac.ExtractDeployment(live, FieldOwner)
	case *corev1.Service:
		owned, err = corev1ac.ExtractService(live, FieldOwner)
	case *autoscalingv2.HorizontalPodAutoscaler:
		owned, err = autoscalingv2ac.ExtractHorizontalPodAutoscaler(live, FieldOwner)
	case *policyv1.PodDisruptionBudget:
		owned, err = policyv1ac.ExtractPodDisruptionBudget(live, FieldOwner)
	default:
		return false
	}
	if err != nil {
		return false
	}
	got, err := jsonValue(owned)
	if err != nil {
		return false
	}
	want, err := jsonValue(content.Object)
	if err != nil {
		return false
	}
	return reflect.DeepEqual(pruneEmpty(got), pruneEmpty(want))
}

// pruneEmpty drops empty objects from v. The builders leave some struct fields empty
// (a Deployment's strategy when the spec sets none); applying them claims no field, so
// they never appear among the fields the operator owns.
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

// jsonValue round-trips v through JSON so that an apply configuration and unstructured
// content compare field by field (numbers as float64, quantities as their strings).
func jsonValue(v any) (any, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var out any
	err = json.Unmarshal(raw, &out)
	return out, err
}
