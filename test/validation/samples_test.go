package validation

import (
	"os"
	"path/filepath"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

// Every sample the README and the demos point users to is admitted as written, and so
// is every child the operator renders from it (KEDA's ScaledObject included).
var _ = Describe("config/samples", func() {
	It("are admitted, with their children", func() {
		files, err := filepath.Glob(filepath.Join("..", "..", "config", "samples", "serving_*.yaml"))
		Expect(err).NotTo(HaveOccurred())
		Expect(files).To(ContainElement(HaveSuffix("serving_v1alpha1_inferenceservice_keda_queue.yaml")))
		for _, f := range files {
			raw, err := os.ReadFile(f)
			Expect(err).NotTo(HaveOccurred())
			obj := &unstructured.Unstructured{}
			Expect(yaml.Unmarshal(raw, &obj.Object)).To(Succeed(), f)
			obj.SetNamespace("default")
			Expect(create(obj)).To(Succeed(), f)
			isvc, err := decode(obj)
			Expect(err).NotTo(HaveOccurred(), f)
			Expect(childRefusals(isvc)).To(BeEmpty(), f)
		}
	})
})
