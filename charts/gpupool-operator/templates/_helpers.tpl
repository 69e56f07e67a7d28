{{- define "gpupool-operator.fullname" -}}
{{- default .Release.Name .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "gpupool-operator.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/name: gpupool-operator
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{- define "gpupool-operator.selectorLabels" -}}
app.kubernetes.io/name: gpupool-operator
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "gpupool-operator.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}

{{/* The gateway's name (its Deployment, Service, ServiceAccount, report slots). */}}
{{- define "gpupool-operator.gateway.fullname" -}}
{{ include "gpupool-operator.fullname" . }}-gateway
{{- end -}}

{{- define "gpupool-operator.gateway.selectorLabels" -}}
app.kubernetes.io/name: gpupool-gateway
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* The gateway's base URL (…/v1) as members call it: gateway.publicUrl, else its in-cluster Service. */}}
{{- define "gpupool-operator.gateway.url" -}}
{{- if .Values.gateway.publicUrl -}}
{{ .Values.gateway.publicUrl }}
{{- else -}}
http://{{ include "gpupool-operator.gateway.fullname" . }}.{{ .Release.Namespace }}.svc{{ if ne (int .Values.gateway.service.port) 80 }}:{{ .Values.gateway.service.port }}{{ end }}/v1
{{- end -}}
{{- end -}}
