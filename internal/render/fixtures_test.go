package render_test

import (
	"testing"

	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	servingv1alpha1 "github.com/inferenceops/inference-operator/api/v1alpha1"
	"github.com/inferenceops/inference-operator/internal/render"
)

const fixtureUID = types.UID("6f1c2a57-0d4e-4b8e-9a41-3c2f7d5e8b10")

// newInferenceService returns a valid, minimal InferenceService "llm" in namespace "ml",
// as the API server stores it before defaulting: everything optional left out, so
// autoscaling is on with its defaults.
func newInferenceService(opts ...func(*servingv1alpha1.InferenceService)) *servingv1alpha1.InferenceService {
	isvc := &servingv1alpha1.InferenceService{
		TypeMeta: metav1.TypeMeta{APIVersion: servingv1alpha1.GroupVersion.String(), Kind: "InferenceService"},
		ObjectMeta: metav1.ObjectMeta{
			Name:       "llm",
			Namespace:  "ml",
			UID:        fixtureUID,
			Generation: 1,
		},
		Spec: servingv1alpha1.InferenceServiceSpec{
			Image: "ghcr.io/example/model-server:1.0",
			Resources: corev1.ResourceRequirements{
				Requests: corev1.ResourceList{
					corev1.ResourceCPU:    resource.MustParse("500m"),
					corev1.ResourceMemory: resource.MustParse("1Gi"),
				},
			},
		},
	}
	for _, opt := range opts {
		opt(isvc)
	}
	return isvc
}

func withReplicas(n int32) func(*servingv1alpha1.InferenceService) {
	return func(isvc *servingv1alpha1.InferenceService) { isvc.Spec.Replicas = ptr.To(n) }
}

func withStartupTimeout(seconds int32) func(*servingv1alpha1.InferenceService) {
	return func(isvc *servingv1alpha1.InferenceService) { isvc.Spec.StartupTimeoutSeconds = seconds }
}

// withEverything sets every optional field of the spec, the way a GPU-backed
// production service would.
func withEverything(isvc *servingv1alpha1.InferenceService) {
	s := &isvc.Spec
	s.Image = "nvcr.io/nvidia/tritonserver:24.08-py3"
	s.ImagePullPolicy = corev1.PullIfNotPresent
	s.ImagePullSecrets = []corev1.LocalObjectReference{{Name: "ngc-registry"}}
	s.Command = []string{"tritonserver"}
	s.Args = []string{"--model-repository=/models", "--http-port=8000"}
	s.Env = []corev1.EnvVar{
		{Name: "CUDA_VISIBLE_DEVICES", Value: "0"},
		{Name: "HF_TOKEN", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
			LocalObjectReference: corev1.LocalObjectReference{Name: "hf"}, Key: "token",
		}}},
	}
	s.EnvFrom = []corev1.EnvFromSource{{ConfigMapRef: &corev1.ConfigMapEnvSource{
		LocalObjectReference: corev1.LocalObjectReference{Name: "triton-config"},
	}}}
	s.Port = 8000
	s.Resources = corev1.ResourceRequirements{
		Requests: corev1.ResourceList{
			corev1.ResourceCPU:    resource.MustParse("4"),
			corev1.ResourceMemory: resource.MustParse("16Gi"),
			"nvidia.com/gpu":      resource.MustParse("1"),
		},
		Limits: corev1.ResourceList{
			corev1.ResourceMemory: resource.MustParse("16Gi"),
			"nvidia.com/gpu":      resource.MustParse("1"),
		},
	}
	s.HealthPath = "/v2/health/ready"
	s.StartupTimeoutSeconds = 1200
	s.Autoscaling = &servingv1alpha1.AutoscalingSpec{
		MinReplicas: ptr.To[int32](2),
		MaxReplicas: 8,
		Metrics:     []autoscalingv2.MetricSpec{queueLengthMetric()},
		Behavior:    scaleDownSlowly(),
	}
	s.Service = servingv1alpha1.ServiceSpec{
		Type:        "LoadBalancer",
		Port:        8000,
		Annotations: map[string]string{"service.beta.kubernetes.io/aws-load-balancer-internal": "true"},
	}
	s.PodDisruptionBudget = &servingv1alpha1.PodDisruptionBudgetSpec{MinAvailable: ptr.To(intstr.FromInt32(1))}
	s.NodeSelector = map[string]string{"cloud.google.com/gke-accelerator": "nvidia-l4"}
	s.Tolerations = []corev1.Toleration{{
		Key: "nvidia.com/gpu", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule,
	}}
	s.Affinity = &corev1.Affinity{PodAntiAffinity: &corev1.PodAntiAffinity{
		PreferredDuringSchedulingIgnoredDuringExecution: []corev1.WeightedPodAffinityTerm{{
			Weight: 100,
			PodAffinityTerm: corev1.PodAffinityTerm{
				TopologyKey:   "kubernetes.io/hostname",
				LabelSelector: &metav1.LabelSelector{MatchLabels: map[string]string{render.LabelInferenceService: "llm"}},
			},
		}},
	}}
	s.TopologySpreadConstraints = []corev1.TopologySpreadConstraint{{
		MaxSkew:           1,
		TopologyKey:       "topology.kubernetes.io/zone",
		WhenUnsatisfiable: corev1.ScheduleAnyway,
		LabelSelector:     &metav1.LabelSelector{MatchLabels: map[string]string{render.LabelInferenceService: "llm"}},
	}}
	s.ServiceAccountName = "triton"
	s.PriorityClassName = "inference-critical"
	s.PodAnnotations = map[string]string{"prometheus.io/scrape": "true", "prometheus.io/port": "8002"}
	s.PodLabels = map[string]string{"team": "nlp"}
	s.Volumes = []corev1.Volume{
		{Name: "models", VolumeSource: corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: "model-cache"}}},
		{Name: "dshm", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{Medium: corev1.StorageMediumMemory}}},
	}
	s.VolumeMounts = []corev1.VolumeMount{
		{Name: "models", MountPath: "/models", ReadOnly: true},
		{Name: "dshm", MountPath: "/dev/shm"},
	}
	s.SecurityContext = &corev1.PodSecurityContext{RunAsNonRoot: ptr.To(true), FSGroup: ptr.To[int64](1000)}
	s.ContainerSecurityContext = &corev1.SecurityContext{
		AllowPrivilegeEscalation: ptr.To(false),
		Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
	}
	s.TerminationGracePeriodSeconds = ptr.To[int64](60)
	s.Strategy = &appsv1.DeploymentStrategy{Type: appsv1.RecreateDeploymentStrategyType}
}

