//go:build e2e

package faults

import (
	"fmt"
	"strings"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	"k8s.io/utils/ptr"
)

// replicaChange is one observed change of a Deployment's spec.replicas (From is -1 for
// a Deployment seen for the first time).
type replicaChange struct {
	Key             string
	From, To        int32
	ResourceVersion string
	At              time.Time
}

func (c replicaChange) String() string {
	return fmt.Sprintf("%s %s: %d -> %d (resourceVersion %s)", c.At.Format("15:04:05.000"), c.Key, c.From, c.To, c.ResourceVersion)
}

// replicaTracker is an informer on every Deployment labelled for an InferenceService. It
// records each change of spec.replicas, keyed by namespace/name so that a Deployment
// deleted and recreated with fewer replicas also counts as a decrease, and each deletion.
type replicaTracker struct {
	stopCh chan struct{}

	mu        sync.Mutex
	last      map[string]int32
	changes   []replicaChange
	decreases []replicaChange
	deletions []string
}

func startReplicaTracker(cs kubernetes.Interface) *replicaTracker {
	t := &replicaTracker{stopCh: make(chan struct{}), last: map[string]int32{}}
	factory := informers.NewSharedInformerFactoryWithOptions(cs, 0,
		informers.WithTweakListOptions(func(o *metav1.ListOptions) { o.LabelSelector = labelInferenceService }))
	informer := factory.Apps().V1().Deployments().Informer()
	_, err := informer.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { t.observe(obj) },
		UpdateFunc: func(_, obj any) { t.observe(obj) },
		DeleteFunc: func(obj any) {
			if tomb, ok := obj.(cache.DeletedFinalStateUnknown); ok {
				obj = tomb.Obj
			}
			if d, ok := obj.(*appsv1.Deployment); ok {
				t.mu.Lock()
				t.deletions = append(t.deletions, d.Namespace+"/"+d.Name)
				t.mu.Unlock()
			}
		},
	})
	ExpectWithOffset(1, err).NotTo(HaveOccurred())
	factory.Start(t.stopCh)
	for typ, synced := range factory.WaitForCacheSync(t.stopCh) {
		ExpectWithOffset(1, synced).To(BeTrue(), "informer for %v did not sync", typ)
	}
	return t
}

func (t *replicaTracker) observe(obj any) {
	d, ok := obj.(*appsv1.Deployment)
	if !ok {
		return
	}
	key := d.Namespace + "/" + d.Name
	now := ptr.Deref(d.Spec.Replicas, 1)
	t.mu.Lock()
	defer t.mu.Unlock()
	before, seen := t.last[key]
	if seen && before == now {
		return
	}
	change := replicaChange{Key: key, From: -1, To: now, ResourceVersion: d.ResourceVersion, At: time.Now()}
	if seen {
		change.From = before
	}
	t.last[key] = now
	t.changes = append(t.changes, change)
	if seen && now < before {
		t.decreases = append(t.decreases, change)
		_, _ = fmt.Fprintf(GinkgoWriter, "REPLICA DECREASE %s\n", change)
	}
}

func (t *replicaTracker) stop() { close(t.stopCh) }

// decreasesIn returns the decreases of Deployments in namespace (all when empty).
func (t *replicaTracker) decreasesIn(namespace string) []replicaChange {
	t.mu.Lock()
	defer t.mu.Unlock()
	return filterChanges(t.decreases, namespace, "")
}

// changesOf returns every change of one Deployment, its creation included.
func (t *replicaTracker) changesOf(namespace, name string) []replicaChange {
	t.mu.Lock()
	defer t.mu.Unlock()
	return filterChanges(t.changes, namespace, name)
}

// deploymentsSeen counts the Deployments in namespace the tracker has seen.
func (t *replicaTracker) deploymentsSeen(namespace string) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	count := 0
	for key := range t.last {
		if ns, _ := splitKey(key); ns == namespace {
			count++
		}
	}
	return count
}

func (t *replicaTracker) deletionsIn(namespace string) []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []string
	for _, key := range t.deletions {
		if ns, _ := splitKey(key); ns == namespace {
			out = append(out, key)
		}
	}
	return out
}

func filterChanges(changes []replicaChange, namespace, name string) []replicaChange {
	var out []replicaChange
	for _, c := range changes {
		ns, n := splitKey(c.Key)
		if (namespace == "" || ns == namespace) && (name == "" || n == name) {
			out = append(out, c)
		}
	}
	return out
}

func splitKey(key string) (namespace, name string) {
	namespace, name, _ = strings.Cut(key, "/")
	return namespace, name
}
