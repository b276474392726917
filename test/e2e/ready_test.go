//go:build e2e

package e2e

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/utils/ptr"
	kstatus "sigs.k8s.io/cli-utils/pkg/kstatus/status"
	"sigs.k8s.io/controller-runtime/pkg/client"

	servingv1alpha1 "github.com/inferenceops/inference-operator/api/v1alpha1"
	"github.com/inferenceops/inference-operator/test/utils"
)

// nOfM matches a count such as "3 of 1", which a scale-in made Ready's message say.
var nOfM = regexp.MustCompile(`\d+ of \d+`)

// Autoscaling is normal operation, not a rollout: through a real HPA scale-out and
// scale-in the service stays Ready, with nothing that a person or a GitOps tool would
// read as trouble.
var _ = Describe("Ready through autoscaling", Ordered, func() {
	var (
		namespace string
		key       client.ObjectKey
		since     metav1.Time
		argo      string
	)

	BeforeAll(func() {
		namespace = createNamespace("ready")
		key = client.ObjectKey{Namespace: namespace, Name: "steady"}
		script, err := os.ReadFile(filepath.Join(projectDir, "docs", "argocd-health.lua"))
		Expect(err).NotTo(HaveOccurred())
		argo = string(script)
	})

	// serving checks, at one moment, everything a user or a GitOps tool reads off the
	// InferenceService, and says what is wrong, if anything.
	serving := func() (*servingv1alpha1.InferenceService, error) {
		isvc := &servingv1alpha1.InferenceService{}
		if err := k8sClient.Get(ctx(), key, isvc); err != nil {
			return nil, err
		}
		ready := meta.FindStatusCondition(isvc.Status.Conditions, servingv1alpha1.ConditionReady)
		switch {
		case ready == nil:
			return isvc, fmt.Errorf("no Ready condition")
		case ready.Status != metav1.ConditionTrue || ready.Reason != servingv1alpha1.ReasonReady:
			return isvc, fmt.Errorf("Ready %s %s: %s", ready.Status, ready.Reason, ready.Message)
		case !ready.LastTransitionTime.Equal(&since):
			return isvc, fmt.Errorf("Ready's lastTransitionTime moved from %s to %s", since, ready.LastTransitionTime)
		case nOfM.MatchString(ready.Message):
			return isvc, fmt.Errorf("Ready's message counts 'N of M': %s", ready.Message)
		case meta.FindStatusCondition(isvc.Status.Conditions, servingv1alpha1.ConditionReconciling) != nil:
			return isvc, fmt.Errorf("Reconciling appeared: %v", meta.FindStatusCondition(isvc.Status.Conditions, servingv1alpha1.ConditionReconciling))
		}
		raw, err := runtime.DefaultUnstructuredConverter.ToUnstructured(isvc)
		if err != nil {
			return isvc, err
		}
		result, err := kstatus.Compute(&unstructured.Unstructured{Object: raw})
		if err != nil {
			return isvc, err
		}
		if result.Status != kstatus.CurrentStatus {
			return isvc, fmt.Errorf("kstatus %s: %s", result.Status, result.Message)
		}
		health, message, err := utils.ArgoHealth(argo, raw)
		if err != nil {
			return isvc, err
		}
		if health != "Healthy" {
			return isvc, fmt.Errorf("Argo CD health %s: %s", health, message)
		}
		return isvc, nil
	}
	// watchServing samples serving twice a second until stopped, and returns every
	// moment it was not.
	watchServing := func() (stop func() []string) {
		var (
			mu         sync.Mutex
			violations []string
		)
		done := make(chan struct{})
		finished := make(chan struct{})
		go func() {
			defer close(finished)
			for {
				if _, err := serving(); err != nil {
					mu.Lock()
					violations = append(violations, time.Now().Format(time.TimeOnly)+" "+err.Error())
					mu.Unlock()
				}
				select {
				case <-done:
					return
				case <-time.After(500 * time.Millisecond):
				}
			}
		}()
		return func() []string {
			close(done)
			<-finished
			mu.Lock()
			defer mu.Unlock()
			return violations
		}
	}
	// eventsAboutIt lists the events about the InferenceService, each with the number of
	// times it was reported (an event that repeats counts up its series).
	eventsAboutIt := func(g Gomega) map[string]string {
		list := &eventsv1.EventList{}
		g.Expect(k8sClient.List(ctx(), list, client.InNamespace(namespace))).To(Succeed())
		out := map[string]string{}
		for _, e := range list.Items {
			if e.Regarding.Kind == "InferenceService" && e.Regarding.Name == key.Name {
				count := int32(1)
				if e.Series != nil {
					count = e.Series.Count
				}
				out[e.Name] = fmt.Sprintf("%s x%d: %s", e.Reason, count, e.Note)
			}
		}
		return out
	}

	It("becomes Ready", func() {
		Expect(k8sClient.Create(ctx(), newISVC(namespace, key.Name, func(isvc *servingv1alpha1.InferenceService) {
			isvc.Spec.Autoscaling = &servingv1alpha1.AutoscalingSpec{
				MinReplicas: ptr.To[int32](1), MaxReplicas: 4,
				Behavior: &autoscalingv2.HorizontalPodAutoscalerBehavior{
					ScaleUp:   &autoscalingv2.HPAScalingRules{StabilizationWindowSeconds: ptr.To[int32](0)},
					ScaleDown: &autoscalingv2.HPAScalingRules{StabilizationWindowSeconds: ptr.To[int32](0)},
				},
			}
		}))).To(Succeed())
		Eventually(func(g Gomega) {
			isvc := &servingv1alpha1.InferenceService{}
			g.Expect(k8sClient.Get(ctx(), key, isvc)).To(Succeed())
			g.Expect(meta.IsStatusConditionTrue(isvc.Status.Conditions, servingv1alpha1.ConditionReady)).To(BeTrue())
			since = meta.FindStatusCondition(isvc.Status.Conditions, servingv1alpha1.ConditionReady).LastTransitionTime
		}, 3*time.Minute).Should(Succeed())
		Eventually(eventsAboutIt).Should(ContainElement(HavePrefix(servingv1alpha1.ReasonReady+" ")),
			"the transition to Ready is an event")
	})

	It("stays Ready, Current and Healthy, with no event, while the HPA scales out and back in", func() {
		_, err := serving()
		Expect(err).NotTo(HaveOccurred())
		eventsBefore := eventsAboutIt(Default)
		stopWatching := watchServing()

		By("raising the CPU usage of every pod to 800m (160% of the request) until the HPA reaches 4")
		stopLoad := loadInBackground("cpu", key.Name, "800m", "-n", namespace, "--watch")
		Eventually(func(g Gomega) {
			isvc, _ := serving()
			g.Expect(isvc).NotTo(BeNil())
			g.Expect(isvc.Status.ReadyReplicas).To(Equal(int32(4)), "scaled out to 4")
		}, 4*time.Minute, time.Second).Should(Succeed())

		By("dropping the load until it is back at 1")
		stopLoad()
		Eventually(func() error {
			_, err := utils.Run(exec.Command("hack/load.sh", "cpu", key.Name, "10m", "-n", namespace))
			return err
		}).Should(Succeed())
		Eventually(func(g Gomega) {
			isvc, _ := serving()
			g.Expect(isvc).NotTo(BeNil())
			g.Expect(isvc.Status.Replicas).To(Equal(int32(1)), "scaled in to 1")
		}, 4*time.Minute, time.Second).Should(Succeed())

		Expect(stopWatching()).To(BeEmpty(), "moments the InferenceService did not read as serving while it only scaled")
		Expect(eventsAboutIt(Default)).To(Equal(eventsBefore), "events recorded about the InferenceService while it only scaled")
	})

	It("tells the scaling story on the CR, in kubectl get -o wide and in the operator's metrics", func() {
		isvc := &servingv1alpha1.InferenceService{}
		Expect(k8sClient.Get(ctx(), key, isvc)).To(Succeed())
		sc := isvc.Status.Scaling
		Expect(sc).NotTo(BeNil())
		ups, downs, reachedMax := 0, 0, false
		for _, e := range sc.Events {
			_, _ = fmt.Fprintf(GinkgoWriter, "scale event %s %d -> %d %s (%s)\n", e.Time.Format(time.TimeOnly), e.From, e.To, e.Metric, e.Reason)
			Expect(e.Metric).To(HavePrefix("cpu: "), "the metric value that drove the scale")
			if e.To > e.From {
				ups++
				reachedMax = reachedMax || e.To == 4
				Expect(e.Reason).To(HavePrefix("ScaleUp"))
			} else {
				downs++
				Expect(e.Reason).To(HavePrefix("ScaleDown"))
			}
		}
		Expect(reachedMax).To(BeTrue(), "a ScaleUp to 4 among %v", sc.Events)
		Expect(downs).To(BeNumerically(">=", 1))
		last := sc.Events[len(sc.Events)-1]
		Expect(last.To).To(Equal(int32(1)))
		Expect(sc.LastScale).To(HavePrefix(fmt.Sprintf("%d -> 1 (cpu: ", last.From)))

		out, err := kubectl("get", "infsvc", key.Name, "-n", namespace, "-o", "wide")
		Expect(err).NotTo(HaveOccurred())
		_, _ = fmt.Fprintf(GinkgoWriter, "kubectl get infsvc -o wide:\n%s\n", out)
		Expect(out).To(ContainSubstring("LAST SCALE"))
		Expect(out).To(ContainSubstring(sc.LastScale))

		addr, err := operator.MetricsEndpoint(ctx())
		Expect(err).NotTo(HaveOccurred())
		resp, err := http.Get("http://" + addr + "/metrics")
		Expect(err).NotTo(HaveOccurred())
		raw, err := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		Expect(err).NotTo(HaveOccurred())
		body := string(raw)
		labels := fmt.Sprintf(`name=%q,namespace=%q`, key.Name, namespace)
		sample := func(metric, extra string) float64 {
			for _, line := range strings.Split(body, "\n") {
				if strings.HasPrefix(line, metric+"{"+extra+labels+"} ") {
					v, err := strconv.ParseFloat(strings.TrimPrefix(line, metric+"{"+extra+labels+"} "), 64)
					Expect(err).NotTo(HaveOccurred())
					return v
				}
			}
			Fail(fmt.Sprintf("no %s{%s%s} in the operator's metrics", metric, extra, labels))
			return 0
		}
		Expect(sample("inferenceservice_scale_events_total", `direction="up",`)).To(BeNumerically("==", ups))
		Expect(sample("inferenceservice_scale_events_total", `direction="down",`)).To(BeNumerically("==", downs))
		Expect(sample("inferenceservice_at_max_replicas_seconds_total", "")).To(BeNumerically(">", 0), "it sat at maxReplicas 4 under load")
		Expect(sample("inferenceservice_desired_replicas", "")).To(BeNumerically("==", 1))
		Expect(sample("inferenceservice_max_replicas", "")).To(BeNumerically("==", 4))
	})
})
