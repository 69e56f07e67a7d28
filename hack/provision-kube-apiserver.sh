#!/usr/bin/env bash
# Provision a real Kubernetes 1.20.2 control plane for the tests (kube-apiserver, etcd, kubectl,
# kube-controller-manager, kube-scheduler) WITHOUT internet access, only from Debian's package mirrors, into the
# directory io.fabric8:kube-api-test reads (it ignores the two controllers; the cluster harness starts them):
#
#   ${KUBE_API_TEST_DIR:-$HOME/.kubeapitest}/k8s/1.20.2-linux-amd64/{kube-apiserver,etcd,kubectl,
#                                                                   kube-controller-manager,kube-scheduler}
#
# - kube-apiserver, kube-controller-manager, kube-scheduler: built from Debian bookworm's `kubernetes` source package
#   (1.20.2, vendored deps), with the vendored reflect2/json-iterator replaced by Debian's newer packages (the vendored
#   reflect2 1.0.1 crashes the server on the first custom-resource write when built with Go >= 1.18). Only the
#   missing ones are built (a cache that has kube-apiserver gets just the two controllers).
# - etcd, kubectl: extracted from the etcd-server and kubernetes-client .debs (nothing installed, no etcd service).
#
# Idempotent: exits 0 at once when all five binaries are already present and executable.
# Needs root (apt), apt access to deb.debian.org, ~2.6 GB free temp space; cold ~6-10 min on 2 cores (see
# hack/README-apiserver.md for measured times).
# Installs the build dependencies golang-go rsync jq dpkg-dev (they stay installed). The apt sources are left as found:
# the deb-src entry is a temporary file, removed (also on failure) followed by `apt-get update`.
# Details: hack/README-apiserver.md
set -Eeuo pipefail

K8S_VERSION=1.20.2
BASE_DIR="${KUBE_API_TEST_DIR:-$HOME/.kubeapitest}"
DEST="$BASE_DIR/k8s/${K8S_VERSION}-linux-amd64"
BINS=(kube-apiserver etcd kubectl kube-controller-manager kube-scheduler)
# Built from the source tree (the others come from .debs).
BUILT=(kube-apiserver kube-controller-manager kube-scheduler)
APT_SOURCES=/etc/apt/sources.list.d/debian.sources
SRC_ENTRY=/etc/apt/sources.list.d/zz-gpupool-kubernetes-src.sources
BUILD_DEPS=(golang-go rsync jq dpkg-dev)
GO_FIX_DEBS=(golang-github-modern-go-reflect2-dev golang-github-json-iterator-go-dev)
MIN_FREE_KB=$((2600 * 1024))
ME=provision-kube-apiserver

present() { [[ -f "$DEST/$1" && -x "$DEST/$1" ]]; }
all_present() {
  local b
  for b in "${BINS[@]}"; do present "$b" || return 1; done
}

if all_present; then
  echo "$ME: cached, nothing to do: ${BINS[*]} ${K8S_VERSION} in $DEST"
  exit 0
fi

# ---------------------------------------------------------------------------------------------------------------
STEP="start"
STARTED=$SECONDS
BUILD=""
LOG=""
SRC_ENTRY_ADDED=0

say() { printf '%s: [%4ss] %s\n' "$ME" "$((SECONDS - STARTED))" "$*"; }
step() { STEP="$1"; say "$1 ..."; }
REASON=""
die() { REASON="$*"; exit 1; }
# Run a noisy command with its output appended to the log file.
run() { "$@" >>"$LOG" 2>&1; }

remove_src_entry() {
  if [[ $SRC_ENTRY_ADDED == 1 || -e $SRC_ENTRY ]]; then
    rm -f "$SRC_ENTRY"
    SRC_ENTRY_ADDED=0
    say "removed temporary deb-src entry, running apt-get update to restore the package lists"
    apt-get update -qq >>"${LOG:-/dev/null}" 2>&1 || say "WARNING: apt-get update after removing the deb-src entry failed"
  fi
}

