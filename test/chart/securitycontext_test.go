//go:build e2e

// Package chart checks what the Helm chart (dist/chart) renders where a line match in
// hack/test-chart-render.sh cannot tell: at which level of the Deployment a value lands.
// It needs helm: hack/test-chart-render.sh (make test-chart) runs it with HELM set;
// otherwise bin/helm is used. Build tag e2e, like the other suites that need tools beyond
// Go.
package chart

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/yaml"

	"github.com/inferenceops/inference-operator/test/utils"
)

// The chart's default security contexts (values.yaml, repeated in _helpers.tpl's
// inference-operator.defaultSecurityContexts).
var (
	defaultPod = corev1.PodSecurityContext{
		RunAsNonRoot:   ptr.To(true),
		RunAsUser:      ptr.To[int64](65532),
		RunAsGroup:     ptr.To[int64](65532),
		SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
	}
	defaultContainer = corev1.SecurityContext{
		ReadOnlyRootFilesystem:   ptr.To(true),
		AllowPrivilegeEscalation: ptr.To(false),
		Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
	}
)

const deprecationWarning = "WARNING: deprecated values"

// The new names follow the CRD (securityContext: pod, containerSecurityContext:
// container); the old ones (podSecurityContext: pod, securityContext: container) keep
// rendering what they did in chart 0.1.0, with a warning.
func TestSecurityContexts(t *testing.T) {
	// pod and container return the defaults with edit applied.
	pod := func(edit func(*corev1.PodSecurityContext)) corev1.PodSecurityContext {
		c := defaultPod.DeepCopy()
		edit(c)
		return *c
	}
	container := func(edit func(*corev1.SecurityContext)) corev1.SecurityContext {
		c := defaultContainer.DeepCopy()
		edit(c)
		return *c
	}

	cases := []struct {
		name          string
		args          []string
		wantPod       corev1.PodSecurityContext
		wantContainer corev1.SecurityContext
		// wantWarning is what the deprecation warning gives as its reason; "" for none.
		wantWarning string
	}{{
		name:          "defaults",
		wantPod:       defaultPod,
		wantContainer: defaultContainer,
	}, {
		name:          "new names: securityContext is the pod's, containerSecurityContext the container's",
		args:          []string{"--set", "securityContext.runAsUser=1000", "--set", "securityContext.fsGroup=2000", "--set", "containerSecurityContext.readOnlyRootFilesystem=false"},
		wantPod:       pod(func(c *corev1.PodSecurityContext) { c.RunAsUser = ptr.To[int64](1000); c.FSGroup = ptr.To[int64](2000) }),
		wantContainer: container(func(c *corev1.SecurityContext) { c.ReadOnlyRootFilesystem = ptr.To(false) }),
	}, {
		name: "new names: dist/chart/ci/full-values.yaml",
		args: []string{"-f", "ci/full-values.yaml"},
		wantPod: pod(func(c *corev1.PodSecurityContext) {
			c.RunAsUser, c.RunAsGroup, c.FSGroup = ptr.To[int64](65532), ptr.To[int64](65532), ptr.To[int64](65532)
		}),
		wantContainer: container(func(c *corev1.SecurityContext) { c.RunAsNonRoot = ptr.To(true) }),
	}, {
		name: "old names: dist/chart/ci/deprecated-security-values.yaml",
		args: []string{"-f", "ci/deprecated-security-values.yaml"},
		wantPod: pod(func(c *corev1.PodSecurityContext) {
			c.RunAsUser, c.FSGroup = ptr.To[int64](65532), ptr.To[int64](65532)
		}),
		wantContainer: container(func(c *corev1.SecurityContext) { c.Capabilities.Drop = []corev1.Capability{"ALL", "NET_RAW"} }),
		wantWarning:   "podSecurityContext is set",
	}, {
		name:          "old names: podSecurityContext only",
		args:          []string{"--set", "podSecurityContext.runAsUser=1000"},
		wantPod:       pod(func(c *corev1.PodSecurityContext) { c.RunAsUser = ptr.To[int64](1000) }),
		wantContainer: defaultContainer,
		wantWarning:   "podSecurityContext is set",
	}, {
		name:          "old names: a container-only field in securityContext",
		args:          []string{"--set", "securityContext.readOnlyRootFilesystem=false"},
		wantPod:       defaultPod,
		wantContainer: container(func(c *corev1.SecurityContext) { c.ReadOnlyRootFilesystem = ptr.To(false) }),
		wantWarning:   "securityContext sets readOnlyRootFilesystem, which only a container has",
	}, {
		name: "old names: podSecurityContext overrides a pod default, securityContext sets a shared field for the container",
		args: []string{"--set", "podSecurityContext.runAsNonRoot=false", "--set", "securityContext.runAsUser=1000",
			"--set", "securityContext.seccompProfile.type=Unconfined"},
		wantPod: pod(func(c *corev1.PodSecurityContext) { c.RunAsNonRoot = ptr.To(false) }),
		wantContainer: container(func(c *corev1.SecurityContext) {
			c.RunAsUser = ptr.To[int64](1000)
			c.SeccompProfile = &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeUnconfined}
		}),
		wantWarning: "podSecurityContext is set",
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			manifests, err := helm(chartDir(t), "template", tc.args...)
			g.Expect(err).NotTo(HaveOccurred())
			dep := managerDeployment(g, manifests)
			g.Expect(dep.Spec.Template.Spec.SecurityContext).To(Equal(&tc.wantPod), "the pod's securityContext")
			containers := dep.Spec.Template.Spec.Containers
			g.Expect(containers).To(HaveLen(1))
			g.Expect(containers[0].SecurityContext).To(Equal(&tc.wantContainer), "the manager container's securityContext")

			notes := installNotes(t, g, tc.args)
			if tc.wantWarning == "" {
				g.Expect(notes).NotTo(ContainSubstring(deprecationWarning))
			} else {
				g.Expect(notes).To(ContainSubstring(deprecationWarning + " (" + tc.wantWarning + ")"))
			}
		})
	}
}

