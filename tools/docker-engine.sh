#!/usr/bin/env bash
# A private Docker Engine for the functional tests.
#
#   tools/docker-engine.sh start DIR   prints unix://DIR/docker.sock last
#   tools/docker-engine.sh stop DIR
#
# `start` installs Debian's docker.io and busybox-static when they are
# missing (apt-get update only then), runs dockerd on DIR/docker.sock only
# (no TCP, no /var/run/docker.sock) with its data root, exec root, pidfile,
# log and an empty daemon.json all under DIR, waits until /info answers, and
# builds the image busybox:latest with `docker import` of a rootfs made from
# /bin/busybox and its applet links, unless the image is already there.
# Nothing is pulled from a registry.
#
# DOCKER_ENGINE_TCP_PORT=PORT and DOCKER_ENGINE_TLS_DIR=CERTS on `start` also
# serve the API on tcp://127.0.0.1:PORT with --tlsverify: the server
# certificate CERTS/server.crt and key CERTS/server.key, and only clients
# whose certificate CERTS/ca.crt signed (a Magnum bay's certificate
# directory, see [static] certificate_dir). dockerd reads them when it
# starts: after a CA rotation, `stop` then `start` again. `start` on a
# running engine only prints
# the URL again; `stop` kills the containers, stops dockerd by its pidfile
# and waits for it. DIR must be short: unix socket paths are limited to 107
# bytes and containerd's socket lives at DIR/exec/containerd/....
#
# Sandbox notes (Debian 12 VM, root, kernel 6.18, cgroup v1, 2 CPUs):
# * dockerd 20.10.24 answers in under 1 s (about 1 s with the image
#   import) with --iptables=false --ip6tables=false --bridge=none; it picks
#   overlay2 on ext4 by itself.
#   If the daemon cannot start and no storage driver was asked for
#   (DOCKER_STORAGE_DRIVER), it is tried once more with vfs.
# * Containers DO run here: `docker run --rm --network none busybox echo hi`
#   prints hi (about 0.25 s). With --bridge=none there is no bridge network:
#   a container gets loopback only, whether or not --network none is given;
#   published ports (-p) are silently ignored.
# * /usr/local/bin/docker on these machines is a newer CLI (28.x); this
#   script always uses Debian's /usr/bin/docker (same release as dockerd).
# * `stop` takes about 2 s even with no container: dockerd is done at once
#   but waits for the containerd it started to exit.
# * A container whose PID 1 ignores SIGTERM (e.g. `sleep`) would hold
#   dockerd's shutdown for its 15 s default, hence --shutdown-timeout=2 and
#   `stop` kills running containers first.
set -euo pipefail
TOOLS=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
APT_UPDATE=$TOOLS/apt-update.sh
# shellcheck source=tools/pid-running.sh
. "$TOOLS/pid-running.sh"

DOCKER=/usr/bin/docker
DOCKERD=/usr/sbin/dockerd
BUSYBOX=/bin/busybox
IMAGE=busybox:latest
START_TIMEOUT=${DOCKER_ENGINE_START_TIMEOUT:-30}

log() { echo "docker-engine.sh: $*" >&2; }
die() { log "$*"; exit 1; }

usage() { die "usage: $0 start|stop DIR"; }

