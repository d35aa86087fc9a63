{{/* The chart name, overridable. */}}
{{- define "desloc-operator.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* The prefix of every resource name: the release name, unless it already contains the chart name. */}}
{{- define "desloc-operator.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "desloc-operator.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Labels of every object. */}}
{{- define "desloc-operator.labels" -}}
helm.sh/chart: {{ include "desloc-operator.chart" . }}
{{ include "desloc-operator.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: desloc
{{- end -}}

{{/* Labels that select the operator pods (immutable in the Deployment: keep them few). */}}
{{- define "desloc-operator.selectorLabels" -}}
app.kubernetes.io/name: {{ include "desloc-operator.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* A map of labels as key=value,key=value (keys in order): the form of the operator's label flags. */}}
{{- define "desloc-operator.labelPairs" -}}
{{- $pairs := list -}}
{{- range $key, $value := . -}}
{{- $pairs = append $pairs (printf "%s=%v" $key $value) -}}
{{- end -}}
{{- join "," $pairs -}}
{{- end -}}

{{/* The selector labels as key=value,key=value: what each job's NetworkPolicy admits (--operator-pod-labels). */}}
{{- define "desloc-operator.selectorLabelPairs" -}}
{{- include "desloc-operator.labelPairs" (include "desloc-operator.selectorLabels" . | fromYaml) -}}
{{- end -}}

{{- define "desloc-operator.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "desloc-operator.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* Leader election is on when asked for, and always with more than one operator pod. */}}
{{- define "desloc-operator.leaderElection" -}}
{{- if or .Values.leaderElection.enabled (gt (int .Values.replicaCount) 1) -}}true{{- else -}}false{{- end -}}
{{- end -}}
