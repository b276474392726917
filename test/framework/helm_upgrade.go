package framework

import (
	"fmt"
	"os"
	"strings"
)

// Upgrade runs helm upgrade --wait of the release to r.Chart with r.Image, the way a user
// moves to a new version: the new chart and image, the values given again (not reused:
// a new chart's schema may refuse an old release's values).
func (r *OperatorRelease) Upgrade() error {
	repo, tag, ok := strings.Cut(r.Image, ":")
	if !ok {
		return fmt.Errorf("image %q has no tag", r.Image)
	}
	if err := os.MkdirAll(r.HelmHome, 0o755); err != nil {
		return err
	}
	args := []string{"upgrade", r.Release, r.Chart, "-n", r.Namespace, "--wait", "--timeout", "3m"}
	for _, s := range append([]string{"image.repository=" + repo, "image.tag=" + tag, "image.pullPolicy=Never"}, r.Set...) {
		args = append(args, "--set", s)
	}
	_, err := r.helm(args...)
	return err
}
