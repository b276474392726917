package validation

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

const crdName = "inferenceservices.serving.inferenceops.dev"

// probeRulesPath is where the CRD keeps the CEL rules of spec.readinessProbe.
var probeRulesPath = []string{"schema", "openAPIV3Schema", "properties", "spec", "properties", "readinessProbe", "x-kubernetes-validations"}

// setReadinessProbeRules writes rules (nil: none) as the CEL rules of spec.readinessProbe
// of the installed CRD.
func setReadinessProbeRules(rules []any) {
	crd := &unstructured.Unstructured{}
	crd.SetAPIVersion("apiextensions.k8s.io/v1")
	crd.SetKind("CustomResourceDefinition")
	Expect(k8sClient.Get(ctx, types.NamespacedName{Name: crdName}, crd)).To(Succeed())
	versions, _, _ := unstructured.NestedSlice(crd.Object, "spec", "versions")
	version := versions[0].(map[string]any)
	if rules == nil {
		unstructured.RemoveNestedField(version, probeRulesPath...)
	} else {
		Expect(unstructured.SetNestedSlice(version, rules, probeRulesPath...)).To(Succeed())
	}
	Expect(unstructured.SetNestedSlice(crd.Object, versions, "spec", "versions")).To(Succeed())
	Expect(k8sClient.Update(ctx, crd)).To(Succeed())
}

func readinessProbeRules() []any {
	crd := &unstructured.Unstructured{}
	crd.SetAPIVersion("apiextensions.k8s.io/v1")
	crd.SetKind("CustomResourceDefinition")
	Expect(k8sClient.Get(ctx, types.NamespacedName{Name: crdName}, crd)).To(Succeed())
	versions, _, _ := unstructured.NestedSlice(crd.Object, "spec", "versions")
	rules, found, err := unstructured.NestedSlice(versions[0].(map[string]any), probeRulesPath...)
	Expect(err).NotTo(HaveOccurred())
	Expect(found).To(BeTrue())
	return rules
}

// An InferenceService stored before a rule existed is not lost when the rule arrives: the
// API server ratchets CEL rules, so an update that leaves the offending field as it was
// is admitted, and only a change of that field has to meet the rule.
var _ = Describe("A rule added to the CRD", Serial, func() {
	It("keeps an InferenceService stored before it updatable, as long as the refused field is left as it is", func() {
		const overlay = `spec: {readinessProbe: {httpGet: {path: /ready, port: metrics}}}`
		rules := readinessProbeRules()

		By("installing the CRD as it was before the rules of spec.readinessProbe")
		setReadinessProbeRules(nil)
		DeferCleanup(func() { setReadinessProbeRules(rules) })
		Eventually(func() error { return create(manifest(overlay)) }, 10*time.Second, 100*time.Millisecond).Should(Succeed())
		stored := manifest(overlay)
		stored.SetNamespace(newNamespace())
		Expect(k8sClient.Create(ctx, stored)).To(Succeed())

		By("installing the CRD with the rules again")
		setReadinessProbeRules(rules)
		Eventually(func() error { return create(manifest(overlay)) }, 10*time.Second, 100*time.Millisecond).
			Should(MatchError(ContainSubstring("spec.readinessProbe port")))

		By("changing another field of the stored InferenceService")
		Expect(k8sClient.Patch(ctx, stored, client.RawPatch(types.MergePatchType,
			[]byte(`{"spec":{"image":"ghcr.io/example/model-server:1.1","replicas":2}}`)))).To(Succeed())

		By("changing the refused field to another refused value")
		err := k8sClient.Patch(ctx, stored, client.RawPatch(types.MergePatchType,
			[]byte(`{"spec":{"readinessProbe":{"httpGet":{"port":"admin"}}}}`)))
		Expect(err).To(MatchError(ContainSubstring("spec.readinessProbe port")))

		By("fixing the refused field")
		Expect(k8sClient.Patch(ctx, stored, client.RawPatch(types.MergePatchType,
			[]byte(`{"spec":{"readinessProbe":{"httpGet":{"port":"http"}}}}`)))).To(Succeed())
	})
})
