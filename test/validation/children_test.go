package validation

import (
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	servingv1alpha1 "github.com/inferenceops/inference-operator/api/v1alpha1"
	"github.com/inferenceops/inference-operator/internal/controller"
	"github.com/inferenceops/inference-operator/internal/render"
)

// placeholderUID stands in for the UID of an InferenceService that was never stored: the
// owner reference every child carries must name one.
const placeholderUID = types.UID("00000000-0000-4000-8000-000000000001")

// decode turns a manifest into the typed InferenceService the operator would read. It
// fails for manifests whose values do not fit the Go types (a string for a number).
func decode(obj *unstructured.Unstructured) (*servingv1alpha1.InferenceService, error) {
	isvc := &servingv1alpha1.InferenceService{}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(obj.Object, isvc); err != nil {
		return nil, err
	}
	if isvc.UID == "" {
		isvc.UID = placeholderUID
	}
	return isvc, nil
}

// childRefusals renders the children of isvc with the operator's builders and sends each
// to the API server the way the operator writes it, a server-side apply under its field
// manager, here in a dry run. It returns what the API server refused.
func childRefusals(isvc *servingv1alpha1.InferenceService) []error {
	var refusals []error
	for _, child := range renderedChildren(isvc) {
		content, err := applyContent(child)
		if err != nil {
			refusals = append(refusals, err)
			continue
		}
		err = k8sClient.Apply(ctx, client.ApplyConfigurationFromUnstructured(content),
			client.FieldOwner(controller.FieldOwner), client.ForceOwnership, client.DryRunAll)
		if err != nil {
			refusals = append(refusals, fmt.Errorf("%s: %w", content.GetKind(), err))
		}
	}
	return refusals
}

// renderedChildren is every child the spec asks for.
func renderedChildren(isvc *servingv1alpha1.InferenceService) []client.Object {
	var children []client.Object
	for _, slot := range render.Desired(isvc, render.Config{}).Slots() {
		if slot.Desired != nil {
			children = append(children, slot.Desired)
		}
	}
	return children
}

// applyContent is the body of the operator's apply request for a typed child.
func applyContent(obj client.Object) (*unstructured.Unstructured, error) {
	return controller.ApplyContent(obj)
}
