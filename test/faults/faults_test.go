//go:build e2e

package faults

import (
	"encoding/json"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	servingv1alpha1 "github.com/inferenceops/inference-operator/api/v1alpha1"
	"github.com/inferenceops/inference-operator/test/framework"
)

const (
	// convergingServices and operatorKills are fixed by issue 5.
	convergingServices = 100
	operatorKills      = 5
	// Every fixedEvery-th InferenceService has a fixed count of 2; the others autoscale.
	fixedEvery = 4

	apiserverOutage = 20 * time.Second
	// apiserverGrace is how long the stopped API server may drain its connections before
	// it is killed: it stops listening at once, but waits up to a minute for open
	// connections, and the same port cannot be served again until it has exited.
	apiserverGrace      = 5 * time.Second
	convergeAfterReturn = 60 * time.Second

	leaseDuration = 6 * time.Second
	renewDeadline = 4 * time.Second
	retryPeriod   = 1 * time.Second
	// leaseName is the manager's LeaderElectionID (cmd/main.go).
	leaseName = "inference-operator.serving.inferenceops.dev"

	heldReplicas = 7
	// hpaFieldManager writes spec.replicas through the scale subresource in place of
	// the HPA controller.
	hpaFieldManager = "faults-suite-as-hpa"
	operatorManager = "inference-operator"

	// restoreWithin is "within one reconcile (a few seconds)" for a tampered child.
	restoreWithin = 5 * time.Second
	// podReadyDelay keeps new pods of the tampered InferenceService unready for a while
	// (kwok's pod-ready stage reads the annotation), so a rollout cannot replace an
	// original pod before the operator restores the template.
	podReadyDelay = "8s"
)

