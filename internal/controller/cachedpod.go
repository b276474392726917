package controller

import (
	"fmt"
	"slices"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	kjson "sigs.k8s.io/json"

	"github.com/inferenceops/inference-operator/internal/render"
)

// The pods of managed InferenceServices are cached as cachedPod, in a cache of their own
// (newPodCache), not as corev1.Pod in the manager's: a corev1.Pod is 1,240 bytes of
// struct before any of its content, and the manager's cache would decode each pod in
// full, managedFields and all, before a transform could trim it. A cachedPod is decoded
// from the API server's JSON straight into the few fields the operator reads; the
// decoder skips the rest of the pod without keeping it.

// cachedPod is a pod as the operator's pod cache holds it: its identity, the
// InferenceService and pod-template-hash labels, the extended resources (such as
// nvidia.com/gpu) its containers request, its phase and its PodScheduled condition.
type cachedPod struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`
	// ExtendedRequests are the extended resources the pod's containers request a
	// positive amount of, each named once.
	ExtendedRequests []corev1.ResourceName `json:"extendedRequests,omitempty"`
	Phase            corev1.PodPhase       `json:"phase,omitempty"`
	// Scheduled is the pod's PodScheduled condition; nil when it has none yet.
	Scheduled *corev1.PodCondition `json:"scheduled,omitempty"`
}

// cachedPodList is the list kind of cachedPod.
type cachedPodList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []cachedPod `json:"items"`
}

// podWire is the part of a pod's JSON that cachedPod's decoder reads.
type podWire struct {
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

// cachedLabels are the pod labels the operator reads: the InferenceService the pod
// belongs to (its watch maps the pod by it, and a service's pods are listed by
// render.SelectorLabels, which is that label) and its template's hash (the rollout
// policy tells old pods from new by it).
var cachedLabels = []string{render.LabelInferenceService, appsv1.DefaultDeploymentUniqueLabelKey}

// UnmarshalJSON decodes the fields of a pod that cachedPod keeps and skips the rest, as
// case-sensitively as the API machinery's own decoder. The initial-events-end annotation
// is kept too: it marks the bookmark that ends a streamed initial list, which the
// informer must see.
func (p *cachedPod) UnmarshalJSON(data []byte) error {
	var wire podWire
	if err := kjson.UnmarshalCaseSensitivePreserveInts(data, &wire); err != nil {
		return err
	}
	md := wire.Metadata
	*p = cachedPod{
		TypeMeta: metav1.TypeMeta{APIVersion: wire.APIVersion, Kind: wire.Kind},
		ObjectMeta: metav1.ObjectMeta{
			Name: md.Name, Namespace: md.Namespace, UID: md.UID, ResourceVersion: md.ResourceVersion,
			CreationTimestamp: md.CreationTimestamp, DeletionTimestamp: md.DeletionTimestamp,
		},
		Phase: wire.Status.Phase,
	}
	for _, k := range cachedLabels {
		if v, ok := md.Labels[k]; ok {
			if p.Labels == nil {
				p.Labels = make(map[string]string, len(cachedLabels))
			}
			p.Labels[k] = v
		}
	}
	if v, ok := md.Annotations[metav1.InitialEventsAnnotationKey]; ok {
		p.Annotations = map[string]string{metav1.InitialEventsAnnotationKey: v}
	}
	for _, c := range wire.Spec.Containers {
		for name, q := range c.Resources.Requests {
			if extendedResource(name) && q.Sign() > 0 && !slices.Contains(p.ExtendedRequests, name) {
				p.ExtendedRequests = append(p.ExtendedRequests, name)
			}
		}
	}
	for i := range wire.Status.Conditions {
		if c := wire.Status.Conditions[i]; c.Type == corev1.PodScheduled {
			p.Scheduled = &c
		}
	}
	return nil
}

// DeepCopyObject implements runtime.Object.
func (p *cachedPod) DeepCopyObject() runtime.Object { return p.DeepCopy() }

// DeepCopy returns a copy of p that shares nothing with it.
func (p *cachedPod) DeepCopy() *cachedPod {
	if p == nil {
		return nil
	}
	out := &cachedPod{}
	p.DeepCopyInto(out)
	return out
}

// DeepCopyInto copies p into out, sharing nothing with it.
func (p *cachedPod) DeepCopyInto(out *cachedPod) {
	*out = *p
	p.ObjectMeta.DeepCopyInto(&out.ObjectMeta)
	out.ExtendedRequests = slices.Clone(p.ExtendedRequests)
	if p.Scheduled != nil {
		out.Scheduled = p.Scheduled.DeepCopy()
	}
}

// DeepCopyObject implements runtime.Object.
func (l *cachedPodList) DeepCopyObject() runtime.Object {
	if l == nil {
		return nil
	}
	out := &cachedPodList{}
	l.DeepCopyInto(out)
	return out
}

// DeepCopyInto copies l into out, sharing nothing with it.
func (l *cachedPodList) DeepCopyInto(out *cachedPodList) {
	*out = *l
	l.ListMeta.DeepCopyInto(&out.ListMeta)
	if l.Items != nil {
		out.Items = make([]cachedPod, len(l.Items))
		for i := range l.Items {
			l.Items[i].DeepCopyInto(&out.Items[i])
		}
	}
}

// podScheme is the scheme of the pod cache: v1 Pod is a cachedPod there.
func podScheme() (*runtime.Scheme, error) {
	s := runtime.NewScheme()
	s.AddKnownTypeWithName(corev1.SchemeGroupVersion.WithKind("Pod"), &cachedPod{})
	s.AddKnownTypeWithName(corev1.SchemeGroupVersion.WithKind("PodList"), &cachedPodList{})
	metav1.AddToGroupVersion(s, corev1.SchemeGroupVersion)
	if err := s.SetVersionPriority(corev1.SchemeGroupVersion); err != nil {
		return nil, err
	}
	return s, nil
}

// podCache is the cache of the pods of managed InferenceServices. GetCache makes the
// manager start it with its own cache and wait until it has synced before any
// controller starts.
type podCache struct{ cache.Cache }

func (c podCache) GetCache() cache.Cache { return c.Cache }

// newPodCache builds the pod cache of mgr, added to it: only pods labelled as managed
// by the operator, in namespaces (empty: all), read as JSON, the only encoding
// cachedPod decodes.
func newPodCache(mgr ctrl.Manager, namespaces []string) (podCache, error) {
	scheme, err := podScheme()
	if err != nil {
		return podCache{}, err
	}
	cfg := rest.CopyConfig(mgr.GetConfig())
	cfg.ContentType = runtime.ContentTypeJSON
	cfg.AcceptContentTypes = runtime.ContentTypeJSON
	opts := cache.Options{
		Scheme:                      scheme,
		Mapper:                      mgr.GetRESTMapper(),
		HTTPClient:                  mgr.GetHTTPClient(),
		ReaderFailOnMissingInformer: true,
		DefaultNamespaces:           namespaceConfigs(namespaces),
		ByObject: map[client.Object]cache.ByObject{
			&cachedPod{}: {Label: managedSelector()},
		},
	}
	c, err := cache.New(cfg, opts)
	if err != nil {
		return podCache{}, fmt.Errorf("creating the pod cache: %w", err)
	}
	if err := mgr.Add(podCache{c}); err != nil {
		return podCache{}, err
	}
	return podCache{c}, nil
}
