package render_test

import (
	"testing"

	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	servingv1alpha1 "github.com/inferenceops/inference-operator/api/v1alpha1"
	"github.com/inferenceops/inference-operator/internal/render"
)

func TestDeploymentDefaultProbes(t *testing.T) {
	g := NewWithT(t)

	c := container(t, render.Deployment(newInferenceService()))

	g.Expect(c.ReadinessProbe).To(Equal(&corev1.Probe{
		ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{
			Path:   "/v2/health/ready",
			Port:   intstr.FromString("http"),
			Scheme: corev1.URISchemeHTTP,
		}},
		PeriodSeconds:    5,
		TimeoutSeconds:   2,
		SuccessThreshold: 1,
		FailureThreshold: 3,
	}), "readiness is an HTTP GET of the Open Inference Protocol ready endpoint on the named port")
	g.Expect(c.StartupProbe).NotTo(BeNil())
	g.Expect(c.StartupProbe.ProbeHandler).To(Equal(c.ReadinessProbe.ProbeHandler),
		"the startup probe makes the same check as the readiness probe")
	g.Expect(c.LivenessProbe).To(BeNil(), "no liveness probe unless asked: a busy model server must not be restarted")
}

// The default startup probe gives a pod startupTimeoutSeconds to load its model: it must
// not restart a pod that is still within its budget, nor wait much longer than asked.
func TestDeploymentStartupProbeBudget(t *testing.T) {
	tests := []struct {
		name           string
		startupTimeout int32
		// wantBudget is how long the probe lets a pod start, in seconds, when it can be hit exactly.
		wantBudget int32
	}{
		{name: "default of 600 seconds", startupTimeout: 0, wantBudget: 600},
		{name: "a budget that is not a multiple of the period", startupTimeout: 95},
		{name: "a budget shorter than the default period", startupTimeout: 5, wantBudget: 5},
		{name: "the smallest budget", startupTimeout: 1, wantBudget: 1},
		{name: "a day", startupTimeout: 86400, wantBudget: 86400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			asked := tt.startupTimeout
			if asked == 0 {
				asked = 600
			}

			c := container(t, render.Deployment(newInferenceService(withStartupTimeout(tt.startupTimeout))))

			p := c.StartupProbe
			g.Expect(p).NotTo(BeNil())
			g.Expect(p.ProbeHandler).To(Equal(c.ReadinessProbe.ProbeHandler))
			budget := p.PeriodSeconds * p.FailureThreshold
			g.Expect(budget).To(BeNumerically(">=", asked), "the pod is restarted before its startup budget is spent")
			g.Expect(budget).To(BeNumerically("<", asked+p.PeriodSeconds), "the probe waits a whole period longer than asked")
			if tt.wantBudget != 0 {
				g.Expect(budget).To(Equal(tt.wantBudget))
			}
			g.Expect(p.InitialDelaySeconds).To(BeZero())
			g.Expect(p.SuccessThreshold).To(Equal(int32(1)), "Kubernetes rejects a startup probe with successThreshold other than 1")
			g.Expect(p.TimeoutSeconds).To(And(BeNumerically(">=", 1), BeNumerically("<=", p.PeriodSeconds)))
		})
	}
}

