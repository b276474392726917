//go:build e2e

package e2e

import (
	"encoding/json"
	"errors"
	"os/exec"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	kstatus "sigs.k8s.io/cli-utils/pkg/kstatus/status"
	"sigs.k8s.io/controller-runtime/pkg/client"

	servingv1alpha1 "github.com/inferenceops/inference-operator/api/v1alpha1"
)

// The field managers of the operator (internal/controller.FieldOwner and its replicas
// handoff manager).
var operatorManagers = []string{"inference-operator", "inference-operator-replicas-handoff"}

// A GitOps tool applies the manifests from Git again and again (Flux every interval, Argo CD
// on every sync and self-heal). Once the operator has reconciled an InferenceService, doing
// so must change nothing and show no diff.
var _ = Describe("GitOps", func() {
	var namespace string

	BeforeEach(func() {
		namespace = createNamespace("gitops")
	})

	It("changes nothing when the manifest from Git is applied again, and the operator never writes the spec", func() {
		key := client.ObjectKey{Namespace: namespace, Name: "iris"}
		applySample := func() {
			GinkgoHelper()
			_, err := kubectl("apply", "--server-side", "-n", namespace, "-f", sampleFile)
			Expect(err).NotTo(HaveOccurred())
		}

		By("applying the sample as a GitOps tool does, and waiting until it is Ready")
		applySample()
		_, err := kubectl("wait", "--for=condition=Ready", "--timeout=180s", "-n", namespace, "infsvc/iris")
		Expect(err).NotTo(HaveOccurred())
		Expect(kstatusOf(key)).To(Equal(kstatus.CurrentStatus), "Flux's health check (kstatus) reads a Ready InferenceService as Current")

		By("diffing the manifest against the cluster with a server-side dry run")
		out, err := kubectl("diff", "--server-side", "-n", namespace, "-f", sampleFile)
		var exitErr *exec.ExitError
		if errors.As(err, &exitErr) && exitErr.ExitCode() == 1 {
			Fail("kubectl diff --server-side found a difference (exit code 1):\n" + out)
		}
		Expect(err).NotTo(HaveOccurred(), "kubectl diff failed (exit code above 1 is an error of kubectl, not a diff)")
		Expect(out).To(BeEmpty())

		By("applying the same manifest again")
		depBefore := &appsv1.Deployment{}
		Expect(k8sClient.Get(ctx(), key, depBefore)).To(Succeed())
		childrenBefore := snapshot(namespace, key.Name)
		// The operator may write the status between the two reads (the HPA's metrics arrive
		// every few seconds), which moves resourceVersion without the apply having written
		// anything; only then is the comparison repeated.
		for attempt := 1; ; attempt++ {
			before := getInferenceService(key)
			applySample()
			after := getInferenceService(key)

			Expect(after.Generation).To(Equal(before.Generation), "re-applying the same manifest changed the spec")
			Expect(managedFieldsOf(after, "kubectl")).To(Equal(managedFieldsOf(before, "kubectl")),
				"re-applying the same manifest wrote the object (the apply's managedFields entry moved)")
			if after.ResourceVersion == before.ResourceVersion {
				break
			}
			Expect(after.Status).NotTo(Equal(before.Status),
				"resourceVersion moved from %s to %s although neither spec nor status changed", before.ResourceVersion, after.ResourceVersion)
			Expect(attempt).To(BeNumerically("<", 5), "the status kept changing; cannot compare resourceVersions")
		}
		Expect(snapshot(namespace, key.Name)).To(Equal(childrenBefore), "re-applying the InferenceService changed its children")

		By("checking that the operator sent no write request for an InferenceService but to its status")
		// What the operator sent, as the recording proxy between it and the API server saw
		// it, since the suite started. managedFields alone cannot show this: a write that
		// changes nothing (an update with the same spec) leaves them as they were.
		statusWrites := 0
		var otherWrites []string
		for _, req := range apiProxy.Requests() {
			group, resource, name, subresource, ok := req.Resource()
			if !ok || !req.IsWrite() || group != servingv1alpha1.GroupVersion.Group || resource != "inferenceservices" {
				continue
			}
			if subresource == "status" {
				if strings.Contains(req.Path, "/namespaces/"+namespace+"/") && name == key.Name {
					statusWrites++
				}
				continue
			}
			otherWrites = append(otherWrites, req.Method+" "+req.Path)
		}
		Expect(otherWrites).To(BeEmpty(), "the operator wrote InferenceServices, not only their status")
		Expect(statusWrites).To(BeNumerically(">", 0),
			"the operator's status writes of %s pass through the recording proxy, or the check above proves nothing", key)

		By("checking that the operator owns no field of the InferenceService but its status")
		isvc := getInferenceService(key)
		statusOwners := 0
		for _, entry := range isvc.ManagedFields {
			if entry.Manager == "kubectl" && entry.Operation == metav1.ManagedFieldsOperationApply {
				Expect(topLevelFields(entry)).To(HaveKey("f:spec"), "the applied manifest owns the spec")
				continue
			}
			// Everything else is the operator's status write, under its field manager.
			Expect(entry.Manager).To(Equal("inference-operator"))
			Expect(entry.Subresource).To(Equal("status"), "manager %s (%s) owns fields of the main resource", entry.Manager, entry.Operation)
			Expect(topLevelFields(entry)).To(HaveLen(1), "manager %s", entry.Manager)
			Expect(topLevelFields(entry)).To(HaveKey("f:status"), "manager %s", entry.Manager)
			statusOwners++
		}
		Expect(statusOwners).To(BeNumerically(">", 0), "the operator's status write must appear in managedFields")
		for _, manager := range operatorManagers {
			for _, entry := range isvc.ManagedFields {
				if entry.Manager == manager {
					Expect(entry.Subresource).To(Equal("status"))
					Expect(topLevelFields(entry)).NotTo(HaveKey("f:spec"))
				}
			}
		}

		By("checking that the operator leaves the Deployment's replica count to the HPA")
		dep := &appsv1.Deployment{}
		Expect(k8sClient.Get(ctx(), key, dep)).To(Succeed())
		Expect(dep.Generation).To(Equal(depBefore.Generation))
		applied := managedFieldsOf(dep, "inference-operator")
		Expect(applied).NotTo(BeNil(), "the operator applies the Deployment under the field manager inference-operator")
		Expect(applied.Operation).To(Equal(metav1.ManagedFieldsOperationApply))
		Expect(topLevelFields(*applied)).To(HaveKey("f:spec"))
		Expect(fieldsUnder(*applied, "f:spec")).NotTo(HaveKey("f:replicas"), "while autoscaling, spec.replicas is the HPA's")
		for _, entry := range dep.ManagedFields {
			if entry.Manager == "inference-operator" {
				continue
			}
			for f := range fieldsUnder(entry, "f:spec") {
				Expect(f).To(Equal("f:replicas"), "manager %s (%s, subresource %q) owns spec field %s of the Deployment",
					entry.Manager, entry.Operation, entry.Subresource, f)
			}
		}
	})
})

