package controller

import (
	"fmt"
	"os"
	"regexp"
	"testing"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	kstatus "sigs.k8s.io/cli-utils/pkg/kstatus/status"
	"sigs.k8s.io/yaml"

	"github.com/inferenceops/inference-operator/test/utils"
)

// These tests read the statuses computeStatus produces the way GitOps tools read them:
// kstatus (Flux's health checks and wait, cli-utils) and the Argo CD health check shipped
// in docs/argocd-health.lua, run by gopher-lua as Argo CD runs it.

const (
	argoHealthScriptPath = "../../docs/argocd-health.lua"
	gitopsDocPath        = "../../docs/gitops.md"
	argoHealthKey        = "resource.customizations.health.serving.inferenceops.dev_InferenceService"
)

func TestHealthKstatus(t *testing.T) {
	for _, tc := range healthCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)

			result, err := kstatus.Compute(tc.obj)

			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(result.Status).To(Equal(tc.wantKstatus), "kstatus message: %s", result.Message)
			g.Expect(result.Message).NotTo(BeEmpty())
		})
	}
}

func TestHealthArgoCD(t *testing.T) {
	script := readArgoHealthScript(t)
	for _, tc := range healthCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			g.Expect(tc.wantArgo).To(Equal(argoHealthFor[tc.wantKstatus]),
				"the case must expect the Argo CD health that goes with kstatus %s", tc.wantKstatus)

			health, message := runArgoHealthCheck(g, script, tc.obj)

			g.Expect(health).To(Equal(tc.wantArgo), "message: %s", message)
			g.Expect(message).NotTo(BeEmpty(), "Argo CD shows the message next to the health")
			if health == argoDegraded {
				result, err := kstatus.Compute(tc.obj)
				g.Expect(err).NotTo(HaveOccurred())
				g.Expect(message).To(Equal(result.Message), "Degraded says why, as the Stalled condition does")
			}
		})
	}
}

// An InferenceService the operator has not reconciled yet has no status. kstatus calls an
// object without status or conditions Current, so Flux may call it healthy for the moment
// between its creation and the operator's first status write; the Argo CD check waits.
// docs/gitops.md documents this difference.
func TestHealthBeforeTheFirstReconcile(t *testing.T) {
	g := NewWithT(t)
	fresh := isvcFixture()
	fresh.Generation = 1
	obj := servedObject(t, fresh)
	// The API server drops the status of a new object and fills in the CRD's default,
	// observedGeneration 0, until the operator writes one.
	obj.Object["status"] = map[string]any{"observedGeneration": int64(0)}

	result, err := kstatus.Compute(obj)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(result.Status).To(Equal(kstatus.InProgressStatus), "a new InferenceService must not read as current")

	health, _ := runArgoHealthCheck(g, readArgoHealthScript(t), obj)
	g.Expect(health).To(Equal(argoProgressing))
}

// The argocd-cm snippet in docs/gitops.md must hold exactly the tested script.
func TestArgoCDHealthSnippetIsTheScript(t *testing.T) {
	g := NewWithT(t)
	script := readArgoHealthScript(t)

	var snippets []string
	for _, block := range yamlBlocks(t) {
		cm := &corev1.ConfigMap{}
		if err := yaml.Unmarshal([]byte(block), cm); err != nil || cm.Kind != "ConfigMap" || cm.Name != "argocd-cm" {
			continue
		}
		snippets = append(snippets, cm.Data[argoHealthKey])
	}

	g.Expect(snippets).To(HaveLen(1), "docs/gitops.md must show one argocd-cm ConfigMap")
	g.Expect(snippets[0]).To(Equal(script), "the %s entry in docs/gitops.md differs from docs/argocd-health.lua", argoHealthKey)
}

// Every YAML example in docs/gitops.md is valid YAML, and the manifests a user applies as
// written (those with a kind) are all there with their apiVersion.
func TestGitOpsDocManifestsParse(t *testing.T) {
	g := NewWithT(t)
	manifests := map[string]bool{}
	for i, block := range yamlBlocks(t) {
		obj := map[string]any{}
		g.Expect(yaml.UnmarshalStrict([]byte(block), &obj)).To(Succeed(), "YAML block %d:\n%s", i, block)
		if _, ok := obj["kind"]; !ok {
			continue // a fragment to merge into one of the manifests
		}
		manifests[fmt.Sprintf("%v %v", obj["apiVersion"], obj["kind"])] = true
	}
	g.Expect(manifests).To(HaveKey("argoproj.io/v1alpha1 Application"))
	g.Expect(manifests).To(HaveKey("v1 ConfigMap"))
	g.Expect(manifests).To(HaveKey("source.toolkit.fluxcd.io/v1 GitRepository"))
	g.Expect(manifests).To(HaveKey("kustomize.toolkit.fluxcd.io/v1 Kustomization"))
}

func readArgoHealthScript(t *testing.T) string {
	t.Helper()
	script, err := os.ReadFile(argoHealthScriptPath)
	if err != nil {
		t.Fatalf("reading the Argo CD health check: %v", err)
	}
	return string(script)
}

var yamlBlockPattern = regexp.MustCompile("(?ms)^```yaml\n(.*?)^```$")

// yamlBlocks returns the fenced ```yaml blocks of docs/gitops.md.
func yamlBlocks(t *testing.T) []string {
	t.Helper()
	doc, err := os.ReadFile(gitopsDocPath)
	if err != nil {
		t.Fatalf("reading %s: %v", gitopsDocPath, err)
	}
	matches := yamlBlockPattern.FindAllStringSubmatch(string(doc), -1)
	blocks := make([]string, 0, len(matches))
	for _, m := range matches {
		blocks = append(blocks, m[1])
	}
	return blocks
}

// runArgoHealthCheck runs a health check from argocd-cm the way Argo CD does.
func runArgoHealthCheck(g Gomega, script string, obj *unstructured.Unstructured) (health, message string) {
	health, message, err := utils.ArgoHealth(script, obj.Object)
	g.Expect(err).NotTo(HaveOccurred())
	return health, message
}
