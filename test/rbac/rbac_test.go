// Package rbac checks that the operator's generated ClusterRole stays least privilege.
package rbac

import (
	"os"
	"path/filepath"
	"testing"

	. "github.com/onsi/gomega"
	rbacv1 "k8s.io/api/rbac/v1"
	"sigs.k8s.io/yaml"
)

// grants flattens a role's rules to "group/resource" -> verbs; the core group is "core".
func grants(t *testing.T, rules []rbacv1.PolicyRule) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, r := range rules {
		if len(r.NonResourceURLs) > 0 {
			t.Errorf("the manager role must not grant non-resource URLs: %v", r.NonResourceURLs)
		}
		for _, g := range r.APIGroups {
			if g == "" {
				g = "core"
			}
			for _, res := range r.Resources {
				out[g+"/"+res] = append(out[g+"/"+res], r.Verbs...)
			}
		}
	}
	return out
}

func TestClusterRoleStaysWithinAllowList(t *testing.T) {
	g := NewWithT(t)
	raw, err := os.ReadFile(filepath.Join("..", "..", "config", "rbac", "role.yaml"))
	g.Expect(err).NotTo(HaveOccurred())
	role := rbacv1.ClusterRole{}
	g.Expect(yaml.Unmarshal(raw, &role)).To(Succeed())
	g.Expect(role.Rules).NotTo(BeEmpty())

	rawAllowed, err := os.ReadFile("allowlist.yaml")
	g.Expect(err).NotTo(HaveOccurred())
	allowed := map[string][]string{}
	g.Expect(yaml.Unmarshal(rawAllowed, &allowed)).To(Succeed())

	granted := grants(t, role.Rules)
	for resource, verbs := range granted {
		g.Expect(resource).NotTo(ContainSubstring("*"), "no wildcard resources or groups")
		g.Expect(verbs).NotTo(ContainElement("*"), "no wildcard verbs on %s", resource)
		g.Expect(allowed).To(HaveKey(resource), "%s is not on the allow-list (test/rbac/allowlist.yaml)", resource)
		for _, v := range verbs {
			g.Expect(allowed[resource]).To(ContainElement(v), "verb %q on %s is not on the allow-list", v, resource)
		}
	}
	for _, forbidden := range []string{"core/secrets", "core/configmaps", "core/pods/exec", "core/pods/log", "core/serviceaccounts/token"} {
		g.Expect(granted).NotTo(HaveKey(forbidden), "the operator must not access %s", forbidden)
	}
	// PodsSchedulable reads the scheduler's verdict from the pods; no pod is ever written.
	for _, v := range granted["core/pods"] {
		g.Expect(v).To(BeElementOf("get", "list", "watch"), "the operator reads pods, never writes them")
	}
	g.Expect(granted["serving.inferenceops.dev/inferenceservices"]).NotTo(ContainElements("update", "patch"),
		"the operator never writes an InferenceService's spec")
}
