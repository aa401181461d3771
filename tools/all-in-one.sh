#!/usr/bin/env bash
# The main job, from nothing: install Magnum, start a local Docker Engine and
# magnum-all (API + conductor in one process, SQLite, no auth), then use the
# real python-magnumclient CLI to create a BayModel and a Bay on that engine.
#
#   tools/all-in-one.sh              run, and keep serving until Ctrl-C
#   tools/all-in-one.sh --detach     run, leave it serving, and return
#   tools/all-in-one.sh --keystone   the same behind a local Keystone on
#                                    127.0.0.1:5000 (user demo, a member of
#                                    project demo: ~/.magnum/openrc), which
#                                    the 2.x CLI's container-* commands need
#   tools/all-in-one.sh stop         stop what --detach left running
#
# It also installs the client releases the README shows (python-magnumclient
# 2.1.0, 3.7.0, and 4.11.0 with python-openstackclient) under
# ~/.cache/magnum-tests, where the functional tests find them too.
#
# State lives in $MAGNUM_STATE (default ~/.magnum): the SQLite database, the
# engine's socket and data, Keystone's, the logs. $MAGNUM_PORT (9511) and
# $MAGNUM_KEYSTONE_PORT (5000) move the ports; MAGNUM_SKIP_INSTALL=1 skips
# tools/install.sh (the tests, which ran it already).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
STATE=${MAGNUM_STATE:-$HOME/.magnum}
PORT=${MAGNUM_PORT:-9511}
KEYSTONE_PORT=${MAGNUM_KEYSTONE_PORT:-5000}
mkdir -p "$STATE"

# Each service runs in a session of its own (setsid), so that stop ends it
# whole, workers included.
stop_pid() {  # the process group whose leader is in pid file $1
    [ -f "$1" ] || return 0
    local pid
    pid=$(cat "$1")
    if kill -TERM -- "-$pid" 2>/dev/null; then
        for _ in $(seq 1 150); do
            kill -0 -- "-$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL -- "-$pid" 2>/dev/null || true
    fi
    rm -f "$1"
}

stop() {  # all three at once
    stop_pid "$STATE/magnum-all.pid" &
    stop_pid "$STATE/keystone.pid" &
    "$ROOT/tools/docker-engine.sh" stop "$STATE/docker" >/dev/null || true
    wait
}

DETACH=
KEYSTONE=
for arg in "$@"; do
    case "$arg" in
        stop) stop; echo "Stopped."; exit 0 ;;
        --detach) DETACH=1 ;;
        --keystone) KEYSTONE=1 ;;
        *) echo "usage: $0 [--keystone] [--detach] | stop" >&2; exit 2 ;;
    esac
done
MODE=${KEYSTONE:+keystone}
MODE=${MODE:-noauth}

if [ -z "${MAGNUM_SKIP_INSTALL:-}" ]; then
    echo "==> Installing Magnum into .venv"
    tools/install.sh
fi

echo "==> Installing the clients (python-magnumclient 2.1.0, 3.7.0, 4.11.0)"
CACHE=${MAGNUM_TEST_CACHE:-$HOME/.cache/magnum-tests}
declare -A CLIENT
for version in 2.1.0 3.7.0 4.11.0; do
    CLIENT[$version]=$CACHE/magnumclient-$version/bin
    # NOTE: the marker of a finished virtualenv (magnumclient.py's).
    [ -e "$CACHE/magnumclient-$version/.complete" ] || BUILD_CLIENTS=1
done
[ -z "${BUILD_CLIENTS:-}" ] ||
    .venv/bin/python tools/all-in-one-helper.py clients
MAGNUM37=${CLIENT[3.7.0]}/magnum

echo "==> Starting a local Docker Engine"
ENGINE_URL=$(tools/docker-engine.sh start "$STATE/docker" | tail -n 1)
echo "    $ENGINE_URL"

http_get() {
    python3 -c 'import sys, urllib.request
print(urllib.request.urlopen(sys.argv[1], timeout=5).read().decode())' "$1" 2>/dev/null
}

