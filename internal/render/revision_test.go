package render_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
	"sigs.k8s.io/yaml"

	servingv1alpha1 "github.com/inferenceops/inference-operator/api/v1alpha1"
	"github.com/inferenceops/inference-operator/internal/render"
)

// releases are the released renderings: the folder under testdata/releases holding what
// that release's builders put into the pod template for each input, and its revision.
var releases = []struct {
	dir      string
	revision int32
}{
	{"v0.1.0", render.RevisionV010},
}

// TestReleasedRenderings renders each input a release was captured with, as an
// InferenceService that release reconciled (its status describes the current spec and
// records the release's revision, or none for 0.1.0), and requires the pod template that
// release applied, byte for byte. A difference would restart that service's pods the
// moment the operator is upgraded. A new default belongs under a new render.Revision.
func TestReleasedRenderings(t *testing.T) {
	for _, rel := range releases {
		inputs, err := filepath.Glob(filepath.Join("testdata", "releases", rel.dir, "*.input.yaml"))
		if err != nil || len(inputs) == 0 {
			t.Fatalf("no inputs for release %s: %v", rel.dir, err)
		}
		for _, input := range inputs {
			name := strings.TrimSuffix(filepath.Base(input), ".input.yaml")
			t.Run(rel.dir+"/"+name, func(t *testing.T) {
				g := NewWithT(t)
				raw, err := os.ReadFile(input)
				g.Expect(err).NotTo(HaveOccurred())
				isvc := &servingv1alpha1.InferenceService{}
				g.Expect(yaml.UnmarshalStrict(raw, isvc)).To(Succeed())
				isvc.Generation = max(isvc.Generation, 1)
				isvc.Status.ObservedGeneration = isvc.Generation
				if rel.revision != render.RevisionV010 {
					isvc.Status.RenderRevision = rel.revision
				}
				g.Expect(render.RevisionFor(isvc)).To(Equal(rel.revision))

				want, err := os.ReadFile(strings.TrimSuffix(input, ".input.yaml") + ".pod-template.yaml")
				g.Expect(err).NotTo(HaveOccurred())
				got, err := yaml.Marshal(render.Deployment(isvc).Spec.Template)
				g.Expect(err).NotTo(HaveOccurred())
				g.Expect(string(got)).To(Equal(string(want)),
					"release %s rendered another pod template for %s: upgrading the operator would restart its pods", rel.dir, name)

				// Settings of the operator that add children of their own leave the pod
				// template alone: an upgrade that turns one on restarts no pod either.
				for _, cfg := range []render.Config{{DefaultPodMonitor: true}} {
					children := render.Desired(isvc, cfg)
					got, err := yaml.Marshal(children.Deployment.Spec.Template)
					g.Expect(err).NotTo(HaveOccurred())
					g.Expect(string(got)).To(Equal(string(want)), "with %+v, release %s's pod template of %s changed", cfg, rel.dir, name)
				}
			})
		}
	}
}

func TestRevisionFor(t *testing.T) {
	reconciled := func(generation int64, revision int32) *servingv1alpha1.InferenceService {
		isvc := newInferenceService()
		isvc.Generation = generation
		isvc.Status.ObservedGeneration = generation
		isvc.Status.RenderRevision = revision
		return isvc
	}
	tests := []struct {
		name string
		isvc *servingv1alpha1.InferenceService
		want int32
	}{
		{"a new InferenceService gets the current revision", newInferenceService(), render.Revision},
		{"reconciled by release 0.1.0 (no revision recorded), spec unchanged", reconciled(3, 0), render.RevisionV010},
		{"reconciled at a revision, spec unchanged", reconciled(3, render.Revision), render.Revision},
		{"spec changed since the status was written", func() *servingv1alpha1.InferenceService {
			isvc := reconciled(3, 0)
			isvc.Generation = 4
			return isvc
		}(), render.Revision},
		{"rendered by a newer operator, then downgraded", reconciled(3, render.Revision+1), render.Revision},
		{"the owner opted in to the current defaults", func() *servingv1alpha1.InferenceService {
			isvc := reconciled(3, 0)
			isvc.Annotations = map[string]string{render.UpgradeDefaultsAnnotation: "true"}
			return isvc
		}(), render.Revision},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			NewWithT(t).Expect(render.RevisionFor(tt.isvc)).To(Equal(tt.want))
		})
	}
}