func getInferenceService(key client.ObjectKey) *servingv1alpha1.InferenceService {
	GinkgoHelper()
	isvc := &servingv1alpha1.InferenceService{}
	Expect(k8sClient.Get(ctx(), key, isvc)).To(Succeed())
	return isvc
}

// kstatusOf computes the InferenceService's health as Flux's kustomize-controller does.
func kstatusOf(key client.ObjectKey) kstatus.Status {
	GinkgoHelper()
	out, err := kubectl("get", "infsvc", key.Name, "-n", key.Namespace, "-o", "json")
	Expect(err).NotTo(HaveOccurred())
	obj := &unstructured.Unstructured{}
	Expect(obj.UnmarshalJSON([]byte(out))).To(Succeed())
	result, err := kstatus.Compute(obj)
	Expect(err).NotTo(HaveOccurred())
	return result.Status
}

// managedFieldsOf returns manager's entry in obj's managedFields, or nil.
func managedFieldsOf(obj metav1.Object, manager string) *metav1.ManagedFieldsEntry {
	for _, entry := range obj.GetManagedFields() {
		if entry.Manager == manager {
			return &entry
		}
	}
	return nil
}

// topLevelFields returns the top-level fields ("f:spec", "f:status", ...) an entry owns.
func topLevelFields(entry metav1.ManagedFieldsEntry) map[string]any {
	GinkgoHelper()
	fields := map[string]any{}
	if entry.FieldsV1 != nil {
		Expect(json.Unmarshal(entry.FieldsV1.GetRawBytes(), &fields)).To(Succeed())
	}
	return fields
}

// fieldsUnder returns the fields an entry owns under a top-level field such as "f:spec".
func fieldsUnder(entry metav1.ManagedFieldsEntry, field string) map[string]any {
	GinkgoHelper()
	under, _ := topLevelFields(entry)[field].(map[string]any)
	delete(under, ".")
	return under
}