on_exit() {
  local rc=$?
  set +e
  remove_src_entry
  [[ -n ${STAGING:-} && -d ${STAGING:-} ]] && rm -rf "$STAGING"
  if [[ $rc != 0 ]]; then
    if [[ -n $LOG && -s $LOG ]]; then
      local keep="${TMPDIR:-/tmp}/$ME.log"
      cp -f "$LOG" "$keep"
      echo "---- last lines of the log (full log: $keep) ----" >&2
      tail -n 25 "$keep" >&2
      echo "----" >&2
    fi
    echo "$ME: FAILED at step '$STEP' (exit $rc, after $((SECONDS - STARTED))s)${REASON:+: $REASON}" >&2
  fi
  [[ -n $BUILD && -d $BUILD ]] && rm -rf "$BUILD"
  exit "$rc"
}
trap on_exit EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------------------------------------------------------
step "preflight checks"
[[ $(id -u) == 0 ]] || die "must run as root (apt-get install / source)"
[[ $(uname -s) == Linux && $(uname -m) == x86_64 ]] || die "only linux-amd64 is supported"
command -v apt-get >/dev/null || die "apt-get not found (Debian/Ubuntu only)"
[[ -r $APT_SOURCES ]] || die "$APT_SOURCES not found (needed to copy URI and Signed-By for the deb-src entry)"
mkdir -p "$BASE_DIR/k8s"

# One provisioning at a time; another run may have finished while we waited.
# (Lock and staging dir live in $BASE_DIR, not in k8s/, which kube-api-test scans for version directories.)
exec 9>"$BASE_DIR/.provision-kube-apiserver-${K8S_VERSION}.lock"
flock 9
if all_present; then
  echo "$ME: cached (provisioned by a concurrent run): $DEST"
  trap - EXIT
  exit 0
fi

# What is missing: only those are built or extracted (a cache from before the controllers were added keeps its
# kube-apiserver, and gets kube-controller-manager and kube-scheduler only).
TO_BUILD=()
for b in "${BUILT[@]}"; do present "$b" || TO_BUILD+=("$b"); done
TO_EXTRACT=()
for b in etcd kubectl; do present "$b" || TO_EXTRACT+=("$b"); done
say "missing: ${TO_BUILD[*]} ${TO_EXTRACT[*]}"

BUILD=$(mktemp -d "${TMPDIR:-/tmp}/kube-apiserver-build.XXXXXX")
LOG="$BUILD/build.log"
: >"$LOG"
free_kb=$(df -Pk "$BUILD" | awk 'NR==2 {print $4}')
((free_kb >= MIN_FREE_KB)) || die "need ~2.6 GB free in $BUILD's filesystem, have $((free_kb / 1024)) MB (set TMPDIR)"
say "build dir $BUILD, target $DEST"

# ---------------------------------------------------------------------------------------------------------------
step "add temporary deb-src entry + apt-get update"
uri=$(awk 'tolower($1)=="uris:" {print $2; exit}' "$APT_SOURCES")
keyring=$(awk 'tolower($1)=="signed-by:" {print $2; exit}' "$APT_SOURCES")
[[ -n $uri ]] || die "no URIs: line in $APT_SOURCES"
SRC_ENTRY_ADDED=1
{
  echo "# Temporary, added by gpupool hack/$ME.sh; removed when it finishes."
  echo "Types: deb-src"
  echo "URIs: $uri"
  echo "Suites: bookworm"
  echo "Components: main"
  [[ -n $keyring ]] && echo "Signed-By: $keyring"
} >"$SRC_ENTRY"
run apt-get update -qq || die "apt-get update with the deb-src entry failed"

step "install build dependencies (${BUILD_DEPS[*]})"
run env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${BUILD_DEPS[@]}" \
  || die "apt-get install ${BUILD_DEPS[*]} failed"

