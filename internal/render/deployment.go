package render

import (
	"math"
	"slices"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	servingv1alpha1 "github.com/inferenceops/inference-operator/api/v1alpha1"
)

const (
	readinessPeriodSeconds    int32 = 5
	probeTimeoutSeconds       int32 = 2
	readinessFailureThreshold int32 = 3
	startupPeriodSeconds      int32 = 10
	// progressDeadlineMarginSeconds is added to the startup budget for the Deployment's
	// progress deadline, so that a pod still loading its model within its budget (plus time
	// to pull a large image) is not reported as a stuck rollout.
	progressDeadlineMarginSeconds int32 = 300

	// The API server's defaults for probe fields left at zero.
	defaultProbePeriodSeconds    int32 = 10
	defaultProbeFailureThreshold int32 = 3
)

// Deployment builds the Deployment that runs the model server.
//
// spec.replicas is set only when autoscaling is off: while the HPA scales, the operator
// leaves the field to it and never resets the count it chose.
func Deployment(isvc *servingv1alpha1.InferenceService) *appsv1.Deployment {
	spec := &isvc.Spec
	pod := podSpec(isvc)

	dep := &appsv1.Deployment{
		TypeMeta:   metav1.TypeMeta{APIVersion: appsv1.SchemeGroupVersion.String(), Kind: deploymentKind},
		ObjectMeta: objectMeta(isvc),
		Spec: appsv1.DeploymentSpec{
			Selector:                &metav1.LabelSelector{MatchLabels: SelectorLabels(isvc)},
			ProgressDeadlineSeconds: ptr.To(startupBudgetSeconds(pod.Containers[0].StartupProbe) + progressDeadlineMarginSeconds),
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{
					Labels:      podLabels(isvc),
					Annotations: podAnnotations(isvc),
				},
				Spec: pod,
			},
		},
	}
	if Autoscaling(isvc) == nil {
		dep.Spec.Replicas = ptr.To(*spec.Replicas)
	}
	dep.Spec.Strategy = Strategy(isvc, false)
	return dep
}

func podSpec(isvc *servingv1alpha1.InferenceService) corev1.PodSpec {
	spec := isvc.Spec.DeepCopy()
	readiness := readinessProbe(isvc)
	return corev1.PodSpec{
		Containers: []corev1.Container{{
			Name:            ContainerName,
			Image:           spec.Image,
			ImagePullPolicy: spec.ImagePullPolicy,
			Command:         spec.Command,
			Args:            spec.Args,
			Env:             spec.Env,
			EnvFrom:         spec.EnvFrom,
			Ports: []corev1.ContainerPort{{
				Name:          PortName,
				ContainerPort: orDefault(spec.Port, servingv1alpha1.DefaultPort),
				Protocol:      corev1.ProtocolTCP,
			}},
			Resources:       spec.Resources,
			ReadinessProbe:  readiness,
			StartupProbe:    startupProbe(isvc, readiness),
			LivenessProbe:   spec.LivenessProbe,
			Lifecycle:       lifecycle(isvc),
			VolumeMounts:    spec.VolumeMounts,
			SecurityContext: containerSecurityContext(spec.ContainerSecurityContext),
		}},
		ImagePullSecrets:              spec.ImagePullSecrets,
		NodeSelector:                  spec.NodeSelector,
		Tolerations:                   spec.Tolerations,
		Affinity:                      spec.Affinity,
		TopologySpreadConstraints:     spec.TopologySpreadConstraints,
		ServiceAccountName:            spec.ServiceAccountName,
		PriorityClassName:             spec.PriorityClassName,
		Volumes:                       spec.Volumes,
		SecurityContext:               podSecurityContext(spec.SecurityContext),
		TerminationGracePeriodSeconds: spec.TerminationGracePeriodSeconds,
		AutomountServiceAccountToken:  ptr.To(ptr.Deref(spec.AutomountServiceAccountToken, false)),
		EnableServiceLinks:            enableServiceLinks(isvc),
	}
}

// enableServiceLinks is false from RevisionNoServiceLinks on, and left to the API
// server's default (true) for a service still rendered at an earlier revision.
func enableServiceLinks(isvc *servingv1alpha1.InferenceService) *bool {
	if RevisionFor(isvc) < RevisionNoServiceLinks {
		return nil
	}
	return ptr.To(false)
}

// podSecurityContext is the user's pod security context with a RuntimeDefault seccomp
// profile filled in when none is set. It meets the "baseline" Pod Security Standard, and
// "restricted" too once the user sets runAsNonRoot.
func podSecurityContext(user *corev1.PodSecurityContext) *corev1.PodSecurityContext {
	sc := &corev1.PodSecurityContext{}
	if user != nil {
		sc = user.DeepCopy()
	}
	if sc.SeccompProfile == nil {
		sc.SeccompProfile = &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault}
	}
	return sc
}

