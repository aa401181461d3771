#!/usr/bin/env bash
# A private Kubernetes API (etcd + kube-apiserver + kube-controller-manager)
# for the functional tests, built from Debian's own `kubernetes` source.
#
#   tools/kube-apiserver.sh build        prints the bin directory last
#   tools/kube-apiserver.sh start DIR    prints https://127.0.0.1:PORT last
#   tools/kube-apiserver.sh restart DIR  kube-apiserver only, same settings
#   tools/kube-apiserver.sh stop DIR
#
# `build` installs what is missing from apt (golang-go, etcd-server,
# dpkg-dev, openssl; a deb-src entry for the machine's own Debian mirror when
# `apt-cache showsrc kubernetes` finds nothing), fetches the source with
# `apt-get source kubernetes` (1.20.5+really1.20.2 in bookworm) and builds
# kube-apiserver and kube-controller-manager with the vendored dependencies
# only (GOPROXY=off, nothing downloaded) into
# ${MAGNUM_KUBE_CACHE:-$HOME/.cache/magnum-tests/kubernetes}/bin. It does
# nothing when both binaries are there. The source and Go build cache are
# removed after a successful build (MAGNUM_KUBE_KEEP_BUILD=1 keeps them).
#
# `start` runs Debian's etcd (data, pid and log in DIR, client and peer URLs
# on free 127.0.0.1 ports), kube-apiserver on a free 127.0.0.1 port and
# kube-controller-manager (MAGNUM_KUBE_CONTROLLER_MANAGER=0 leaves it out),
# waits until /version, /api/v1/nodes and the `default` namespace answer and
# prints the API URL last; DIR/url holds it too, DIR/kubeconfig is a
# kubeconfig for it, DIR/*.pid the pids. `start` on a running DIR only
# prints the URL again; otherwise it starts from an empty etcd. `stop` stops
# all three and waits for them.
#
# MAGNUM_KUBE_AUTH=token on `start` secures the API the way a real cluster
# is: bearer tokens (--token-auth-file) and --authorization-mode RBAC, with
# the service-account key as always. Two users, each token in its own
# 0600 file: DIR/admin.token (group system:masters; DIR/kubeconfig and the
# controller-manager use it) and DIR/magnum.token, user `magnum`, bound to
# the ClusterRole `magnum` (namespaces get/create; pods, services,
# replicationcontrollers and their scale/status all verbs; nodes get/list)
# and nothing else. Anonymous requests then see only what RBAC's
# system:public-info-viewer allows (/version, /healthz). The default
# (MAGNUM_KUBE_AUTH unset or `anonymous`) is the open API below.
#
# MAGNUM_KUBE_PORT=P on `start` puts kube-apiserver on 127.0.0.1:P (the
# caller chose a free port) instead of a free port of its own. NOTE: who
# already waits on P may reach the API before the user magnum has its
# rights (403 for a moment).
# MAGNUM_KUBE_TLS_DIR=T on `start` serves T/server.crt and T/server.key
# instead of the self-signed certificate and trusts client certificates
# signed by T/ca.crt (--client-ca-file; Kubernetes reads the subject's CN
# as the user and each O as a group); DIR/kubeconfig checks the server
# against T/ca.crt. It is how a static bay's CA (Magnum's [static]
# certificate_dir) is put in front of a real API. With token mode, the
# tokens still work beside the certificates.
#
# `restart DIR` stops kube-apiserver and kube-controller-manager and starts
# them again on the same port, etcd and settings (DIR/settings, written by
# `start`; the environment is not read again): they read their certificate
# files anew, e.g. after a CA rotation rewrote T. etcd and its data stay.
#
# Notes (Debian 12, Go 1.19.8 from golang-go, 2 CPUs):
# * Kubernetes 1.20 builds in GOPATH mode (its hack/lib/init.sh sets
#   GO111MODULE=off): the tree is linked at GOPATH/src/k8s.io/kubernetes and
#   vendor/ is used as a GOPATH vendor directory. GOFLAGS=-mod=vendor in
#   module mode does NOT work with Go 1.19 ("updates to go.mod needed,
#   disabled by -mod=vendor").
# * pkg/generated/openapi/zz_generated.openapi.go is not in the source; the
#   upstream Makefile generates it. This script builds openapi-gen from
#   vendor/ and runs it the way Makefile.generated_files does (seconds),
#   instead of `make`, which would scan every package for every generator.
# * Go 1.19 and the vendored github.com/modern-go/reflect2 1.0.1 do not mix
#   (every JSON request body with a map panics inside the apiserver); the
#   build swaps in Debian's golang-github-modern-go-reflect2-dev (1.0.2).
# * The version is stamped with -ldflags -X (no .git in a Debian source), in
#   both component-base/version and client-go/pkg/version as upstream's
#   hack/lib/version.sh does: /version is served by the aggregator, which
#   reads client-go's copy. /version reports v1.20.2.
# * Cold build, measured: 5 min 37 s on 2 CPUs from a machine without Go
#   (apt installs ~20 s, deb-src + apt-get update + apt-get source ~10 s,
#   openapi-gen ~6 s, one `go build` of both binaries ~5 min; ~1 GB RSS).
#   The cache holds the two binaries only (~210 MB).
# * `apt-get source` as root in a directory _apt cannot read warns
#   "Download is performed unsandboxed as root"; harmless.
# * 1.20 has no insecure port any more (--insecure-port/--port are dummy
#   flags kept until 1.24), so the API is HTTPS with a self-signed serving
#   certificate (openssl, SAN IP:127.0.0.1 and DNS:localhost) in DIR.
# * Anonymous requests may do everything: a client needs no credentials,
#   only verify_ssl=False (or DIR/ca.crt as its CA: the certificate is its
#   own CA). NOT with --authorization-mode=AlwaysAllow: 1.20 then turns
#   --anonymous-auth off ("AnonymousAuth is not allowed with the AlwaysAllow
#   authorizer. Resetting AnonymousAuth to false") and every request without
#   credentials is a 401. Instead --authorization-mode=ABAC with a policy
#   (DIR/abac.jsonl) that lets the groups system:authenticated and
#   system:unauthenticated do everything, and --anonymous-auth=true. (ABAC
#   v1beta1 reads user/group "*" as system:authenticated only: anonymous
#   requests would be 403 "No policy matched".)
# * 1.20 insists on --service-account-issuer and
#   --service-account-signing-key-file; one RSA key in DIR serves both them
#   and --service-account-key-file (and the controller-manager's
#   --service-account-private-key-file).
# * The ServiceAccount admission plugin is disabled: it rejects pods until a
#   controller has made the namespace's `default` service account; with it
#   off a pod can be created the moment the API answers. Every other default
#   plugin stays. Pods stay Pending: there is no kubelet and no scheduler.
# * --endpoint-reconciler-type=none: the `kubernetes` service's endpoint
#   would be 127.0.0.1, which Endpoints validation rejects (loopback).
# * kube-controller-manager gives namespace deletion, garbage collection,
#   ReplicationController -> pods and the like; it runs with no serving
#   ports (--port=0 --secure-port=0) and no leader election. Nodes that
#   tests register have no kubelet: its node lifecycle controller may mark
#   them unreachable and taint them, but never deletes them (no cloud
#   provider). It logs, harmlessly, that the cloud node lifecycle and
#   service controllers need a cloud provider.
# * etcd reads ETCD_* variables from the environment: they are cleared.
set -euo pipefail
TOOLS=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
APT_UPDATE=$TOOLS/apt-update.sh
# shellcheck source=tools/pid-running.sh
. "$TOOLS/pid-running.sh"

