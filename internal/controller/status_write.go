package controller

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	servingv1alpha1 "github.com/inferenceops/inference-operator/api/v1alpha1"
)

// writeStatus patches the status subresource when, and only when, it changed, and
// records an event when the Ready condition changes. It returns after how long the
// InferenceService must be reconciled again for a write it held back (0: none).
//
// isvc comes from the cache, which may not hold the operator's previous status write
// yet: every child it creates triggers a reconcile within milliseconds. Two things make
// that harmless. A status equal to the one this reconciler just wrote over the very
// status the cache still shows is not written again, even when its conditions carry a
// later lastTransitionTime (computed from the stale copy, a condition is new again, and
// about one reconcile in ten falls in the next second). And the patch replaces the whole
// status, so it does not depend on the stale copy it is computed from.
//
// A change of metric values alone (see metricsOnly) is written at most once per
// MetricStatusInterval: a live HorizontalPodAutoscaler rewrites its currentMetrics at
// every sync (15 s), and mirroring each would cost the API server a write per
// InferenceService every 15 s for figures "kubectl get hpa" shows anyway. Anything else
// (a condition, a replica count, a scale event, the observed generation) is written at once.
// See metricWriteWait for when a held-back change is written.
func (r *InferenceServiceReconciler) writeStatus(ctx context.Context, isvc *servingv1alpha1.InferenceService, status servingv1alpha1.InferenceServiceStatus) (time.Duration, error) {
	if equality.Semantic.DeepEqual(isvc.Status, status) {
		return 0, nil
	}
	key := client.ObjectKeyFromObject(isvc)
	write := statusWrite{uid: isvc.UID, over: digestStatus(isvc.Status), content: digestContent(status)}
	last := r.written.get(key)
	if last.write == write {
		return 0, nil
	}
	if r.MetricStatusInterval > 0 && last.write.uid == isvc.UID && metricsOnly(isvc.Status, status) {
		now := r.clock().Now()
		pending := r.written.holdBack(key, now)
		if wait := metricWriteWait(now, last.at, pending, r.MetricStatusInterval); wait > 0 {
			return wait, nil
		}
	}

	patch, err := statusPatch(status)
	if err != nil {
		return 0, err
	}
	before := meta.FindStatusCondition(isvc.Status.Conditions, servingv1alpha1.ConditionReady)
	if err := r.Status().Patch(ctx, isvc, client.RawPatch(types.MergePatchType, patch), client.FieldOwner(FieldOwner)); err != nil {
		return 0, fmt.Errorf("writing status of InferenceService %s: %w", key, err)
	}
	r.written.set(key, write, r.clock().Now())

	after := meta.FindStatusCondition(status.Conditions, servingv1alpha1.ConditionReady)
	eventType := readyEventType(after.Reason)
	switch {
	case before == nil && after.Status != metav1.ConditionTrue && eventType == corev1.EventTypeNormal:
		// A new InferenceService waiting for its pods is no news; an event for each
		// would double the writes of applying a thousand of them at once.
	case before == nil || before.Status != after.Status || before.Reason != after.Reason:
		r.recordReadyEvent(ctx, isvc, eventType, after.Status == metav1.ConditionTrue, after.Reason, after.Message)
	}
	return 0, nil
}

// metricWriteWait tells how long a change of metric values alone, seen now and first
// held back at pending, still waits after the last status write at last (0: write now).
//
// It is written with the first change seen an interval or more after the last write. A
// live HPA changes its metrics at every sync, every 15 s, so the writes fall on its syncs
// an interval apart or a little more: at most one per interval, each with the newest
// values, and the values seen just after a write are written three syncs later. At the
// latest, the first held-back value is written a thirtieth of the interval (2 s of a
// minute) before it is an interval old, the time for the requeue, the patch and the
// watch: the status is never an interval behind the autoscaler. The reconciler is
// requeued for that deadline only; a requeue for "an interval after the last write" would
// write between two syncs, and the value of the sync just after it would then wait for
// the whole of the next interval.
func metricWriteWait(now, last, pending time.Time, interval time.Duration) time.Duration {
	if !now.Before(last.Add(interval)) {
		return 0
	}
	return max(pending.Add(interval-interval/30).Sub(now), 0)
}

// metricsOnly tells whether next differs from previous in the autoscaler's metric values
// alone: status.currentMetrics, status.targets and status.scaling's limitingMetric and
// limitingRatio, with the same metrics present on both sides and every value known. A
// metric that appears, disappears or becomes unknown is news and is written at once.
func metricsOnly(previous, next servingv1alpha1.InferenceServiceStatus) bool {
	if len(previous.CurrentMetrics) == 0 || len(previous.CurrentMetrics) != len(next.CurrentMetrics) ||
		strings.Contains(previous.Targets, unknownValue) || strings.Contains(next.Targets, unknownValue) {
		return false
	}
	return equality.Semantic.DeepEqual(withoutMetricValues(previous), withoutMetricValues(next))
}

