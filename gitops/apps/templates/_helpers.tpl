{{/* The Git repository and revision every Application of this repository follows. */}}
{{- define "mlops.git" -}}
repoURL: {{ required "repoURL: the Git repository ArgoCD follows (argocd_bootstrap_repo_url)" .Values.repoURL | quote }}
targetRevision: {{ required "targetRevision: the branch, tag or commit to follow" .Values.targetRevision | quote }}
{{- end -}}

{{/*
The image of one of the project's images as ArgoCD's kustomize.images override:
"<name in the manifests>=<repository>[:<tag>]@<digest>". Call with (list "model" .Values).
*/}}
{{- define "mlops.image" -}}
{{- $key := index . 0 -}}
{{- $image := index (index . 1).images $key -}}
{{- printf "%s=%s" $image.name $image.repository -}}
{{- if $image.tag }}:{{ $image.tag }}{{ end -}}
@{{ $image.digest }}
{{- end -}}

{{/* Automated sync with prune and self-heal, retried with back-off; extra syncOptions as a list. */}}
{{- define "mlops.syncPolicy" -}}
syncPolicy:
  automated:
    prune: true
    selfHeal: true
  retry:
    limit: 5
    backoff:
      duration: 10s
      factor: 2
      maxDuration: 5m
  syncOptions:
    - CreateNamespace=true
{{- range . }}
    - {{ . }}
{{- end }}
{{- end -}}