func TestDeploymentProbeOverrides(t *testing.T) {
	userReadiness := &corev1.Probe{
		ProbeHandler:     corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromInt32(9000)}},
		PeriodSeconds:    7,
		TimeoutSeconds:   3,
		SuccessThreshold: 2,
		FailureThreshold: 5,
	}
	userStartup := &corev1.Probe{
		ProbeHandler:     corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: []string{"/bin/model-loaded"}}},
		PeriodSeconds:    30,
		FailureThreshold: 120,
	}
	userLiveness := &corev1.Probe{
		ProbeHandler:     corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/v2/health/live", Port: intstr.FromString("http")}},
		PeriodSeconds:    20,
		FailureThreshold: 6,
	}

	tests := []struct {
		name  string
		opts  func(*servingv1alpha1.InferenceService)
		check func(g Gomega, c corev1.Container)
	}{
		{
			name: "healthPath is the path of both default probes",
			opts: func(isvc *servingv1alpha1.InferenceService) { isvc.Spec.HealthPath = "/healthz" },
			check: func(g Gomega, c corev1.Container) {
				g.Expect(c.ReadinessProbe.HTTPGet.Path).To(Equal("/healthz"))
				g.Expect(c.StartupProbe.HTTPGet.Path).To(Equal("/healthz"))
			},
		},
		{
			name: "a given readiness probe is used as is and checked by the default startup probe",
			opts: func(isvc *servingv1alpha1.InferenceService) { isvc.Spec.ReadinessProbe = userReadiness.DeepCopy() },
			check: func(g Gomega, c corev1.Container) {
				g.Expect(c.ReadinessProbe).To(Equal(userReadiness))
				g.Expect(c.StartupProbe.ProbeHandler).To(Equal(userReadiness.ProbeHandler))
				g.Expect(c.StartupProbe.TimeoutSeconds).To(Equal(int32(3)))
				g.Expect(c.StartupProbe.SuccessThreshold).To(Equal(int32(1)))
				g.Expect(c.StartupProbe.PeriodSeconds*c.StartupProbe.FailureThreshold).To(Equal(int32(600)),
					"the default startup budget still applies")
			},
		},
		{
			name: "a given startup probe is passed through and the readiness probe stays the default",
			opts: func(isvc *servingv1alpha1.InferenceService) { isvc.Spec.StartupProbe = userStartup.DeepCopy() },
			check: func(g Gomega, c corev1.Container) {
				g.Expect(c.StartupProbe).To(Equal(userStartup))
				g.Expect(c.ReadinessProbe.HTTPGet.Path).To(Equal("/v2/health/ready"))
			},
		},
		{
			name: "a given liveness probe is passed through",
			opts: func(isvc *servingv1alpha1.InferenceService) { isvc.Spec.LivenessProbe = userLiveness.DeepCopy() },
			check: func(g Gomega, c corev1.Container) {
				g.Expect(c.LivenessProbe).To(Equal(userLiveness))
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.check(NewWithT(t), container(t, render.Deployment(newInferenceService(tt.opts))))
		})
	}
}

func TestDeploymentResources(t *testing.T) {
	tests := []struct {
		name      string
		resources corev1.ResourceRequirements
	}{
		{
			name: "requests only",
			resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{
				corev1.ResourceCPU:    resource.MustParse("500m"),
				corev1.ResourceMemory: resource.MustParse("1Gi"),
			}},
		},
		{
			name: "requests and limits",
			resources: corev1.ResourceRequirements{
				Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("2"), corev1.ResourceMemory: resource.MustParse("8Gi")},
				Limits:   corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("4"), corev1.ResourceMemory: resource.MustParse("8Gi")},
			},
		},
		{
			name: "an extended resource",
			resources: corev1.ResourceRequirements{
				Requests: corev1.ResourceList{
					corev1.ResourceCPU:    resource.MustParse("4"),
					corev1.ResourceMemory: resource.MustParse("16Gi"),
					"nvidia.com/gpu":      resource.MustParse("2"),
				},
				Limits: corev1.ResourceList{"nvidia.com/gpu": resource.MustParse("2")},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			isvc := newInferenceService(func(isvc *servingv1alpha1.InferenceService) {
				isvc.Spec.Resources = *tt.resources.DeepCopy()
			})

			NewWithT(t).Expect(container(t, render.Deployment(isvc)).Resources).To(Equal(tt.resources))
		})
	}
}

func TestDeploymentContainerPort(t *testing.T) {
	tests := []struct {
		name string
		port int32
		want int32
	}{
		{name: "default", port: 0, want: 8080},
		{name: "spec.port", port: 8000, want: 8000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			isvc := newInferenceService(func(isvc *servingv1alpha1.InferenceService) { isvc.Spec.Port = tt.port })

			NewWithT(t).Expect(container(t, render.Deployment(isvc)).Ports).To(Equal([]corev1.ContainerPort{{
				Name: "http", ContainerPort: tt.want, Protocol: corev1.ProtocolTCP,
			}}), "the Service and the default probes reach the server through the port named http")
		})
	}
}

