{{/*
Names, labels and small helpers shared by every template (helm create conventions).
*/}}

{{/* The chart name, overridable with nameOverride. */}}
{{- define "lgp.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The fully qualified app name, at most 63 characters (some names are suffixed, so components
truncate again). If the release name contains the chart name it is used as is.
*/}}
{{- define "lgp.fullname" -}}
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

{{/* Chart name and version, for the helm.sh/chart label. */}}
{{- define "lgp.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels on every object. */}}
{{- define "lgp.labels" -}}
helm.sh/chart: {{ include "lgp.chart" . }}
app.kubernetes.io/name: {{ include "lgp.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: lgp
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* Selector labels of the release (components add app.kubernetes.io/component). */}}
{{- define "lgp.selectorLabels" -}}
app.kubernetes.io/name: {{ include "lgp.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/*
Per-component names and labels. Call with (dict "ctx" $ "component" "control-plane").
*/}}
{{- define "lgp.componentName" -}}
{{- printf "%s-%s" (include "lgp.fullname" .ctx | trunc 45 | trimSuffix "-") .component }}
{{- end }}

{{- define "lgp.componentLabels" -}}
{{ include "lgp.labels" .ctx }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "lgp.componentSelectorLabels" -}}
{{ include "lgp.selectorLabels" .ctx }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/*
The ServiceAccount name of a component. Call with (dict "ctx" $ "component" "operator" "sa" .Values.operator.serviceAccount).
*/}}
{{- define "lgp.serviceAccountName" -}}
{{- if .sa.create }}
{{- default (include "lgp.componentName" .) .sa.name }}
{{- else }}
{{- default "default" .sa.name }}
{{- end }}
{{- end }}

{{/*
An image reference. Call with (dict "ctx" $ "image" .Values.controlPlane.image); the tag defaults to
the chart's appVersion; a digest, when set, wins over the tag.
*/}}
{{- define "lgp.image" -}}
{{- $registry := .image.registry | default .ctx.Values.global.imageRegistry -}}
{{- $repo := .image.repository -}}
{{- if $registry }}{{ $repo = printf "%s/%s" $registry $repo }}{{ end -}}
{{- if .image.digest -}}
{{- printf "%s@%s" $repo .image.digest }}
{{- else -}}
{{- printf "%s:%s" $repo (.image.tag | default .ctx.Chart.AppVersion | toString) }}
{{- end -}}
{{- end }}

{{/* imagePullSecrets for every pod of the release. */}}
{{- define "lgp.imagePullSecrets" -}}
{{- with .Values.global.imagePullSecrets -}}
imagePullSecrets:
{{- range . }}
  - name: {{ . }}
{{- end }}
{{- end }}
{{- end }}

{{/* Whether each component is rendered (the two top-level toggles gate their parts). */}}
{{- define "lgp.controlPlane.enabled" -}}
{{- if .Values.controlPlane.enabled }}true{{ end }}
{{- end }}

{{- define "lgp.postgres.enabled" -}}
{{- if and .Values.controlPlane.enabled .Values.postgres.enabled }}true{{ end }}
{{- end }}

{{- define "lgp.listener.enabled" -}}
{{- if and .Values.dataPlane.enabled .Values.listener.enabled }}true{{ end }}
{{- end }}

{{- define "lgp.operator.enabled" -}}
{{- if and .Values.dataPlane.enabled .Values.operator.enabled }}true{{ end }}
{{- end }}

{{- define "lgp.usageReporter.enabled" -}}
{{- if and .Values.dataPlane.enabled .Values.usageReporter.enabled }}true{{ end }}
{{- end }}

{{/*
The namespaces the data plane manages: dataPlane.namespaces, or the release namespace. Rendered as
a comma-separated list (the LGP_*_NAMESPACES format).
*/}}
{{- define "lgp.dataPlane.namespaces" -}}
{{- if .Values.dataPlane.namespaces }}
{{- join "," .Values.dataPlane.namespaces }}
{{- else }}
{{- .Release.Namespace }}
{{- end }}
{{- end }}

{{/* The control plane's Secret (encryption keys, admin key, database URL). */}}
{{- define "lgp.controlPlane.secretName" -}}
{{- if .Values.controlPlane.existingSecret }}
{{- .Values.controlPlane.existingSecret }}
{{- else }}
{{- include "lgp.componentName" (dict "ctx" . "component" "control-plane") }}
{{- end }}
{{- end }}

{{/* The in-cluster URL of the control plane's Service. */}}
{{- define "lgp.controlPlane.internalUrl" -}}
{{- printf "http://%s.%s.svc:%v" (include "lgp.componentName" (dict "ctx" . "component" "control-plane")) .Release.Namespace .Values.controlPlane.service.port }}
{{- end }}

{{/* The URL the listener dials: listener.controlPlaneUrl, or this release's control plane. */}}
{{- define "lgp.listener.controlPlaneUrl" -}}
{{- if .Values.listener.controlPlaneUrl }}
{{- .Values.listener.controlPlaneUrl }}
{{- else if .Values.controlPlane.enabled }}
{{- include "lgp.controlPlane.internalUrl" . }}
{{- else }}
{{- fail "listener.controlPlaneUrl is required when controlPlane.enabled is false: set the URL of the control plane the listener dials" }}
{{- end }}
{{- end }}

{{/* The listener's Secret holding its token. */}}
{{- define "lgp.listener.secretName" -}}
{{- if .Values.listener.existingSecret }}
{{- .Values.listener.existingSecret }}
{{- else }}
{{- include "lgp.componentName" (dict "ctx" . "component" "listener") }}
{{- end }}
{{- end }}

