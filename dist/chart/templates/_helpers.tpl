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

{{/*
The default security contexts of values.yaml (securityContext, containerSecurityContext),
which the deprecated names are read against. Templates cannot read the chart's own
values.yaml apart from the user's values, so they are repeated here; keep both in step
(test/chart checks the deprecated names against the defaults of values.yaml).
*/}}
{{- define "inference-operator.defaultSecurityContexts" -}}
pod:
  runAsNonRoot: true
  runAsUser: 65532
  runAsGroup: 65532
  seccompProfile:
    type: RuntimeDefault
container:
  readOnlyRootFilesystem: true
  allowPrivilegeEscalation: false
  capabilities:
    drop:
    - ALL
{{- end }}

{{/*
The security contexts of the manager pod and container, as YAML:
  pod: {...}         the pod's spec.securityContext
  container: {...}   the manager container's securityContext
  deprecated: ""     or why the old value names are in use (for the warning in NOTES.txt)
New names: securityContext is the pod's, containerSecurityContext the container's. Old
names (deprecated, removed in 0.2.0): podSecurityContext the pod's, securityContext the
container's. The old ones are in use when podSecurityContext is set or securityContext holds
a container-only field; values.yaml documents the rules.
*/}}
{{- define "inference-operator.securityContexts" -}}
{{- $defaults := include "inference-operator.defaultSecurityContexts" . | fromYaml }}
{{- $pod := .Values.securityContext | default dict }}
{{- $container := .Values.containerSecurityContext | default dict }}
{{- $oldPod := .Values.podSecurityContext | default dict }}
{{- $containerOnly := list }}
{{- range list "allowPrivilegeEscalation" "capabilities" "privileged" "procMount" "readOnlyRootFilesystem" }}
{{- if hasKey $pod . }}{{ $containerOnly = append $containerOnly . }}{{ end }}
{{- end }}
{{- $deprecated := "" }}
{{- if $oldPod }}
{{- $deprecated = "podSecurityContext is set" }}
{{- else if $containerOnly }}
{{- $deprecated = printf "securityContext sets %s, which only a container has" (join ", " $containerOnly) }}
{{- end }}
{{- if $deprecated }}
{{- /* Compared as YAML: the user's values and parsed YAML differ in their Go map types. */}}
{{- if ne (toYaml $container) (toYaml $defaults.container) }}
{{- fail (printf "%s, so securityContext is read as the container's (the deprecated names); containerSecurityContext cannot be set as well. Use the new names only: securityContext for the pod, containerSecurityContext for the container" $deprecated) }}
{{- end }}
{{- $podOnly := list }}
{{- range list "fsGroup" "fsGroupChangePolicy" "seLinuxChangePolicy" "supplementalGroups" "supplementalGroupsPolicy" "sysctls" }}
{{- if hasKey $pod . }}{{ $podOnly = append $podOnly . }}{{ end }}
{{- end }}
{{- if $podOnly }}
{{- fail (printf "%s, so securityContext is read as the container's (the deprecated names), but it sets %s, which only a pod has. Use the new names only: securityContext for the pod, containerSecurityContext for the container" $deprecated (join ", " $podOnly)) }}
{{- end }}
{{- /* A field with the default pod value comes from the defaults of the new securityContext. */}}
{{- $oldContainer := dict }}
{{- range $field, $value := $pod }}
{{- if not (and (hasKey $defaults.pod $field) (eq (toYaml $value) (toYaml (get $defaults.pod $field)))) }}
{{- $_ := set $oldContainer $field $value }}
{{- end }}
{{- end }}
{{- $pod = mergeOverwrite $defaults.pod $oldPod }}
{{- $container = mergeOverwrite $defaults.container $oldContainer }}
{{- end }}
{{- toYaml (dict "pod" $pod "container" $container "deprecated" $deprecated) }}
{{- end }}
