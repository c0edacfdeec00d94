#!/usr/bin/env bash
# The kind cluster of the e2e tier (and of a laptop quick start with Docker):
#
#   scripts/e2e-kind.sh up     create the cluster from kind-config.yaml (or reuse it), install KEDA and
#                              ingress-nginx (pinned releases), build both lgp images, load them into kind
#   scripts/e2e-kind.sh down   delete the cluster
#   scripts/e2e-kind.sh env    print the variables the e2e test reads (KUBECONFIG, image names)
#
# Settings (environment): LGP_E2E_CLUSTER (default lgp-e2e), LGP_E2E_WORKDIR (default /tmp/lgp-e2e,
# holds the cluster's kubeconfig so that ~/.kube/config is never touched), LGP_E2E_IMAGE_TAG (default e2e).
# Needs: docker (a running engine), kind, kubectl. Every missing piece is named, and the script exits 1.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CLUSTER="${LGP_E2E_CLUSTER:-lgp-e2e}"
WORKDIR="${LGP_E2E_WORKDIR:-/tmp/lgp-e2e}"
TAG="${LGP_E2E_IMAGE_TAG:-e2e}"
KUBECONFIG_PATH="$WORKDIR/kubeconfig"

# Pinned versions: bump deliberately, together with .github/workflows/e2e.yaml.
KIND_NODE_IMAGE="${LGP_E2E_NODE_IMAGE:-kindest/node:v1.31.2}"
KEDA_VERSION="2.16.1"
INGRESS_NGINX_VERSION="1.12.0"
KEDA_MANIFEST="https://github.com/kedacore/keda/releases/download/v${KEDA_VERSION}/keda-${KEDA_VERSION}.yaml"
INGRESS_NGINX_MANIFEST="https://raw.githubusercontent.com/kubernetes/ingress-nginx/controller-v${INGRESS_NGINX_VERSION}/deploy/static/provider/kind/deploy.yaml"

CONTROL_PLANE_IMAGE="lgp-control-plane:${TAG}"
DATA_PLANE_IMAGE="lgp-data-plane:${TAG}"

log() { printf '\n==> %s\n' "$*" >&2; }
die() { printf 'e2e-kind: %s\n' "$*" >&2; exit 1; }

preflight() {
  local missing=()
  for tool in docker kind kubectl; do
    command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
  done
  [ ${#missing[@]} -eq 0 ] || die "missing tools: ${missing[*]} (install them: https://kind.sigs.k8s.io, https://kubernetes.io/docs/tasks/tools/)"
  docker info >/dev/null 2>&1 || die "no Docker engine answers (docker info failed): kind needs one"
}

kctl() { kubectl --kubeconfig "$KUBECONFIG_PATH" "$@"; }

up() {
  preflight
  mkdir -p "$WORKDIR"
  clusters="$(kind get clusters 2>/dev/null || true)"
  if grep -qx "$CLUSTER" <<<"$clusters"; then
    log "reusing kind cluster $CLUSTER"
    kind get kubeconfig --name "$CLUSTER" >"$KUBECONFIG_PATH"
  else
    log "creating kind cluster $CLUSTER ($KIND_NODE_IMAGE) from kind-config.yaml"
    kind create cluster --name "$CLUSTER" --config "$ROOT/kind-config.yaml" --image "$KIND_NODE_IMAGE" \
      --kubeconfig "$KUBECONFIG_PATH" --wait 180s
  fi
  chmod 600 "$KUBECONFIG_PATH"

  log "installing ingress-nginx $INGRESS_NGINX_VERSION"
  kctl apply -f "$INGRESS_NGINX_MANIFEST"
  log "installing KEDA $KEDA_VERSION"
  # KEDA's CRDs are too large for client-side apply's last-applied annotation.
  kctl apply --server-side --force-conflicts -f "$KEDA_MANIFEST"

  log "building images ($CONTROL_PLANE_IMAGE, $DATA_PLANE_IMAGE)"
  local revision
  revision="$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)"
  docker build -f "$ROOT/images/control-plane.Dockerfile" --build-arg VERSION="$TAG" \
    --build-arg REVISION="$revision" -t "$CONTROL_PLANE_IMAGE" "$ROOT"
  docker build -f "$ROOT/images/data-plane.Dockerfile" --build-arg VERSION="$TAG" \
    --build-arg REVISION="$revision" -t "$DATA_PLANE_IMAGE" "$ROOT"
  log "loading images into kind"
  kind load docker-image --name "$CLUSTER" "$CONTROL_PLANE_IMAGE" "$DATA_PLANE_IMAGE"

  log "waiting for ingress-nginx and KEDA"
  kctl -n ingress-nginx wait --for=condition=complete job --all --timeout=300s
  kctl -n ingress-nginx wait --for=condition=ready pod -l app.kubernetes.io/component=controller --timeout=300s
  kctl -n keda wait --for=condition=available deployment --all --timeout=300s
  log "cluster $CLUSTER is ready (KUBECONFIG=$KUBECONFIG_PATH)"
}

down() {
  command -v kind >/dev/null 2>&1 || die "kind is not installed"
  kind delete cluster --name "$CLUSTER"
  rm -f "$KUBECONFIG_PATH"
}

env_vars() {
  printf 'KUBECONFIG=%s\nLGP_E2E_CONTROL_PLANE_IMAGE=%s\nLGP_E2E_DATA_PLANE_IMAGE=%s\n' \
    "$KUBECONFIG_PATH" "$CONTROL_PLANE_IMAGE" "$DATA_PLANE_IMAGE"
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  env) env_vars ;;
  *) echo "usage: $0 up|down|env" >&2; exit 2 ;;
esac