CONFIG=()
if [ "$MODE" = keystone ]; then
    echo "==> Starting Keystone on http://127.0.0.1:$KEYSTONE_PORT/v3"
    if [ -f "$STATE/keystone.pid" ] && kill -0 "$(cat "$STATE/keystone.pid")" 2>/dev/null; then
        echo "    already running"
    else
        setsid .venv/bin/python tools/all-in-one-helper.py keystone "$STATE" \
            "$KEYSTONE_PORT" "http://127.0.0.1:$PORT/v1" \
            >"$STATE/keystone-holder.log" 2>&1 &
        echo $! >"$STATE/keystone.pid"
        # NOTE: the first time builds Keystone's virtualenv (minutes).
        for _ in $(seq 1 1200); do
            [ -f "$STATE/keystone.ready" ] && break
            kill -0 "$(cat "$STATE/keystone.pid")" 2>/dev/null || break
            sleep 1
        done
        [ -f "$STATE/keystone.ready" ] || {
            tail -n 30 "$STATE/keystone-holder.log"; exit 1; }
    fi
    CONFIG=(--config-file "$STATE/keystone-mode.conf")
fi

echo "==> Starting magnum-all on http://127.0.0.1:$PORT ($MODE)"
if [ -f "$STATE/magnum-all.pid" ] && kill -0 "$(cat "$STATE/magnum-all.pid")" 2>/dev/null \
        && [ "$(cat "$STATE/magnum-all.mode" 2>/dev/null)" = "$MODE" ]; then
    echo "    already running"
else
    stop_pid "$STATE/magnum-all.pid"
    OS_DEFAULT__STATE_PATH=$STATE OS_API__PORT=$PORT \
        setsid .venv/bin/magnum-all "${CONFIG[@]}" >"$STATE/magnum-all.log" 2>&1 &
    echo $! >"$STATE/magnum-all.pid"
    echo "$MODE" >"$STATE/magnum-all.mode"
    for _ in $(seq 1 60); do
        http_get "http://127.0.0.1:$PORT/" >/dev/null && break
        sleep 0.5
    done
    http_get "http://127.0.0.1:$PORT/" >/dev/null || {
        tail -n 30 "$STATE/magnum-all.log"; exit 1; }
fi

magnum_quiet() {  # the 3.7.0 CLI, as the mode wants it
    if [ "$MODE" = keystone ]; then
        (. "$STATE/openrc" && "$MAGNUM37" "$@")
    else
        "$MAGNUM37" --os-token local \
            --os-endpoint-override "http://127.0.0.1:$PORT/v1" "$@"
    fi
}

magnum() {
    echo "\$ magnum $*"
    magnum_quiet "$@"
}

echo "==> Creating a BayModel and a Bay on the local engine"
if ! magnum_quiet baymodel-show local-docker >/dev/null 2>&1; then
    # NOTE: this CLI insists on an image, keypair and external network,
    # which the static provisioner does not use: it adopts the engine.
    magnum baymodel-create --name local-docker --coe docker \
        --image-id busybox --keypair-id none --external-network-id none \
        --labels "docker_url=$ENGINE_URL"
fi
if ! magnum_quiet bay-show local >/dev/null 2>&1; then
    magnum bay-create --name local --baymodel local-docker
fi
for _ in $(seq 1 60); do
    shown=$(magnum_quiet bay-show local 2>&1 || true)
    status=$(awk '$2 == "status" {print $4}' <<<"$shown")
    case "$status" in *_IN_PROGRESS) sleep 1 ;; *) break ;; esac
done
echo "\$ magnum bay-show local"
echo "$shown"

if [ "$MODE" = keystone ]; then
    try=". $STATE/openrc; magnum bay-list"
else
    try="magnum --os-token local --os-endpoint-override http://127.0.0.1:$PORT/v1 bay-list"
fi
cat <<EOF2

Magnum is serving http://127.0.0.1:$PORT/v1 ($MODE) with the bay "local" on
the Docker Engine at $ENGINE_URL.
The clients are in ${CLIENT[2.1.0]}, ${CLIENT[3.7.0]}
and ${CLIENT[4.11.0]} (put one on PATH).
Try:  $try
      (bay-list with 2.1.0 or 3.7.0; 4.11.0 has cluster-list instead.
      README.rst, "Clients against the all-in-one", has a line for each)
Logs: $STATE/magnum-all.log
EOF2

if [ -n "$DETACH" ]; then
    echo "Left running; stop it with: tools/all-in-one.sh stop"
    exit 0
fi
echo "Ctrl-C stops it."
trap 'stop; exit 0' INT TERM
while kill -0 "$(cat "$STATE/magnum-all.pid")" 2>/dev/null; do
    sleep 1
done
