#!/bin/sh
# First boot, part 2: Docker Engine on every server of the bay, with its
# storage on the bay's Cinder volume when there is one, and the bay's proxy
# and insecure registry settings. On swarm and docker bays the engine's API
# also listens on the bay's API port: with TLS (the default) it verifies
# clients against the bay's CA in /etc/magnum/certs; with tls_disabled it is
# open to whoever reaches the port, which the security groups limit to the
# masters' API port from outside.
set -eu
. /etc/magnum/functions.sh

family=$(magnum_distro_family)
volume_size=$(magnum_param DOCKER_VOLUME_SIZE)
storage_driver=$(magnum_param DOCKER_STORAGE_DRIVER)
insecure_registry=$(magnum_param INSECURE_REGISTRY)
http_proxy=$(magnum_param HTTP_PROXY)
https_proxy=$(magnum_param HTTPS_PROXY)
no_proxy=$(magnum_param NO_PROXY)

case "$family" in
    debian)
        export DEBIAN_FRONTEND=noninteractive
        magnum_retry apt-get update -q
        magnum_retry apt-get install -y -q docker.io xfsprogs
        ;;
    fedora)
        magnum_retry dnf install -y -q moby-engine xfsprogs
        ;;
esac

if [ "${volume_size:-0}" -gt 0 ]; then
    # The volume is attached as /dev/vdb (common/server.yaml); wait for it.
    device=/dev/vdb
    magnum_retry test -b "$device"
    if ! blkid "$device" >/dev/null 2>&1; then
        mkfs.xfs -q "$device"
    fi
    mkdir -p /var/lib/docker
    if ! grep -q "^$device " /etc/fstab; then
        echo "$device /var/lib/docker xfs defaults 0 0" >> /etc/fstab
    fi
    mount /var/lib/docker 2>/dev/null || mountpoint -q /var/lib/docker
fi

mkdir -p /etc/docker
{
    printf '{\n  "storage-driver": "%s"' "${storage_driver:-overlay2}"
    if [ -n "$insecure_registry" ]; then
        printf ',\n  "insecure-registries": ["%s"]' "$insecure_registry"
    fi
    printf '\n}\n'
} > /etc/docker/daemon.json

if [ -n "$http_proxy$https_proxy" ]; then
    mkdir -p /etc/systemd/system/docker.service.d
    cat > /etc/systemd/system/docker.service.d/proxy.conf <<PROXY_END
[Service]
Environment="HTTP_PROXY=$http_proxy" "HTTPS_PROXY=$https_proxy" "NO_PROXY=$no_proxy"
PROXY_END
fi

coe=$(magnum_param COE)
if [ "$coe" != kubernetes ]; then
    port=$(magnum_param API_PORT)
    case "$(magnum_param TLS_DISABLED)" in
        True|true) tls_args="" ;;
        *) tls_args="--tlsverify --tlscacert=/etc/magnum/certs/ca.crt"
           tls_args="$tls_args --tlscert=/etc/magnum/certs/server.crt"
           tls_args="$tls_args --tlskey=/etc/magnum/certs/server.key" ;;
    esac
    mkdir -p /etc/systemd/system/docker.service.d
    cat > /etc/systemd/system/docker.service.d/api.conf <<API_END
[Service]
ExecStart=
ExecStart=/usr/bin/dockerd -H fd:// -H tcp://0.0.0.0:$port $tls_args
API_END
fi

systemctl daemon-reload
systemctl enable docker
systemctl restart docker
