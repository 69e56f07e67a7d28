{{- define "gpupool-contributor.fullname" -}}
{{- default .Release.Name .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "gpupool-contributor.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
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

{{/* The agent's image, shared by its Deployment and the uninstall hook. */}}
{{- define "gpupool-contributor.agentImage" -}}
image: "{{ .Values.agent.image.repository }}:{{ .Values.agent.image.tag | default .Chart.AppVersion }}"
imagePullPolicy: {{ .Values.agent.image.pullPolicy }}
{{- end -}}

{{/* The agent's environment (its whole configuration), shared by its Deployment and the uninstall hook. */}}
{{- define "gpupool-contributor.agentEnv" -}}
- name: QUARKUS_PROFILE
  value: prod
# Same application as the operator, other role: the operator's controllers stay off.
- name: GPUPOOL_ROLE
  value: agent
- name: GPUPOOL_AGENT_ORGANIZATION
  value: {{ required "organization is required" .Values.organization | quote }}
- name: GPUPOOL_AGENT_CLUSTER
  value: {{ required "clusterName is required" .Values.clusterName | quote }}
- name: GPUPOOL_AGENT_NODE_SELECTOR
  value: {{ include "gpupool-contributor.nodeSelectorString" . | quote }}
- name: GPUPOOL_AGENT_SERVING_NAMESPACE
  value: {{ .Values.servingNamespace.name | quote }}
- name: GPUPOOL_AGENT_HEARTBEAT_INTERVAL_SECONDS
  value: {{ .Values.heartbeatIntervalSeconds | quote }}
- name: GPUPOOL_AGENT_REVOCATION_GRACE_SECONDS
  value: {{ .Values.revocationGraceSeconds | quote }}
- name: GPUPOOL_AGENT_POLICY_ALLOWED_IMAGES
  value: {{ join "," .Values.policy.allowedImages | quote }}
- name: GPUPOOL_AGENT_POLICY_ALLOW_PRIVILEGED
  value: {{ .Values.policy.allowPrivileged | quote }}
- name: GPUPOOL_AGENT_POLICY_ALLOW_HOST_PATH
  value: {{ .Values.policy.allowHostPath | quote }}
- name: GPUPOOL_AGENT_POLICY_ALLOW_REMOTE_CODE
  value: {{ .Values.policy.allowRemoteCode | quote }}
- name: GPUPOOL_AGENT_POLICY_ALLOW_UNSAFE_WEIGHTS
  value: {{ .Values.policy.allowUnsafeWeights | quote }}
{{- with .Values.policy.allowedPriorityClasses }}
- name: GPUPOOL_AGENT_POLICY_ALLOWED_PRIORITY_CLASSES
  value: {{ join "," . | quote }}
{{- end }}
{{- if not .Values.hub.inCluster }}
- name: GPUPOOL_AGENT_HUB_KUBECONFIG
  value: /etc/gpupool/hub/{{ .Values.hub.kubeconfigKey }}
# The short-lived token the agent renews at the pool, kept across restarts.
- name: GPUPOOL_AGENT_TOKEN_SECRET
  value: {{ printf "%s/%s-hub-token" .Release.Namespace (include "gpupool-contributor.fullname" .) | quote }}
{{- end }}
{{- with .Values.gateway.url }}
- name: GPUPOOL_AGENT_GATEWAY_URL
  value: {{ . | quote }}
{{- end }}
{{- if .Values.gateway.caSecret }}
- name: GPUPOOL_AGENT_GATEWAY_CA_FILE
  value: /etc/gpupool/gateway-ca/{{ .Values.gateway.caKey }}
{{- end }}
{{- with .Values.agent.extraEnv }}
{{- toYaml . | nindent 0 }}
{{- end }}
{{- end -}}

{{/* The agent container's securityContext and volumeMounts. */}}
{{- define "gpupool-contributor.agentContainerSecurity" -}}
securityContext:
  allowPrivilegeEscalation: false
  readOnlyRootFilesystem: true
  runAsNonRoot: true
  capabilities:
    drop: ["ALL"]
volumeMounts:
  - name: tmp
    mountPath: /tmp
  {{- if not .Values.hub.inCluster }}
  - name: hub-kubeconfig
    mountPath: /etc/gpupool/hub
    readOnly: true
  {{- end }}
  {{- if .Values.gateway.caSecret }}
  - name: gateway-ca
    mountPath: /etc/gpupool/gateway-ca
    readOnly: true
  {{- end }}
{{- end -}}

{{/* The agent pod's volumes: scratch space and the pool's kubeconfig. */}}
{{- define "gpupool-contributor.agentVolumes" -}}
volumes:
  - name: tmp
    emptyDir: {}
  {{- if not .Values.hub.inCluster }}
  - name: hub-kubeconfig
    secret:
      secretName: {{ .Values.hub.kubeconfigSecret }}
      items:
        - key: {{ .Values.hub.kubeconfigKey }}
          path: {{ .Values.hub.kubeconfigKey }}
  {{- end }}
  {{- if .Values.gateway.caSecret }}
  - name: gateway-ca
    secret:
      secretName: {{ .Values.gateway.caSecret }}
      items:
        - key: {{ .Values.gateway.caKey }}
          path: {{ .Values.gateway.caKey }}
  {{- end }}
{{- end -}}