// withoutMetricValues returns a copy of status with the fields metricsOnly ignores cleared.
func withoutMetricValues(status servingv1alpha1.InferenceServiceStatus) servingv1alpha1.InferenceServiceStatus {
	out := *status.DeepCopy()
	out.CurrentMetrics = nil
	out.Targets = ""
	if out.Scaling != nil {
		out.Scaling.LimitingMetric, out.Scaling.LimitingRatio = "", ""
		if out.Scaling.LastScale == "" && len(out.Scaling.Events) == 0 {
			out.Scaling = nil
		}
	}
	return out
}

// statusPatch returns a JSON merge patch that sets the status to exactly status: every
// status field status leaves empty is set to null, so a value written earlier and absent
// from the (possibly stale) cached copy is removed too. Lists are replaced whole by a
// merge patch.
func statusPatch(status servingv1alpha1.InferenceServiceStatus) ([]byte, error) {
	raw, err := json.Marshal(status)
	if err != nil {
		return nil, err
	}
	fields := map[string]any{}
	if err := json.Unmarshal(raw, &fields); err != nil {
		return nil, err
	}
	for _, name := range statusFieldNames {
		if _, ok := fields[name]; !ok {
			fields[name] = nil
		}
	}
	return json.Marshal(map[string]any{"status": fields})
}

// statusFieldNames are the JSON names of the status fields.
var statusFieldNames = func() []string {
	t := reflect.TypeFor[servingv1alpha1.InferenceServiceStatus]()
	names := make([]string, 0, t.NumField())
	for i := range t.NumField() {
		if name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ","); name != "" && name != "-" {
			names = append(names, name)
		}
	}
	return names
}()

// readyEventType is Warning for the reasons that need a person to act, Normal otherwise.
func readyEventType(reason string) string {
	switch reason {
	case servingv1alpha1.ReasonResourceConflict, servingv1alpha1.ReasonApplyFailed, servingv1alpha1.ReasonProgressDeadlineExceeded:
		return corev1.EventTypeWarning
	}
	return corev1.EventTypeNormal
}

func (r *InferenceServiceReconciler) recordReadyEvent(ctx context.Context, isvc *servingv1alpha1.InferenceService, eventType string, ready bool, reason, message string) {
	r.Recorder.Eventf(isvc, nil, eventType, reason, "Reconcile", "%s", message)
	logf.FromContext(ctx).V(1).Info("Ready condition changed", "ready", ready, "reason", reason)
}

// statusWrite records one status write: over which status (as the cache showed it) it
// wrote which (without the conditions' lastTransitionTime), for which object.
type statusWrite struct {
	uid           types.UID
	over, content [sha256.Size]byte
}

// statusMemo holds, for each InferenceService, its last statusWrite, when it was sent,
// and since when a change of metric values alone waits (zero: none). An entry costs about
// a hundred bytes and is dropped when the InferenceService is gone.
type statusMemo struct {
	mu     sync.Mutex
	writes map[types.NamespacedName]memoEntry
}

type memoEntry struct {
	write   statusWrite
	at      time.Time
	pending time.Time
}

func (m *statusMemo) get(key types.NamespacedName) memoEntry {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.writes[key]
}

func (m *statusMemo) set(key types.NamespacedName, w statusWrite, at time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.writes == nil {
		m.writes = map[types.NamespacedName]memoEntry{}
	}
	m.writes[key] = memoEntry{write: w, at: at}
}

// holdBack records that a change waits since now, unless an earlier one already does,
// and returns since when a change waits.
func (m *statusMemo) holdBack(key types.NamespacedName, now time.Time) time.Time {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.writes[key]
	if !ok {
		return now
	}
	if e.pending.IsZero() {
		e.pending = now
		m.writes[key] = e
	}
	return e.pending
}

func (m *statusMemo) forget(key types.NamespacedName) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.writes, key)
}

func digestStatus(status servingv1alpha1.InferenceServiceStatus) [sha256.Size]byte {
	raw, _ := json.Marshal(status)
	return sha256.Sum256(raw)
}

// digestContent is digestStatus with every condition's lastTransitionTime left out.
func digestContent(status servingv1alpha1.InferenceServiceStatus) [sha256.Size]byte {
	if len(status.Conditions) > 0 {
		status.Conditions = slices.Clone(status.Conditions)
		for i := range status.Conditions {
			status.Conditions[i].LastTransitionTime = metav1.Time{}
		}
	}
	return digestStatus(status)
}
