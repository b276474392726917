//go:build e2e

package e2e

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	servingv1alpha1 "github.com/inferenceops/inference-operator/api/v1alpha1"
)

var _ = Describe("Pods under Pod Security admission", func() {
	// podSecurityNamespace creates a namespace whose pods PodSecurity admission checks
	// against the given level.
	podSecurityNamespace := func(level string) string {
		ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{
			GenerateName: "pss-" + level + "-",
			Labels:       map[string]string{"pod-security.kubernetes.io/enforce": level},
		}}
		Expect(k8sClient.Create(ctx(), ns)).To(Succeed())
		return ns.Name
	}
	expectReadyPods := func(namespace, name string) {
		Eventually(func(g Gomega) {
			pods := podsOf(namespace, name)
			g.Expect(pods).NotTo(BeEmpty())
			for _, p := range pods {
				g.Expect(podReady(&p)).To(BeTrue())
			}
		}).Should(Succeed(), "the pods of %s/%s were not admitted", namespace, name)
	}

	It("admits the hardened default pods under the baseline level", func() {
		namespace := podSecurityNamespace("baseline")
		Expect(k8sClient.Create(ctx(), newISVC(namespace, "baseline"))).To(Succeed())
		expectReadyPods(namespace, "baseline")

		pod := podsOf(namespace, "baseline")[0]
		Expect(pod.Spec.AutomountServiceAccountToken).To(Equal(ptr.To(false)))
		Expect(pod.Spec.SecurityContext.SeccompProfile.Type).To(Equal(corev1.SeccompProfileTypeRuntimeDefault))
		Expect(pod.Spec.Containers[0].SecurityContext.AllowPrivilegeEscalation).To(Equal(ptr.To(false)))
		for _, v := range pod.Spec.Volumes {
			Expect(v.Projected).To(BeNil(), "no service account token volume is mounted")
		}
	})

	It("admits pods under the restricted level once the spec asks for a non-root user", func() {
		namespace := podSecurityNamespace("restricted")

		By("refusing the defaults, which may run as root")
		Expect(k8sClient.Create(ctx(), newISVC(namespace, "root"))).To(Succeed())
		Eventually(func(g Gomega) {
			rsList := &appsv1.ReplicaSetList{}
			g.Expect(k8sClient.List(ctx(), rsList, client.InNamespace(namespace),
				client.MatchingLabels{"serving.inferenceops.dev/inferenceservice": "root"})).To(Succeed())
			g.Expect(rsList.Items).NotTo(BeEmpty())
			failure := false
			for _, rs := range rsList.Items {
				for _, c := range rs.Status.Conditions {
					failure = failure || (c.Type == appsv1.ReplicaSetReplicaFailure && c.Status == corev1.ConditionTrue)
				}
			}
			g.Expect(failure).To(BeTrue(), "PodSecurity admission should refuse the pods")
		}).Should(Succeed())
		Expect(podsOf(namespace, "root")).To(BeEmpty())

		By("admitting them with runAsNonRoot")
		Expect(k8sClient.Create(ctx(), newISVC(namespace, "nonroot", func(i *servingv1alpha1.InferenceService) {
			i.Spec.SecurityContext = &corev1.PodSecurityContext{RunAsNonRoot: ptr.To(true), RunAsUser: ptr.To[int64](1000)}
		}))).To(Succeed())
		expectReadyPods(namespace, "nonroot")
	})
})
