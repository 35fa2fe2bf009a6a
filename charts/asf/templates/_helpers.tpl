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
global.imageRegistry replaces the image's own registry; a digest wins over the tag.
*/}}
{{- define "asf.image" -}}
{{- $image := .image -}}
{{- $registry := .root.Values.global.imageRegistry | default $image.registry -}}
{{- $name := $image.repository -}}
{{- if $registry }}{{ $name = printf "%s/%s" (trimSuffix "/" $registry) $image.repository }}{{ end -}}
{{- if $image.digest -}}
{{- printf "%s@%s" $name $image.digest -}}
{{- else -}}
{{- printf "%s:%s" $name (toString $image.tag) -}}
{{- end -}}
{{- end -}}
