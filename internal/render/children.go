package render

import (
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
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
}

// Children is the desired set of children of one InferenceService. A nil member is a
// child the spec does not ask for: one to delete if it exists.
type Children struct {
	Deployment              *appsv1.Deployment
	Service                 *corev1.Service
	HorizontalPodAutoscaler *autoscalingv2.HorizontalPodAutoscaler
	PodDisruptionBudget     *policyv1.PodDisruptionBudget
}

// Desired renders every child of isvc once.
func Desired(isvc *servingv1alpha1.InferenceService) Children {
	return Children{
		Deployment:              Deployment(isvc),
		Service:                 Service(isvc),
		HorizontalPodAutoscaler: HorizontalPodAutoscaler(isvc),
		PodDisruptionBudget:     PodDisruptionBudget(isvc),
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
	}
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
