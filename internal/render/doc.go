// Package render builds the desired children of an InferenceService: the Deployment,
// Service, HorizontalPodAutoscaler and PodDisruptionBudget.
//
// Every builder is a pure function of the InferenceService: no client calls, no
// environment reads, no mutation of its input. Each returns the complete object the
// operator owns, owner reference included, and leaves out every field the operator does
// not own (Deployment spec.replicas while an HPA scales), so that server-side apply never
// fights another writer.
package render