// While an HPA scales, the operator must leave spec.replicas out of what it applies, or
// every reconcile would reset the count the HPA chose.
func TestDeploymentReplicas(t *testing.T) {
	tests := []struct {
		name string
		opts []func(*servingv1alpha1.InferenceService)
		want *int32
	}{
		{name: "spec.replicas fixes the count", opts: opts(withReplicas(3)), want: ptr.To[int32](3)},
		{name: "spec.replicas 0 scales to zero", opts: opts(withReplicas(0)), want: ptr.To[int32](0)},
		{name: "default autoscaling leaves the count to the HPA", want: nil},
		{
			name: "explicit autoscaling leaves the count to the HPA",
			opts: opts(func(isvc *servingv1alpha1.InferenceService) {
				isvc.Spec.Autoscaling = &servingv1alpha1.AutoscalingSpec{MinReplicas: ptr.To[int32](2), MaxReplicas: 4}
			}),
			want: nil,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			NewWithT(t).Expect(render.Deployment(newInferenceService(tt.opts...)).Spec.Replicas).To(Equal(tt.want))
		})
	}
}

func TestDeploymentSelectorIsStable(t *testing.T) {
	want := map[string]string{"serving.inferenceops.dev/inferenceservice": "llm"}
	tests := []struct {
		name   string
		change func(*servingv1alpha1.InferenceService)
	}{
		{name: "unchanged", change: func(*servingv1alpha1.InferenceService) {}},
		{name: "new image", change: func(isvc *servingv1alpha1.InferenceService) { isvc.Spec.Image = "ghcr.io/example/model-server:2.0" }},
		{name: "new pod labels", change: func(isvc *servingv1alpha1.InferenceService) {
			isvc.Spec.PodLabels = map[string]string{"team": "nlp", "version": "v2"}
		}},
		{name: "new env", change: func(isvc *servingv1alpha1.InferenceService) {
			isvc.Spec.Env = []corev1.EnvVar{{Name: "MODEL", Value: "llama-3-8b"}}
		}},
		{name: "autoscaling turned off", change: withReplicas(2)},
		{name: "everything", change: withEverything},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)

			dep := render.Deployment(newInferenceService(tt.change))

			g.Expect(dep.Spec.Selector.MatchLabels).To(Equal(want), "a Deployment's selector is immutable")
			g.Expect(dep.Spec.Selector.MatchExpressions).To(BeEmpty())
			for k, v := range want {
				g.Expect(dep.Spec.Template.Labels).To(HaveKeyWithValue(k, v), "the pods must match the selector")
			}
		})
	}
}

func TestDeploymentPodLabelsCannotOverrideOperatorLabels(t *testing.T) {
	g := NewWithT(t)
	isvc := newInferenceService(func(isvc *servingv1alpha1.InferenceService) {
		isvc.Spec.PodLabels = map[string]string{
			"serving.inferenceops.dev/inferenceservice": "someone-else",
			"app.kubernetes.io/managed-by":              "helm",
			"app.kubernetes.io/name":                    "my-model",
			"team":                                      "nlp",
		}
	})

	labels := render.Deployment(isvc).Spec.Template.Labels

	g.Expect(labels).To(Equal(map[string]string{
		"serving.inferenceops.dev/inferenceservice": "llm",
		"app.kubernetes.io/managed-by":              "inference-operator",
		"app.kubernetes.io/name":                    "inference-service",
		"app.kubernetes.io/instance":                "llm",
		"app.kubernetes.io/component":               "inference-server",
		"team":                                      "nlp",
	}))
}

