//go:build e2e

package e2e

import (
	"fmt"
	"strings"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	servingv1alpha1 "github.com/inferenceops/inference-operator/api/v1alpha1"
)

// gpuResource is the extended resource of the fake GPU nodes.
const gpuResource corev1.ResourceName = "nvidia.com/gpu"

// A rollout with scarce accelerators: two fake nodes with one GPU each, two replicas each
// holding one, and an image change. The surge pod cannot get a GPU; under the Auto policy
// the rollout goes on one pod at a time and completes, under Surge it waits and says so.
var _ = Describe("GPU-starved rollouts", Ordered, func() {
	var (
		namespace string
		key       client.ObjectKey
		nodes     []string
	)

	BeforeAll(func() {
		namespace = createNamespace("gpu")
		key = client.ObjectKey{Namespace: namespace, Name: "llm"}
		By("adding two fake nodes with one nvidia.com/gpu each")
		for i := range 2 {
			name := fmt.Sprintf("gpu-%s-%d", namespace, i)
			nodes = append(nodes, name)
			Expect(k8sClient.Create(ctx(), gpuNode(name))).To(Succeed())
			Eventually(func(g Gomega) {
				node := &corev1.Node{}
				g.Expect(k8sClient.Get(ctx(), client.ObjectKey{Name: name}, node)).To(Succeed())
				g.Expect(node.Status.Allocatable).To(HaveKeyWithValue(gpuResource, resource.MustParse("1")))
				ready := false
				for _, c := range node.Status.Conditions {
					ready = ready || (c.Type == corev1.NodeReady && c.Status == corev1.ConditionTrue)
				}
				g.Expect(ready).To(BeTrue(), "kwok reports the node Ready")
			}).Should(Succeed())
		}
		DeferCleanup(func() {
			_ = k8sClient.Delete(ctx(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: namespace}})
			Eventually(func() []corev1.Pod { return podsOf(namespace, "llm") }).Should(BeEmpty())
			for _, name := range nodes {
				_ = k8sClient.Delete(ctx(), &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}})
			}
		})
	})

	getISVC := func(g Gomega) *servingv1alpha1.InferenceService {
		isvc := &servingv1alpha1.InferenceService{}
		g.Expect(k8sClient.Get(ctx(), key, isvc)).To(Succeed())
		return isvc
	}
	update := func(mutate func(*servingv1alpha1.InferenceService)) {
		Eventually(func(g Gomega) {
			isvc := getISVC(g)
			mutate(isvc)
			g.Expect(k8sClient.Update(ctx(), isvc)).To(Succeed())
		}).Should(Succeed())
	}
	// servingImage waits until the service is Ready with every replica on image.
	servingImage := func(image string) {
		Eventually(func(g Gomega) {
			isvc := getISVC(g)
			g.Expect(isvc.Status.ObservedGeneration).To(Equal(isvc.Generation))
			ready := meta.FindStatusCondition(isvc.Status.Conditions, servingv1alpha1.ConditionReady)
			g.Expect(ready).NotTo(BeNil())
			g.Expect(ready.Status).To(Equal(metav1.ConditionTrue), "Ready %s: %s", ready.Reason, ready.Message)
			g.Expect(meta.IsStatusConditionTrue(isvc.Status.Conditions, servingv1alpha1.ConditionPodsSchedulable)).To(BeTrue())
			pods := podsOf(namespace, "llm")
			g.Expect(pods).To(HaveLen(2))
			for _, p := range pods {
				g.Expect(p.Spec.Containers[0].Image).To(Equal(image))
				g.Expect(podReady(&p)).To(BeTrue())
			}
		}).Should(Succeed())
	}

	It("runs two replicas, one GPU each, on the two GPU nodes", func() {
		Expect(k8sClient.Create(ctx(), newISVC(namespace, "llm", func(isvc *servingv1alpha1.InferenceService) {
			isvc.Spec.Replicas = ptr.To[int32](2)
			isvc.Spec.Resources.Requests[gpuResource] = resource.MustParse("1")
			isvc.Spec.Resources.Limits[gpuResource] = resource.MustParse("1")
			isvc.Spec.Resources.Requests[corev1.ResourceCPU] = resource.MustParse("100m")
		}))).To(Succeed())
		servingImage("ghcr.io/example/model-server:1.0")
		onNodes := map[string]bool{}
		for _, p := range podsOf(namespace, "llm") {
			onNodes[p.Spec.NodeName] = true
		}
		Expect(onNodes).To(Equal(map[string]bool{nodes[0]: true, nodes[1]: true}))
	})

	It("completes an image rollout under Auto one pod at a time, and surges again afterwards", func() {
		story := recordStory(namespace, "llm")
		update(func(isvc *servingv1alpha1.InferenceService) { isvc.Spec.Image = "ghcr.io/example/model-server:2.0" })
		servingImage("ghcr.io/example/model-server:2.0")
		lines := story()
		_, _ = fmt.Fprintf(GinkgoWriter, "\n===== status through the Auto rollout\n%s\n", strings.Join(lines, "\n"))

		Expect(lines).To(ContainElement(And(
			ContainSubstring("PodsSchedulable=False/Unschedulable"), ContainSubstring("Insufficient nvidia.com/gpu"))),
			"the starved surge pod was reported in the scheduler's words")
		Expect(lines).To(ContainElement(And(
			ContainSubstring("Ready=False/RolloutInProgress"), ContainSubstring("cannot be scheduled: 0/"))),
			"Ready's message named it")
		Expect(lines).To(ContainElement(And(
			ContainSubstring("one pod at a time (maxSurge 0, maxUnavailable 1)"), ContainSubstring("strategy=0/1"))),
			"the rollout went on one pod at a time, and said so")
		Expect(lines[len(lines)-1]).To(And(ContainSubstring("Ready=True/Ready"), ContainSubstring("PodsSchedulable=True")))

		dep := &appsv1.Deployment{}
		Expect(k8sClient.Get(ctx(), key, dep)).To(Succeed())
		Eventually(func(g Gomega) *appsv1.RollingUpdateDeployment {
			g.Expect(k8sClient.Get(ctx(), key, dep)).To(Succeed())
			return dep.Spec.Strategy.RollingUpdate
		}).Should(HaveField("MaxSurge", HaveValue(Equal(intstr.FromString("25%")))),
			"once the rollout is done the Deployment surges again (the API server's default)")
		events, err := kubectl("get", "events", "-n", namespace, "--field-selector", "reason=RolloutOnePodAtATime", "-o", "name")
		Expect(err).NotTo(HaveOccurred())
		Expect(strings.TrimSpace(events)).NotTo(BeEmpty(), "an event says the rollout went one pod at a time")
	})

	It("stays reported, not silently stuck, under Surge", func() {
		update(func(isvc *servingv1alpha1.InferenceService) {
			isvc.Spec.Rollout = &servingv1alpha1.RolloutSpec{Policy: servingv1alpha1.RolloutSurge}
		})
		servingImage("ghcr.io/example/model-server:2.0")
		story := recordStory(namespace, "llm")
		update(func(isvc *servingv1alpha1.InferenceService) { isvc.Spec.Image = "ghcr.io/example/model-server:3.0" })

		starvedAndSaysSo := func(g Gomega) {
			isvc := getISVC(g)
			g.Expect(isvc.Status.ObservedGeneration).To(Equal(isvc.Generation))
			sched := meta.FindStatusCondition(isvc.Status.Conditions, servingv1alpha1.ConditionPodsSchedulable)
			g.Expect(sched).NotTo(BeNil())
			g.Expect(sched.Status).To(Equal(metav1.ConditionFalse))
			g.Expect(sched.Reason).To(Equal(servingv1alpha1.ReasonUnschedulable))
			g.Expect(sched.Message).To(ContainSubstring("Insufficient nvidia.com/gpu"))
			ready := meta.FindStatusCondition(isvc.Status.Conditions, servingv1alpha1.ConditionReady)
			g.Expect(ready.Status).To(Equal(metav1.ConditionFalse))
			g.Expect(ready.Reason).To(Equal(servingv1alpha1.ReasonRolloutInProgress))
			g.Expect(ready.Message).To(ContainSubstring("cannot be scheduled: 0/"))
			g.Expect(ready.Message).NotTo(ContainSubstring("one pod at a time"))
			g.Expect(isvc.Status.ReadyReplicas).To(Equal(int32(2)), "the old pods keep serving")
			g.Expect(isvc.Status.UpdatedReplicas).To(Equal(int32(1)))
		}
		Eventually(starvedAndSaysSo, 30*time.Second).Should(Succeed())
		Consistently(starvedAndSaysSo, 20*time.Second, time.Second).Should(Succeed(),
			"Surge never falls back to one pod at a time")
		lines := story()
		_, _ = fmt.Fprintf(GinkgoWriter, "\n===== status through the Surge rollout\n%s\n", strings.Join(lines, "\n"))
		out, err := kubectl("get", "infsvc", "llm", "-n", namespace, "-o", "wide")
		Expect(err).NotTo(HaveOccurred())
		_, _ = fmt.Fprintf(GinkgoWriter, "\n===== kubectl get infsvc -o wide\n%s\n", out)
		dep := &appsv1.Deployment{}
		Expect(k8sClient.Get(ctx(), key, dep)).To(Succeed())
		Expect(dep.Spec.Strategy.RollingUpdate.MaxSurge).To(HaveValue(Equal(intstr.FromString("25%"))))
	})
})

