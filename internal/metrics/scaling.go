// Package metrics exports, per InferenceService, the figures that tell whether its
// autoscaling works: desired and current replicas, how far the limiting metric is from
// its target, the time spent at maxReplicas (a maximum set too low shows as a counter
// that keeps growing under load) and the scale events.
//
// The reconciler reports what it computed into a Recorder; the Recorder is a
// prometheus.Collector registered once with controller-runtime's registry, so the
// figures are served on the manager's metrics endpoint with the rest.
package metrics

import (
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/types"

	servingv1alpha1 "github.com/inferenceops/inference-operator/api/v1alpha1"
)

// serviceLabels name the InferenceService of a figure.
var serviceLabels = []string{"namespace", "name"}

var (
	desiredDesc = prometheus.NewDesc("inferenceservice_desired_replicas",
		"Replica count the autoscaler last chose (spec.replicas when autoscaling is off).",
		serviceLabels, nil)
	currentDesc = prometheus.NewDesc("inferenceservice_replicas",
		"Pods the InferenceService's Deployment runs.", serviceLabels, nil)
	readyDesc = prometheus.NewDesc("inferenceservice_ready_replicas",
		"Pods that pass their readiness probe.", serviceLabels, nil)
	maxDesc = prometheus.NewDesc("inferenceservice_max_replicas",
		"The autoscaler's upper bound in effect.", serviceLabels, nil)
	ratioDesc = prometheus.NewDesc("inferenceservice_limiting_metric_ratio",
		"Current/target ratio of the metric that decides the replica count (above 1: wants more pods).",
		append(serviceLabels[:2:2], "metric"), nil)
	atMaxDesc = prometheus.NewDesc("inferenceservice_at_max_replicas_seconds_total",
		"Seconds the autoscaler spent wanting maxReplicas or more, since this operator process started watching.",
		serviceLabels, nil)
	scaleEventsDesc = prometheus.NewDesc("inferenceservice_scale_events_total",
		"Changes of the autoscaler's desired replica count seen by this operator process.",
		append(serviceLabels[:2:2], "direction"), nil)
)

// Recorder keeps the latest figures of each InferenceService. Its zero value is not
// usable; a nil *Recorder ignores every call, so tests may leave it out.
type Recorder struct {
	mu       sync.Mutex
	now      func() time.Time
	services map[types.NamespacedName]*service
}

type service struct {
	desired, current, ready, max int32
	limitingMetric               string
	limitingRatio                float64
	hasRatio                     bool

	atMax      time.Duration // accumulated before atMaxSince
	atMaxSince *time.Time    // set while the desired count is at maxReplicas

	lastEvent      time.Time // newest scale event already counted
	up, down       float64
	eventsBaseline bool // lastEvent has been initialised from the first status seen
}

// NewRecorder returns an empty Recorder that reads the time from now (time.Now when nil).
func NewRecorder(now func() time.Time) *Recorder {
	if now == nil {
		now = time.Now
	}
	return &Recorder{now: now, services: map[types.NamespacedName]*service{}}
}

// Observe records the status just computed for an InferenceService. autoscaling tells
// whether an autoscaler decides its count. Scale events are counted from status.scaling:
// those newer than the newest already counted; the events present the first time a
// service is seen happened before this process and are not counted.
func (r *Recorder) Observe(key types.NamespacedName, status *servingv1alpha1.InferenceServiceStatus, autoscaling bool) {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.now()
	s := r.services[key]
	if s == nil {
		s = &service{}
		r.services[key] = s
	}
	s.desired, s.current, s.ready, s.max = status.DesiredReplicas, status.Replicas, status.ReadyReplicas, status.MaxReplicas
	s.hasRatio = false
	if sc := status.Scaling; sc != nil && sc.LimitingRatio != "" {
		if ratio, err := strconv.ParseFloat(sc.LimitingRatio, 64); err == nil {
			s.limitingMetric, s.limitingRatio, s.hasRatio = metricName(sc.LimitingMetric), ratio, true
		}
	}

	atMax := autoscaling && status.MaxReplicas > 0 && status.DesiredReplicas >= status.MaxReplicas
	switch {
	case atMax && s.atMaxSince == nil:
		s.atMaxSince = &now
	case !atMax && s.atMaxSince != nil:
		s.atMax += now.Sub(*s.atMaxSince)
		s.atMaxSince = nil
	}

	var events []servingv1alpha1.ScaleEvent
	if status.Scaling != nil {
		events = status.Scaling.Events
	}
	if !s.eventsBaseline {
		s.eventsBaseline = true
		if n := len(events); n > 0 {
			s.lastEvent = events[n-1].Time.Time
		}
		return
	}
	for _, e := range events {
		if !e.Time.After(s.lastEvent) {
			continue
		}
		if e.To > e.From {
			s.up++
		} else {
			s.down++
		}
		s.lastEvent = e.Time.Time
	}
}

// Forget drops a deleted InferenceService's figures.
func (r *Recorder) Forget(key types.NamespacedName) {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.services, key)
}

// Describe implements prometheus.Collector.
func (r *Recorder) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{desiredDesc, currentDesc, readyDesc, maxDesc, ratioDesc, atMaxDesc, scaleEventsDesc} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (r *Recorder) Collect(ch chan<- prometheus.Metric) {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.now()
	for key, s := range r.services {
		ns, name := key.Namespace, key.Name
		ch <- prometheus.MustNewConstMetric(desiredDesc, prometheus.GaugeValue, float64(s.desired), ns, name)
		ch <- prometheus.MustNewConstMetric(currentDesc, prometheus.GaugeValue, float64(s.current), ns, name)
		ch <- prometheus.MustNewConstMetric(readyDesc, prometheus.GaugeValue, float64(s.ready), ns, name)
		ch <- prometheus.MustNewConstMetric(maxDesc, prometheus.GaugeValue, float64(s.max), ns, name)
		if s.hasRatio {
			ch <- prometheus.MustNewConstMetric(ratioDesc, prometheus.GaugeValue, s.limitingRatio, ns, name, s.limitingMetric)
		}
		atMax := s.atMax
		if s.atMaxSince != nil {
			atMax += now.Sub(*s.atMaxSince)
		}
		ch <- prometheus.MustNewConstMetric(atMaxDesc, prometheus.CounterValue, atMax.Seconds(), ns, name)
		ch <- prometheus.MustNewConstMetric(scaleEventsDesc, prometheus.CounterValue, s.up, ns, name, "up")
		ch <- prometheus.MustNewConstMetric(scaleEventsDesc, prometheus.CounterValue, s.down, ns, name, "down")
	}
}

// metricName is the name part of "name: current/target" (status.scaling.limitingMetric).
func metricName(summary string) string {
	name, _, _ := strings.Cut(summary, ": ")
	return name
}
