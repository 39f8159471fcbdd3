{{/* Names, labels and the derived values every template shares. */}}

{{- define "portcullis.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "portcullis.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else if contains (include "portcullis.name" .) .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name (include "portcullis.name" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "portcullis.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ include "portcullis.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: portcullis
{{- end -}}

{{- define "portcullis.selectorLabels" -}}
app.kubernetes.io/name: {{ include "portcullis.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: operator
{{- end -}}

{{- define "portcullis.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "portcullis.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "portcullis.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{- define "portcullis.sidecarImage" -}}
{{- printf "%s:%s" .Values.sidecar.image.repository (default .Chart.AppVersion .Values.sidecar.image.tag) -}}
{{- end -}}

{{/* The namespaces the operator watches in namespace mode; fails early on an empty list. */}}
{{- define "portcullis.watchedNamespaces" -}}
{{- if eq .Values.watch.mode "namespaces" -}}
{{- if not .Values.watch.namespaces -}}
{{- fail "watch.mode=namespaces needs at least one namespace in watch.namespaces" -}}
{{- end -}}
{{- join "," .Values.watch.namespaces -}}
{{- end -}}
{{- end -}}

{{/* The operator's --defaults file: values.config with the sidecar image filled in. */}}
{{- define "portcullis.defaultsFile" -}}
{{- $config := deepCopy .Values.config -}}
{{- $sidecar := mergeOverwrite (default (dict) (get $config "sidecar")) (dict "image" (include "portcullis.sidecarImage" .)) -}}
{{- $_ := set $config "sidecar" $sidecar -}}
{{- toYaml $config -}}
{{- end -}}

{{/*
The rules of the operator's own role: exactly the requests it makes (operator/src/kube, controller,
leader). Watched kinds: list + watch (informers). Owned children: created and updated with
server-side apply (patch; create when the object is new) and deleted when no longer desired; get
looks up a name before creating it, so an object the operator did not create is never taken over.
Status: applied to the status subresource. Events: created. Leases live in a Role of their own.
*/}}
{{- define "portcullis.operatorRules" -}}
- apiGroups: ["portcullis.dev"]
  resources: ["mcpservers", "mcppolicies"]
  verbs: ["list", "watch"]
- apiGroups: ["portcullis.dev"]
  resources: ["mcpservers/status", "mcppolicies/status"]
  verbs: ["patch"]
- apiGroups: [""]
  resources: ["serviceaccounts", "configmaps", "services"]
  verbs: ["get", "list", "watch", "create", "patch", "delete"]
# update: a pod template someone added to is read whole and replaced (drift.ts).
- apiGroups: ["apps"]
  resources: ["deployments"]
  verbs: ["get", "list", "watch", "create", "patch", "update", "delete"]
- apiGroups: ["networking.k8s.io"]
  resources: ["networkpolicies"]
  verbs: ["get", "list", "watch", "create", "patch", "delete"]
- apiGroups: ["policy"]
  resources: ["poddisruptionbudgets"]
  verbs: ["get", "list", "watch", "create", "patch", "delete"]
# Roles and RoleBindings a server's sidecars get, each limited by resourceNames: get and patch of
# its pins ConfigMap (render-pins.ts), and, for an external server's gateway, patch of its own
# McpServer's status (render-gateway-rbac.ts). The API server lets the operator grant them because it
# holds those verbs itself: no escalate, no bind.
- apiGroups: ["rbac.authorization.k8s.io"]
  resources: ["roles", "rolebindings"]
  verbs: ["get", "list", "watch", "create", "patch", "delete"]
- apiGroups: ["events.k8s.io"]
  resources: ["events"]
  verbs: ["create"]
# Read only, and only what status needs: why the rendered pods are unavailable (watched by label).
- apiGroups: [""]
  resources: ["pods"]
  verbs: ["list", "watch"]
{{- end -}}
