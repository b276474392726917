// Package manifests checks the shipped manager Deployment (config/manager) for the
// hardening an operator next to production traffic needs.
package manifests

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/yaml"
)

func managerDeployment(t *testing.T) *appsv1.Deployment {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "config", "manager", "manager.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, doc := range bytes.Split(raw, []byte("\n---")) {
		dep := &appsv1.Deployment{}
		if err := yaml.Unmarshal(doc, dep); err == nil && dep.Kind == "Deployment" {
			return dep
		}
	}
	t.Fatal("no Deployment in config/manager/manager.yaml")
	return nil
}

func TestManagerDeploymentIsHardened(t *testing.T) {
	g := NewWithT(t)
	dep := managerDeployment(t)
	pod := dep.Spec.Template.Spec
	g.Expect(pod.SecurityContext).NotTo(BeNil())
	g.Expect(pod.SecurityContext.RunAsNonRoot).To(Equal(ptr.To(true)), "runs as non-root")
	g.Expect(pod.SecurityContext.SeccompProfile).To(Equal(&corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault}))

	g.Expect(pod.Containers).To(HaveLen(1))
	c := pod.Containers[0]
	g.Expect(c.SecurityContext).NotTo(BeNil())
	g.Expect(c.SecurityContext.ReadOnlyRootFilesystem).To(Equal(ptr.To(true)), "read-only root filesystem")
	g.Expect(c.SecurityContext.AllowPrivilegeEscalation).To(Equal(ptr.To(false)), "no privilege escalation")
	g.Expect(c.SecurityContext.Capabilities).To(Equal(&corev1.Capabilities{Drop: []corev1.Capability{"ALL"}}), "all capabilities dropped")
	g.Expect(c.SecurityContext.Privileged).To(Or(BeNil(), Equal(ptr.To(false))))

	g.Expect(c.Resources.Requests).To(HaveKey(corev1.ResourceCPU))
	g.Expect(c.Resources.Requests).To(HaveKey(corev1.ResourceMemory))
	g.Expect(c.Resources.Limits).To(HaveKey(corev1.ResourceCPU))
	g.Expect(c.Resources.Limits).To(HaveKey(corev1.ResourceMemory))
	g.Expect(c.LivenessProbe).NotTo(BeNil())
	g.Expect(c.LivenessProbe.HTTPGet.Path).To(Equal("/healthz"))
	g.Expect(c.ReadinessProbe).NotTo(BeNil())
	g.Expect(c.ReadinessProbe.HTTPGet.Path).To(Equal("/readyz"))

	g.Expect(c.Args).To(ContainElement("--leader-elect"))
	g.Expect(c.Args).To(ContainElement("--metrics-bind-address=:8443"))
	g.Expect(c.Args).NotTo(ContainElement("--metrics-secure=false"), "metrics are served only to authenticated, authorized callers")
}