CACHE=${MAGNUM_KUBE_CACHE:-$HOME/.cache/magnum-tests/kubernetes}
BIN=$CACHE/bin
BINARIES=(kube-apiserver kube-controller-manager)
ETCD=/usr/bin/etcd
REFLECT2=/usr/share/gocode/src/github.com/modern-go/reflect2
# Debian's Go (golang-go), whatever else is on PATH: the build is known to
# work with 1.19.
GO=/usr/lib/go/bin/go
START_TIMEOUT=${MAGNUM_KUBE_START_TIMEOUT:-120}
KUBE_VERSION=v1.20.2

log() { echo "kube-apiserver.sh: $*" >&2; }
die() { log "$*"; exit 1; }
usage() { die "usage: $0 build | start DIR | restart DIR | stop DIR"; }

# -- build --------------------------------------------------------------------

built() {
    local b
    for b in "${BINARIES[@]}"; do
        [ -x "$BIN/$b" ] || return 1
    done
}

apt_install() {
    # $@: packages. Services a package would start are kept from starting.
    [ "$(id -u)" -eq 0 ] || die "missing $*; install as root"
    log "installing $*"
    export DEBIAN_FRONTEND=noninteractive
    local policy=/usr/sbin/policy-rc.d ours=
    if [ ! -e "$policy" ]; then
        printf '#!/bin/sh\nexit 101\n' > "$policy"
        chmod 755 "$policy"
        ours=1
    fi
    local rc=0
    { [ -n "${APT_UPDATED:-}" ] || "$APT_UPDATE"; } >&2 || rc=$?
    APT_UPDATED=1
    [ $rc -ne 0 ] || apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends "$@" \
        >&2 || rc=$?
    [ -z "$ours" ] || rm -f "$policy"
    [ $rc -eq 0 ] || die "could not install $*"
}