// gpuNode is a fake node that kwok runs pods on, with one nvidia.com/gpu.
func gpuNode(name string) *corev1.Node {
	capacity := corev1.ResourceList{
		corev1.ResourceCPU:    resource.MustParse("32"),
		corev1.ResourceMemory: resource.MustParse("256Gi"),
		corev1.ResourcePods:   resource.MustParse("110"),
		gpuResource:           resource.MustParse("1"),
	}
	return &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{
			Name:        name,
			Annotations: map[string]string{"kwok.x-k8s.io/node": "fake", "node.alpha.kubernetes.io/ttl": "0"},
			Labels:      map[string]string{"kubernetes.io/hostname": name, "kubernetes.io/os": "linux", "type": "kwok", "gpu": "true"},
		},
		Spec: corev1.NodeSpec{ProviderID: "kwok://" + name},
		Status: corev1.NodeStatus{
			Capacity:    capacity,
			Allocatable: capacity,
			Addresses:   []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: "127.0.0.1"}},
		},
	}
}

// recordStory samples the InferenceService and its Deployment every 200 ms and keeps
// each distinct state as one line: what a user watching `kubectl get infsvc -o yaml`
// would have seen, step by step. The function it returns stops it and returns the lines.
func recordStory(namespace, name string) func() []string {
	var (
		mu    sync.Mutex
		lines []string
		last  string
		done  = make(chan struct{})
		wg    sync.WaitGroup
	)
	key := client.ObjectKey{Namespace: namespace, Name: name}
	// sample records the state now, and tells whether the InferenceService is gone.
	sample := func() (gone bool) {
		isvc := &servingv1alpha1.InferenceService{}
		dep := &appsv1.Deployment{}
		if err := k8sClient.Get(ctx(), key, isvc); err != nil {
			return apierrors.IsNotFound(err)
		}
		if k8sClient.Get(ctx(), key, dep) != nil {
			return false
		}
		line := storyLine(isvc, dep)
		mu.Lock()
		if line != last {
			last = line
			lines = append(lines, time.Now().UTC().Format("15:04:05.0")+" "+line)
		}
		mu.Unlock()
		return false
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for !sample() {
			select {
			case <-done:
				return
			case <-time.After(200 * time.Millisecond):
			}
		}
	}()
	return func() []string {
		close(done)
		wg.Wait()
		sample()
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), lines...)
	}
}

func storyLine(isvc *servingv1alpha1.InferenceService, dep *appsv1.Deployment) string {
	strategy := string(dep.Spec.Strategy.Type)
	if ru := dep.Spec.Strategy.RollingUpdate; ru != nil && ru.MaxSurge != nil && ru.MaxUnavailable != nil {
		strategy = ru.MaxSurge.String() + "/" + ru.MaxUnavailable.String()
	}
	parts := []string{fmt.Sprintf("replicas=%d updated=%d ready=%d strategy=%s",
		isvc.Status.Replicas, isvc.Status.UpdatedReplicas, isvc.Status.ReadyReplicas, strategy)}
	for _, t := range []string{servingv1alpha1.ConditionReady, servingv1alpha1.ConditionPodsSchedulable, servingv1alpha1.ConditionProgressing} {
		if c := meta.FindStatusCondition(isvc.Status.Conditions, t); c != nil {
			parts = append(parts, fmt.Sprintf("%s=%s/%s %q", t, c.Status, c.Reason, c.Message))
		}
	}
	return strings.Join(parts, " | ")
}
