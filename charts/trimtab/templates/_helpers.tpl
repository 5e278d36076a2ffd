{{/* Names. nameOverride replaces the chart's name, fullnameOverride the
whole prefix of every object's name (the Helm convention). */}}
{{- define "trimtab.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "trimtab.fullname" -}}
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

{{- define "trimtab.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{ include "trimtab.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- with .Values.additionalLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{- define "trimtab.selectorLabels" -}}
app.kubernetes.io/name: {{ include "trimtab.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: manager
{{- end }}

{{- define "trimtab.serviceAccountName" -}}
{{- if .Values.manager.serviceAccount.create }}
{{- default (include "trimtab.fullname" .) .Values.manager.serviceAccount.name }}
{{- else }}
{{- required "manager.serviceAccount.name is required when manager.serviceAccount.create is false" .Values.manager.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The serving Certificate, its Secret, and the Issuer that signs it. */}}
{{- define "trimtab.certificateName" -}}
{{- printf "%s-webhook" (include "trimtab.fullname" .) }}
{{- end }}
{{- define "trimtab.tlsSecretName" -}}
{{- printf "%s-webhook-tls" (include "trimtab.fullname" .) }}
{{- end }}

{{/* Namespaces the webhooks never see: the configured ones and the release's. */}}
{{- define "trimtab.excludedNamespaces" -}}
{{- uniq (append (.Values.settings.excludedNamespaces | default list) .Release.Namespace) | toJson }}
{{- end }}

{{/* How the apiserver reaches a webhook path: the Service, or a dev URL. */}}
{{- define "trimtab.clientConfig" -}}
{{- if .root.Values.webhook.url }}
url: {{ printf "%s%s" (trimSuffix "/" .root.Values.webhook.url) .path | quote }}
{{- else }}
service:
  name: {{ include "trimtab.fullname" .root }}
  namespace: {{ .root.Release.Namespace }}
  path: {{ .path | quote }}
  port: 443
{{- end }}
{{- end }}

{{- define "trimtab.namespaceSelector" -}}
namespaceSelector:
  matchLabels:
    trimtab.dev/enabled: "true"
  matchExpressions:
    - key: kubernetes.io/metadata.name
      operator: NotIn
      values: {{ include "trimtab.excludedNamespaces" . }}
{{- end }}

{{/* The manager's image: repository:tag, pinned by @digest when one is set. */}}
{{- define "trimtab.image" -}}
{{- $tag := .Values.image.tag | default .Chart.AppVersion }}
{{- if .Values.image.digest }}
{{- printf "%s:%s@%s" .Values.image.repository $tag .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository $tag }}
{{- end }}
{{- end }}
