//go:build realnode

package realnode

import (
	"fmt"
	"strconv"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	servingv1alpha1 "github.com/inferenceops/inference-operator/api/v1alpha1"
	"github.com/inferenceops/inference-operator/internal/render"
	"github.com/inferenceops/inference-operator/test/framework"
)

// The operator's upgrade, as users do it: the previous release (its chart and its image,
// built from its own sources, hack/releases/, by hack/release-image.sh) installed by helm, model
// services created by it, then `helm upgrade` to this build's chart and image. No model
// pod may restart: the new builders render each unchanged service at the revision it was
// rendered with. A spec change then rolls that service, and only it, at today's revision.
var _ = Describe("upgrading the operator from the previous release", Ordered, func() {
	var previous *framework.OperatorRelease
	names := []string{"upgrade-a", "upgrade-b"}

	BeforeAll(func() {
		previous = &framework.OperatorRelease{
			Cluster: cluster, Helm: release.Helm, Chart: env("REALNODE_RELEASE_CHART"),
			Release: release.Release, Namespace: release.Namespace, Image: env("REALNODE_RELEASE_IMAGE"),
			HelmHome: release.HelmHome,
		}
		DeferCleanup(func() {
			for _, name := range names {
				deleteAndWait(name)
			}
		})
	})

	It("installs the previous release, whose services become Ready", func() {
		By("helm uninstall of this build (the CRD and other services stay), helm install of " + previous.Image)
		Expect(release.Uninstall()).To(Succeed())
		start := time.Now()
		Expect(previous.Install()).To(Succeed())
		pod, err := previous.ManagerPod(ctx())
		Expect(err).NotTo(HaveOccurred())
		Expect(pod.Spec.Containers[0].Image).To(Equal(previous.Image))
		report("previous release %s installed and Ready in %.1fs", previous.Image, time.Since(start).Seconds())

		for _, name := range names {
			Expect(cluster.Client.Create(ctx(), modelService(name, 2))).To(Succeed())
		}
		for _, name := range names {
			Eventually(cluster.ConditionIs(ctx(), appNamespace, name, servingv1alpha1.ConditionReady, metav1.ConditionTrue)).Should(Succeed())
			Eventually(func() int { return len(readyPods(name)) }).Should(Equal(2))
		}
	})

	It("upgrades to this build with helm upgrade, restarting no model pod", func() {
		before := map[string]rendered{}
		for _, name := range names {
			before[name] = renderedNow(name)
		}
		if render.Revision == render.RevisionV010 {
			report("NOTE: this build renders what release 0.1.0 did (render.Revision %d); the upgrade can only show that nothing else restarts pods", render.Revision)
		} else {
			// The test has teeth: applied at today's revision, the template would change.
			isvc, err := cluster.InferenceService(ctx(), appNamespace, names[1])
			Expect(err).NotTo(HaveOccurred())
			isvc.Status = servingv1alpha1.InferenceServiceStatus{}
			Expect(equality.Semantic.DeepDerivative(render.Deployment(isvc).Spec.Template, before[names[1]].template)).To(BeFalse(),
				"today's builders render another pod template for %s than release 0.1.0 did", names[1])
			report("today's builders (revision %d) would change the pod template of an unchanged service of release 0.1.0", render.Revision)
		}

		By("helm upgrade to " + release.Image)
		start := time.Now()
		Expect(release.Upgrade()).To(Succeed())
		pod, err := release.ManagerPod(ctx())
		Expect(err).NotTo(HaveOccurred())
		Expect(pod.Spec.Containers[0].Image).To(Equal(release.Image))
		report("helm upgrade to %s rolled the operator in %.1fs", release.Image, time.Since(start).Seconds())

		By("the new operator reconciles each service (it records the revision it rendered at)")
		for _, name := range names {
			Eventually(func(g Gomega) {
				isvc, err := cluster.InferenceService(ctx(), appNamespace, name)
				g.Expect(err).NotTo(HaveOccurred())
				g.Expect(isvc.Status.RenderRevision).To(Equal(render.RevisionV010))
				g.Expect(framework.ConditionStatus(isvc.Status.Conditions, servingv1alpha1.ConditionReady)).To(Equal(metav1.ConditionTrue))
			}).Should(Succeed())
		}
		By("for 20 s: the same Deployments, pod templates and pods")
		Consistently(func(g Gomega) {
			for _, name := range names {
				g.Expect(renderedNow(name).sameAs(before[name])).To(Succeed(), name)
			}
		}).WithTimeout(20 * time.Second).WithPolling(2 * time.Second).Should(Succeed())
		for _, name := range names {
			report("%s after the upgrade: Deployment generation %d, pod-template-hash %s, pods %v", name,
				before[name].generation, before[name].hash, before[name].pods)
		}
	})

	It("rolls only the service whose spec changes, at today's revision", func() {
		changed, unchanged := names[0], names[1]
		before := renderedNow(unchanged)
		oldHash := renderedNow(changed).hash

		isvc, err := cluster.InferenceService(ctx(), appNamespace, changed)
		Expect(err).NotTo(HaveOccurred())
		patch := []byte(`{"spec":{"env":[{"name":"UPGRADE_TEST","value":"changed"}]}}`)
		Expect(cluster.Client.Patch(ctx(), isvc, client.RawPatch(types.MergePatchType, patch))).To(Succeed())

		Eventually(func(g Gomega) {
			isvc, err := cluster.InferenceService(ctx(), appNamespace, changed)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(isvc.Status.ObservedGeneration).To(Equal(isvc.Generation))
			g.Expect(isvc.Status.RenderRevision).To(Equal(render.Revision))
			g.Expect(framework.ConditionStatus(isvc.Status.Conditions, servingv1alpha1.ConditionReady)).To(Equal(metav1.ConditionTrue))
			g.Expect(renderedNow(changed).hash).NotTo(Equal(oldHash))
		}).Should(Succeed())
		Expect(renderedNow(unchanged).sameAs(before)).To(Succeed(), "%s did not change and must not roll", unchanged)
		report("%s rolled to pod-template-hash %s after its spec changed; %s kept %s and its pods", changed,
			renderedNow(changed).hash, unchanged, before.hash)
	})
})