func TestDeploymentStrategy(t *testing.T) {
	tests := []struct {
		name     string
		strategy *appsv1.DeploymentStrategy
		want     appsv1.DeploymentStrategy
	}{
		{name: "left to the API server's default (RollingUpdate)", strategy: nil, want: appsv1.DeploymentStrategy{}},
		{
			name:     "Recreate",
			strategy: &appsv1.DeploymentStrategy{Type: appsv1.RecreateDeploymentStrategyType},
			want:     appsv1.DeploymentStrategy{Type: appsv1.RecreateDeploymentStrategyType},
		},
		{
			name: "RollingUpdate with surge",
			strategy: &appsv1.DeploymentStrategy{
				Type: appsv1.RollingUpdateDeploymentStrategyType,
				RollingUpdate: &appsv1.RollingUpdateDeployment{
					MaxSurge: ptr.To(intstr.FromInt32(1)), MaxUnavailable: ptr.To(intstr.FromInt32(0)),
				},
			},
			want: appsv1.DeploymentStrategy{
				Type: appsv1.RollingUpdateDeploymentStrategyType,
				RollingUpdate: &appsv1.RollingUpdateDeployment{
					MaxSurge: ptr.To(intstr.FromInt32(1)), MaxUnavailable: ptr.To(intstr.FromInt32(0)),
				},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			isvc := newInferenceService(func(isvc *servingv1alpha1.InferenceService) { isvc.Spec.Strategy = tt.strategy })

			NewWithT(t).Expect(render.Deployment(isvc).Spec.Strategy).To(Equal(tt.want))
		})
	}
}

// The progress deadline leaves a pod its whole startup budget plus time to pull the image,
// so that a slow model load is not reported as a stuck rollout. The budget is the one of
// the startup probe the pod really gets: the default one, or the user's own.
func TestDeploymentProgressDeadline(t *testing.T) {
	tests := []struct {
		name string
		opts []func(*servingv1alpha1.InferenceService)
		want int32
	}{
		{name: "default startup budget", want: 900},
		// 95 s at one probe every 10 s is 10 probes: the pod really gets 100 s.
		{name: "custom startup budget", opts: opts(withStartupTimeout(95)), want: 400},
		{name: "long startup budget", opts: opts(withStartupTimeout(3600)), want: 3900},
		{
			name: "a custom startup probe allowing an hour",
			opts: opts(withStartupProbe(&corev1.Probe{PeriodSeconds: 30, FailureThreshold: 120, InitialDelaySeconds: 60})),
			want: 60 + 30*120 + 300,
		},
		{
			name: "a custom startup probe with the API server's defaults (10 s, 3 failures)",
			opts: opts(withStartupProbe(&corev1.Probe{})),
			want: 30 + 300,
		},
		{
			name: "a custom startup probe wins over startupTimeoutSeconds",
			opts: opts(withStartupTimeout(3600), withStartupProbe(&corev1.Probe{PeriodSeconds: 5, FailureThreshold: 12})),
			want: 60 + 300,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dep := render.Deployment(newInferenceService(tt.opts...))

			NewWithT(t).Expect(dep.Spec.ProgressDeadlineSeconds).To(Equal(ptr.To(tt.want)))
		})
	}
}

func withStartupProbe(p *corev1.Probe) func(*servingv1alpha1.InferenceService) {
	return func(isvc *servingv1alpha1.InferenceService) {
		p.ProbeHandler = corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/loaded", Port: intstr.FromString("http")}}
		isvc.Spec.StartupProbe = p
	}
}

