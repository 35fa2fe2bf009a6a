{{/* Names are <release>-asf-<part>, cut to 63 characters. */}}
{{- define "asf.fullname" -}}
{{- if contains "asf" .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-asf" .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "asf.gatewayName" -}}
{{- printf "%s-gateway" (include "asf.fullname" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* dict "root" $ "name" <capability> */}}
{{- define "asf.loaderName" -}}
{{- printf "%s-%s" (include "asf.fullname" .root) .name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "asf.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "asf.gatewayName" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "asf.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: asf
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{/* The label selector the gateway watches EndpointSlices with (slices inherit their Service's labels). */}}
{{- define "asf.loaderSelector" -}}
app.kubernetes.io/name=asf,app.kubernetes.io/instance={{ .Release.Name }},app.kubernetes.io/component=loader
{{- end -}}

{{/*
An image reference: dict "root" $ "image" {registry, repository, tag, digest}.
global.imageRegistry replaces the image's own registry; a digest wins over the tag. Without one,
global.imageDigests (what the bundle builder records for every image it carries, by
"repository:tag") pins the tag to the bundle's content, so a rebuilt bundle of the same version
rolls out instead of running whatever a node cached under that tag.
*/}}
{{- define "asf.image" -}}
{{- $image := .image -}}
{{- $registry := .root.Values.global.imageRegistry | default $image.registry -}}
{{- $name := $image.repository -}}
{{- if $registry }}{{ $name = printf "%s/%s" (trimSuffix "/" $registry) $image.repository }}{{ end -}}
{{- $pinned := get (.root.Values.global.imageDigests | default dict) (printf "%s:%s" $image.repository (toString $image.tag)) -}}
{{- if $image.digest -}}
{{- printf "%s@%s" $name $image.digest -}}
{{- else if $pinned -}}
{{- printf "%s:%s@%s" $name (toString $image.tag) $pinned -}}
{{- else -}}
{{- printf "%s:%s" $name (toString $image.tag) -}}
{{- end -}}
{{- end -}}

{{- define "asf.registrySecretName" -}}
{{- printf "%s-registry" (include "asf.fullname" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* imagePullSecrets of every Pod: the named ones, plus the chart's own when it has credentials. */}}
{{- define "asf.imagePullSecrets" -}}
{{- $names := .Values.global.imagePullSecrets | default list -}}
{{- if .Values.global.imageRegistryAuth }}{{ $names = append $names (include "asf.registrySecretName" .) }}{{ end -}}
{{- with $names }}
imagePullSecrets:
  {{- range . }}
  - name: {{ . }}
  {{- end }}
{{- end }}
{{- end -}}