// rendered is what an operator upgrade must leave alone: the Deployment's generation, its
// pod template and the hash the Deployment controller gives it, and the pods.
type rendered struct {
	generation int64
	template   corev1.PodTemplateSpec
	hash       string
	pods       []string
}

func renderedNow(name string) rendered {
	d := deployment(name)
	return rendered{generation: d.Generation, template: d.Spec.Template, hash: templateHash(d), pods: podStates(readyPods(name))}
}

func (r rendered) sameAs(before rendered) error {
	switch {
	case r.generation != before.generation:
		return fmt.Errorf("Deployment generation %d, was %d", r.generation, before.generation)
	case r.hash != before.hash:
		return fmt.Errorf("pod-template-hash %s, was %s", r.hash, before.hash)
	case !equality.Semantic.DeepEqual(r.template, before.template):
		return fmt.Errorf("pod template changed")
	case fmt.Sprint(r.pods) != fmt.Sprint(before.pods):
		return fmt.Errorf("pods %v, were %v", r.pods, before.pods)
	}
	return nil
}

// templateHash is the pod-template-hash of the Deployment's newest ReplicaSet.
func templateHash(d *appsv1.Deployment) string {
	var sets appsv1.ReplicaSetList
	Expect(cluster.Client.List(ctx(), &sets, client.InNamespace(d.Namespace), client.MatchingLabels(d.Spec.Selector.MatchLabels))).To(Succeed())
	var newest *appsv1.ReplicaSet
	for i := range sets.Items {
		rs := &sets.Items[i]
		if newest == nil || rsRevision(rs) > rsRevision(newest) {
			newest = rs
		}
	}
	if newest == nil {
		return ""
	}
	return newest.Labels[appsv1.DefaultDeploymentUniqueLabelKey]
}

// rsRevision is the Deployment controller's revision number of a ReplicaSet.
func rsRevision(rs *appsv1.ReplicaSet) int {
	n, _ := strconv.Atoi(rs.Annotations["deployment.kubernetes.io/revision"])
	return n
}

// readyPods are an InferenceService's pods that are Ready and not being deleted.
func readyPods(name string) []corev1.Pod {
	var out []corev1.Pod
	for _, p := range modelPods(name) {
		if p.DeletionTimestamp == nil && podReady(&p) {
			out = append(out, p)
		}
	}
	return out
}
