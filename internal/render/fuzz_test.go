package render_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/yaml"

	servingv1alpha1 "github.com/inferenceops/inference-operator/api/v1alpha1"
	"github.com/inferenceops/inference-operator/internal/render"
)

// FuzzBuilders feeds arbitrary specs (as JSON) to every builder. Whatever the spec, no
// builder may panic, the Deployment's selector must select its own pods, and the HPA
// (when there is one) must scale the Deployment within sane bounds.
//
// Run longer with: go test ./internal/render -run '^$' -fuzz FuzzBuilders -fuzztime 60s
func FuzzBuilders(f *testing.F) {
	samples, _ := filepath.Glob(filepath.Join("..", "..", "config", "samples", "serving_*.yaml"))
	for _, path := range samples {
		raw, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		var obj struct {
			Spec json.RawMessage `json:"spec"`
		}
		if err := yaml.Unmarshal(raw, &obj); err != nil {
			f.Fatal(err)
		}
		f.Add([]byte(obj.Spec))
	}
	f.Add([]byte(`{"replicas": 0}`))
	f.Add([]byte(`{"autoscaling": {"minReplicas": 3}}`))
	f.Add([]byte(`{"autoscaling": {"metrics": [{"type": "Pods"}]}, "podDisruptionBudget": {}}`))
	f.Add([]byte(`{"startupTimeoutSeconds": 1, "readinessProbe": {}, "startupProbe": {}, "containerSecurityContext": {"privileged": true}}`))

	f.Fuzz(func(t *testing.T, specJSON []byte) {
		isvc := &servingv1alpha1.InferenceService{}
		if err := json.Unmarshal(specJSON, &isvc.Spec); err != nil {
			t.Skip()
		}
		isvc.Name, isvc.Namespace, isvc.UID = "fuzz", "ns", "uid"

		dep := render.Deployment(isvc)
		render.Service(isvc)
		render.PodDisruptionBudget(isvc)
		hpa := render.HorizontalPodAutoscaler(isvc)
		render.PodMonitor(isvc, render.Config{DefaultPodMonitor: true})
		// A spec admission would refuse (a signal its server lacks) may fail to build; it
		// must not panic.
		so, soErr := render.ScaledObject(isvc, render.Config{})
		keda := render.UsesKEDA(isvc)
		if keda != (so != nil || soErr != nil) || (hpa != nil && keda) {
			t.Fatalf("engine KEDA (%v) must render a ScaledObject (%v, %v) and no HPA (%v)", keda, so != nil, soErr, hpa != nil)
		}

		selector, err := labels.ValidatedSelectorFromSet(dep.Spec.Selector.MatchLabels)
		if err != nil {
			t.Fatalf("invalid selector: %v", err)
		}
		if !selector.Matches(labels.Set(dep.Spec.Template.Labels)) {
			t.Fatalf("the Deployment's selector %v does not select its pods %v", selector, dep.Spec.Template.Labels)
		}
		if (hpa == nil && !keda) != (dep.Spec.Replicas != nil) {
			t.Fatalf("exactly one of the autoscaler (HPA %v, KEDA %v) and Deployment replicas (%v) must own the replica count",
				hpa != nil, keda, dep.Spec.Replicas)
		}
		if hpa != nil {
			if *hpa.Spec.MinReplicas < 1 || hpa.Spec.MaxReplicas < 1 || len(hpa.Spec.Metrics) == 0 {
				t.Fatalf("HPA without sane defaults: min %d max %d metrics %d", *hpa.Spec.MinReplicas, hpa.Spec.MaxReplicas, len(hpa.Spec.Metrics))
			}
			if hpa.Spec.ScaleTargetRef.Name != dep.Name {
				t.Fatalf("the HPA scales %q, not the Deployment %q", hpa.Spec.ScaleTargetRef.Name, dep.Name)
			}
		}
		startup := dep.Spec.Template.Spec.Containers[0].StartupProbe
		if isvc.Spec.StartupProbe == nil && (startup == nil || startup.PeriodSeconds < 1 || startup.FailureThreshold < 1) {
			t.Fatalf("startup probe without a usable budget: %+v", startup)
		}
	})
}
