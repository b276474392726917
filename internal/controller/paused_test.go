package controller

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	servingv1alpha1 "github.com/inferenceops/inference-operator/api/v1alpha1"
)

// spec.paused, as a user notices it: the operator keeps its hands off the children and
// keeps reporting them, and takes over again once unpaused.
var _ = Describe("a paused InferenceService", func() {
	var namespace string
	BeforeEach(func() { namespace = newNamespace() })

	key := func(name string) client.ObjectKey { return client.ObjectKey{Namespace: namespace, Name: name} }
	isvcNamed := func(name string) func(Gomega) *servingv1alpha1.InferenceService {
		return func(g Gomega) *servingv1alpha1.InferenceService {
			isvc := &servingv1alpha1.InferenceService{}
			g.Expect(k8sClient.Get(ctx, key(name), isvc)).To(Succeed())
			return isvc
		}
	}
	deploymentImage := func(name string) func(Gomega) string {
		return func(g Gomega) string {
			dep := &appsv1.Deployment{}
			g.Expect(k8sClient.Get(ctx, key(name), dep)).To(Succeed())
			return dep.Spec.Template.Spec.Containers[0].Image
		}
	}
	setPaused := func(name string, paused bool) {
		Eventually(func(g Gomega) {
			isvc := isvcNamed(name)(g)
			isvc.Spec.Paused = paused
			g.Expect(k8sClient.Update(ctx, isvc)).To(Succeed())
		}).Should(Succeed())
	}
	// reportsPaused waits until the status describes the paused spec.
	reportsPaused := func(name string) {
		Eventually(func(g Gomega) {
			isvc := isvcNamed(name)(g)
			g.Expect(isvc.Status.ObservedGeneration).To(Equal(isvc.Generation))
			paused := meta.FindStatusCondition(isvc.Status.Conditions, servingv1alpha1.ConditionPaused)
			g.Expect(paused).NotTo(BeNil())
			g.Expect(paused.Status).To(Equal(metav1.ConditionTrue))
			g.Expect(paused.Reason).To(Equal(servingv1alpha1.ReasonPaused))
		}).Should(Succeed())
	}
	editImage := func(name, image string) {
		patch := []byte(`{"spec":{"template":{"spec":{"containers":[{"name":"inference-server","image":"` + image + `"}]}}}}`)
		dep := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name}}
		Expect(k8sClient.Patch(ctx, dep, client.RawPatch(types.StrategicMergePatchType, patch), client.FieldOwner("kubectl-edit"))).To(Succeed())
	}

	It("keeps a hand edit of the Deployment while paused, and restores the spec once unpaused", func() {
		Expect(k8sClient.Create(ctx, newInferenceService(namespace, "llm"))).To(Succeed())
		Eventually(deploymentImage("llm")).Should(Equal("ghcr.io/example/model-server:1.0"))

		setPaused("llm", true)
		reportsPaused("llm")
		By("editing the Deployment's image by hand")
		editImage("llm", "ghcr.io/example/model-server:hotfix")
		Consistently(deploymentImage("llm")).Should(Equal("ghcr.io/example/model-server:hotfix"),
			"a paused service's Deployment is left as it is")

		By("changing the spec while paused: nothing reaches the Deployment")
		Eventually(func(g Gomega) {
			isvc := isvcNamed("llm")(g)
			isvc.Spec.Image = "ghcr.io/example/model-server:2.0"
			g.Expect(k8sClient.Update(ctx, isvc)).To(Succeed())
		}).Should(Succeed())
		reportsPaused("llm")
		Consistently(deploymentImage("llm")).Should(Equal("ghcr.io/example/model-server:hotfix"))

		By("unpausing")
		setPaused("llm", false)
		Eventually(deploymentImage("llm")).Should(Equal("ghcr.io/example/model-server:2.0"))
		Eventually(func(g Gomega) []metav1.Condition { return isvcNamed("llm")(g).Status.Conditions }).ShouldNot(
			ContainElement(HaveField("Type", servingv1alpha1.ConditionPaused)), "the Paused condition goes with the pause")
	})

	It("leaves a child deleted while paused deleted, and creates it again once unpaused", func() {
		Expect(k8sClient.Create(ctx, newInferenceService(namespace, "llm", func(isvc *servingv1alpha1.InferenceService) {
			isvc.Spec.Paused = true
		}))).To(Succeed())
		reportsPaused("llm")
		Consistently(func() bool {
			return apierrors.IsNotFound(k8sClient.Get(ctx, key("llm"), &appsv1.Deployment{}))
		}).Should(BeTrue(), "an InferenceService created paused gets no children")
		ready := meta.FindStatusCondition(isvcNamed("llm")(Default).Status.Conditions, servingv1alpha1.ConditionReady)
		Expect(ready.Status).To(Equal(metav1.ConditionFalse))
		Expect(ready.Message).To(ContainSubstring("spec.paused keeps the operator from creating it"))

		setPaused("llm", false)
		Eventually(func() error { return k8sClient.Get(ctx, key("llm"), &corev1.Service{}) }).Should(Succeed())

		setPaused("llm", true)
		reportsPaused("llm")
		By("deleting the Service by hand")
		Expect(k8sClient.Delete(ctx, &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: "llm"}})).To(Succeed())
		Consistently(func() bool {
			return apierrors.IsNotFound(k8sClient.Get(ctx, key("llm"), &corev1.Service{}))
		}).Should(BeTrue(), "a paused service's deleted child stays deleted")

		setPaused("llm", false)
		Eventually(func() error { return k8sClient.Get(ctx, key("llm"), &corev1.Service{}) }).Should(Succeed())
	})

	It("keeps following the Deployment's status while paused", func() {
		Expect(k8sClient.Create(ctx, newInferenceService(namespace, "llm", func(isvc *servingv1alpha1.InferenceService) {
			isvc.Spec.Replicas = ptr.To[int32](2)
		}))).To(Succeed())
		Eventually(deploymentImage("llm")).ShouldNot(BeEmpty())
		setPaused("llm", true)
		reportsPaused("llm")
		ready := meta.FindStatusCondition(isvcNamed("llm")(Default).Status.Conditions, servingv1alpha1.ConditionReady)
		Expect(ready.Status).To(Equal(metav1.ConditionFalse))

		By("playing the Deployment controller: both pods become available")
		Eventually(func(g Gomega) {
			dep := &appsv1.Deployment{}
			g.Expect(k8sClient.Get(ctx, key("llm"), dep)).To(Succeed())
			dep.Status = appsv1.DeploymentStatus{ObservedGeneration: dep.Generation, Replicas: 2, UpdatedReplicas: 2, ReadyReplicas: 2, AvailableReplicas: 2,
				Conditions: []appsv1.DeploymentCondition{
					{Type: appsv1.DeploymentAvailable, Status: corev1.ConditionTrue, Reason: "MinimumReplicasAvailable"},
					{Type: appsv1.DeploymentProgressing, Status: corev1.ConditionTrue, Reason: "NewReplicaSetAvailable"},
				}}
			g.Expect(k8sClient.Status().Update(ctx, dep)).To(Succeed())
		}).Should(Succeed())
		Eventually(func(g Gomega) {
			isvc := isvcNamed("llm")(g)
			g.Expect(isvc.Status.ReadyReplicas).To(Equal(int32(2)))
			g.Expect(meta.IsStatusConditionTrue(isvc.Status.Conditions, servingv1alpha1.ConditionReady)).To(BeTrue())
			g.Expect(meta.IsStatusConditionTrue(isvc.Status.Conditions, servingv1alpha1.ConditionPaused)).To(BeTrue())
		}).Should(Succeed())
	})
})
