{{/* Labels of the webhook's and the controller's objects (the same as manifests/). */}}
{{- define "neo4j-operator.labels" -}}
app.kubernetes.io/name: {{ . }}
app.kubernetes.io/part-of: neo4j-operator
{{- end }}

{{/* repository:tag of an image block. */}}
{{- define "neo4j-operator.image" -}}
{{ .repository }}:{{ .tag }}
{{- end }}

{{/* Container security context shared by every container (pod security `restricted`). */}}
{{- define "neo4j-operator.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
runAsNonRoot: true
capabilities:
  drop: ["ALL"]
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{- define "neo4j-operator.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 65532
runAsGroup: 65532
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{- define "neo4j-operator.antiAffinity" -}}
podAntiAffinity:
  preferredDuringSchedulingIgnoredDuringExecution:
    - weight: 100
      podAffinityTerm:
        topologyKey: kubernetes.io/hostname
        labelSelector:
          matchLabels:
            app.kubernetes.io/name: {{ . }}
{{- end }}
