package framework

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/inferenceops/inference-operator/test/utils"
)

// OperatorRelease is the operator installed as users install it: `helm install` of the
// chart with its image, as a pod in Namespace.
type OperatorRelease struct {
	Cluster   *Cluster
	Helm      string // the helm binary
	Chart     string // the chart's folder, dist/chart
	Release   string
	Namespace string
	// Image is repository:tag of the operator's image, present on the node.
	Image string
	// HelmHome holds helm's cache, configuration and data (nothing goes to ~).
	HelmHome string
	// Set are more --set values.
	Set []string
}

// ManagerSelector selects the manager's pods of the release.
func (r *OperatorRelease) ManagerSelector() client.MatchingLabels {
	return client.MatchingLabels{"app.kubernetes.io/instance": r.Release}
}

func (r *OperatorRelease) helm(args ...string) (string, error) {
	cmd := r.Cluster.Command(r.Helm, args...)
	cmd.Env = append(cmd.Env, "HELM_CACHE_HOME="+filepath.Join(r.HelmHome, "cache"),
		"HELM_CONFIG_HOME="+filepath.Join(r.HelmHome, "config"), "HELM_DATA_HOME="+filepath.Join(r.HelmHome, "data"))
	return utils.Run(cmd)
}

// Install runs helm install --wait with the image (pull policy Never: nothing is pulled).
func (r *OperatorRelease) Install() error {
	repo, tag, ok := strings.Cut(r.Image, ":")
	if !ok {
		return fmt.Errorf("image %q has no tag", r.Image)
	}
	if err := os.MkdirAll(r.HelmHome, 0o755); err != nil {
		return err
	}
	args := []string{"install", r.Release, r.Chart, "-n", r.Namespace, "--wait", "--timeout", "3m"}
	for _, s := range append([]string{"image.repository=" + repo, "image.tag=" + tag, "image.pullPolicy=Never"}, r.Set...) {
		args = append(args, "--set", s)
	}
	_, err := r.helm(args...)
	return err
}

// Uninstall runs helm uninstall --wait.
func (r *OperatorRelease) Uninstall() error {
	_, err := r.helm("uninstall", r.Release, "-n", r.Namespace, "--wait", "--timeout", "2m")
	return err
}

// ManagerPod returns the one manager pod that is not being deleted.
func (r *OperatorRelease) ManagerPod(ctx context.Context) (*corev1.Pod, error) {
	var pods corev1.PodList
	if err := r.Cluster.Client.List(ctx, &pods, client.InNamespace(r.Namespace), r.ManagerSelector()); err != nil {
		return nil, err
	}
	var live []corev1.Pod
	for _, p := range pods.Items {
		if p.DeletionTimestamp == nil {
			live = append(live, p)
		}
	}
	if len(live) != 1 {
		return nil, fmt.Errorf("%d manager pods of release %s in %s, want 1", len(live), r.Release, r.Namespace)
	}
	return &live[0], nil
}

// Logs returns the manager's log (the current container's and, when it restarted, the
// previous one's), for failure reports.
func (r *OperatorRelease) Logs(tailLines int) string {
	var b strings.Builder
	for _, previous := range []bool{true, false} {
		args := []string{"-n", r.Namespace, "logs", "-l", "app.kubernetes.io/instance=" + r.Release,
			fmt.Sprintf("--tail=%d", tailLines)}
		if previous {
			args = append(args, "--previous")
		}
		out, err := r.Cluster.Kubectl(args...)
		if err != nil {
			continue
		}
		fmt.Fprintf(&b, "--- previous=%v\n%s", previous, utils.WithoutReconcileLines(out))
	}
	return b.String()
}

// HelmAvailable tells whether the helm binary exists.
func HelmAvailable(path string) bool {
	_, err := exec.LookPath(path)
	return err == nil
}
