#!/usr/bin/env bash
# End-to-end on a kind cluster, for people with Docker (or podman: KIND_EXPERIMENTAL_PROVIDER=podman,
# CONTAINER_TOOL=podman). CI has no container engine and uses the local control plane under
# test/cluster/ instead; this script is the check that the images and the chart work for real.
#
#   test/e2e/kind.sh            create the cluster, build + load images, install, call a tool
#   KEEP=1 test/e2e/kind.sh     leave the cluster running afterwards
#
# Needs: docker (or podman), kind, kubectl, helm, curl, and network access to pull node:24-slim
# and the mcp/everything example image.
set -euo pipefail
cd "$(dirname "$0")/../.."

CLUSTER=${CLUSTER:-portcullis-e2e}
TOOL=${CONTAINER_TOOL:-docker}
TAG=${TAG:-e2e}
NS=${NS:-demo}
RELEASE=portcullis
SYSTEM_NS=portcullis-system
LOCAL_PORT=${LOCAL_PORT:-18080}
OPERATOR_IMAGE=portcullis/operator:$TAG
SIDECAR_IMAGE=portcullis/sidecar:$TAG

log() { printf '\n==> %s\n' "$*"; }
pf_pid=""
cleanup() {
  [ -n "$pf_pid" ] && kill "$pf_pid" 2>/dev/null || true
  if [ "${KEEP:-0}" != 1 ]; then kind delete cluster --name "$CLUSTER" >/dev/null 2>&1 || true; fi
}
trap cleanup EXIT

for cmd in "$TOOL" kind kubectl helm curl; do
  command -v "$cmd" >/dev/null || { echo "missing: $cmd" >&2; exit 1; }
done

log "cluster $CLUSTER"
kind get clusters | grep -qx "$CLUSTER" || kind create cluster --name "$CLUSTER" --wait 120s
kubectl config use-context "kind-$CLUSTER" >/dev/null

log "images"
"$TOOL" build -f Dockerfile.operator -t "$OPERATOR_IMAGE" .
"$TOOL" build -f Dockerfile.sidecar -t "$SIDECAR_IMAGE" .
kind load docker-image --name "$CLUSTER" "$OPERATOR_IMAGE" "$SIDECAR_IMAGE"

log "helm install"
# kind's API server issues ServiceAccount tokens as https://kubernetes.default.svc.cluster.local:
# trusting that issuer lets the demo call the server with a projected token (no OpenID provider).
helm upgrade --install "$RELEASE" charts/portcullis \
  --namespace "$SYSTEM_NS" --create-namespace \
  --set image.repository=portcullis/operator --set image.tag="$TAG" --set image.pullPolicy=Never \
  --set sidecar.image.repository=portcullis/sidecar --set sidecar.image.tag="$TAG" \
  --set config.sidecar.imagePullPolicy=Never \
  --set config.authentication.serviceAccounts.issuer=https://kubernetes.default.svc.cluster.local \
  --wait --timeout 180s
kubectl -n "$SYSTEM_NS" rollout status "deployment/$RELEASE" --timeout=120s

log "examples in namespace $NS"
kubectl create namespace "$NS" --dry-run=client -o yaml | kubectl apply -f -
kubectl apply -n "$NS" -f examples/
kubectl -n "$NS" wait --for=condition=Ready mcpserver/everything --timeout=300s
kubectl -n "$NS" get mcps,mcppolicies

log "call a tool through the sidecar"
# examples/policy-engineers.yaml lets the ServiceAccount ci/release-bot start short long-running
# operations; its token's audience is the server's canonical URL (RFC 8707).
URL=$(kubectl -n "$NS" get mcpserver everything -o jsonpath='{.status.url}')
kubectl create namespace ci --dry-run=client -o yaml | kubectl apply -f -
kubectl -n ci create serviceaccount release-bot --dry-run=client -o yaml | kubectl apply -f -
TOKEN=$(kubectl -n ci create token release-bot --audience "$URL" --duration 10m)
kubectl -n "$NS" port-forward svc/everything "$LOCAL_PORT:80" >/dev/null 2>&1 &
pf_pid=$!
for _ in $(seq 1 50); do curl -s -o /dev/null "http://127.0.0.1:$LOCAL_PORT/" && break; sleep 0.2; done

HOST=${URL#http://}; HOST=${HOST%%/*}
mcp() { # mcp <session-id|-> <json>: POST one JSON-RPC message, print headers and body
  local session=()
  [ "$1" != - ] && session=(-H "Mcp-Session-Id: $1")
  curl -sS -D - "http://127.0.0.1:$LOCAL_PORT/mcp" -H "Host: $HOST" \
    -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
    -H 'Accept: application/json, text/event-stream' -H 'MCP-Protocol-Version: 2025-06-18' \
    "${session[@]}" -d "$2"
}

init=$(mcp - '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"kind-e2e","version":"1"}}}')
SESSION=$(printf '%s' "$init" | tr -d '\r' | awk -F': ' 'tolower($1)=="mcp-session-id"{print $2}')
[ -n "$SESSION" ] || { echo "initialize failed:"; echo "$init"; exit 1; }
mcp "$SESSION" '{"jsonrpc":"2.0","method":"notifications/initialized"}' >/dev/null

allowed=$(mcp "$SESSION" '{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"trigger-long-running-operation","arguments":{"duration":2,"steps":2}}}')
echo "$allowed" | grep -q '"result"' || { echo "allowed call failed:"; echo "$allowed"; exit 1; }
echo "allowed: trigger-long-running-operation answered"

denied=$(mcp "$SESSION" '{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"get-env","arguments":{}}}')
echo "$denied" | grep -q '"error"' || { echo "get-env was not denied:"; echo "$denied"; exit 1; }
echo "denied: get-env refused by policy"

log "audit events (sidecar stdout)"
kubectl -n "$NS" logs deployment/everything -c portcullis-sidecar --tail=5 || true
log "e2e passed"
