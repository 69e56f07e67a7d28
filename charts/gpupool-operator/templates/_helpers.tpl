{{- define "gpupool-operator.fullname" -}}
{{- default .Release.Name .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "gpupool-operator.labels" -}}
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