step "download sources and .debs (kubernetes source, etcd-server, kubernetes-client, reflect2, json-iterator)"
mkdir -p "$BUILD/src" "$BUILD/debs"
if ((${#TO_BUILD[@]})); then
  (cd "$BUILD/src" && run apt-get source -qq kubernetes) || die "apt-get source kubernetes failed"
fi
(cd "$BUILD/debs" && run apt-get download -qq etcd-server kubernetes-client "${GO_FIX_DEBS[@]}") \
  || die "apt-get download of the .debs failed"

step "remove temporary deb-src entry + apt-get update"
remove_src_entry

# ---------------------------------------------------------------------------------------------------------------
step "unpack .debs"
for deb in "$BUILD"/debs/*.deb; do
  dpkg-deb -x "$deb" "$BUILD/root" || die "dpkg-deb -x $(basename "$deb") failed"
done
for b in etcd kubectl; do
  [[ -x $BUILD/root/usr/bin/$b ]] || die "usr/bin/$b not found in the extracted .debs"
done

declare -A FROM
for b in etcd kubectl; do FROM[$b]="$BUILD/root/usr/bin/$b"; done

if ((${#TO_BUILD[@]})); then
  step "replace vendored reflect2 + json-iterator with Debian's newer sources"
  SRC=$(find "$BUILD/src" -mindepth 1 -maxdepth 1 -type d -name 'kubernetes-*' | head -n 1)
  [[ -n $SRC && -f $SRC/Makefile && -d $SRC/vendor ]] || die "unpacked kubernetes source tree not found"
  say "source tree $(basename "$SRC")"
  for pkg in github.com/modern-go/reflect2 github.com/json-iterator/go; do
    from="$BUILD/root/usr/share/gocode/src/$pkg"
    to="$SRC/vendor/$pkg"
    [[ -d $from ]] || die "$from missing in the extracted -dev .debs"
    [[ -d $to ]] || die "vendor/$pkg missing in the source tree"
    rm -rf "$to"
    mkdir -p "$to"
    # Only the package itself (the vendored copy has no sub-packages): top-level sources, no tests, no go.mod.
    find "$from" -maxdepth 1 -type f ! -name '*_test.go' ! -name 'go.mod' ! -name 'go.sum' ! -name '.*' \
      -exec cp -p {} "$to/" \;
    ls "$to"/*.go >/dev/null 2>&1 || die "no .go files copied for $pkg"
  done

  WHAT="${TO_BUILD[*]/#/cmd/}"
  step "build ${TO_BUILD[*]} (make WHAT=\"$WHAT\", ~3-4 min each on 2 cores, less together)"
  (
    cd "$SRC"
    unset GOPATH GO111MODULE
    # providerless: without the in-tree cloud providers (AWS, Azure, GCE, OpenStack, vSphere), which nothing here
    # uses: a smaller, faster build of kube-controller-manager in particular.
    export GOFLAGS=-tags=providerless GOPROXY=off CGO_ENABLED=0 GOCACHE="$BUILD/gocache" \
      KUBE_GIT_VERSION=v${K8S_VERSION} KUBE_GIT_MAJOR=1 KUBE_GIT_MINOR=20 KUBE_GIT_TREE_STATE=clean
    run make WHAT="$WHAT"
  ) || die "make WHAT=\"$WHAT\" failed"
  for b in "${TO_BUILD[@]}"; do
    bin="$SRC/_output/bin/$b"
    [[ -x $bin ]] || bin=$(find "$SRC/_output" -type f -name "$b" -perm -u+x | head -n 1)
    [[ -n $bin && -x $bin ]] || die "$b binary not found under _output"
    FROM[$b]="$bin"
  done
fi

step "check binary versions"
for b in "${TO_BUILD[@]}"; do
  v=$("${FROM[$b]}" --version 2>&1) || die "$b --version failed"
  [[ $v == *"v${K8S_VERSION}"* ]] || die "unexpected $b version: $v"
  say "$(printf '%-24s' "$b:") $v"
done
say "$(printf '%-24s' etcd:) $("${FROM[etcd]}" --version 2>&1 | head -n 1)"
say "$(printf '%-24s' kubectl:) $("${FROM[kubectl]}" version --client --short 2>&1 | head -n 1)"

# ---------------------------------------------------------------------------------------------------------------
step "install binaries into $DEST"
# Stage next to the target (same filesystem), then rename each file into place: every file appears atomically.
# kube-apiserver goes last: the test tiers check for it first.
STAGING=$(mktemp -d "$BASE_DIR/.staging.XXXXXX")
mkdir -p "$DEST"
for b in "${TO_EXTRACT[@]}" "${TO_BUILD[@]}"; do
  cp "${FROM[$b]}" "$STAGING/$b"
  chmod 0755 "$STAGING/$b"
done
for b in etcd kubectl kube-scheduler kube-controller-manager kube-apiserver; do
  if [[ -e $STAGING/$b ]]; then mv -f "$STAGING/$b" "$DEST/$b"; fi
done
rmdir "$STAGING"
all_present || die "binaries not executable in $DEST"

step "clean up build dir"
rm -rf "$BUILD"
BUILD=""
say "done: ${BINS[*]} in $DEST"
say "use with KUBE_API_TEST_OFFLINE_MODE=true KUBE_API_TEST_API_SERVER_VERSION=${K8S_VERSION}"
