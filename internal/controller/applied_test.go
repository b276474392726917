package controller

import (
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/utils/ptr"

	"github.com/inferenceops/inference-operator/internal/render"
)

// deploymentOwning returns a Deployment with 3 replicas whose managedFields say the
// operator's apply owns spec.replicas and the container image.
func deploymentOwning() *appsv1.Deployment {
	return &appsv1.Deployment{
		TypeMeta: metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
		ObjectMeta: metav1.ObjectMeta{
			Name: "llm", Namespace: "ml", ResourceVersion: "42",
			ManagedFields: []metav1.ManagedFieldsEntry{{
				Manager: FieldOwner, Operation: metav1.ManagedFieldsOperationApply, APIVersion: "apps/v1", FieldsType: "FieldsV1",
				FieldsV1: metav1.NewFieldsV1(`{"f:spec":{"f:replicas":{},"f:template":{"f:spec":{"f:containers":{"k:{\"name\":\"server\"}":{".":{},"f:image":{},"f:name":{}}}}}}}`),
			}},
		},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To[int32](3),
			Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "server", Image: "model:1"}}}},
		},
	}
}

func TestTrimChildKeepsWhatTheReconcilerReads(t *testing.T) {
	full := deploymentOwning()
	want := computeOwnedFields(full)
	if want.digest == "" || !want.replicas {
		t.Fatalf("owned fields of the full Deployment = %+v, want a digest and replicas", want)
	}

	trimmed, err := trimChild(deploymentOwning())
	if err != nil {
		t.Fatal(err)
	}
	dep := trimmed.(*appsv1.Deployment)
	if len(dep.ManagedFields) != 0 || len(dep.Spec.Template.Spec.Containers) != 0 {
		t.Errorf("trimmed Deployment still has managedFields or a pod template: %+v", dep)
	}
	if ptr.Deref(dep.Spec.Replicas, 0) != 3 {
		t.Errorf("trimmed Deployment lost spec.replicas")
	}
	if got := ownedFieldsOf(dep); got != want {
		t.Errorf("owned fields from the trimmed copy = %+v, want %+v", got, want)
	}

	again, _ := trimChild(dep)
	if got := ownedFieldsOf(again.(*appsv1.Deployment)); got != want {
		t.Errorf("trimming twice changed the owned fields: %+v, want %+v", got, want)
	}
}

func TestOwnedFieldsIgnoreAnAnnotationFromTheAPIServer(t *testing.T) {
	// Someone sets the cache annotation on the live object to make the operator believe
	// its fields are intact. An object from the API server has managedFields, and a
	// stale resourceVersion never matches: the summary is computed afresh.
	edited := deploymentOwning()
	edited.Spec.Template.Spec.Containers[0].Image = "evil:latest"
	want := computeOwnedFields(edited)
	forged := computeOwnedFields(deploymentOwning())

	edited.Annotations = map[string]string{ownedFieldsAnnotation: "42 " + forged.digest + " " + ownsReplicasMark}
	if got := ownedFieldsOf(edited); got != want {
		t.Errorf("owned fields with a forged annotation = %+v, want %+v", got, want)
	}
	edited.ManagedFields = nil
	edited.ResourceVersion = "43"
	if got := ownedFieldsOf(edited); got.digest == forged.digest {
		t.Errorf("a forged annotation for another resourceVersion was believed")
	}
}

// TestApplyContentCopiesAnUnstructuredChild: createChild sets a create-only
// resourceVersion on the content of its apply. For a ScaledObject or a PodMonitor the
// content once shared the desired object's map, so when the create found the name taken
// by the service's own child (a cache that had not seen it yet), the apply that followed
// carried that resourceVersion too and failed with Conflict at every retry.
func TestApplyContentCopiesAnUnstructuredChild(t *testing.T) {
	desired := &unstructured.Unstructured{Object: map[string]any{"spec": map[string]any{"maxReplicaCount": int64(5)}}}
	desired.SetGroupVersionKind(render.ScaledObjectGVK)
	desired.SetName("llm")
	content, err := ApplyContent(desired)
	if err != nil {
		t.Fatal(err)
	}
	content.SetResourceVersion(createOnlyResourceVersion)
	if rv := desired.GetResourceVersion(); rv != "" {
		t.Errorf("the desired object got the content's resourceVersion %q", rv)
	}
	again, err := ApplyContent(desired)
	if err != nil {
		t.Fatal(err)
	}
	if rv := again.GetResourceVersion(); rv != "" {
		t.Errorf("the next apply's content carries resourceVersion %q", rv)
	}
}
