package render

import (
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	servingv1alpha1 "github.com/inferenceops/inference-operator/api/v1alpha1"
)

// DefaultClusterDomain is the DNS domain of a cluster unless its administrator chose
// another one (the kubelet's --cluster-domain).
const DefaultClusterDomain = "cluster.local"

// Config is what the builders take from the operator rather than from the
// InferenceService: settings of the cluster it runs in.
type Config struct {
	// ClusterDomain is the cluster's DNS domain, used in status.url. Empty means
	// DefaultClusterDomain.
	ClusterDomain string
	// PrometheusAddress is the address of the Prometheus that KEDA's prometheus triggers
	// query (the ScaledObject's serverAddress). Empty means DefaultPrometheusAddress.
	PrometheusAddress string
	// DefaultPodMonitor renders a PodMonitor for every InferenceService that leaves
	// spec.monitoring.podMonitor.enabled out (--default-pod-monitor).
	DefaultPodMonitor bool
}

// Children is the desired set of children of one InferenceService. A nil member is a
// child the spec does not ask for: one to delete if it exists.
type Children struct {
	Deployment              *appsv1.Deployment
	Service                 *corev1.Service
	HorizontalPodAutoscaler *autoscalingv2.HorizontalPodAutoscaler
	PodDisruptionBudget     *policyv1.PodDisruptionBudget
	// ScaledObject is KEDA's (keda.sh/v1alpha1), with engine KEDA.
	ScaledObject *unstructured.Unstructured
	// PodMonitor is the Prometheus Operator's (monitoring.coreos.com/v1), when enabled
	// (by the spec, or by Config.DefaultPodMonitor).
	PodMonitor *unstructured.Unstructured
	// Err is set when a child cannot be built from the spec (a signal admission would
	// have refused); the other children are still rendered.
	Err error
}

// Desired renders every child of isvc once.
func Desired(isvc *servingv1alpha1.InferenceService, cfg Config) Children {
	so, err := ScaledObject(isvc, cfg)
	return Children{
		Deployment:              Deployment(isvc),
		Service:                 Service(isvc),
		HorizontalPodAutoscaler: HorizontalPodAutoscaler(isvc),
		PodDisruptionBudget:     PodDisruptionBudget(isvc),
		ScaledObject:            so,
		PodMonitor:              PodMonitor(isvc, cfg),
		Err:                     err,
	}
}

// Slot is one kind of child: an empty object of its Go type, and the desired object or
// nil when the spec does not ask for one.
type Slot struct {
	Kind    client.Object
	Desired client.Object
}

// Slots lists the children in the order they are applied: the Deployment first, so that
// the pods start as early as possible, then what routes to and scales them.
func (c Children) Slots() []Slot {
	return []Slot{
		{Kind: &appsv1.Deployment{}, Desired: asObject(c.Deployment)},
		{Kind: &corev1.Service{}, Desired: asObject(c.Service)},
		{Kind: &autoscalingv2.HorizontalPodAutoscaler{}, Desired: asObject(c.HorizontalPodAutoscaler)},
		{Kind: &policyv1.PodDisruptionBudget{}, Desired: asObject(c.PodDisruptionBudget)},
		{Kind: emptyUnstructured(ScaledObjectGVK), Desired: asObject(c.ScaledObject)},
		{Kind: emptyUnstructured(PodMonitorGVK), Desired: asObject(c.PodMonitor)},
	}
}

// emptyUnstructured is an empty object of kind gvk.
func emptyUnstructured(gvk schema.GroupVersionKind) *unstructured.Unstructured {
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(gvk)
	return u
}

// asObject turns a typed nil pointer into a nil interface, so that "not desired" reads
// as Desired == nil.
func asObject[T any, P interface {
	*T
	client.Object
}](obj P) client.Object {
	if obj == nil {
		return nil
	}
	return obj
}