func TestDeploymentPassesPodSettingsThrough(t *testing.T) {
	isvc := newInferenceService(withEverything)
	spec := isvc.Spec.DeepCopy()
	dep := render.Deployment(isvc)
	pod := dep.Spec.Template.Spec
	c := container(t, dep)

	tests := []struct {
		field string
		got   any
		want  any
	}{
		{"image", c.Image, spec.Image},
		{"imagePullPolicy", c.ImagePullPolicy, spec.ImagePullPolicy},
		{"imagePullSecrets", pod.ImagePullSecrets, spec.ImagePullSecrets},
		{"command", c.Command, spec.Command},
		{"args", c.Args, spec.Args},
		{"env", c.Env, spec.Env},
		{"envFrom", c.EnvFrom, spec.EnvFrom},
		{"volumeMounts", c.VolumeMounts, spec.VolumeMounts},
		{"containerSecurityContext", c.SecurityContext, spec.ContainerSecurityContext},
		{"nodeSelector", pod.NodeSelector, spec.NodeSelector},
		{"tolerations", pod.Tolerations, spec.Tolerations},
		{"affinity", pod.Affinity, spec.Affinity},
		{"topologySpreadConstraints", pod.TopologySpreadConstraints, spec.TopologySpreadConstraints},
		{"serviceAccountName", pod.ServiceAccountName, spec.ServiceAccountName},
		{"priorityClassName", pod.PriorityClassName, spec.PriorityClassName},
		{"volumes", pod.Volumes, spec.Volumes},
		{"securityContext (with the seccomp default filled in)", pod.SecurityContext, withRuntimeDefaultSeccomp(spec.SecurityContext)},
		{"terminationGracePeriodSeconds", pod.TerminationGracePeriodSeconds, spec.TerminationGracePeriodSeconds},
		{"podAnnotations", dep.Spec.Template.Annotations, spec.PodAnnotations},
	}
	for _, tt := range tests {
		t.Run(tt.field, func(t *testing.T) {
			g := NewWithT(t)
			g.Expect(tt.want).NotTo(BeZero(), "the fixture must set %s", tt.field)
			g.Expect(tt.got).To(Equal(tt.want))
		})
	}
	t.Run("container name", func(t *testing.T) {
		NewWithT(t).Expect(c.Name).To(Equal("inference-server"))
	})
}

func opts(o ...func(*servingv1alpha1.InferenceService)) []func(*servingv1alpha1.InferenceService) {
	return o
}

func withRuntimeDefaultSeccomp(sc *corev1.PodSecurityContext) *corev1.PodSecurityContext {
	sc = sc.DeepCopy()
	sc.SeccompProfile = &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault}
	return sc
}

func TestDeploymentHardensPodsByDefault(t *testing.T) {
	g := NewWithT(t)
	dep := render.Deployment(newInferenceService())
	pod := dep.Spec.Template.Spec
	c := container(t, dep)

	g.Expect(pod.SecurityContext).To(Equal(&corev1.PodSecurityContext{
		SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
	}))
	g.Expect(c.SecurityContext).To(Equal(&corev1.SecurityContext{
		AllowPrivilegeEscalation: ptr.To(false),
		Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
	}))
	g.Expect(pod.AutomountServiceAccountToken).To(Equal(ptr.To(false)), "no API token unless the spec asks")
	g.Expect(c.SecurityContext.RunAsNonRoot).To(BeNil(), "running as root is left to the image unless the spec asks")
}

