package render

import (
	servingv1alpha1 "github.com/inferenceops/inference-operator/api/v1alpha1"
)

// Revisions of the builders. An operator upgrade must not restart model pods: a change
// to what the builders put into the pod template for an unchanged spec (a new default, a
// new annotation) would roll every Deployment the moment the new operator starts. Such
// a change is made under a new revision, and the builders render each InferenceService
// at the revision its children were last rendered with until its spec changes (a spec
// change rolls the pods anyway) or its owner opts in with UpgradeDefaultsAnnotation.
//
// Each released revision's pod templates are kept in testdata/releases/ and checked by
// TestReleasedRenderings: what a release rendered, later builders render identically at
// that revision.
const (
	// RevisionV010 is the rendering of release 0.1.0, the first: InferenceServices whose
	// status records no revision were rendered by it.
	RevisionV010 int32 = 1

	// RevisionNoServiceLinks turns off the Service environment variables in model pods
	// (enableServiceLinks: false). The kubelet otherwise injects five variables per
	// Service of the namespace into every container: in a namespace of many services
	// that slows container start and can collide with the model server's own settings
	// (KServe turned them off for the same reason). Nothing of this operator needs them:
	// the in-cluster DNS name is in status.url.
	RevisionNoServiceLinks int32 = 2

	// Revision is the rendering this build gives new InferenceServices and changed specs.
	Revision = RevisionNoServiceLinks
)

// UpgradeDefaultsAnnotation on an InferenceService, set to "true", renders it at the
// current Revision right away, taking the defaults of the running operator without a
// spec change (its pods roll if the pod template changes).
const UpgradeDefaultsAnnotation = "serving.inferenceops.dev/upgrade-defaults"

// RevisionFor is the revision the children of isvc are rendered at: the one recorded in
// its status while the status describes the current spec (no revision recorded means
// release 0.1.0's), and the current Revision for a new InferenceService, a changed spec,
// or an owner who opted in.
//
// It reads only the InferenceService, so the status written after a reconcile records the
// same revision the builders used.
func RevisionFor(isvc *servingv1alpha1.InferenceService) int32 {
	switch {
	case isvc.Annotations[UpgradeDefaultsAnnotation] == "true":
		return Revision
	case isvc.Status.ObservedGeneration == 0 || isvc.Status.ObservedGeneration != isvc.Generation:
		return Revision
	case isvc.Status.RenderRevision == 0:
		return RevisionV010
	case isvc.Status.RenderRevision > Revision:
		// Rendered by a newer operator, then downgraded: this build knows no better.
		return Revision
	default:
		return isvc.Status.RenderRevision
	}
}
