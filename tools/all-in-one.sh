#!/usr/bin/env bash
# The main job, from nothing: install Magnum, start a local Docker Engine and
# magnum-all (API + conductor in one process, SQLite, no auth), then use the
# real python-magnumclient CLI to create a BayModel and a Bay on that engine.
#
#   tools/all-in-one.sh            run, and keep serving until Ctrl-C
#   tools/all-in-one.sh --detach   run, leave it serving, and return
#   tools/all-in-one.sh stop       stop what --detach left running
#
# State lives in $MAGNUM_STATE (default ~/.magnum): the SQLite database, the
# engine's socket and data, and the logs.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
STATE=${MAGNUM_STATE:-$HOME/.magnum}
PORT=${MAGNUM_PORT:-9511}
CLIENT_VENV=${MAGNUM_CLIENT_VENV:-$HOME/.cache/magnum-tests/magnumclient-3.7.0}
mkdir -p "$STATE"

stop() {
    if [ -f "$STATE/magnum-all.pid" ]; then
        kill "$(cat "$STATE/magnum-all.pid")" 2>/dev/null || true
        rm -f "$STATE/magnum-all.pid"
    fi
    "$ROOT/tools/docker-engine.sh" stop "$STATE/docker" >/dev/null || true
}

if [ "${1:-}" = stop ]; then
    stop
    echo "Stopped."
    exit 0
fi

echo "==> Installing Magnum into .venv"
tools/install.sh

echo "==> Installing the python-magnumclient 3.7.0 CLI into $CLIENT_VENV"
if [ ! -x "$CLIENT_VENV/bin/magnum" ]; then
    python3 -m venv "$CLIENT_VENV"
    "$CLIENT_VENV/bin/pip" install -q 'python-magnumclient==3.7.0' six
fi

echo "==> Starting a local Docker Engine"
ENGINE_URL=$(tools/docker-engine.sh start "$STATE/docker" | tail -n 1)
echo "    $ENGINE_URL"

http_get() {
    python3 -c 'import sys, urllib.request
print(urllib.request.urlopen(sys.argv[1], timeout=5).read().decode())' "$1" 2>/dev/null
}

echo "==> Starting magnum-all on http://127.0.0.1:$PORT"
if [ -f "$STATE/magnum-all.pid" ] && kill -0 "$(cat "$STATE/magnum-all.pid")" 2>/dev/null; then
    echo "    already running"
else
    OS_DEFAULT__STATE_PATH=$STATE OS_API__PORT=$PORT \
        .venv/bin/magnum-all >"$STATE/magnum-all.log" 2>&1 &
    echo $! >"$STATE/magnum-all.pid"
    for _ in $(seq 1 60); do
        http_get "http://127.0.0.1:$PORT/" >/dev/null && break
        sleep 0.5
    done
    http_get "http://127.0.0.1:$PORT/" >/dev/null || {
        tail -n 30 "$STATE/magnum-all.log"; exit 1; }
fi

magnum() {
    echo "\$ magnum $*"
    "$CLIENT_VENV/bin/magnum" --os-token local \
        --os-endpoint-override "http://127.0.0.1:$PORT/v1" "$@"
}

echo "==> Creating a BayModel and a Bay on the local engine"
if ! "$CLIENT_VENV/bin/magnum" --os-token local \
        --os-endpoint-override "http://127.0.0.1:$PORT/v1" \
        baymodel-show local-docker >/dev/null 2>&1; then
    # NOTE: this CLI insists on an image, keypair and external network,
    # which the static provisioner does not use: it adopts the engine.
    magnum baymodel-create --name local-docker --coe docker \
        --image-id busybox --keypair-id none --external-network-id none \
        --labels "docker_url=$ENGINE_URL"
fi
if ! "$CLIENT_VENV/bin/magnum" --os-token local \
        --os-endpoint-override "http://127.0.0.1:$PORT/v1" \
        bay-show local >/dev/null 2>&1; then
    magnum bay-create --name local --baymodel local-docker
fi
for _ in $(seq 1 60); do
    status=$(http_get "http://127.0.0.1:$PORT/v1/bays/local" |
             python3 -c 'import json,sys; print(json.load(sys.stdin)["status"])')
    case "$status" in *_IN_PROGRESS) sleep 0.5 ;; *) break ;; esac
done
magnum bay-show local
magnum bay-list

cat <<EOF2

Magnum is serving http://127.0.0.1:$PORT/v1 with the bay "local" on the
Docker Engine at $ENGINE_URL.
Try:  $CLIENT_VENV/bin/magnum --os-token local \\
        --os-endpoint-override http://127.0.0.1:$PORT/v1 service-list
Logs: $STATE/magnum-all.log
EOF2

if [ "${1:-}" = --detach ]; then
    echo "Left running; stop it with: tools/all-in-one.sh stop"
    exit 0
fi
echo "Ctrl-C stops it."
trap 'stop; exit 0' INT TERM
while kill -0 "$(cat "$STATE/magnum-all.pid")" 2>/dev/null; do
    sleep 1
done