// A mix of the two namings is refused, with a message that says what to do.
func TestSecurityContextsRefused(t *testing.T) {
	for name, tc := range map[string]struct {
		args []string
		want string
	}{
		"podSecurityContext with containerSecurityContext": {
			args: []string{"--set", "podSecurityContext.runAsUser=1000", "--set", "containerSecurityContext.privileged=false"},
			want: "podSecurityContext is set, so securityContext is read as the container's (the deprecated names); containerSecurityContext cannot be set as well",
		},
		"a container-only field in securityContext with containerSecurityContext": {
			args: []string{"--set", "securityContext.capabilities.add={NET_BIND_SERVICE}", "--set", "containerSecurityContext.privileged=false"},
			want: "securityContext sets capabilities, which only a container has, so securityContext is read as the container's",
		},
		"container-only and pod-only fields in securityContext": {
			args: []string{"--set", "securityContext.readOnlyRootFilesystem=true", "--set", "securityContext.fsGroup=2000"},
			want: "securityContext sets readOnlyRootFilesystem, which only a container has, so securityContext is read as the container's (the deprecated names), but it sets fsGroup, which only a pod has",
		},
	} {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			_, err := helm(chartDir(t), "template", tc.args...)
			g.Expect(err).To(MatchError(ContainSubstring(tc.want)))
		})
	}
}

// chartDir is the chart under test: CHART_DIR (as make test-chart sets it) or dist/chart.
func chartDir(t *testing.T) string {
	root, err := utils.ProjectDir()
	if err != nil {
		t.Fatal(err)
	}
	chart := os.Getenv("CHART_DIR")
	if chart == "" {
		chart = "dist/chart"
	}
	if !filepath.IsAbs(chart) {
		chart = filepath.Join(root, chart)
	}
	return chart
}