install_runtime() {
    local missing=()
    [ -x "$ETCD" ] || missing+=(etcd-server)
    command -v openssl >/dev/null || missing+=(openssl)
    command -v python3 >/dev/null || missing+=(python3)
    [ ${#missing[@]} -eq 0 ] || apt_install "${missing[@]}"
}

has_kubernetes_source() {
    apt-cache showsrc kubernetes 2>/dev/null | grep -q '^Package: kubernetes$'
}

add_deb_src() {
    # A deb-src entry for the mirror and suites the machine already uses.
    local list=/etc/apt/sources.list.d/magnum-kubernetes-src.sources
    local codename uri
    codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")
    uri=$(awk '/^URIs:/ {print $2}' /etc/apt/sources.list.d/*.sources \
              2>/dev/null | grep -m1 -E '/debian/?$' || true)
    if [ -z "$uri" ]; then
        uri=$(awk '$1 == "deb" && $0 ~ /\/debian\/? / {print $2; exit}' \
                  /etc/apt/sources.list 2>/dev/null || true)
    fi
    uri=${uri:-http://deb.debian.org/debian}
    log "adding deb-src $uri $codename to $list"
    cat > "$list" <<EOF
Types: deb-src
URIs: $uri
Suites: $codename $codename-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
    "$APT_UPDATE" >&2
    APT_UPDATED=1
}

build_binaries() {
    local t0=$SECONDS
    local missing=()
    [ -x "$GO" ] || missing+=(golang-go)
    command -v dpkg-source >/dev/null || missing+=(dpkg-dev)
    [ -f "$REFLECT2/go_above_118.go" ] \
        || missing+=(golang-github-modern-go-reflect2-dev)
    [ ${#missing[@]} -eq 0 ] || apt_install "${missing[@]}"
    install_runtime
    has_kubernetes_source || add_deb_src
    has_kubernetes_source \
        || die "apt-cache showsrc kubernetes finds no source package"

    local work=$CACHE/build
    rm -rf "$work"
    mkdir -p "$work/src" "$work/gopath/src/k8s.io" "$BIN"
    log "fetching the kubernetes source package"
    (cd "$work/src" && apt-get -o DPkg::Lock::Timeout=300 source -qq kubernetes) >&2 2>&1 \
        || die "apt-get source kubernetes failed"
    local tree
    tree=$(find "$work/src" -mindepth 1 -maxdepth 1 -type d \
               -name 'kubernetes-*' | head -n1)
    [ -n "$tree" ] || die "no kubernetes-* tree in $work/src"
    ln -s "$tree" "$work/gopath/src/k8s.io/kubernetes"

    local root=$work/gopath/src/k8s.io/kubernetes
    # reflect2 1.0.1, vendored by 1.20, breaks under Go >= 1.18: every JSON
    # decode of a map panics in reflect2.Type2 (nil pointer) and the
    # apiserver drops the connection (POST /api/v1/namespaces fails). Debian's
    # own 1.0.2 (the upstream fix; Kubernetes moved to it later) replaces it.
    local vendored=$root/vendor/github.com/modern-go/reflect2
    rm -f "$vendored"/*.go "$vendored"/*.s
    cp "$REFLECT2"/*.go "$REFLECT2"/*.s "$vendored"/
    rm -f "$vendored"/*_test.go
    export GOPATH=$work/gopath GOCACHE=$work/gocache GO111MODULE=off \
        GOFLAGS= GOPROXY=off GOSUMDB=off GOTOOLCHAIN=local CGO_ENABLED=0
    cd "$root"
    log "$("$GO" version); source $(basename "$tree")"

    # The generated OpenAPI definitions, as Makefile.generated_files does
    # it: every package with a +k8s:openapi-gen tag, staging named through
    # vendor/, minus code-generator and sample-apiserver.
    "$GO" build -o "$work/openapi-gen" \
        ./vendor/k8s.io/kube-openapi/cmd/openapi-gen >&2 \
        || die "could not build openapi-gen"
    local dirs
    dirs=$(find -H . \( -path './_*' -o -path './.*' -o -path ./vendor \) \
               -prune -o -type f -name '*.go' -print \
           | sed 's|^\./staging/src|vendor|; s|^\./||' \
           | grep -v -e '^vendor/k8s.io/code-generator/' \
                     -e '^vendor/k8s.io/sample-apiserver/' \
           | xargs grep -l '^// *+k8s:' \
           | xargs grep -l '+k8s:openapi-gen=' \
           | xargs -n1 dirname | LC_ALL=C sort -u \
           | sed 's|^|k8s.io/kubernetes/|' | paste -sd, -)
    "$work/openapi-gen" --logtostderr \
        -i "$dirs" \
        -p k8s.io/kubernetes/pkg/generated/openapi \
        -O zz_generated.openapi \
        -h vendor/k8s.io/code-generator/hack/boilerplate.go.txt \
        -r "$work/openapi-violations.report" >&2 \
        || die "openapi-gen failed"

    local v=k8s.io/kubernetes/vendor/k8s.io ldflags="-s -w"
    local pkg
    for pkg in component-base/version client-go/pkg/version; do
        ldflags+=" -X $v/$pkg.gitVersion=$KUBE_VERSION"
        ldflags+=" -X $v/$pkg.gitMajor=1 -X $v/$pkg.gitMinor=20"
        ldflags+=" -X $v/$pkg.gitTreeState=clean"
    done
    local targets=()
    for pkg in "${BINARIES[@]}"; do targets+=("./cmd/$pkg"); done
    log "building ${BINARIES[*]} (about 5 min on 2 CPUs)"
    mkdir -p "$work/out"
    "$GO" build -ldflags "$ldflags" -o "$work/out/" "${targets[@]}" >&2 \
        || die "go build failed"
    for pkg in "${BINARIES[@]}"; do
        mv "$work/out/$pkg" "$BIN/$pkg"
    done
    cd /
    if [ -z "${MAGNUM_KUBE_KEEP_BUILD:-}" ]; then
        chmod -R u+w "$work" 2>/dev/null || true
        rm -rf "$work"
    fi
    log "built ${BINARIES[*]} $("$BIN/kube-apiserver" --version | awk '{print $2}')" \
        "in $((SECONDS - t0)) s"
}

build() {
    mkdir -p "$CACHE"
    exec 8>"$CACHE/.lock"
    flock 8   # one build at a time; a second caller waits, then finds it
    if built; then
        log "binaries already built in $BIN"
    else
        build_binaries
    fi
    install_runtime
    echo "$BIN"
}

# -- start / stop -------------------------------------------------------------

free_port() {
    python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()'
}

live_pid() {
    # $1: name. The pid of a live process started for DIR, or nothing.
    pid_running "$DIR/$1.pid" "$1"
}

show_logs() {
    local name
    for name in etcd kube-apiserver kube-controller-manager; do
        [ -s "$DIR/$name.log" ] || continue
        log "last lines of $DIR/$name.log:"
        tail -n 15 "$DIR/$name.log" >&2
    done
}

curl_auth() {
    # curl's arguments for the admin's token in token mode (read from a
    # file, never in an argv); none otherwise.
    CURL_AUTH=()
    [ "$AUTH" != token ] || CURL_AUTH=(-H "@$DIR/admin.header")
}

api_get() {
    # $1: path. Succeeds when the API answers 200 to a GET (as the admin in
    # token mode, anonymously otherwise).
    curl -sfk --max-time 2 ${CURL_AUTH[@]+"${CURL_AUTH[@]}"} -o /dev/null \
        "$URL$1" 2>/dev/null
}

magnum_ready() {
    # The user magnum is allowed what it was granted: RBAC's cache knows
    # the binding (right after a start it may not, and answers 403).
    curl -sfk --max-time 2 -H "@$DIR/magnum.header" -o /dev/null \
        "$URL/api/v1/nodes" 2>/dev/null
}

api_post() {
    # $1: path, $2: JSON body. As the admin; 409 (exists) counts as done.
    local code
    code=$(curl -sk --max-time 5 ${CURL_AUTH[@]+"${CURL_AUTH[@]}"} \
               -H 'Content-Type: application/json' -o /dev/null \
               -w '%{http_code}' -d "$2" "$URL$1" 2>/dev/null) || true
    [ "$code" = 201 ] || [ "$code" = 409 ]
}

random_token() {
    python3 -c 'import secrets; print(secrets.token_hex(24))'
}

write_tokens() {
    # token,user,uid[,"groups"]: the format of --token-auth-file.
    (umask 077
     random_token > "$DIR/admin.token"
     random_token > "$DIR/magnum.token"
     printf '%s,admin,admin,"system:masters"\n%s,magnum,magnum\n' \
         "$(cat "$DIR/admin.token")" "$(cat "$DIR/magnum.token")" \
         > "$DIR/tokens.csv"
     printf 'Authorization: Bearer %s\n' "$(cat "$DIR/admin.token")" \
         > "$DIR/admin.header"
     printf 'Authorization: Bearer %s\n' "$(cat "$DIR/magnum.token")" \
         > "$DIR/magnum.header")
}

grant_magnum() {
    # The ClusterRole `magnum` and its binding to the user `magnum`.
    local rbac=/apis/rbac.authorization.k8s.io/v1 objects
    objects='"pods", "services", "replicationcontrollers", "replicationcontrollers/scale", "replicationcontrollers/status", "pods/status", "services/status"'
    api_post "$rbac/clusterroles" '{"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "magnum"}, "rules": [{"apiGroups": [""], "resources": ["namespaces"], "verbs": ["get", "create"]}, {"apiGroups": [""], "resources": ['"$objects"'], "verbs": ["get", "list", "watch", "create", "update", "patch", "delete"]}, {"apiGroups": [""], "resources": ["nodes"], "verbs": ["get", "list"]}]}' \
        && api_post "$rbac/clusterrolebindings" '{"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding", "metadata": {"name": "magnum"}, "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "magnum"}, "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "magnum"}]}'
}

make_certs() {
    [ -s "$DIR/ca.crt" ] && [ -s "$DIR/serving.key" ] \
        && [ -s "$DIR/sa.key" ] && return 0
    # The serving certificate is self-signed, so it is also its own CA.
    openssl req -x509 -newkey rsa:2048 -nodes -days 3650 \
        -subj /CN=kube-apiserver \
        -addext 'subjectAltName=IP:127.0.0.1,DNS:localhost' \
        -addext 'basicConstraints=critical,CA:TRUE' \
        -keyout "$DIR/serving.key" -out "$DIR/ca.crt" 2>/dev/null \
        || die "openssl could not make the serving certificate"
    openssl genrsa -out "$DIR/sa.key" 2048 2>/dev/null \
        || die "openssl could not make the service account key"
    chmod 600 "$DIR/serving.key" "$DIR/sa.key"
}

write_policy() {
    # Everyone, anonymous included, may do everything. In ABAC v1beta1 a
    # "*" user or group means system:authenticated only, so the anonymous
    # user needs its own line (group system:unauthenticated).
    local group spec
    for group in system:authenticated system:unauthenticated; do
        spec='"namespace": "*", "resource": "*", "apiGroup": "*", "nonResourcePath": "*"'
        printf '{"apiVersion": "abac.authorization.kubernetes.io/v1beta1", "kind": "Policy", "spec": {"group": "%s", %s}}\n' \
            "$group" "$spec"
    done > "$DIR/abac.jsonl"
}

spawn() {
    # $1: name, then the command. Detached, own session, all fds closed.
    local name=$1
    shift
    setsid "$@" </dev/null >>"$DIR/$name.log" 2>&1 8>&- 9>&- &
    echo $! > "$DIR/$name.pid"
}

wait_for() {
    # $1: what, $2: deadline, $3: the processes that must stay alive, rest:
    # a test command. Fails when a process died or the deadline passed.
    local what=$1 deadline=$2 names=$3 name
    shift 3
    while ! "$@"; do
        for name in $names; do
            live_pid "$name" >/dev/null || {
                log "$name exited while waiting for $what"
                return 1
            }
        done
        [ $SECONDS -lt "$deadline" ] || {
            log "no $what within ${START_TIMEOUT}s"
            return 1
        }
        sleep 0.2
    done
}

etcd_healthy() {
    curl -sf --max-time 2 "http://127.0.0.1:$ETCD_PORT/health" 2>/dev/null \
        | grep -q '"health":"true"'
}

write_kubeconfig() {
    local user='{}'
    if [ "$AUTH" = token ]; then
        user="{token: $(cat "$DIR/admin.token")}"
    fi
    (umask 077; cat > "$DIR/kubeconfig") <<EOF
apiVersion: v1
kind: Config
clusters:
- name: local
  cluster:
    server: $URL
    certificate-authority: $SERVING_CA
contexts:
- name: local
  context:
    cluster: local
    user: admin
current-context: local
users:
- name: admin
  user: $user
EOF
}

apiserver_settings() {
    # What `start` chose, kept in DIR so that `restart` starts the same.
    SERVING_CERT=$DIR/ca.crt SERVING_KEY=$DIR/serving.key SERVING_CA=$DIR/ca.crt
    CLIENT_CA=()
    if [ -n "$TLS_DIR" ]; then
        SERVING_CERT=$TLS_DIR/server.crt SERVING_KEY=$TLS_DIR/server.key
        SERVING_CA=$TLS_DIR/ca.crt
        CLIENT_CA=(--client-ca-file "$TLS_DIR/ca.crt")
    fi
    AUTHZ=(--authorization-mode ABAC
           --authorization-policy-file "$DIR/abac.jsonl")
    if [ "$AUTH" = token ]; then
        AUTHZ=(--authorization-mode RBAC
               --token-auth-file "$DIR/tokens.csv")
    fi
}

spawn_apiserver() {
    # kube-apiserver on $PORT with etcd on $ETCD_PORT; waits until it
    # answers.
    local deadline=$1
    apiserver_settings
    spawn kube-apiserver "$BIN/kube-apiserver" \
        --etcd-servers "http://127.0.0.1:$ETCD_PORT" \
        --bind-address 127.0.0.1 \
        --advertise-address 127.0.0.1 \
        --secure-port "$PORT" \
        --tls-cert-file "$SERVING_CERT" \
        --tls-private-key-file "$SERVING_KEY" \
        ${CLIENT_CA[@]+"${CLIENT_CA[@]}"} \
        --cert-dir "$DIR/certs" \
        --anonymous-auth=true \
        "${AUTHZ[@]}" \
        --service-account-issuer https://kubernetes.default.svc \
        --service-account-key-file "$DIR/sa.key" \
        --service-account-signing-key-file "$DIR/sa.key" \
        --service-cluster-ip-range 10.0.0.0/24 \
        --disable-admission-plugins ServiceAccount \
        --endpoint-reconciler-type none \
        --allow-privileged=true \
        --profiling=false
    local path
    for path in /version /api/v1/nodes /api/v1/namespaces/default; do
        wait_for "$URL$path" "$deadline" "etcd kube-apiserver" \
            api_get "$path" || return 1
    done
}

spawn_controller_manager() {
    [ "${MAGNUM_KUBE_CONTROLLER_MANAGER:-1}" != 0 ] || return 0
    spawn kube-controller-manager "$BIN/kube-controller-manager" \
        --kubeconfig "$DIR/kubeconfig" \
        --leader-elect=false \
        --port 0 \
        --secure-port 0 \
        --service-account-private-key-file "$DIR/sa.key" \
        --root-ca-file "$DIR/ca.crt" \
        --use-service-account-credentials=false \
        --profiling=false
    sleep 0.5
    live_pid kube-controller-manager >/dev/null
}

start() {
    if live_pid kube-apiserver >/dev/null && [ -s "$DIR/url" ]; then
        URL=$(cat "$DIR/url")
        if api_get /version; then
            echo "$URL"
            return 0
        fi
    fi
    stop   # whatever is left of an earlier start
    built || die "no binaries in $BIN; run $0 build first"
    install_runtime
    if [ -n "$TLS_DIR" ]; then
        local name
        for name in ca.crt server.crt server.key; do
            [ -s "$TLS_DIR/$name" ] \
                || die "MAGNUM_KUBE_TLS_DIR $TLS_DIR has no $name"
        done
    fi
    local t0=$SECONDS
    local deadline=$((SECONDS + START_TIMEOUT))
    make_certs
    write_policy
    [ "$AUTH" != token ] || write_tokens
    # A fresh etcd each time: its stored membership names the old ports.
    rm -rf "$DIR"/*.log "$DIR/etcd"

    ETCD_PORT=$(free_port)
    local peer_port
    peer_port=$(free_port)
    [ "$peer_port" != "$ETCD_PORT" ] || peer_port=$(free_port)
    local peer=http://127.0.0.1:$peer_port
    local client=http://127.0.0.1:$ETCD_PORT
    local unset_etcd=()
    local var
    for var in $(compgen -e | grep '^ETCD_' || true); do
        unset_etcd+=(-u "$var")
    done
    spawn etcd env "${unset_etcd[@]}" "$ETCD" \
        --name default \
        --data-dir "$DIR/etcd" \
        --listen-client-urls "$client" \
        --advertise-client-urls "$client" \
        --listen-peer-urls "$peer" \
        --initial-advertise-peer-urls "$peer" \
        --initial-cluster "default=$peer" \
        --initial-cluster-state new
    wait_for "etcd health on $client" "$deadline" etcd etcd_healthy \
        || { show_logs; stop; die "etcd did not start"; }

    PORT=${MAGNUM_KUBE_PORT:-$(free_port)}
    URL=https://127.0.0.1:$PORT
    printf 'ETCD_PORT=%s\nPORT=%s\nAUTH=%s\nTLS_DIR=%q\n' "$ETCD_PORT" \
        "$PORT" "$AUTH" "$TLS_DIR" > "$DIR/settings"
    echo "$URL" > "$DIR/url"
    apiserver_settings
    write_kubeconfig
    spawn_apiserver "$deadline" \
        || { show_logs; stop; die "kube-apiserver did not start"; }
    if [ "$AUTH" = token ]; then
        wait_for "RBAC for the user magnum" "$deadline" \
            "etcd kube-apiserver" grant_magnum \
            || { show_logs; stop; die "could not grant the user magnum"; }
        wait_for "the user magnum's rights" "$deadline" \
            "etcd kube-apiserver" magnum_ready \
            || { show_logs; stop; die "the user magnum has no rights"; }
    fi
    spawn_controller_manager \
        || { show_logs; stop; die "kube-controller-manager exited"; }
    log "etcd $(live_pid etcd) on $client, kube-apiserver" \
        "$(live_pid kube-apiserver) on $URL," \
        "controller-manager $(live_pid kube-controller-manager || echo none)" \
        "($((SECONDS - t0)) s)"
    echo "$URL"
}

restart() {
    # kube-apiserver (and the controller-manager) again, on the same port
    # and etcd, with the settings of `start`: they read their certificate
    # files anew. etcd, and what it holds, stays.
    [ -s "$DIR/settings" ] && live_pid etcd >/dev/null \
        || die "nothing started in $DIR"
    # shellcheck disable=SC1091
    . "$DIR/settings"
    URL=$(cat "$DIR/url")
    curl_auth
    local t0=$SECONDS deadline=$((SECONDS + START_TIMEOUT))
    stop_processes kube-controller-manager kube-apiserver
    spawn_apiserver "$deadline" \
        || { show_logs; die "kube-apiserver did not restart"; }
    if [ "$AUTH" = token ]; then
        wait_for "the user magnum's rights" "$deadline" \
            "etcd kube-apiserver" magnum_ready \
            || { show_logs; die "the user magnum has no rights"; }
    fi
    spawn_controller_manager \
        || { show_logs; die "kube-controller-manager exited"; }
    log "kube-apiserver $(live_pid kube-apiserver) restarted on $URL" \
        "($((SECONDS - t0)) s)"
    echo "$URL"
}

stop() {
    stop_processes kube-controller-manager kube-apiserver etcd
}

stop_processes() {
    # $@: names. SIGTERM to all at once (one after the other takes ~6 s, at
    # once ~2.5 s), then wait; SIGKILL what is still there after 20 s.
    local names=("$@")
    local name pid pids=()
    for name in "${names[@]}"; do
        if pid=$(live_pid "$name"); then
            kill -TERM "$pid" 2>/dev/null || true
            pids+=("$pid")
        fi
    done
    local deadline=$((SECONDS + 20))
    for pid in ${pids[@]+"${pids[@]}"}; do
        while [ -d "/proc/$pid" ] && [ $SECONDS -lt $deadline ]; do
            sleep 0.1
        done
        if [ -d "/proc/$pid" ]; then
            log "pid $pid ignored SIGTERM for 20 s; killing it"
            kill -KILL "$pid" 2>/dev/null || true
            while [ -d "/proc/$pid" ]; do sleep 0.1; done
        fi
    done
    for name in "${names[@]}"; do
        rm -f "$DIR/$name.pid"
    done
}

[ $# -ge 1 ] || usage
ACTION=$1
case $ACTION in
    build)
        [ $# -eq 1 ] || usage
        build
        ;;
    start|stop|restart)
        [ $# -eq 2 ] && [ -n "$2" ] || usage
        DIR=$2
        mkdir -p "$DIR"
        DIR=$(cd "$DIR" && pwd -P)
        AUTH=${MAGNUM_KUBE_AUTH:-anonymous}
        TLS_DIR=${MAGNUM_KUBE_TLS_DIR:-}
        if [ -n "$TLS_DIR" ]; then
            TLS_DIR=$(cd "$TLS_DIR" && pwd -P) \
                || die "no directory MAGNUM_KUBE_TLS_DIR=$TLS_DIR"
        fi
        case $AUTH in
            anonymous|token) ;;
            *) die "MAGNUM_KUBE_AUTH is token or anonymous, not $AUTH" ;;
        esac
        curl_auth
        # One start or stop at a time for a DIR.
        exec 9>"$DIR/.lock"
        flock 9
        "$ACTION"
        ;;
    *) usage ;;
esac
