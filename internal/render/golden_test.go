package render_test

import (
	"flag"
	"os"
	"path/filepath"
	"testing"

	. "github.com/onsi/gomega"
	"sigs.k8s.io/yaml"

	"github.com/inferenceops/inference-operator/internal/render"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden.yaml with the rendered objects")

// TestGolden renders the children of a service that sets every field and compares them
// with testdata/*.golden.yaml, so that a change to what the operator applies shows up in
// review as a diff. After an intended change run: go test ./internal/render -update
func TestGolden(t *testing.T) {
	isvc := newInferenceService(withEverything)
	tests := []struct {
		file   string
		object any
	}{
		{"deployment.golden.yaml", render.Deployment(isvc)},
		{"service.golden.yaml", render.Service(isvc)},
		{"hpa.golden.yaml", render.HorizontalPodAutoscaler(isvc)},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			g := NewWithT(t)
			got, err := yaml.Marshal(tt.object)
			g.Expect(err).NotTo(HaveOccurred())
			path := filepath.Join("testdata", tt.file)

			if *update {
				g.Expect(os.MkdirAll("testdata", 0o755)).To(Succeed())
				g.Expect(os.WriteFile(path, got, 0o644)).To(Succeed())
			}

			want, err := os.ReadFile(path)
			g.Expect(err).NotTo(HaveOccurred(), "run go test ./internal/render -update to create %s", path)
			g.Expect(string(got)).To(Equal(string(want)),
				"rendered object differs from %s; if the change is intended, run go test ./internal/render -update", path)
		})
	}
}