// helm runs `helm COMMAND inference-operator CHART ARGS...` (release inference-operator in
// namespace inference-operator-system) with helm from HELM or bin/helm, and returns its
// standard output. A values file (-f) is named relative to the chart.
func helm(chart string, command string, args ...string) (string, error) {
	root, err := utils.ProjectDir()
	if err != nil {
		return "", err
	}
	binary := os.Getenv("HELM")
	if binary == "" {
		binary = filepath.Join("bin", "helm")
	}
	if !filepath.IsAbs(binary) && strings.Contains(binary, "/") {
		binary = filepath.Join(root, binary)
	}
	args = slices.Clone(args)
	for i := range args {
		if i > 0 && args[i-1] == "-f" && !filepath.IsAbs(args[i]) {
			args[i] = filepath.Join(chart, args[i])
		}
	}
	cmd := exec.Command(binary, append([]string{command, "inference-operator", chart, "--namespace", "inference-operator-system"}, args...)...)
	// helm keeps nothing in the home folder of whoever runs the test, and reaches no cluster.
	tmp, err := os.MkdirTemp("", "chart-test-helm-")
	if err != nil {
		return "", err
	}
	defer func() { _ = os.RemoveAll(tmp) }()
	cmd.Env = append(os.Environ(), "HELM_CACHE_HOME="+tmp, "HELM_CONFIG_HOME="+tmp, "HELM_DATA_HOME="+tmp,
		"KUBECONFIG="+filepath.Join(tmp, "no-kubeconfig"))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), errors.New(strings.Join(cmd.Args, " ") + ": " + err.Error() + "\n" + stderr.String())
	}
	return stdout.String(), nil
}

// managerDeployment finds the manager Deployment among rendered manifests.
func managerDeployment(g Gomega, manifests string) *appsv1.Deployment {
	for _, doc := range strings.Split(manifests, "\n---") {
		if !strings.Contains(doc, "\nkind: Deployment\n") {
			continue
		}
		dep := &appsv1.Deployment{}
		g.Expect(yaml.UnmarshalStrict([]byte(doc), dep)).To(Succeed())
		return dep
	}
	g.Expect(manifests).To(ContainSubstring("kind: Deployment"), "no Deployment rendered")
	return nil
}

// installNotes returns what `helm install` and `helm upgrade` print after the release
// (templates/NOTES.txt) for args. helm renders NOTES.txt only when it installs, which needs
// a cluster even with --dry-run; so the chart is copied and its NOTES.txt rendered into a
// ConfigMap by helm template.
func installNotes(t *testing.T, g Gomega, args []string) string {
	chart := filepath.Join(t.TempDir(), "chart")
	g.Expect(os.CopyFS(chart, os.DirFS(chartDir(t)))).To(Succeed())
	notes, err := os.ReadFile(filepath.Join(chart, "templates", "NOTES.txt"))
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(os.WriteFile(filepath.Join(chart, "templates", "_notes_test.tpl"),
		[]byte(`{{- define "notes-test" -}}`+string(notes)+`{{- end }}`), 0o644)).To(Succeed())
	g.Expect(os.WriteFile(filepath.Join(chart, "templates", "notes-test.yaml"), []byte(
		"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: notes-test\ndata:\n  notes: {{ include \"notes-test\" . | quote }}\n"),
		0o644)).To(Succeed())
	out, err := helm(chart, "template", append(args, "--show-only", "templates/notes-test.yaml")...)
	g.Expect(err).NotTo(HaveOccurred())
	rendered := &corev1.ConfigMap{}
	g.Expect(yaml.UnmarshalStrict([]byte(out), rendered)).To(Succeed())
	g.Expect(rendered.Data["notes"]).To(ContainSubstring("kubectl get infsvc"), "the notes rendered")
	return rendered.Data["notes"]
}