var _ = Describe("faults", Ordered, func() {
	var (
		rng *rand.Rand
		// cluster is the cluster-wide operator of scenarios 1 and 2.
		cluster *framework.OperatorProcess
	)

	BeforeAll(func() {
		rng = rand.New(rand.NewPCG(uint64(GinkgoRandomSeed()), 5))
		cluster = newOperator("operator")
		cluster.Start()
	})

	It("1: converges 100 InferenceServices through 5 SIGKILLs of the operator, with no duplicate, orphan or replica decrease", func() {
		ns := createNamespace("kill")
		created := make(chan error, 1)
		go func() {
			defer GinkgoRecover()
			created <- createISVCs(ns, convergingServices, fixedEvery)
		}()

		for kill := 1; kill <= operatorKills; kill++ {
			// A random moment after each (re)start: the kill is the fault, so this wait
			// is its timing, not a wait for a condition.
			delay := 500*time.Millisecond + time.Duration(rng.Int64N(int64(3500*time.Millisecond)))
			time.Sleep(delay)
			ready, total := convergedCount(Default, ns)
			deployments := replicas.deploymentsSeen(ns)
			cluster.Kill()
			figures.addFault("operator SIGKILL while 100 InferenceServices converge")
			_, _ = fmt.Fprintf(GinkgoWriter, "kill %d/%d after %s: %d InferenceServices Ready of %d created so far, %d Deployments\n",
				kill, operatorKills, delay.Round(time.Millisecond), ready, total, deployments)
			if kill == 1 {
				Expect(ready).To(BeNumerically("<", convergingServices), "the first kill must land before convergence")
			}
			cluster.Start()
		}
		Expect(<-created).To(Succeed())

		By("waiting until every InferenceService is Ready for its generation")
		start := time.Now()
		Eventually(func(g Gomega) {
			converged, total := convergedCount(g, ns)
			g.Expect(total).To(Equal(convergingServices))
			g.Expect(converged).To(Equal(convergingServices))
		}, 4*time.Minute, time.Second).Should(Succeed())
		_, _ = fmt.Fprintf(GinkgoWriter, "all %d InferenceServices Ready %s after the last restart\n",
			convergingServices, time.Since(start).Round(100*time.Millisecond))

		By("counting the children of each InferenceService by label")
		perService := func(list client.ObjectList) map[string]int {
			Expect(k8sClient.List(ctx(), list, client.InNamespace(ns), client.HasLabels{labelInferenceService})).To(Succeed())
			items, err := meta.ExtractList(list)
			Expect(err).NotTo(HaveOccurred())
			counts := map[string]int{}
			for _, item := range items {
				counts[item.(client.Object).GetLabels()[labelInferenceService]]++
			}
			return counts
		}
		deployments := perService(&appsv1.DeploymentList{})
		services := perService(&corev1.ServiceList{})
		hpas := perService(&autoscalingv2.HorizontalPodAutoscalerList{})
		for i := range convergingServices {
			name := isvcName(i)
			Expect(deployments[name]).To(Equal(1), "Deployments of %s", name)
			Expect(services[name]).To(Equal(1), "Services of %s", name)
			if i%fixedEvery == 0 {
				Expect(hpas[name]).To(BeZero(), "a fixed count has no HPA: %s", name)
				dep := &appsv1.Deployment{}
				Expect(k8sClient.Get(ctx(), client.ObjectKey{Namespace: ns, Name: name}, dep)).To(Succeed())
				Expect(dep.Spec.Replicas).To(HaveValue(Equal(int32(2))), "fixed count of %s", name)
			} else {
				Expect(hpas[name]).To(Equal(1), "HorizontalPodAutoscalers of %s", name)
			}
		}
		Expect(deployments).To(HaveLen(convergingServices), "children labelled for an unknown InferenceService")
		Expect(services).To(HaveLen(convergingServices))

		By("finding no orphan, no deleted Deployment and no replica decrease")
		Expect(orphansIn(Default, ns)).To(BeEmpty())
		Expect(replicas.deletionsIn(ns)).To(BeEmpty(), "Deployments deleted during the test")
		Expect(replicas.deploymentsSeen(ns)).To(Equal(convergingServices), "the watch saw every Deployment")
		Expect(replicas.decreasesIn(ns)).To(BeEmpty(), "spec.replicas went down")
	})

	It("2: keeps the operator running through a 20 s kube-apiserver outage and converges within 60 s of its return", func() {
		Expect(cluster.Running()).To(BeTrue())
		// A second operator runs as the shipped manager does, with leader election at its
		// default settings (lease 15 s, renew deadline 10 s), on a namespace of its own.
		// A 20 s outage is longer than the renew deadline: it is expected to give up its
		// leadership and exit cleanly ("leader election lost"), and to work again when
		// started anew, as the kubelet would.
		leNS := createNamespace("apiserver-le")
		elected := newOperator("leader-elected", "--leader-elect", "--leader-election-namespace="+leNS, "--watch-namespaces="+leNS)
		elected.Start()
		DeferCleanup(elected.Stop)
		Eventually(elected.Log).Should(ContainSubstring("Successfully acquired lease"))
		const electedCount = 5
		Expect(createISVCs(leNS, electedCount, fixedEvery)).To(Succeed())

		ns := createNamespace("apiserver")
		const count = 20
		Expect(createISVCs(ns, count, fixedEvery)).To(Succeed())
		readyAtStop, _ := convergedCount(Default, ns)
		Expect(readyAtStop).To(BeNumerically("<", count), "the outage must come mid-convergence")

		components := readComponents()
		apiserver := components["kube-apiserver"]
		logAtStop := cluster.LogSize()
		By(fmt.Sprintf("stopping kube-apiserver (pid %d) with %d of %d new InferenceServices Ready", apiserver.pid, readyAtStop, count))
		stoppedAt := time.Now()
		how := apiserver.stop(apiserverGrace)
		figures.addFault("kube-apiserver stopped for 20 s mid-convergence")
		_, _ = fmt.Fprintf(GinkgoWriter, "kube-apiserver %s\n", how)
		Expect(apiserverReady()).NotTo(Succeed(), "the API server still answers")

		// The outage lasts 20 s whatever happens; the operator must live through all of it.
		Consistently(cluster.Running, time.Until(stoppedAt.Add(apiserverOutage)), 250*time.Millisecond).
			Should(BeTrue(), "the operator exited while the API server was down")
		logAtReturn := cluster.LogSize()

		By("starting kube-apiserver again with its former command line")
		apiserver.startAgain()
		Eventually(apiserverReady, time.Minute, 200*time.Millisecond).Should(Succeed())
		returnedAt := time.Now()
		_, _ = fmt.Fprintf(GinkgoWriter, "kube-apiserver answered again %s after it was stopped\n", returnedAt.Sub(stoppedAt).Round(100*time.Millisecond))

		// kube-controller-manager and kube-scheduler exit when they cannot renew their
		// leader lease (10 s); on a real node the kubelet restarts them. The harness does.
		var restarted []string
		for _, name := range slices.Sorted(maps.Keys(components)) {
			if c := components[name]; name != "kube-apiserver" && !c.alive() {
				c.startAgain()
				restarted = append(restarted, name)
			}
		}
		_, _ = fmt.Fprintf(GinkgoWriter, "components that exited during the outage and were restarted: %v\n", restarted)
		electedLog := elected.LogSize()
		if code, at, exited := elected.Exit(); exited {
			_, _ = fmt.Fprintf(GinkgoWriter, "the leader-elected operator exited with status %d, %.1f s into the outage; starting it again\n",
				code, at.Sub(stoppedAt).Seconds())
			Expect(code).To(Equal(1))
			Expect(elected.Log()).To(ContainSubstring("leader election lost"), "the leader-elected operator did not exit the designed way")
			figures.mu.Lock()
			figures.selfExits = append(figures.selfExits, fmt.Sprintf(
				"the leader-elected manager (--leader-elect, lease 15 s, renew deadline 10 s, as shipped) exited with status 1, "+
					"\"leader election lost\", %.0f s into the 20 s kube-apiserver outage; started again after it, as a kubelet would",
				at.Sub(stoppedAt).Seconds()))
			figures.mu.Unlock()
			elected.Start()
		} else {
			_, _ = fmt.Fprintf(GinkgoWriter, "the leader-elected operator is still running\n")
		}

		By("waiting until every InferenceService of the cluster is Ready, at most 60 s after the API server's return")
		Eventually(func(g Gomega) {
			converged, total := convergedCount(g, "")
			g.Expect(converged).To(Equal(total))
			g.Expect(total).To(Equal(convergingServices + count + electedCount))
		}).WithTimeout(time.Until(returnedAt.Add(convergeAfterReturn))).WithPolling(500 * time.Millisecond).Should(Succeed())
		figures.apiserverReturnToConverged = time.Since(returnedAt).Seconds()
		_, _ = fmt.Fprintf(GinkgoWriter, "every InferenceService Ready %.1f s after the API server's return\n", figures.apiserverReturnToConverged)

		Expect(cluster.Running()).To(BeTrue(), "the operator exited")
		lost := cluster.LogBetween(logAtStop, logAtReturn)
		Expect(lost).To(ContainSubstring("connection refused"), "the operator's log does not show the lost API server")
		regained := cluster.LogBetween(logAtReturn, -1)
		Expect(framework.CountLogLines(regained, "Reconcile successful", ns, "")).To(BeNumerically(">", 0),
			"the operator's log shows no successful reconcile after the API server's return")
		_, _ = fmt.Fprintf(GinkgoWriter, "operator log: %d lines mention \"connection refused\" during the outage; %d successful reconciles in %s after it\n",
			strings.Count(lost, "connection refused"), framework.CountLogLines(regained, "Reconcile successful", ns, ""), ns)

		Eventually(func() string { return elected.LogBetween(electedLog, -1) }).Should(ContainSubstring("Successfully acquired lease"))
		Expect(framework.CountLogLines(elected.LogBetween(electedLog, -1), "Reconcile successful", leNS, "")).To(BeNumerically(">", 0),
			"the leader-elected operator did no work after the outage")
		for _, p := range []*framework.OperatorProcess{cluster, elected} {
			Expect(p.Log()).NotTo(ContainSubstring("panic"), "operator %s panicked", p.Name)
		}
	})

	It("3: lets only the leader write, hands over within leaseDuration + renewDeadline when it is killed, and resumes work", func() {
		// The cluster-wide operator runs without leader election; it would write too.
		cluster.Stop()
		ns := createNamespace("leader")
		flags := []string{
			"--leader-elect", "--leader-election-namespace=" + ns, "--watch-namespaces=" + ns,
			"--leader-election-lease-duration=" + leaseDuration.String(),
			"--leader-election-renew-deadline=" + renewDeadline.String(),
			"--leader-election-retry-period=" + retryPeriod.String(),
		}
		first, second := newOperator("leader-a", flags...), newOperator("leader-b", flags...)
		holder := func(g Gomega) string {
			lease := &coordinationv1.Lease{}
			g.Expect(k8sClient.Get(ctx(), client.ObjectKey{Namespace: ns, Name: leaseName}, lease)).To(Succeed())
			return ptr.Deref(lease.Spec.HolderIdentity, "")
		}

		By("starting one replica, which takes the lease, then a second")
		first.Start()
		var leader string
		Eventually(func(g Gomega) {
			leader = holder(g)
			g.Expect(leader).NotTo(BeEmpty())
		}).Should(Succeed())
		Eventually(first.Log).Should(ContainSubstring("Successfully acquired lease"))
		second.Start()
		Eventually(second.Log).Should(ContainSubstring("Attempting to acquire leader lease"))

		for i := range 3 {
			Expect(k8sClient.Create(ctx(), newISVC(ns, isvcName(i)))).To(Succeed())
		}
		Eventually(func(g Gomega) {
			converged, total := convergedCount(g, ns)
			g.Expect(converged).To(Equal(3))
			g.Expect(total).To(Equal(3))
		}).Should(Succeed())

		By("checking that only the lease holder writes")
		Consistently(func(g Gomega) {
			g.Expect(holder(g)).To(Equal(leader))
			writes, err := second.WriteRequests(ctx())
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(writes).To(BeZero(), "the follower sent write requests")
		}, 3*time.Second).Should(Succeed())
		leaderWrites, err := first.WriteRequests(ctx())
		Expect(err).NotTo(HaveOccurred())
		Expect(leaderWrites).To(BeNumerically(">", 0), "the leader's writes are counted, or the follower's 0 proves nothing")
		Expect(first.Reconciles(ns, "")).To(BeNumerically(">=", 3))
		Expect(second.Reconciles(ns, "")).To(BeZero(), "the follower reconciled")
		Expect(second.Log()).NotTo(ContainSubstring("Successfully acquired lease"))
		_, _ = fmt.Fprintf(GinkgoWriter, "leader %s: %d write requests, %d reconciles; follower: 0 writes, 0 reconciles\n",
			leader, leaderWrites, first.Reconciles(ns, ""))

		By("killing the leader with SIGKILL and creating an InferenceService while nobody leads")
		first.Kill()
		killedAt := time.Now()
		figures.addFault("leader SIGKILL")
		Expect(k8sClient.Create(ctx(), newISVC(ns, "after-kill"))).To(Succeed())
		var newLeader string
		Eventually(func(g Gomega) {
			newLeader = holder(g)
			g.Expect(newLeader).NotTo(Or(BeEmpty(), Equal(leader)))
		}, 30*time.Second, 100*time.Millisecond).Should(Succeed())
		handover := time.Since(killedAt)
		limit := leaseDuration + renewDeadline
		figures.handoverSeconds = handover.Seconds()
		_, _ = fmt.Fprintf(GinkgoWriter, "handover to %s took %.1f s (limit: leaseDuration + renewDeadline = %s)\n",
			newLeader, handover.Seconds(), limit)
		Expect(handover).To(BeNumerically("<=", limit))
		Eventually(second.Log).Should(ContainSubstring("Successfully acquired lease"))

		By("seeing the new leader converge the InferenceService created after the kill")
		Eventually(func(g Gomega) {
			isvc := getISVC(g, ns, "after-kill")
			g.Expect(isvc.Status.ObservedGeneration).To(Equal(isvc.Generation))
			for _, child := range []client.Object{&appsv1.Deployment{}, &corev1.Service{}, &autoscalingv2.HorizontalPodAutoscaler{}} {
				g.Expect(k8sClient.Get(ctx(), client.ObjectKeyFromObject(isvc), child)).To(Succeed())
				g.Expect(metav1.IsControlledBy(child, isvc)).To(BeTrue())
			}
			g.Expect(isConverged(isvc)).To(BeTrue())
		}).Should(Succeed())
		_, _ = fmt.Fprintf(GinkgoWriter, "work resumed: after-kill converged %.1f s after the kill\n", time.Since(killedAt).Seconds())
		Expect(second.Reconciles(ns, "after-kill")).To(BeNumerically(">", 0))
		second.Stop()
	})

	It("4: never changes spec.replicas that the HPA holds at 7 through 100 reconciles", func() {
		ns := createNamespace("hpa")
		operator := newOperator("hpa", "--watch-namespaces="+ns)
		operator.Start()
		DeferCleanup(operator.Stop)

		// The real HPA must not move the count during the test, so its metric is one no
		// adapter serves: it reports ScalingActive=False and leaves spec.replicas alone
		// (7 is within 1..10). The choice of 7 is written the way the HPA controller writes
		// it, through the Deployment's scale subresource.
		isvc := newISVC(ns, "hold", func(i *servingv1alpha1.InferenceService) {
			i.Spec.Autoscaling.Metrics = []autoscalingv2.MetricSpec{{Type: autoscalingv2.PodsMetricSourceType, Pods: &autoscalingv2.PodsMetricSource{
				Metric: autoscalingv2.MetricIdentifier{Name: "metric_nobody_serves"},
				Target: autoscalingv2.MetricTarget{Type: autoscalingv2.AverageValueMetricType, AverageValue: ptr.To(resource.MustParse("1"))},
			}}}
		})
		Expect(k8sClient.Create(ctx(), isvc)).To(Succeed())
		Eventually(func(g Gomega) {
			live := getISVC(g, ns, "hold")
			g.Expect(isConverged(live)).To(BeTrue())
			active := meta.FindStatusCondition(live.Status.Conditions, servingv1alpha1.ConditionScalingActive)
			g.Expect(active).NotTo(BeNil())
			g.Expect(active.Status).To(Equal(metav1.ConditionFalse))
		}).Should(Succeed())

		// The tracker's informer may still be backing off after an earlier spec stopped the
		// API server; a scale write it does not see would leave nothing to assert.
		Eventually(func() []replicaChange { return replicas.changesOf(ns, "hold") }, time.Minute).
			ShouldNot(BeEmpty(), "the replica tracker has not seen the Deployment")

		By("writing spec.replicas=7 through the scale subresource, as the HPA controller does")
		deployments := clientset.AppsV1().Deployments(ns)
		scale, err := deployments.GetScale(ctx(), "hold", metav1.GetOptions{})
		Expect(err).NotTo(HaveOccurred())
		scale.Spec.Replicas = heldReplicas
		scale, err = deployments.UpdateScale(ctx(), "hold", scale, metav1.UpdateOptions{FieldManager: hpaFieldManager})
		Expect(err).NotTo(HaveOccurred())
		ownWrites := map[string]bool{scale.ResourceVersion: true}
		Eventually(func(g Gomega) {
			live := getISVC(g, ns, "hold")
			g.Expect(isConverged(live)).To(BeTrue())
			g.Expect(live.Status.ReadyReplicas).To(Equal(int32(heldReplicas)))
		}).Should(Succeed())

		By("driving 100 reconciles: spec edits unrelated to scaling, operator restarts, touched children")
		patchISVC := func(patch string) {
			live := &servingv1alpha1.InferenceService{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "hold"}}
			Expect(k8sClient.Patch(ctx(), live, client.RawPatch(types.MergePatchType, []byte(patch)))).To(Succeed())
			Eventually(func(g Gomega) {
				g.Expect(getISVC(g, ns, "hold").Status.ObservedGeneration).To(BeNumerically(">=", live.Generation))
			}).Should(Succeed())
		}
		touch := func(obj client.Object, n int) {
			obj.SetNamespace(ns)
			obj.SetName("hold")
			patch := fmt.Sprintf(`{"metadata":{"annotations":{"faults.example/touch":"%d"}}}`, n)
			Expect(k8sClient.Patch(ctx(), obj, client.RawPatch(types.MergePatchType, []byte(patch)))).To(Succeed())
		}
		// A metadata-only touch of the InferenceService itself triggers no reconcile: the
		// controller watches it with GenerationChangedPredicate. A forced resync is a touch
		// of a child, which the controller watches for every change.
		kinds := map[string]int{
			"operator restart (SIGKILL, start)":            10,
			"spec.env edit (rolls the pods)":               10,
			"spec.podAnnotations edit (rolls the pods)":    10,
			"spec.service.annotations edit":                20,
			"forced resync: Deployment annotation touched": 20,
			"forced resync: Service annotation touched":    15,
			"forced resync: HPA annotation touched":        15,
		}
		run := map[string]func(n int){
			"operator restart (SIGKILL, start)": func(int) {
				operator.Kill()
				operator.Start()
				figures.addFault("operator SIGKILL under an HPA holding 7 replicas")
			},
			"spec.env edit (rolls the pods)": func(n int) {
				patchISVC(fmt.Sprintf(`{"spec":{"env":[{"name":"FAULTS_EDIT","value":"%d"}]}}`, n))
			},
			"spec.podAnnotations edit (rolls the pods)": func(n int) {
				patchISVC(fmt.Sprintf(`{"spec":{"podAnnotations":{"faults.example/edit":"%d"}}}`, n))
			},
			"spec.service.annotations edit": func(n int) {
				patchISVC(fmt.Sprintf(`{"spec":{"service":{"annotations":{"faults.example/edit":"%d"}}}}`, n))
			},
			"forced resync: Deployment annotation touched": func(n int) { touch(&appsv1.Deployment{}, n) },
			"forced resync: Service annotation touched":    func(n int) { touch(&corev1.Service{}, n) },
			"forced resync: HPA annotation touched":        func(n int) { touch(&autoscalingv2.HorizontalPodAutoscaler{}, n) },
		}
		var plan []string
		for _, kind := range slices.Sorted(maps.Keys(kinds)) {
			for range kinds[kind] {
				plan = append(plan, kind)
			}
		}
		Expect(plan).To(HaveLen(100))
		rng.Shuffle(len(plan), func(i, j int) { plan[i], plan[j] = plan[j], plan[i] })

		reconcilesBefore := operator.Reconciles(ns, "hold")
		done := map[string]int{}
		for _, kind := range plan {
			before := operator.Reconciles(ns, "hold")
			done[kind]++
			run[kind](done[kind])
			Eventually(func() int { return operator.Reconciles(ns, "hold") }, 30*time.Second, 100*time.Millisecond).
				Should(BeNumerically(">", before), "no reconcile after %s", kind)
		}

		By("waiting until the rollouts are over")
		Eventually(func(g Gomega) {
			dep := &appsv1.Deployment{}
			g.Expect(k8sClient.Get(ctx(), client.ObjectKey{Namespace: ns, Name: "hold"}, dep)).To(Succeed())
			g.Expect(dep.Status.ObservedGeneration).To(Equal(dep.Generation))
			g.Expect(dep.Status.UpdatedReplicas).To(Equal(int32(heldReplicas)))
			g.Expect(dep.Status.Replicas).To(Equal(int32(heldReplicas)))
			g.Expect(dep.Status.AvailableReplicas).To(Equal(int32(heldReplicas)))
			g.Expect(isConverged(getISVC(g, ns, "hold"))).To(BeTrue())
		}).Should(Succeed())
		reconciles := operator.Reconciles(ns, "hold") - reconcilesBefore

		dep := &appsv1.Deployment{}
		Expect(k8sClient.Get(ctx(), client.ObjectKey{Namespace: ns, Name: "hold"}, dep)).To(Succeed())
		Expect(dep.Spec.Replicas).To(HaveValue(Equal(int32(heldReplicas))))
		owners := replicasOwners(dep)
		_, _ = fmt.Fprintf(GinkgoWriter, "field managers owning spec.replicas: %v\n", owners)
		Expect(owners).NotTo(ContainElement(HavePrefix(operatorManager)), "the operator's apply owns spec.replicas")

		var resets, own []replicaChange
		for _, c := range replicas.changesOf(ns, "hold") {
			switch {
			case c.From < 0:
			case ownWrites[c.ResourceVersion]:
				own = append(own, c)
			default:
				resets = append(resets, c)
			}
		}
		figures.replicaResets, figures.reconcilesUnderHPA = len(resets), reconciles
		_, _ = fmt.Fprintf(GinkgoWriter, "actions: %v\nreconciles of hold: %d; spec.replicas changes: own %v, others %v\n",
			done, reconciles, own, resets)
		Expect(own).To(HaveLen(1), "the watch must see the scale write, or it proves nothing")
		Expect(reconciles).To(BeNumerically(">=", 100))
		Expect(resets).To(BeEmpty(), "spec.replicas changed by someone else than the HPA's writer")
	})

	It("5: restores a deleted or hand-edited child within seconds, restarting no pod that need not restart", func() {
		ns := createNamespace("tamper")
		operator := newOperator("tamper", "--watch-namespaces="+ns)
		operator.Start()
		DeferCleanup(operator.Stop)
		key := client.ObjectKey{Namespace: ns, Name: "tamper"}

		Expect(k8sClient.Create(ctx(), newISVC(ns, "tamper", withReplicas(2),
			withPodAnnotations(map[string]string{"pod-ready.stage.kwok.x-k8s.io/delay": podReadyDelay})))).To(Succeed())
		Eventually(func(g Gomega) { g.Expect(isConverged(getISVC(g, ns, "tamper"))).To(BeTrue()) }).Should(Succeed())
		isvc := getISVC(Default, ns, "tamper")
		original := &appsv1.Deployment{}
		Expect(k8sClient.Get(ctx(), key, original)).To(Succeed())
		originalService := &corev1.Service{}
		Expect(k8sClient.Get(ctx(), key, originalService)).To(Succeed())
		originalPods := livePods(Default, ns, "tamper")
		Expect(originalPods).To(HaveLen(2))
		originalRS := activeReplicaSets(Default, ns)
		Expect(originalRS).To(HaveLen(1))
		_, _ = fmt.Fprintf(GinkgoWriter, "original pods %v, ReplicaSet %v\n", originalPods, originalRS)

		restored := func(fault string, check func(g Gomega)) {
			figures.addFault(fault)
			start := time.Now()
			Eventually(check, restoreWithin, 50*time.Millisecond).Should(Succeed(), "%s: not restored within %s", fault, restoreWithin)
			_, _ = fmt.Fprintf(GinkgoWriter, "%s: restored in %s\n", fault, time.Since(start).Round(10*time.Millisecond))
		}
		expectOriginalPods := func() {
			Consistently(func(g Gomega) {
				g.Expect(livePods(g, ns, "tamper")).To(Equal(originalPods))
				g.Expect(activeReplicaSets(g, ns)).To(Equal(originalRS))
			}, 2*time.Second).Should(Succeed(), "pods were replaced")
		}
		getDeployment := func(g Gomega) *appsv1.Deployment {
			dep := &appsv1.Deployment{}
			g.Expect(k8sClient.Get(ctx(), key, dep)).To(Succeed())
			return dep
		}

		By("deleting the Service")
		Expect(k8sClient.Delete(ctx(), originalService.DeepCopy())).To(Succeed())
		restored("Service deleted", func(g Gomega) {
			svc := &corev1.Service{}
			g.Expect(k8sClient.Get(ctx(), key, svc)).To(Succeed())
			g.Expect(svc.UID).NotTo(Equal(originalService.UID))
			g.Expect(svc.Spec.Ports).To(HaveLen(1))
			g.Expect(svc.Spec.Ports[0].Port).To(Equal(originalService.Spec.Ports[0].Port))
			g.Expect(svc.Spec.Selector).To(Equal(originalService.Spec.Selector))
			g.Expect(metav1.IsControlledBy(svc, isvc)).To(BeTrue())
		})
		expectOriginalPods()

		By("editing the Service's target port by hand")
		jsonPatch(&corev1.Service{}, key, `[{"op":"replace","path":"/spec/ports/0/targetPort","value":9999}]`)
		restored("Service spec edited by hand (targetPort)", func(g Gomega) {
			svc := &corev1.Service{}
			g.Expect(k8sClient.Get(ctx(), key, svc)).To(Succeed())
			g.Expect(svc.Spec.Ports).To(Equal(originalService.Spec.Ports))
		})
		expectOriginalPods()

		By("editing a Deployment field the operator owns, outside the pod template, by hand")
		jsonPatch(&appsv1.Deployment{}, key, `[{"op":"replace","path":"/spec/progressDeadlineSeconds","value":42}]`)
		restored("Deployment spec edited by hand (progressDeadlineSeconds)", func(g Gomega) {
			g.Expect(getDeployment(g).Spec.ProgressDeadlineSeconds).To(Equal(original.Spec.ProgressDeadlineSeconds))
		})
		expectOriginalPods()

		By("annotating the Deployment by hand, a field the operator does not own")
		reconcilesBefore := operator.Reconciles(ns, "tamper")
		figures.addFault("Deployment annotated by hand (not the operator's field)")
		Expect(k8sClient.Patch(ctx(), &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "tamper"}},
			client.RawPatch(types.MergePatchType, []byte(`{"metadata":{"annotations":{"faults.example/owner":"someone-else"}}}`)))).To(Succeed())
		Eventually(func() int { return operator.Reconciles(ns, "tamper") }).Should(BeNumerically(">", reconcilesBefore))
		Consistently(func(g Gomega) {
			g.Expect(getDeployment(g).Annotations).To(HaveKeyWithValue("faults.example/owner", "someone-else"))
		}, 2*time.Second).Should(Succeed(), "the operator removed a field it does not own")
		expectOriginalPods()

		By("removing a label from the pod template")
		jsonPatch(&appsv1.Deployment{}, key, `[{"op":"remove","path":"/spec/template/metadata/labels/app.kubernetes.io~1component"}]`)
		restored("label removed from the pod template", func(g Gomega) {
			g.Expect(getDeployment(g).Spec.Template.Labels).To(Equal(original.Spec.Template.Labels))
		})
		Eventually(func(g Gomega) {
			dep := getDeployment(g)
			g.Expect(equality.Semantic.DeepEqual(dep.Spec.Template, original.Spec.Template)).To(BeTrue(), "the restored template differs")
			g.Expect(dep.Status.ObservedGeneration).To(Equal(dep.Generation))
			g.Expect(dep.Status.Replicas).To(Equal(int32(2)), "a surge pod is left")
			g.Expect(activeReplicaSets(g, ns)).To(Equal(originalRS))
			g.Expect(livePods(g, ns, "tamper")).To(Equal(originalPods))
		}, 30*time.Second).Should(Succeed())
		_, _ = fmt.Fprintf(GinkgoWriter, "ReplicaSets after the label was restored (name: spec.replicas): %v\n", allReplicaSets(Default, ns))
		expectOriginalPods()

		By("deleting the Deployment with propagation Orphan, which leaves its ReplicaSet and pods")
		Expect(k8sClient.Delete(ctx(), getDeployment(Default), client.PropagationPolicy(metav1.DeletePropagationOrphan))).To(Succeed())
		restored("Deployment deleted (orphaning its pods)", func(g Gomega) {
			dep := getDeployment(g)
			g.Expect(dep.UID).NotTo(Equal(original.UID))
			g.Expect(dep.DeletionTimestamp).To(BeNil())
			g.Expect(metav1.IsControlledBy(dep, isvc)).To(BeTrue())
		})
		Eventually(func(g Gomega) {
			dep := getDeployment(g)
			rs := &appsv1.ReplicaSet{}
			g.Expect(k8sClient.Get(ctx(), client.ObjectKey{Namespace: ns, Name: originalRS[0]}, rs)).To(Succeed())
			g.Expect(metav1.IsControlledBy(rs, dep)).To(BeTrue(), "the new Deployment did not adopt the original ReplicaSet")
			g.Expect(dep.Status.AvailableReplicas).To(Equal(int32(2)))
		}, 30*time.Second).Should(Succeed())
		expectOriginalPods()
		Eventually(func(g Gomega) { g.Expect(isConverged(getISVC(g, ns, "tamper"))).To(BeTrue()) }).Should(Succeed())
	})

	// Service ports are a list keyed by (port, protocol): a hand edit of the port number
	// leaves an entry the operator does not own, and re-applying its own entry beside it
	// makes two ports named "http", which the API server refuses. The operator then writes
	// its fields over the live Service once and applies again.
	It("5b: restores a Service whose port number was edited by hand", func() {
		ns := createNamespace("svcport")
		operator := newOperator("svcport", "--watch-namespaces="+ns)
		operator.Start()
		DeferCleanup(operator.Stop)
		key := client.ObjectKey{Namespace: ns, Name: "port"}
		Expect(k8sClient.Create(ctx(), newISVC(ns, "port", withReplicas(1)))).To(Succeed())
		Eventually(func(g Gomega) { g.Expect(isConverged(getISVC(g, ns, "port"))).To(BeTrue()) }).Should(Succeed())
		original := &corev1.Service{}
		Expect(k8sClient.Get(ctx(), key, original)).To(Succeed())

		jsonPatch(&corev1.Service{}, key, `[{"op":"replace","path":"/spec/ports/0/port","value":8081}]`)
		figures.addFault("Service spec edited by hand (port number)")
		Eventually(func(g Gomega) {
			svc := &corev1.Service{}
			g.Expect(k8sClient.Get(ctx(), key, svc)).To(Succeed())
			g.Expect(svc.Spec.Ports).To(Equal(original.Spec.Ports))
			g.Expect(isConverged(getISVC(g, ns, "port"))).To(BeTrue())
		}, restoreWithin, 50*time.Millisecond).Should(Succeed())
	})

	It("ends with every figure that must be 0 at 0", func() {
		converged, total := convergedCount(Default, "")
		namespacesMu.Lock()
		namespaces := slices.Clone(testNamespaces)
		namespacesMu.Unlock()
		orphans := make([]string, 0, len(namespaces))
		for _, ns := range namespaces {
			orphans = append(orphans, orphansIn(Default, ns)...)
		}
		decreases := replicas.decreasesIn("")
		figures.crsConverged, figures.crsTotal = converged, total
		figures.orphans, figures.replicaDecreases = len(orphans), len(decreases)
		figures.print("final")

		Expect(total).To(BeNumerically(">=", convergingServices))
		Expect(converged).To(Equal(total), "InferenceServices not Ready")
		Expect(orphans).To(BeEmpty())
		Expect(decreases).To(BeEmpty())
		Expect(figures.replicaResets).To(BeZero())
		Expect(figures.handoverSeconds).To(And(BeNumerically(">", 0), BeNumerically("<=", figures.handoverLimit)))
	})
})

