{{- define "gpupool-contributor.fullname" -}}
{{- default .Release.Name .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "gpupool-contributor.labels" -}}
app.kubernetes.io/name: gpupool-contributor
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{- define "gpupool-contributor.selectorLabels" -}}
app.kubernetes.io/name: gpupool-contributor
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* The contributed nodes' selector in label-selector syntax: k1=v1,k2=v2 (sorted). */}}
{{- define "gpupool-contributor.nodeSelectorString" -}}
{{- $pairs := list -}}
{{- range $k, $v := .Values.contributedNodeSelector -}}
{{- $pairs = append $pairs (printf "%s=%s" $k $v) -}}
{{- end -}}
{{- join "," $pairs -}}
{{- end -}}

{{/* Nodes the NVIDIA DaemonSets run on: their own nodeSelector, else the contributed nodes. */}}
{{- define "gpupool-contributor.daemonNodeSelector" -}}
{{- $sel := .daemon.nodeSelector | default .root.Values.contributedNodeSelector -}}
{{- with $sel }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}
