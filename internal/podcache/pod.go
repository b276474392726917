// Package podcache is the operator's cache of the pods of managed InferenceServices.
//
// Pods are cached as Pod, a type of the operator's own, in a cache of their own (New),
// not as corev1.Pod in the manager's: a corev1.Pod is 1,240 bytes of struct before any
// of its content, and the manager's cache would decode each pod in full, managedFields
// and all, before a transform could trim it. A Pod is decoded from the API server's JSON
// straight into the few fields the operator reads; the decoder skips the rest of the pod
// without keeping it.
package podcache

import (
	"slices"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	kjson "sigs.k8s.io/json"

	"github.com/inferenceops/inference-operator/internal/render"
)

// Pod is a pod as the pod cache holds it. A pod the operator reads (see relevant) keeps
// its identity, the InferenceService and pod-template-hash labels, the extended resources
// (such as nvidia.com/gpu) its containers request, its phase and its PodScheduled
// condition. Any other pod keeps its identity alone.
//
// +kubebuilder:object:generate=true
// +kubebuilder:object:root=true
type Pod struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`
	// ExtendedRequests are the extended resources the pod's containers request a
	// positive amount of, each named once.
	ExtendedRequests []corev1.ResourceName `json:"-"`
	Phase            corev1.PodPhase       `json:"-"`
	// Scheduled is the pod's PodScheduled condition; nil when it has none yet.
	Scheduled *corev1.PodCondition `json:"-"`
}

// PodList is the list kind of Pod.
//
// +kubebuilder:object:generate=true
// +kubebuilder:object:root=true
type PodList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Pod `json:"items"`
}

// ExtendedResource tells whether name is an extended resource (a device such as
// nvidia.com/gpu, counted in whole units and never overcommitted).
func ExtendedResource(name corev1.ResourceName) bool {
	s := string(name)
	return strings.Contains(s, "/") && !strings.Contains(s, "kubernetes.io/") && !strings.HasPrefix(s, "requests.")
}

// InferenceService is the name of the InferenceService the pod belongs to; empty for a
// pod kept by its identity alone.
func (p *Pod) InferenceService() string { return p.Labels[render.LabelInferenceService] }

// TemplateHash is the pod's pod-template-hash, which tells the pods of one revision of
// the Deployment's template from another's.
func (p *Pod) TemplateHash() string { return p.Labels[appsv1.DefaultDeploymentUniqueLabelKey] }

// Unschedulable returns the PodScheduled condition of a pod the scheduler found no node
// for, or nil. A pod being deleted or finished does not count: it waits for nothing.
func (p *Pod) Unschedulable() *corev1.PodCondition {
	if p.DeletionTimestamp != nil || p.Phase == corev1.PodSucceeded || p.Phase == corev1.PodFailed {
		return nil
	}
	if c := p.Scheduled; c != nil && c.Status == corev1.ConditionFalse && c.Reason == corev1.PodReasonUnschedulable {
		return c
	}
	return nil
}

// ScheduledOnNode tells whether the scheduler has placed the pod.
func (p *Pod) ScheduledOnNode() bool {
	return p.Scheduled != nil && p.Scheduled.Status == corev1.ConditionTrue
}

// relevant tells whether the operator reads anything of the pod: one not placed yet
// (PodsSchedulable reports it, the rollout policy looks for starved ones), or one that
// holds an extended resource (which a starved pod may wait for). A pod placed that asks
// for no extended resource, the common case, is read by neither: the cache keeps its
// identity alone, and it is in no service's index.
func (p *Pod) relevant() bool {
	return !p.ScheduledOnNode() || len(p.ExtendedRequests) > 0
}

// wire is the part of a pod's JSON that Pod's decoder reads.
type wire struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name              string            `json:"name"`
		Namespace         string            `json:"namespace"`
		UID               types.UID         `json:"uid"`
		ResourceVersion   string            `json:"resourceVersion"`
		CreationTimestamp metav1.Time       `json:"creationTimestamp"`
		DeletionTimestamp *metav1.Time      `json:"deletionTimestamp"`
		Labels            map[string]string `json:"labels"`
		Annotations       map[string]string `json:"annotations"`
	} `json:"metadata"`
	Spec struct {
		Containers []struct {
			Resources struct {
				Requests map[corev1.ResourceName]resource.Quantity `json:"requests"`
			} `json:"resources"`
		} `json:"containers"`
	} `json:"spec"`
	Status struct {
		Phase      corev1.PodPhase       `json:"phase"`
		Conditions []corev1.PodCondition `json:"conditions"`
	} `json:"status"`
}

// keptLabels are the pod labels the operator reads: the InferenceService the pod
// belongs to (its watch maps the pod by it, and the index lists a service's pods by it)
// and its template's hash (the rollout policy tells old pods from new by it).
var keptLabels = []string{render.LabelInferenceService, appsv1.DefaultDeploymentUniqueLabelKey}

// UnmarshalJSON decodes the fields of a pod that Pod keeps and skips the rest, as
// case-sensitively as the API machinery's own decoder. The initial-events-end annotation
// is kept too: it marks the bookmark that ends a streamed initial list, which the
// informer must see. Pod has no MarshalJSON of its own: nothing sends one to the API
// server.
func (p *Pod) UnmarshalJSON(data []byte) error {
	var w wire
	if err := kjson.UnmarshalCaseSensitivePreserveInts(data, &w); err != nil {
		return err
	}
	md := w.Metadata
	*p = Pod{
		TypeMeta:   metav1.TypeMeta{APIVersion: w.APIVersion, Kind: w.Kind},
		ObjectMeta: metav1.ObjectMeta{Name: md.Name, Namespace: md.Namespace, UID: md.UID, ResourceVersion: md.ResourceVersion},
	}
	if v, ok := md.Annotations[metav1.InitialEventsAnnotationKey]; ok {
		p.Annotations = map[string]string{metav1.InitialEventsAnnotationKey: v}
	}
	for _, c := range w.Spec.Containers {
		for name, q := range c.Resources.Requests {
			if ExtendedResource(name) && q.Sign() > 0 && !slices.Contains(p.ExtendedRequests, name) {
				p.ExtendedRequests = append(p.ExtendedRequests, name)
			}
		}
	}
	for i := range w.Status.Conditions {
		if c := w.Status.Conditions[i]; c.Type == corev1.PodScheduled {
			p.Scheduled = &c
		}
	}
	if !p.relevant() {
		p.Scheduled = nil
		return nil
	}
	p.CreationTimestamp, p.DeletionTimestamp, p.Phase = md.CreationTimestamp, md.DeletionTimestamp, w.Status.Phase
	for _, k := range keptLabels {
		if v, ok := md.Labels[k]; ok {
			if p.Labels == nil {
				p.Labels = make(map[string]string, len(keptLabels))
			}
			p.Labels[k] = v
		}
	}
	return nil
}