// containerSecurityContext is the user's container security context with privilege
// escalation off and every capability dropped where the user left those unset. A
// privileged container keeps privilege escalation, which Kubernetes requires.
func containerSecurityContext(user *corev1.SecurityContext) *corev1.SecurityContext {
	sc := &corev1.SecurityContext{}
	if user != nil {
		sc = user.DeepCopy()
	}
	if sc.AllowPrivilegeEscalation == nil && !ptr.Deref(sc.Privileged, false) && !addsSysAdmin(sc) {
		sc.AllowPrivilegeEscalation = ptr.To(false)
	}
	if sc.Capabilities == nil {
		sc.Capabilities = &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}}
	}
	return sc
}

// addsSysAdmin tells whether sc adds CAP_SYS_ADMIN, which Kubernetes refuses together with
// allowPrivilegeEscalation false: that default is then left out.
func addsSysAdmin(sc *corev1.SecurityContext) bool {
	return sc.Capabilities != nil && slices.Contains(sc.Capabilities.Add, "CAP_SYS_ADMIN")
}

// lifecycle pauses a stopping pod for spec.drainSeconds before its model server gets
// SIGTERM, while the Service stops routing to it: the endpoint is removed at the same
// moment the hook starts, but kube-proxy on every node, and any load balancer, take a
// moment to follow, and requests they still send must find the server up. The pause is a
// sleep hook, run by the kubelet, so images without a shell get it too. It stays one
// second inside the grace period, after which the pod is killed anyway.
func lifecycle(isvc *servingv1alpha1.InferenceService) *corev1.Lifecycle {
	drain := int64(servingv1alpha1.DefaultDrainSeconds)
	if isvc.Spec.DrainSeconds != nil {
		drain = int64(*isvc.Spec.DrainSeconds)
	}
	grace := ptr.Deref(isvc.Spec.TerminationGracePeriodSeconds, servingv1alpha1.DefaultTerminationGracePeriodSeconds)
	drain = min(drain, grace-1)
	if drain <= 0 {
		return nil
	}
	return &corev1.Lifecycle{PreStop: &corev1.LifecycleHandler{Sleep: &corev1.SleepAction{Seconds: drain}}}
}

// readinessProbe is the user's readiness probe or, by default, an HTTP GET of healthPath
// on the inference port. Every field is explicit so the applied object matches what the
// API server stores.
func readinessProbe(isvc *servingv1alpha1.InferenceService) *corev1.Probe {
	if isvc.Spec.ReadinessProbe != nil {
		return isvc.Spec.ReadinessProbe.DeepCopy()
	}
	path := isvc.Spec.HealthPath
	if path == "" {
		path = servingv1alpha1.DefaultHealthPath
	}
	return &corev1.Probe{
		ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{
			Path:   path,
			Port:   intstr.FromString(PortName),
			Scheme: corev1.URISchemeHTTP,
		}},
		PeriodSeconds:    readinessPeriodSeconds,
		TimeoutSeconds:   probeTimeoutSeconds,
		SuccessThreshold: 1,
		FailureThreshold: readinessFailureThreshold,
	}
}

// startupProbe is the user's startup probe or, by default, the readiness check with a
// budget of startupTimeoutSeconds, so a slow model load is not killed and the readiness
// probe starts only once the model is loaded.
func startupProbe(isvc *servingv1alpha1.InferenceService, readiness *corev1.Probe) *corev1.Probe {
	if isvc.Spec.StartupProbe != nil {
		return isvc.Spec.StartupProbe.DeepCopy()
	}
	budget := orDefault(isvc.Spec.StartupTimeoutSeconds, servingv1alpha1.DefaultStartupTimeoutSeconds)
	period := min(startupPeriodSeconds, budget)
	timeout := readiness.TimeoutSeconds
	if timeout < 1 {
		timeout = 1
	}
	return &corev1.Probe{
		ProbeHandler:     *readiness.ProbeHandler.DeepCopy(),
		PeriodSeconds:    period,
		TimeoutSeconds:   min(timeout, period),
		SuccessThreshold: 1,
		FailureThreshold: (budget + period - 1) / period,
	}
}

// startupBudgetSeconds is the longest a container may take to pass probe before the
// kubelet restarts it: the initial delay plus every allowed failure, one period apart.
// It is the startup probe actually rendered, the user's own or the default one, so that a
// slow but healthy model load allowed by its probe is never reported as a stuck rollout.
func startupBudgetSeconds(probe *corev1.Probe) int32 {
	period := orDefault(probe.PeriodSeconds, defaultProbePeriodSeconds)
	failures := orDefault(probe.FailureThreshold, defaultProbeFailureThreshold)
	budget := int64(probe.InitialDelaySeconds) + int64(period)*int64(failures)
	// A Deployment's progress deadline is an int32 of seconds; a probe allowing longer
	// than that (decades) is capped.
	return int32(min(budget, int64(math.MaxInt32-progressDeadlineMarginSeconds)))
}

func orDefault(v, def int32) int32 {
	if v <= 0 {
		return def
	}
	return v
}

func copyMap(in map[string]string) map[string]string {
	if len(in) == 0 {
		return nil
	}
	out := make(map[string]string, len(in))
	for k, v := range in {
		out[k] = v
	}
	return out
}
