{{/* The chart name, or nameOverride. */}}
{{- define "inference-operator.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The full name resources are named after: fullnameOverride, or the release name when it
already contains the chart name, or release-chart.
*/}}
{{- define "inference-operator.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* Labels of every resource. */}}
{{- define "inference-operator.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "inference-operator.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/* Labels selecting the manager pods (the Deployment's selector, the metrics Service). */}}
{{- define "inference-operator.selectorLabels" -}}
app.kubernetes.io/name: {{ include "inference-operator.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
control-plane: controller-manager
{{- end }}

{{/* The manager's ServiceAccount. */}}
{{- define "inference-operator.serviceAccountName" -}}
{{- default (printf "%s-controller-manager" (include "inference-operator.fullname" .)) .Values.serviceAccount.name }}
{{- end }}

{{/* The namespace of the leader election Lease. */}}
{{- define "inference-operator.leaderElectionNamespace" -}}
{{- default .Release.Namespace .Values.leaderElection.namespace }}
{{- end }}

{{/* The subject list binding the manager's ServiceAccount. */}}
{{- define "inference-operator.managerSubjects" -}}
- kind: ServiceAccount
  name: {{ include "inference-operator.serviceAccountName" . }}
  namespace: {{ .Release.Namespace }}
{{- end }}
