package controller

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	servingv1alpha1 "github.com/inferenceops/inference-operator/api/v1alpha1"
)

var _ = Describe("InferenceService controller", func() {
	var namespace string

	BeforeEach(func() {
		namespace = newNamespace()
	})

	key := func(name string) client.ObjectKey { return client.ObjectKey{Namespace: namespace, Name: name} }

	getDeployment := func(name string) func(Gomega) *appsv1.Deployment {
		return func(g Gomega) *appsv1.Deployment {
			dep := &appsv1.Deployment{}
			g.Expect(k8sClient.Get(ctx, key(name), dep)).To(Succeed())
			return dep
		}
	}
	getISVC := func(name string) *servingv1alpha1.InferenceService {
		isvc := &servingv1alpha1.InferenceService{}
		Expect(k8sClient.Get(ctx, key(name), isvc)).To(Succeed())
		return isvc
	}
	readyCondition := func(name string) func(Gomega) *metav1.Condition {
		return func(g Gomega) *metav1.Condition {
			isvc := &servingv1alpha1.InferenceService{}
			g.Expect(k8sClient.Get(ctx, key(name), isvc)).To(Succeed())
			c := meta.FindStatusCondition(isvc.Status.Conditions, servingv1alpha1.ConditionReady)
			g.Expect(c).NotTo(BeNil())
			return c
		}
	}
	updateSpec := func(name string, mutate func(*servingv1alpha1.InferenceService)) {
		Eventually(func(g Gomega) {
			isvc := &servingv1alpha1.InferenceService{}
			g.Expect(k8sClient.Get(ctx, key(name), isvc)).To(Succeed())
			mutate(isvc)
			g.Expect(k8sClient.Update(ctx, isvc)).To(Succeed())
		}).Should(Succeed())
	}
	// setDeploymentStatus plays the Deployment controller, which envtest does not run.
	setDeploymentStatus := func(name string, ready int32) {
		Eventually(func(g Gomega) {
			dep := getDeployment(name)(g)
			replicas := ptr.Deref(dep.Spec.Replicas, 1)
			dep.Status = appsv1.DeploymentStatus{
				ObservedGeneration: dep.Generation,
				Replicas:           replicas,
				UpdatedReplicas:    replicas,
				ReadyReplicas:      ready,
				AvailableReplicas:  ready,
				Conditions: []appsv1.DeploymentCondition{
					{Type: appsv1.DeploymentAvailable, Status: corev1.ConditionTrue, Reason: "MinimumReplicasAvailable",
						LastUpdateTime: metav1.Now(), LastTransitionTime: metav1.Now()},
					{Type: appsv1.DeploymentProgressing, Status: corev1.ConditionTrue, Reason: "NewReplicaSetAvailable",
						LastUpdateTime: metav1.Now(), LastTransitionTime: metav1.Now()},
				},
			}
			g.Expect(k8sClient.Status().Update(ctx, dep)).To(Succeed())
		}).Should(Succeed())
	}

	Context("when an InferenceService is created", func() {
		It("creates a Deployment, a Service and an HPA owned by it, with requests, limits and probes", func() {
			isvc := newInferenceService(namespace, "llm", func(i *servingv1alpha1.InferenceService) {
				i.Spec.Env = []corev1.EnvVar{{Name: "MODEL", Value: "tiny"}}
			})
			Expect(k8sClient.Create(ctx, isvc)).To(Succeed())
			isvc = getISVC("llm")

			By("running the model server in a Deployment")
			dep := &appsv1.Deployment{}
			Eventually(getDeployment("llm")).Should(Not(BeNil()))
			Expect(k8sClient.Get(ctx, key("llm"), dep)).To(Succeed())
			Expect(metav1.IsControlledBy(dep, isvc)).To(BeTrue(), "the Deployment must be controlled by the InferenceService")
			Expect(dep.Labels).To(HaveKeyWithValue("app.kubernetes.io/managed-by", "inference-operator"))
			Expect(dep.Spec.Selector.MatchLabels).To(Equal(map[string]string{"serving.inferenceops.dev/inferenceservice": "llm"}))
			Expect(dep.Spec.Replicas).To(HaveValue(Equal(int32(1))), "an autoscaled Deployment starts at the API default of 1")
			c := dep.Spec.Template.Spec.Containers[0]
			Expect(c.Image).To(Equal("ghcr.io/example/model-server:1.0"))
			Expect(c.Resources.Requests.Cpu().String()).To(Equal("500m"))
			Expect(c.Resources.Limits.Memory().String()).To(Equal("1Gi"))
			Expect(c.Env).To(ContainElement(corev1.EnvVar{Name: "MODEL", Value: "tiny"}))
			Expect(c.Ports).To(ConsistOf(HaveField("ContainerPort", int32(8080))))
			Expect(c.ReadinessProbe.HTTPGet.Path).To(Equal("/v2/health/ready"))
			Expect(c.StartupProbe.HTTPGet.Path).To(Equal("/v2/health/ready"))
			Expect(c.StartupProbe.PeriodSeconds * c.StartupProbe.FailureThreshold).To(Equal(int32(600)))
			Expect(c.LivenessProbe).To(BeNil())

			By("exposing it with a Service")
			svc := &corev1.Service{}
			Eventually(func() error { return k8sClient.Get(ctx, key("llm"), svc) }).Should(Succeed())
			Expect(metav1.IsControlledBy(svc, isvc)).To(BeTrue())
			Expect(svc.Spec.Type).To(Equal(corev1.ServiceTypeClusterIP))
			Expect(svc.Spec.Selector).To(Equal(dep.Spec.Selector.MatchLabels))
			Expect(svc.Spec.Ports).To(ConsistOf(And(HaveField("Port", int32(80)), HaveField("TargetPort", intstr.FromString("http")))))

			By("scaling it with an HPA on CPU by default")
			hpa := &autoscalingv2.HorizontalPodAutoscaler{}
			Eventually(func() error { return k8sClient.Get(ctx, key("llm"), hpa) }).Should(Succeed())
			Expect(metav1.IsControlledBy(hpa, isvc)).To(BeTrue())
			Expect(hpa.Spec.ScaleTargetRef).To(Equal(autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "llm"}))
			Expect(*hpa.Spec.MinReplicas).To(Equal(int32(1)))
			Expect(hpa.Spec.MaxReplicas).To(Equal(int32(10)))
			Expect(hpa.Spec.Metrics).To(ConsistOf(HaveField("Resource.Target.AverageUtilization", HaveValue(Equal(int32(50))))))

			By("creating no PodDisruptionBudget unless asked")
			Consistently(func() bool {
				return apierrors.IsNotFound(k8sClient.Get(ctx, key("llm"), &policyv1.PodDisruptionBudget{}))
			}).Should(BeTrue())

			By("reporting status: not Ready until the Deployment has ready pods")
			Eventually(readyCondition("llm")).Should(HaveField("Status", metav1.ConditionFalse))
			isvc = getISVC("llm")
			Expect(isvc.Status.URL).To(Equal("http://llm." + namespace + ".svc.cluster.local:80"))
			Expect(isvc.Status.Selector).To(Equal("serving.inferenceops.dev/inferenceservice=llm"))
			Expect(isvc.Status.ObservedGeneration).To(Equal(isvc.Generation))
			Expect(isvc.Status.MinReplicas).To(Equal(int32(1)))
			Expect(isvc.Status.MaxReplicas).To(Equal(int32(10)))
			Expect(isvc.Status.Targets).To(Equal("cpu: <unknown>/50%"))
		})

		It("never writes the spec of the InferenceService", func() {
			isvc := newInferenceService(namespace, "spec-untouched")
			Expect(k8sClient.Create(ctx, isvc)).To(Succeed())
			Eventually(readyCondition("spec-untouched")).ShouldNot(BeNil())
			statusWrites := 0
			for _, entry := range getISVC("spec-untouched").ManagedFields {
				if entry.Manager == FieldOwner || entry.Manager == "inference-operator-replicas-handoff" {
					Expect(entry.Subresource).To(Equal("status"), "the operator may write status only")
					statusWrites++
				}
			}
			Expect(statusWrites).To(Equal(1), "the status is written under the operator's field manager")
		})
	})

	Context("status", func() {
		It("reports Ready, replicas, desired replicas, Targets and the HPA's conditions from the children", func() {
			Expect(k8sClient.Create(ctx, newInferenceService(namespace, "status"))).To(Succeed())
			Eventually(getDeployment("status")).ShouldNot(BeNil())
			Eventually(readyCondition("status")).Should(HaveField("Status", metav1.ConditionFalse))
			Consistently(eventsOf(namespace, "status", corev1.EventTypeNormal)).Should(BeEmpty(),
				"a new InferenceService waiting for its pods is no news")

			By("the Deployment controller reporting a ready pod")
			setDeploymentStatus("status", 1)
			Eventually(readyCondition("status")).Should(And(
				HaveField("Status", metav1.ConditionTrue), HaveField("Reason", servingv1alpha1.ReasonReady)))
			Eventually(eventsOf(namespace, "status", corev1.EventTypeNormal)).Should(ContainElement(
				HaveField("Reason", servingv1alpha1.ReasonReady)))

			By("the HPA reporting a metric, a desired count and its conditions")
			Eventually(func(g Gomega) {
				hpa := &autoscalingv2.HorizontalPodAutoscaler{}
				g.Expect(k8sClient.Get(ctx, key("status"), hpa)).To(Succeed())
				now := metav1.Now()
				hpa.Status = autoscalingv2.HorizontalPodAutoscalerStatus{
					CurrentReplicas: 1,
					DesiredReplicas: 3,
					LastScaleTime:   &now,
					CurrentMetrics: []autoscalingv2.MetricStatus{{
						Type: autoscalingv2.ResourceMetricSourceType,
						Resource: &autoscalingv2.ResourceMetricStatus{Name: corev1.ResourceCPU,
							Current: autoscalingv2.MetricValueStatus{AverageUtilization: ptr.To(int32(130)), AverageValue: ptr.To(resource.MustParse("650m"))}},
					}},
					Conditions: []autoscalingv2.HorizontalPodAutoscalerCondition{
						{Type: autoscalingv2.AbleToScale, Status: corev1.ConditionTrue, Reason: "SucceededRescale", Message: "the HPA controller was able to update the target scale to 3", LastTransitionTime: now},
						{Type: autoscalingv2.ScalingActive, Status: corev1.ConditionTrue, Reason: "ValidMetricFound", Message: "the HPA was able to successfully calculate a replica count from cpu resource utilization", LastTransitionTime: now},
						{Type: autoscalingv2.ScalingLimited, Status: corev1.ConditionFalse, Reason: "DesiredWithinRange", Message: "the desired count is within the acceptable range", LastTransitionTime: now},
					},
				}
				g.Expect(k8sClient.Status().Update(ctx, hpa)).To(Succeed())
			}).Should(Succeed())

			Eventually(func(g Gomega) {
				isvc := &servingv1alpha1.InferenceService{}
				g.Expect(k8sClient.Get(ctx, key("status"), isvc)).To(Succeed())
				g.Expect(isvc.Status.DesiredReplicas).To(Equal(int32(3)))
				g.Expect(isvc.Status.Targets).To(Equal("cpu: 130%/50%"))
				g.Expect(isvc.Status.ReadyReplicas).To(Equal(int32(1)))
				g.Expect(isvc.Status.LastScaleTime).NotTo(BeNil())
				g.Expect(isvc.Status.CurrentMetrics).To(HaveLen(1))
				g.Expect(meta.FindStatusCondition(isvc.Status.Conditions, "ScalingActive")).To(And(
					HaveField("Status", metav1.ConditionTrue), HaveField("Reason", "ValidMetricFound")))
				g.Expect(meta.FindStatusCondition(isvc.Status.Conditions, "AbleToScale")).To(HaveField("Reason", "SucceededRescale"))
				g.Expect(meta.FindStatusCondition(isvc.Status.Conditions, "ScalingLimited")).To(HaveField("Status", metav1.ConditionFalse))
			}).Should(Succeed())

			By("an HPA that cannot compute a replica count showing ScalingActive=False with its reason")
			Eventually(func(g Gomega) {
				hpa := &autoscalingv2.HorizontalPodAutoscaler{}
				g.Expect(k8sClient.Get(ctx, key("status"), hpa)).To(Succeed())
				for i := range hpa.Status.Conditions {
					if hpa.Status.Conditions[i].Type == autoscalingv2.ScalingActive {
						hpa.Status.Conditions[i].Status = corev1.ConditionFalse
						hpa.Status.Conditions[i].Reason = "FailedGetPodsMetric"
						hpa.Status.Conditions[i].Message = "the HPA was unable to compute the replica count: no metrics returned"
					}
				}
				g.Expect(k8sClient.Status().Update(ctx, hpa)).To(Succeed())
			}).Should(Succeed())
			Eventually(func(g Gomega) {
				c := meta.FindStatusCondition(getISVC("status").Status.Conditions, "ScalingActive")
				g.Expect(c).To(And(HaveField("Status", metav1.ConditionFalse), HaveField("Reason", "FailedGetPodsMetric")))
			}).Should(Succeed())

			By("a stuck rollout showing Progressing=False, ProgressDeadlineExceeded")
			Eventually(func(g Gomega) {
				dep := getDeployment("status")(g)
				for i := range dep.Status.Conditions {
					if dep.Status.Conditions[i].Type == appsv1.DeploymentProgressing {
						dep.Status.Conditions[i].Status = corev1.ConditionFalse
						dep.Status.Conditions[i].Reason = "ProgressDeadlineExceeded"
						dep.Status.Conditions[i].Message = `ReplicaSet "status-abc" has timed out progressing.`
					}
				}
				g.Expect(k8sClient.Status().Update(ctx, dep)).To(Succeed())
			}).Should(Succeed())
			Eventually(func(g Gomega) {
				conds := getISVC("status").Status.Conditions
				g.Expect(meta.FindStatusCondition(conds, "Progressing")).To(And(
					HaveField("Status", metav1.ConditionFalse), HaveField("Reason", "ProgressDeadlineExceeded")))
				g.Expect(meta.FindStatusCondition(conds, "Ready")).To(And(
					HaveField("Status", metav1.ConditionFalse), HaveField("Reason", "ProgressDeadlineExceeded")))
			}).Should(Succeed())
			Eventually(warningEvents(namespace, "status")).Should(ContainElement(HaveField("Reason", "ProgressDeadlineExceeded")))
		})
	})

	Context("drift", func() {
		It("restores a child edited or deleted by hand", func() {
			Expect(k8sClient.Create(ctx, newInferenceService(namespace, "drift"))).To(Succeed())
			Eventually(getDeployment("drift")).ShouldNot(BeNil())

			By("editing the container image of the Deployment")
			Eventually(func(g Gomega) {
				dep := getDeployment("drift")(g)
				dep.Spec.Template.Spec.Containers[0].Image = "evil:latest"
				dep.Spec.Template.Spec.Containers[0].Resources = corev1.ResourceRequirements{}
				g.Expect(k8sClient.Update(ctx, dep, client.FieldOwner("kubectl-edit"))).To(Succeed())
			}).Should(Succeed())
			Eventually(func(g Gomega) {
				c := getDeployment("drift")(g).Spec.Template.Spec.Containers[0]
				g.Expect(c.Image).To(Equal("ghcr.io/example/model-server:1.0"))
				g.Expect(c.Resources.Requests.Cpu().String()).To(Equal("500m"))
			}).Should(Succeed())

			By("deleting the Service")
			svc := &corev1.Service{}
			Expect(k8sClient.Get(ctx, key("drift"), svc)).To(Succeed())
			oldUID := svc.UID
			Expect(k8sClient.Delete(ctx, svc)).To(Succeed())
			Eventually(func(g Gomega) {
				g.Expect(k8sClient.Get(ctx, key("drift"), svc)).To(Succeed())
				g.Expect(svc.UID).NotTo(Equal(oldUID))
			}).Should(Succeed())

			By("changing the Service's port number, which leaves a port entry the operator does not own")
			Eventually(func(g Gomega) {
				svc := &corev1.Service{}
				g.Expect(k8sClient.Get(ctx, key("drift"), svc)).To(Succeed())
				svc.Spec.Ports[0].Port = 8081
				g.Expect(k8sClient.Update(ctx, svc, client.FieldOwner("kubectl-edit"))).To(Succeed())
			}).Should(Succeed())
			Eventually(func(g Gomega) []corev1.ServicePort {
				svc := &corev1.Service{}
				g.Expect(k8sClient.Get(ctx, key("drift"), svc)).To(Succeed())
				return svc.Spec.Ports
			}).Should(ConsistOf(And(HaveField("Name", "http"), HaveField("Port", int32(80)))))
			Expect(meta.FindStatusCondition(getISVC("drift").Status.Conditions, servingv1alpha1.ConditionStalled)).To(BeNil())

			By("changing the HPA's bounds")
			Eventually(func(g Gomega) {
				hpa := &autoscalingv2.HorizontalPodAutoscaler{}
				g.Expect(k8sClient.Get(ctx, key("drift"), hpa)).To(Succeed())
				hpa.Spec.MaxReplicas = 2
				g.Expect(k8sClient.Update(ctx, hpa)).To(Succeed())
			}).Should(Succeed())
			Eventually(func(g Gomega) int32 {
				hpa := &autoscalingv2.HorizontalPodAutoscaler{}
				g.Expect(k8sClient.Get(ctx, key("drift"), hpa)).To(Succeed())
				return hpa.Spec.MaxReplicas
			}).Should(Equal(int32(10)))

			By("removing a label from the pod template")
			Eventually(func(g Gomega) {
				dep := getDeployment("drift")(g)
				delete(dep.Spec.Template.Labels, "app.kubernetes.io/component")
				g.Expect(k8sClient.Update(ctx, dep)).To(Succeed())
			}).Should(Succeed())
			Eventually(func(g Gomega) map[string]string {
				return getDeployment("drift")(g).Spec.Template.Labels
			}).Should(HaveKey("app.kubernetes.io/component"))
		})
	})

	Context("switching between a fixed replica count and autoscaling", func() {
		It("never drops the running replicas while the HPA takes over, and never resets what the HPA chose", func() {
			Expect(k8sClient.Create(ctx, newInferenceService(namespace, "switch", func(i *servingv1alpha1.InferenceService) {
				i.Spec.Replicas = ptr.To(int32(4))
			}))).To(Succeed())
			Eventually(func(g Gomega) *int32 { return getDeployment("switch")(g).Spec.Replicas }).Should(HaveValue(Equal(int32(4))))
			Consistently(func() bool {
				return apierrors.IsNotFound(k8sClient.Get(ctx, key("switch"), &autoscalingv2.HorizontalPodAutoscaler{}))
			}).Should(BeTrue(), "no HPA while the count is fixed")
			Eventually(func() int32 { return getISVC("switch").Status.DesiredReplicas }).Should(Equal(int32(4)))

			By("switching to autoscaling between 1 and 8")
			updateSpec("switch", func(i *servingv1alpha1.InferenceService) {
				i.Spec.Replicas = nil
				i.Spec.Autoscaling = &servingv1alpha1.AutoscalingSpec{MinReplicas: ptr.To[int32](1), MaxReplicas: 8}
			})
			Eventually(func() error {
				return k8sClient.Get(ctx, key("switch"), &autoscalingv2.HorizontalPodAutoscaler{})
			}).Should(Succeed())
			Consistently(func(g Gomega) *int32 { return getDeployment("switch")(g).Spec.Replicas }).
				Should(HaveValue(Equal(int32(4))), "the running replicas are kept until the HPA decides")

			By("the HPA scaling to 7 through the scale subresource")
			Eventually(func(g Gomega) {
				scale := &autoscalingv1.Scale{}
				g.Expect(k8sClient.SubResource("scale").Get(ctx, getDeployment("switch")(g), scale)).To(Succeed())
				scale.Spec.Replicas = 7
				g.Expect(k8sClient.SubResource("scale").Update(ctx, getDeployment("switch")(g), client.WithSubResourceBody(scale))).To(Succeed())
			}).Should(Succeed())
			By("an unrelated spec change and the resulting reconciles")
			updateSpec("switch", func(i *servingv1alpha1.InferenceService) {
				i.Spec.Env = []corev1.EnvVar{{Name: "LOG_LEVEL", Value: "debug"}}
			})
			Eventually(func(g Gomega) []corev1.EnvVar {
				return getDeployment("switch")(g).Spec.Template.Spec.Containers[0].Env
			}).Should(ContainElement(corev1.EnvVar{Name: "LOG_LEVEL", Value: "debug"}))
			Consistently(func(g Gomega) *int32 { return getDeployment("switch")(g).Spec.Replicas }).
				Should(HaveValue(Equal(int32(7))), "the operator must never reset the count the HPA chose")

			By("switching back to a fixed count of 2")
			updateSpec("switch", func(i *servingv1alpha1.InferenceService) {
				i.Spec.Autoscaling = nil
				i.Spec.Replicas = ptr.To(int32(2))
			})
			Eventually(func(g Gomega) *int32 { return getDeployment("switch")(g).Spec.Replicas }).Should(HaveValue(Equal(int32(2))))
			Eventually(func() bool {
				return apierrors.IsNotFound(k8sClient.Get(ctx, key("switch"), &autoscalingv2.HorizontalPodAutoscaler{}))
			}).Should(BeTrue(), "the HPA is deleted once the count is fixed")
			Eventually(func(g Gomega) {
				isvc := getISVC("switch")
				g.Expect(isvc.Status.DesiredReplicas).To(Equal(int32(2)))
				g.Expect(meta.FindStatusCondition(isvc.Status.Conditions, "ScalingActive")).To(BeNil())
				g.Expect(isvc.Status.Targets).To(BeEmpty())
			}).Should(Succeed())
		})
	})

	Context("PodDisruptionBudget", func() {
		It("is created when set and deleted when removed from the spec", func() {
			Expect(k8sClient.Create(ctx, newInferenceService(namespace, "pdb", func(i *servingv1alpha1.InferenceService) {
				i.Spec.PodDisruptionBudget = &servingv1alpha1.PodDisruptionBudgetSpec{MaxUnavailable: ptr.To(intstr.FromInt32(1))}
			}))).To(Succeed())
			pdb := &policyv1.PodDisruptionBudget{}
			Eventually(func() error { return k8sClient.Get(ctx, key("pdb"), pdb) }).Should(Succeed())
			Expect(metav1.IsControlledBy(pdb, getISVC("pdb"))).To(BeTrue())
			Expect(pdb.Spec.MaxUnavailable).To(HaveValue(Equal(intstr.FromInt32(1))))
			Expect(pdb.Spec.Selector.MatchLabels).To(Equal(map[string]string{"serving.inferenceops.dev/inferenceservice": "pdb"}))

			By("changing maxUnavailable to minAvailable 50%")
			updateSpec("pdb", func(i *servingv1alpha1.InferenceService) {
				i.Spec.PodDisruptionBudget = &servingv1alpha1.PodDisruptionBudgetSpec{MinAvailable: ptr.To(intstr.FromString("50%"))}
			})
			Eventually(func(g Gomega) {
				g.Expect(k8sClient.Get(ctx, key("pdb"), pdb)).To(Succeed())
				g.Expect(pdb.Spec.MinAvailable).To(HaveValue(Equal(intstr.FromString("50%"))))
				g.Expect(pdb.Spec.MaxUnavailable).To(BeNil())
			}).Should(Succeed())

			By("removing it from the spec")
			updateSpec("pdb", func(i *servingv1alpha1.InferenceService) { i.Spec.PodDisruptionBudget = nil })
			Eventually(func() bool {
				return apierrors.IsNotFound(k8sClient.Get(ctx, key("pdb"), &policyv1.PodDisruptionBudget{}))
			}).Should(BeTrue())
		})
	})

	Context("a spec the API server accepts but a child it refuses", func() {
		It("reports ApplyFailed and Stalled with a Warning event, and recovers once the spec is fixed", func() {
			Expect(k8sClient.Create(ctx, newInferenceService(namespace, "broken", func(i *servingv1alpha1.InferenceService) {
				// Two mounts at one path: admission cannot check that within its cost
				// budget, the Deployment's validation refuses it.
				i.Spec.Volumes = []corev1.Volume{
					{Name: "weights", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
					{Name: "cache", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
				}
				i.Spec.VolumeMounts = []corev1.VolumeMount{{Name: "weights", MountPath: "/models"}, {Name: "cache", MountPath: "/models"}}
			}))).To(Succeed())

			Eventually(func(g Gomega) {
				conds := getISVC("broken").Status.Conditions
				g.Expect(meta.FindStatusCondition(conds, "Ready")).To(And(
					HaveField("Status", metav1.ConditionFalse),
					HaveField("Reason", servingv1alpha1.ReasonApplyFailed),
					HaveField("Message", ContainSubstring("/models"))))
				g.Expect(meta.IsStatusConditionTrue(conds, servingv1alpha1.ConditionStalled)).To(BeTrue(), "%v", conds)
			}).Should(Succeed())
			Eventually(warningEvents(namespace, "broken")).Should(ContainElement(HaveField("Reason", servingv1alpha1.ReasonApplyFailed)))

			By("mounting the cache elsewhere")
			updateSpec("broken", func(i *servingv1alpha1.InferenceService) {
				i.Spec.VolumeMounts[1].MountPath = "/cache"
			})
			Eventually(getDeployment("broken")).ShouldNot(BeNil())
			Eventually(func(g Gomega) {
				g.Expect(meta.FindStatusCondition(getISVC("broken").Status.Conditions, servingv1alpha1.ConditionStalled)).To(BeNil())
			}).Should(Succeed())
		})
	})

	Context("an object with a child's name that the InferenceService does not own", func() {
		It("is neither adopted nor overwritten, and the InferenceService reports the conflict", func() {
			theirs := &corev1.Service{
				ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: "taken", Labels: map[string]string{"team": "search"}},
				Spec: corev1.ServiceSpec{
					Selector: map[string]string{"app": "search"},
					Ports:    []corev1.ServicePort{{Name: "web", Port: 8000}},
				},
			}
			Expect(k8sClient.Create(ctx, theirs)).To(Succeed())
			Expect(k8sClient.Create(ctx, newInferenceService(namespace, "taken"))).To(Succeed())

			Eventually(readyCondition("taken")).Should(And(
				HaveField("Status", metav1.ConditionFalse),
				HaveField("Reason", servingv1alpha1.ReasonResourceConflict),
				HaveField("Message", ContainSubstring(`a Service named "taken" already exists`))))
			Eventually(warningEvents(namespace, "taken")).Should(ContainElement(HaveField("Reason", servingv1alpha1.ReasonResourceConflict)))

			Consistently(func(g Gomega) {
				svc := &corev1.Service{}
				g.Expect(k8sClient.Get(ctx, key("taken"), svc)).To(Succeed())
				g.Expect(svc.OwnerReferences).To(BeEmpty())
				g.Expect(svc.Spec.Selector).To(Equal(map[string]string{"app": "search"}))
				g.Expect(svc.Spec.Ports).To(ConsistOf(HaveField("Port", int32(8000))))
				g.Expect(svc.Labels).NotTo(HaveKey("app.kubernetes.io/managed-by"))
			}).Should(Succeed())
		})
	})
})

// warningEvents lists the Warning events recorded about an InferenceService.
func warningEvents(namespace, name string) func(Gomega) []eventsv1.Event {
	return eventsOf(namespace, name, corev1.EventTypeWarning)
}

// eventsOf returns the events of eventType about the InferenceService name.
func eventsOf(namespace, name, eventType string) func(Gomega) []eventsv1.Event {
	return func(g Gomega) []eventsv1.Event {
		list := &eventsv1.EventList{}
		g.Expect(k8sClient.List(ctx, list, client.InNamespace(namespace))).To(Succeed())
		var out []eventsv1.Event
		for _, e := range list.Items {
			if e.Regarding.Kind == "InferenceService" && e.Regarding.Name == name && e.Type == eventType {
				out = append(out, e)
			}
		}
		return out
	}
}