func queueLengthMetric() autoscalingv2.MetricSpec {
	return autoscalingv2.MetricSpec{
		Type: autoscalingv2.PodsMetricSourceType,
		Pods: &autoscalingv2.PodsMetricSource{
			Metric: autoscalingv2.MetricIdentifier{Name: "inference_queue_length"},
			Target: autoscalingv2.MetricTarget{
				Type:         autoscalingv2.AverageValueMetricType,
				AverageValue: ptr.To(resource.MustParse("10")),
			},
		},
	}
}

func scaleDownSlowly() *autoscalingv2.HorizontalPodAutoscalerBehavior {
	return &autoscalingv2.HorizontalPodAutoscalerBehavior{
		ScaleDown: &autoscalingv2.HPAScalingRules{
			StabilizationWindowSeconds: ptr.To[int32](600),
			Policies: []autoscalingv2.HPAScalingPolicy{
				{Type: autoscalingv2.PodsScalingPolicy, Value: 1, PeriodSeconds: 300},
			},
		},
	}
}

// container returns the one container of the Deployment's pod template.
func container(t *testing.T, dep *appsv1.Deployment) corev1.Container {
	t.Helper()
	NewWithT(t).Expect(dep.Spec.Template.Spec.Containers).To(HaveLen(1))
	return dep.Spec.Template.Spec.Containers[0]
}

// withUserProbes gives the readiness, startup and liveness probes explicitly.
func withUserProbes(isvc *servingv1alpha1.InferenceService) {
	isvc.Spec.ReadinessProbe = &corev1.Probe{
		ProbeHandler:  corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/ready", Port: intstr.FromString("http")}},
		PeriodSeconds: 3,
	}
	isvc.Spec.StartupProbe = &corev1.Probe{
		ProbeHandler:     corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromString("http")}},
		FailureThreshold: 100,
	}
	isvc.Spec.LivenessProbe = &corev1.Probe{
		ProbeHandler: corev1.ProbeHandler{GRPC: &corev1.GRPCAction{Port: 8001}},
	}
}