func TestDeploymentSecurityDefaultsGiveWayToTheSpec(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*servingv1alpha1.InferenceService)
		check  func(g Gomega, pod corev1.PodSpec, c corev1.Container)
	}{
		{
			name: "an explicit seccomp profile and non-root user are kept",
			mutate: func(i *servingv1alpha1.InferenceService) {
				i.Spec.SecurityContext = &corev1.PodSecurityContext{
					RunAsNonRoot:   ptr.To(true),
					SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeLocalhost, LocalhostProfile: ptr.To("model.json")},
				}
			},
			check: func(g Gomega, pod corev1.PodSpec, _ corev1.Container) {
				g.Expect(pod.SecurityContext.RunAsNonRoot).To(Equal(ptr.To(true)))
				g.Expect(pod.SecurityContext.SeccompProfile.Type).To(Equal(corev1.SeccompProfileTypeLocalhost))
			},
		},
		{
			name: "runAsNonRoot alone still gets RuntimeDefault seccomp (restricted Pod Security)",
			mutate: func(i *servingv1alpha1.InferenceService) {
				i.Spec.SecurityContext = &corev1.PodSecurityContext{RunAsNonRoot: ptr.To(true)}
			},
			check: func(g Gomega, pod corev1.PodSpec, _ corev1.Container) {
				g.Expect(pod.SecurityContext.SeccompProfile.Type).To(Equal(corev1.SeccompProfileTypeRuntimeDefault))
			},
		},
		{
			name: "added capabilities are kept as given",
			mutate: func(i *servingv1alpha1.InferenceService) {
				i.Spec.ContainerSecurityContext = &corev1.SecurityContext{Capabilities: &corev1.Capabilities{Add: []corev1.Capability{"IPC_LOCK"}}}
			},
			check: func(g Gomega, _ corev1.PodSpec, c corev1.Container) {
				g.Expect(c.SecurityContext.Capabilities).To(Equal(&corev1.Capabilities{Add: []corev1.Capability{"IPC_LOCK"}}))
				g.Expect(c.SecurityContext.AllowPrivilegeEscalation).To(Equal(ptr.To(false)))
			},
		},
		{
			name: "a privileged container is not given allowPrivilegeEscalation false, which Kubernetes would refuse",
			mutate: func(i *servingv1alpha1.InferenceService) {
				i.Spec.ContainerSecurityContext = &corev1.SecurityContext{Privileged: ptr.To(true)}
			},
			check: func(g Gomega, _ corev1.PodSpec, c corev1.Container) {
				g.Expect(c.SecurityContext.AllowPrivilegeEscalation).To(BeNil())
			},
		},
		{
			name: "a container adding CAP_SYS_ADMIN is not given allowPrivilegeEscalation false, which Kubernetes would refuse",
			mutate: func(i *servingv1alpha1.InferenceService) {
				i.Spec.ContainerSecurityContext = &corev1.SecurityContext{Capabilities: &corev1.Capabilities{Add: []corev1.Capability{"CAP_SYS_ADMIN"}}}
			},
			check: func(g Gomega, _ corev1.PodSpec, c corev1.Container) {
				g.Expect(c.SecurityContext.AllowPrivilegeEscalation).To(BeNil())
			},
		},
		{
			name:   "the token is mounted when asked",
			mutate: func(i *servingv1alpha1.InferenceService) { i.Spec.AutomountServiceAccountToken = ptr.To(true) },
			check: func(g Gomega, pod corev1.PodSpec, _ corev1.Container) {
				g.Expect(pod.AutomountServiceAccountToken).To(Equal(ptr.To(true)))
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			isvc := newInferenceService(tt.mutate)
			dep := render.Deployment(isvc)
			tt.check(NewWithT(t), dep.Spec.Template.Spec, container(t, dep))
		})
	}
}

// A stopping pod keeps serving for drainSeconds before its server gets SIGTERM, so the
// requests that still arrive while the Service stops routing to it are answered.
func TestDeploymentDrainsStoppingPods(t *testing.T) {
	sleep := func(seconds int64) *corev1.Lifecycle {
		return &corev1.Lifecycle{PreStop: &corev1.LifecycleHandler{Sleep: &corev1.SleepAction{Seconds: seconds}}}
	}
	tests := []struct {
		name  string
		drain *int32
		grace *int64
		want  *corev1.Lifecycle
	}{
		{name: "default: 5 s", want: sleep(5)},
		{name: "longer", drain: ptr.To[int32](20), grace: ptr.To[int64](120), want: sleep(20)},
		{name: "turned off", drain: ptr.To[int32](0), want: nil},
		{name: "the default stays inside a short grace period", grace: ptr.To[int64](3), want: sleep(2)},
		{name: "no grace period, no pause", grace: ptr.To[int64](0), want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			isvc := newInferenceService(func(i *servingv1alpha1.InferenceService) {
				i.Spec.DrainSeconds, i.Spec.TerminationGracePeriodSeconds = tt.drain, tt.grace
			})

			NewWithT(t).Expect(render.Deployment(isvc).Spec.Template.Spec.Containers[0].Lifecycle).To(Equal(tt.want))
		})
	}
}
