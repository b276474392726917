package metrics

import (
	"strconv"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	servingv1alpha1 "github.com/inferenceops/inference-operator/api/v1alpha1"
)

// clock is a settable time for the Recorder.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

var key = types.NamespacedName{Namespace: "ml", Name: "llm"}

func statusAt(desired, max int32, events ...servingv1alpha1.ScaleEvent) *servingv1alpha1.InferenceServiceStatus {
	return &servingv1alpha1.InferenceServiceStatus{
		DesiredReplicas: desired, Replicas: desired, ReadyReplicas: desired, MinReplicas: 1, MaxReplicas: max,
		Scaling: &servingv1alpha1.ScalingStatus{LimitingMetric: "cpu: 160%/80%", LimitingRatio: "2.00", Events: events},
	}
}

func event(at time.Time, from, to int32) servingv1alpha1.ScaleEvent {
	return servingv1alpha1.ScaleEvent{Time: metav1.NewTime(at), From: from, To: to, Reason: "ScaleUp"}
}

// scrape is what a Prometheus scrape of the manager's endpoint shows of these figures.
func scrape(g Gomega, r *Recorder, names ...string) string {
	reg := prometheus.NewPedanticRegistry()
	g.Expect(reg.Register(r)).To(Succeed())
	families, err := reg.Gather()
	g.Expect(err).NotTo(HaveOccurred())
	var b strings.Builder
	for _, f := range families {
		for _, n := range names {
			if f.GetName() == n {
				for _, m := range f.GetMetric() {
					b.WriteString(n)
					for _, l := range m.GetLabel() {
						b.WriteString(" " + l.GetName() + "=" + l.GetValue())
					}
					switch {
					case m.GetGauge() != nil:
						b.WriteString(" " + trim(m.GetGauge().GetValue()))
					case m.GetCounter() != nil:
						b.WriteString(" " + trim(m.GetCounter().GetValue()))
					}
					b.WriteString("\n")
				}
			}
		}
	}
	return b.String()
}

func trim(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

func TestRecorderReplicasAndRatio(t *testing.T) {
	g := NewWithT(t)
	c := &clock{t: time.Date(2026, 12, 1, 13, 0, 0, 0, time.UTC)}
	r := NewRecorder(c.now)

	r.Observe(key, statusAt(4, 10), true)

	g.Expect(testutil.CollectAndCount(r)).To(Equal(8))
	g.Expect(scrape(g, r, "inferenceservice_desired_replicas", "inferenceservice_limiting_metric_ratio")).To(Equal(
		"inferenceservice_desired_replicas name=llm namespace=ml 4\n" +
			"inferenceservice_limiting_metric_ratio metric=cpu name=llm namespace=ml 2\n"))

	r.Forget(key)
	g.Expect(testutil.CollectAndCount(r)).To(Equal(0))
}

func TestRecorderTimeAtMaxReplicas(t *testing.T) {
	g := NewWithT(t)
	c := &clock{t: time.Date(2026, 12, 1, 13, 0, 0, 0, time.UTC)}
	r := NewRecorder(c.now)
	atMax := func() string { return scrape(g, r, "inferenceservice_at_max_replicas_seconds_total") }

	r.Observe(key, statusAt(4, 10), true)
	c.t = c.t.Add(time.Minute)
	g.Expect(atMax()).To(HaveSuffix(" 0\n"))

	// At the maximum for 90 s, then below it for a minute, then at it again for 30 s.
	r.Observe(key, statusAt(10, 10), true)
	c.t = c.t.Add(90 * time.Second)
	g.Expect(atMax()).To(HaveSuffix(" 90\n"), "the counter grows while the service sits at maxReplicas")
	r.Observe(key, statusAt(6, 10), true)
	c.t = c.t.Add(time.Minute)
	g.Expect(atMax()).To(HaveSuffix(" 90\n"))
	r.Observe(key, statusAt(10, 10), true)
	c.t = c.t.Add(30 * time.Second)
	g.Expect(atMax()).To(HaveSuffix(" 120\n"))

	// A fixed replica count is not an autoscaler held back by its maximum.
	fixed := NewRecorder(c.now)
	fixed.Observe(key, statusAt(3, 3), false)
	c.t = c.t.Add(time.Minute)
	g.Expect(scrape(g, fixed, "inferenceservice_at_max_replicas_seconds_total")).To(HaveSuffix(" 0\n"))
}

func TestRecorderCountsScaleEventsOnce(t *testing.T) {
	g := NewWithT(t)
	t0 := time.Date(2026, 12, 1, 13, 0, 0, 0, time.UTC)
	c := &clock{t: t0}
	r := NewRecorder(c.now)
	events := func() string { return scrape(g, r, "inferenceservice_scale_events_total") }

	// Events already in the status when the process first sees the service happened
	// before it started: not counted.
	r.Observe(key, statusAt(4, 10, event(t0.Add(-time.Hour), 1, 4)), true)
	g.Expect(events()).To(Equal(
		"inferenceservice_scale_events_total direction=down name=llm namespace=ml 0\n" +
			"inferenceservice_scale_events_total direction=up name=llm namespace=ml 0\n"))

	up, down := event(t0, 4, 8), event(t0.Add(time.Minute), 8, 2)
	r.Observe(key, statusAt(8, 10, event(t0.Add(-time.Hour), 1, 4), up), true)
	r.Observe(key, statusAt(8, 10, event(t0.Add(-time.Hour), 1, 4), up), true) // the same status again
	r.Observe(key, statusAt(2, 10, event(t0.Add(-time.Hour), 1, 4), up, down), true)
	g.Expect(events()).To(Equal(
		"inferenceservice_scale_events_total direction=down name=llm namespace=ml 1\n" +
			"inferenceservice_scale_events_total direction=up name=llm namespace=ml 1\n"))
}

func TestNilRecorderIgnoresCalls(t *testing.T) {
	var r *Recorder
	r.Observe(key, statusAt(1, 1), true)
	r.Forget(key)
}