{{/*
Reuse a value of an existing Secret (the lookup pattern): returns the decoded value of key in the
Secret named name in the release namespace, or "" when the Secret or the key does not exist (always
so on `helm template`, where lookup returns nothing). Call with (dict "ctx" $ "name" N "key" K).
*/}}
{{- define "lgp.existingSecretValue" -}}
{{- $secret := lookup "v1" "Secret" .ctx.Release.Namespace .name -}}
{{- if and $secret $secret.data (hasKey $secret.data .key) -}}
{{- index $secret.data .key | b64dec -}}
{{- end -}}
{{- end }}

{{/* A fresh Fernet key: 32 random bytes, url-safe base64. */}}
{{- define "lgp.fernetKey" -}}
{{- randAlphaNum 32 | b64enc | replace "+" "-" | replace "/" "_" -}}
{{- end }}

{{/* The bundled PostgreSQL's password: postgres.password, the one already in the cluster, or a new one. */}}
{{- define "lgp.postgres.password" -}}
{{- $name := include "lgp.componentName" (dict "ctx" . "component" "postgres") -}}
{{- .Values.postgres.password | default (include "lgp.existingSecretValue" (dict "ctx" . "name" $name "key" "password")) | default (randAlphaNum 32) -}}
{{- end }}

{{/*
The data of the control plane's Secret as JSON: values given win, then the values of the Secret
already in the cluster (lookup), then new ones. Computed once per render and memoised, so that the
Secret and the Deployment's checksum/secret annotation see the same generated values.
*/}}
{{- define "lgp.controlPlane.secretData" -}}
{{- if not (hasKey .Values.controlPlane "_secretData") -}}
{{- $existing := dict "ctx" . "name" (include "lgp.controlPlane.secretName" .) -}}
{{- $data := dict -}}
{{- $_ := set $data "encryption-keys" (.Values.controlPlane.encryptionKeys | default (include "lgp.existingSecretValue" (set $existing "key" "encryption-keys")) | default (include "lgp.fernetKey" .)) -}}
{{- $_ := set $data "admin-api-key" (.Values.controlPlane.adminApiKey | default (include "lgp.existingSecretValue" (set $existing "key" "admin-api-key")) | default (randAlphaNum 48)) -}}
{{- if .Values.postgres.enabled -}}
{{- /* the Deployment composes the URL from the bundled database's own Secret */ -}}
{{- else if .Values.controlPlane.database.existingSecret -}}
{{- else if .Values.controlPlane.database.url -}}
{{- $_ := set $data "database-url" .Values.controlPlane.database.url -}}
{{- else -}}
{{- fail "controlPlane.database.url is required: set controlPlane.database.url (or controlPlane.database.existingSecret) to an external PostgreSQL, or postgres.enabled=true to run a bundled one for evaluation" -}}
{{- end -}}
{{- $_ := set .Values.controlPlane "_secretData" $data -}}
{{- end -}}
{{- toJson .Values.controlPlane._secretData -}}
{{- end }}

{{/*
The peers (JSON) that may reach every deployment's managed Postgres besides its own server pods:
this release's usage reporter when it runs, and operator.networkPolicy.databasePeers.
*/}}
{{- define "lgp.operator.databasePeers" -}}
{{- $peers := list -}}
{{- if include "lgp.usageReporter.enabled" . -}}
{{- $reporter := dict "namespaceSelector" (dict "matchLabels" (dict "kubernetes.io/metadata.name" .Release.Namespace)) "podSelector" (dict "matchLabels" (include "lgp.componentSelectorLabels" (dict "ctx" . "component" "usage-reporter") | fromYaml)) -}}
{{- $peers = append $peers $reporter -}}
{{- end -}}
{{- $peers = concat $peers .Values.operator.networkPolicy.databasePeers -}}
{{- toJson $peers -}}
{{- end }}

{{/* Where the usage reporter submits: usageReporter.beaconUrl, or this release's control plane. */}}
{{- define "lgp.usageReporter.beaconUrl" -}}
{{- if .Values.usageReporter.beaconUrl }}
{{- .Values.usageReporter.beaconUrl }}
{{- else if .Values.controlPlane.enabled }}
{{- include "lgp.controlPlane.internalUrl" . }}
{{- else }}
{{- fail "usageReporter.beaconUrl is required when controlPlane.enabled is false (or set usageReporter.airgapped.enabled=true)" }}
{{- end }}
{{- end }}

{{/*
A NetworkPolicy for one component's pods. Call with (dict "ctx" $ "component" "operator" "port" 8081
"from" PEERS "noEgress" BOOL): ingress to TCP port from PEERS (omitted: from anyone; no port: no ingress
at all), and with noEgress no connection out either.
*/}}
{{- define "lgp.networkPolicy" -}}
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: {{ include "lgp.componentName" (dict "ctx" .ctx "component" .component) }}
  namespace: {{ .ctx.Release.Namespace }}
  labels:
    {{- include "lgp.componentLabels" (dict "ctx" .ctx "component" .component) | nindent 4 }}
spec:
  podSelector:
    matchLabels:
      {{- include "lgp.componentSelectorLabels" (dict "ctx" .ctx "component" .component) | nindent 6 }}
  policyTypes:
    - Ingress
    {{- if .noEgress }}
    - Egress
  egress: []
    {{- end }}
  {{- if .port }}
  ingress:
    - ports:
        - protocol: TCP
          port: {{ .port }}
      {{- with .from }}
      from:
        {{- toYaml . | nindent 8 }}
      {{- end }}
  {{- else }}
  ingress: []
  {{- end }}
{{- end }}

{{/* A NetworkPolicy peer: this release's pods of one component. Call with (dict "ctx" $ "component" C). */}}
{{- define "lgp.peer" -}}
podSelector:
  matchLabels:
    {{- include "lgp.componentSelectorLabels" . | nindent 4 }}
{{- end }}
