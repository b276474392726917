//go:build realnode

package realnode

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	servingv1alpha1 "github.com/inferenceops/inference-operator/api/v1alpha1"
)

const isvcLabel = "serving.inferenceops.dev/inferenceservice"

// modelService is an InferenceService of the example model server with a fixed replica
// count and the given server flags; every other field is the operator's default.
func modelService(name string, replicas int32, args ...string) *servingv1alpha1.InferenceService {
	return &servingv1alpha1.InferenceService{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: appNamespace},
		Spec: servingv1alpha1.InferenceServiceSpec{
			Image:           modelImage,
			ImagePullPolicy: corev1.PullIfNotPresent,
			Args:            args,
			Replicas:        ptr.To(replicas),
			Resources: corev1.ResourceRequirements{
				Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m"), corev1.ResourceMemory: resource.MustParse("32Mi")},
				Limits:   corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("500m"), corev1.ResourceMemory: resource.MustParse("64Mi")},
			},
		},
	}
}

// sample reads the model-server sample of config/samples into the app namespace.
func sample() *servingv1alpha1.InferenceService {
	b, err := os.ReadFile(filepath.Join(projectDir, "config", "samples", "serving_v1alpha1_inferenceservice_modelserver.yaml"))
	Expect(err).NotTo(HaveOccurred())
	isvc := &servingv1alpha1.InferenceService{}
	Expect(yaml.UnmarshalStrict(b, isvc)).To(Succeed())
	isvc.Namespace = appNamespace
	Expect(isvc.Spec.Image).To(Equal(modelImage), "the sample runs the model server image built here")
	return isvc
}

// modelPods lists the pods of an InferenceService, those being deleted too.
func modelPods(name string) []corev1.Pod {
	var pods corev1.PodList
	Expect(cluster.Client.List(ctx(), &pods, client.InNamespace(appNamespace), client.MatchingLabels{isvcLabel: name})).To(Succeed())
	sort.Slice(pods.Items, func(i, j int) bool { return pods.Items[i].Name < pods.Items[j].Name })
	return pods.Items
}

// podStates is "name uid restarts" of each pod, for comparing before and after.
func podStates(pods []corev1.Pod) []string {
	out := make([]string, 0, len(pods))
	for _, p := range pods {
		restarts := int32(0)
		for _, s := range p.Status.ContainerStatuses {
			restarts += s.RestartCount
		}
		out = append(out, fmt.Sprintf("%s uid=%s restarts=%d", p.Name, p.UID, restarts))
	}
	return out
}

// serviceURL is the inference URL through the InferenceService's Service's ClusterIP.
func serviceURL(name string) string {
	svc := &corev1.Service{}
	Expect(cluster.Client.Get(ctx(), types.NamespacedName{Namespace: appNamespace, Name: name}, svc)).To(Succeed())
	return fmt.Sprintf("http://%s:%d/v2/models/iris/infer", svc.Spec.ClusterIP, svc.Spec.Ports[0].Port)
}

// deployment reads an InferenceService's Deployment.
func deployment(name string) *appsv1.Deployment {
	d := &appsv1.Deployment{}
	Expect(cluster.Client.Get(ctx(), types.NamespacedName{Namespace: appNamespace, Name: name}, d)).To(Succeed())
	return d
}

// serverMetrics reads a model pod's own Prometheus metrics (GET podIP:8080/metrics) and
// returns the samples whose name starts with prefix, "name{labels}" -> value.
func serverMetrics(pod *corev1.Pod, prefix string) (map[string]float64, error) {
	c := &http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(fmt.Sprintf("http://%s:8080/metrics", pod.Status.PodIP))
	if err != nil {
		return nil, err
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	out := map[string]float64{}
	for _, line := range strings.Split(string(body), "\n") {
		if strings.HasPrefix(line, "#") || !strings.HasPrefix(line, prefix) {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			continue
		}
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			return nil, fmt.Errorf("parsing %q: %w", line, err)
		}
		out[line[:i]] = v
	}
	return out, nil
}

// deleteAndWait deletes an InferenceService and waits until its pods are gone.
func deleteAndWait(name string) {
	isvc := &servingv1alpha1.InferenceService{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: appNamespace}}
	Expect(client.IgnoreNotFound(cluster.Client.Delete(ctx(), isvc))).To(Succeed())
	Eventually(func() []corev1.Pod { return modelPods(name) }).WithTimeout(2 * time.Minute).Should(BeEmpty())
}