[ $# -eq 2 ] || usage
ACTION=$1
DIR=$2
[ -n "$DIR" ] || usage
mkdir -p "$DIR"
DIR=$(cd "$DIR" && pwd -P)

SOCK=$DIR/docker.sock
URL=unix://$SOCK
PIDFILE=$DIR/docker.pid
LOGFILE=$DIR/dockerd.log

dk() { "$DOCKER" --host "$URL" "$@"; }

engine_pid() {
    # The pid of a live dockerd started for DIR, or nothing.
    pid_running "$PIDFILE" dockerd
}

show_log() {
    # The errors in dockerd's log, then its last lines (mostly gRPC chatter).
    log "errors in $LOGFILE:"
    grep -E 'level=(error|fatal)|^failed|Error' "$LOGFILE" | tail -n 10 >&2 \
        || true
    log "last lines of $LOGFILE:"
    tail -n 10 "$LOGFILE" >&2
}

answers() { dk info --format '{{.ID}}' >/dev/null 2>&1; }

install_missing() {
    local missing=()
    { [ -x "$DOCKERD" ] && [ -x "$DOCKER" ]; } || missing+=(docker.io)
    [ -x "$BUSYBOX" ] && "$BUSYBOX" --list >/dev/null 2>&1 \
        || missing+=(busybox-static)
    [ ${#missing[@]} -eq 0 ] && return 0
    [ "$(id -u)" -eq 0 ] || die "missing ${missing[*]}; install as root"
    log "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    # Keep the package from starting the system's docker.service (a
    # dockerd with a bridge and iptables rules we do not want): policy-rc.d
    # says no to service starts during the install, if none is there yet.
    local policy=/usr/sbin/policy-rc.d ours=
    if [ ! -e "$policy" ]; then
        printf '#!/bin/sh\nexit 101\n' > "$policy"
        chmod 755 "$policy"
        ours=1
    fi
    local rc=0
    { "$APT_UPDATE" \
        && apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends "${missing[@]}"
    } >&2 || rc=$?
    [ -z "$ours" ] || rm -f "$policy"
    [ $rc -eq 0 ] || die "could not install ${missing[*]}"
}

run_dockerd() {
    # $@: extra dockerd options. Returns once /info answers, 1 if not.
    local pid
    rm -f "$SOCK" "$PIDFILE"
    echo '{}' > "$DIR/daemon.json"
    # setsid + every fd redirected or closed: the daemon must not hold the
    # caller's pipes (a test reading our stdout would wait for it forever)
    # nor our lock on DIR/.lock (fd 9).
    setsid "$DOCKERD" \
        --config-file "$DIR/daemon.json" \
        --host "$URL" \
        --data-root "$DIR/data" \
        --exec-root "$DIR/exec" \
        --pidfile "$PIDFILE" \
        --iptables=false --ip6tables=false --ip-forward=false \
        --ip-masq=false --bridge=none \
        --userland-proxy=false \
        --shutdown-timeout=2 \
        "$@" \
        </dev/null >>"$LOGFILE" 2>&1 9>&- &
    pid=$!
    local deadline=$((SECONDS + START_TIMEOUT))
    while [ $SECONDS -lt $deadline ]; do
        if answers; then
            return 0
        fi
        if ! kill -0 "$pid" 2>/dev/null; then
            log "dockerd exited early"
            show_log
            return 1
        fi
        sleep 0.1
    done
    log "dockerd did not answer on $URL within ${START_TIMEOUT}s"
    show_log
    stop_engine
    # It may not have written its pidfile yet.
    if kill -TERM "$pid" 2>/dev/null; then
        sleep 5
        kill -KILL "$pid" 2>/dev/null || true
    fi
    return 1
}

build_image() {
    local root
    dk image inspect "$IMAGE" >/dev/null 2>&1 && return 0
    root=$(mktemp -d "$DIR/rootfs.XXXXXX")
    mkdir -p "$root"/{bin,dev,etc,proc,root,sys,tmp}
    chmod 1777 "$root/tmp"
    cp "$BUSYBOX" "$root/bin/busybox"
    local applet
    for applet in $("$BUSYBOX" --list); do
        [ "$applet" = busybox ] || ln -s busybox "$root/bin/$applet"
    done
    printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' \
        > "$root/etc/passwd"
    printf 'root:x:0:\nnogroup:x:65534:\n' > "$root/etc/group"
    tar -C "$root" -c . | dk import \
        --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        --change 'CMD ["/bin/sh"]' \
        - "$IMAGE" >/dev/null
    rm -rf "$root"
    log "built $IMAGE from $BUSYBOX"
}

stop_engine() {
    local pid ids
    if pid=$(engine_pid); then
        if answers; then
            ids=$(dk ps -q 2>/dev/null || true)
            # shellcheck disable=SC2086
            [ -z "$ids" ] || dk kill $ids >/dev/null 2>&1 || true
        fi
        kill -TERM "$pid" 2>/dev/null || true
        local deadline=$((SECONDS + 30))
        while [ -d "/proc/$pid" ] && [ $SECONDS -lt $deadline ]; do
            sleep 0.1
        done
        if [ -d "/proc/$pid" ]; then
            log "dockerd $pid ignored SIGTERM for 30 s; killing it"
            # Its own containerd and shims first, by parent pid.
            pkill -KILL -P "$pid" 2>/dev/null || true
            kill -KILL "$pid" 2>/dev/null || true
            while [ -d "/proc/$pid" ]; do sleep 0.1; done
        fi
    fi
    # Whatever a killed daemon left mounted under DIR (deepest first), so
    # that DIR can be removed.
    local mnt
    awk -v d="$DIR/" 'index($2, d) == 1 {print $2}' /proc/mounts \
        | sort -r | while read -r mnt; do
            umount -l "$mnt" 2>/dev/null || true
        done
    rm -f "$PIDFILE" "$SOCK"
}

start_engine() {
    # containerd's socket is the longest path: DIR/exec/containerd/
    # containerd.sock.ttrpc (+40 bytes); the limit is 107.
    [ $(( ${#DIR} + 40 )) -le 107 ] \
        || die "DIR $DIR is too long for unix sockets; use a short path"
    if engine_pid >/dev/null && answers; then
        build_image
        echo "$URL"
        return 0
    fi
    stop_engine   # a stale pidfile, socket or a daemon that does not answer
    install_missing
    local t0=$SECONDS
    local tls=()
    if [ -n "${DOCKER_ENGINE_TCP_PORT:-}" ]; then
        local certs=${DOCKER_ENGINE_TLS_DIR:?DOCKER_ENGINE_TLS_DIR is required with DOCKER_ENGINE_TCP_PORT}
        local f
        for f in ca.crt server.crt server.key; do
            [ -s "$certs/$f" ] || die "no $certs/$f"
        done
        tls=(--host "tcp://127.0.0.1:$DOCKER_ENGINE_TCP_PORT" --tlsverify
             --tlscacert "$certs/ca.crt" --tlscert "$certs/server.crt"
             --tlskey "$certs/server.key")
    fi
    if [ -n "${DOCKER_STORAGE_DRIVER:-}" ]; then
        run_dockerd --storage-driver "$DOCKER_STORAGE_DRIVER" \
            ${tls[@]+"${tls[@]}"} || die "dockerd did not start"
    elif ! run_dockerd ${tls[@]+"${tls[@]}"}; then
        log "retrying with --storage-driver=vfs"
        stop_engine
        run_dockerd --storage-driver vfs ${tls[@]+"${tls[@]}"} \
            || die "dockerd did not start"
    fi
    log "dockerd $(engine_pid || echo '?') answers on $URL" \
        "(storage driver $(dk info --format '{{.Driver}}'),"\
        "$((SECONDS - t0)) s)"
    build_image
    echo "$URL"
}

# One start or stop at a time for a DIR.
exec 9>"$DIR/.lock"
flock 9

case $ACTION in
    start) start_engine ;;
    stop) stop_engine ;;
    *) usage ;;
esac