// jsonPatch applies a JSON patch to the object at key, as a hand edit with kubectl would.
func jsonPatch(obj client.Object, key client.ObjectKey, patch string) {
	obj.SetNamespace(key.Namespace)
	obj.SetName(key.Name)
	ExpectWithOffset(1, k8sClient.Patch(ctx(), obj, client.RawPatch(types.JSONPatchType, []byte(patch)))).To(Succeed())
}

// activeReplicaSets lists the names of the ReplicaSets in namespace that want pods.
func activeReplicaSets(g Gomega, namespace string) []string {
	var names []string
	for name, replicas := range allReplicaSets(g, namespace) {
		if replicas > 0 {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return names
}

func allReplicaSets(g Gomega, namespace string) map[string]int32 {
	list := &appsv1.ReplicaSetList{}
	g.ExpectWithOffset(2, k8sClient.List(ctx(), list, client.InNamespace(namespace))).To(Succeed())
	out := map[string]int32{}
	for _, rs := range list.Items {
		out[rs.Name] = ptr.Deref(rs.Spec.Replicas, 1)
	}
	return out
}

// replicasOwners lists the field managers (with operation and subresource) that own the
// Deployment's spec.replicas according to its managedFields.
func replicasOwners(dep *appsv1.Deployment) []string {
	var owners []string
	for _, entry := range dep.ManagedFields {
		var fields map[string]any
		if entry.FieldsV1 == nil || json.Unmarshal(entry.FieldsV1.GetRawBytes(), &fields) != nil {
			continue
		}
		if spec, ok := fields["f:spec"].(map[string]any); ok {
			if _, ok := spec["f:replicas"]; ok {
				owners = append(owners, fmt.Sprintf("%s (%s %s)", entry.Manager, entry.Operation, entry.Subresource))
			}
		}
	}
	return owners
}
