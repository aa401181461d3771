#!/bin/sh
# First boot, part 1: the bay's parameters, as Heat filled them in, for the
# scripts that follow. One KEY=VALUE a line, read with magnum_param (never
# sourced: a value is data, not shell). The file is root's alone: it holds
# the kubeadm token.
set -eu
umask 077
mkdir -p /etc/magnum
cat > /etc/magnum/heat-params <<'MAGNUM_PARAMS_END'
BAY_UUID=$BAY_UUID
COE=$COE
CLUSTER_DISTRO=$CLUSTER_DISTRO
SERVER_TYPE=$SERVER_TYPE
API_PORT=$API_PORT
DOCKER_VOLUME_SIZE=$DOCKER_VOLUME_SIZE
DOCKER_STORAGE_DRIVER=$DOCKER_STORAGE_DRIVER
NETWORK_DRIVER=$NETWORK_DRIVER
HTTP_PROXY=$HTTP_PROXY
HTTPS_PROXY=$HTTPS_PROXY
NO_PROXY=$NO_PROXY
INSECURE_REGISTRY=$INSECURE_REGISTRY
TLS_DISABLED=$TLS_DISABLED
KUBE_VERSION=$KUBE_VERSION
FIXED_CIDR=$FIXED_CIDR
KUBE_TOKEN=$KUBE_TOKEN
KUBE_CERTIFICATE_KEY=$KUBE_CERTIFICATE_KEY
MAGNUM_PARAMS_END
cat > /etc/magnum/functions.sh <<'MAGNUM_FUNCTIONS_END'
# Sourced by the boot scripts of a Magnum bay.
magnum_param() {
    # The value of parameter $1 from /etc/magnum/heat-params (or
    # masters.env, or a worker's nodegroup.env).
    sed -n "s/^$1=//p" /etc/magnum/heat-params /etc/magnum/masters.env \
        /etc/magnum/nodegroup.env 2>/dev/null | head -n 1
}
magnum_distro_family() {
    case "$(magnum_param CLUSTER_DISTRO)" in
        ubuntu*|debian*) echo debian ;;
        fedora*|centos*|rhel*|rocky*|almalinux*) echo fedora ;;
        *) echo "unsupported cluster_distro $(magnum_param CLUSTER_DISTRO)" >&2
           return 1 ;;
    esac
}
magnum_retry() {
    # Runs "$@" until it succeeds, at most 60 times, 10 s apart.
    n=0
    until "$@"; do
        n=$((n + 1))
        [ "$n" -lt 60 ] || return 1
        sleep 10
    done
}
magnum_kube_ca_pinning() {
    # kubeadm join's discovery option: the hash of the bay's CA public key
    # when Magnum gave the bay a CA, otherwise no pinning.
    if [ -e /etc/magnum/certs/ca.crt ]; then
        hash=$(openssl x509 -pubkey -noout -in /etc/magnum/certs/ca.crt |
               openssl pkey -pubin -outform der | sha256sum | cut -d' ' -f1)
        echo "--discovery-token-ca-cert-hash sha256:$hash"
    else
        echo "--discovery-token-unsafe-skip-ca-verification"
    fi
}
magnum_install_kubernetes() {
    # kubelet, kubeadm and kubectl of KUBE_VERSION from the Kubernetes
    # project's package repository, kubelet started.
    family=$(magnum_distro_family)
    version=$(magnum_param KUBE_VERSION)
    repo="https://pkgs.k8s.io/core:/stable:/$version"
    case "$family" in
        debian)
            export DEBIAN_FRONTEND=noninteractive
            magnum_retry apt-get install -y -q apt-transport-https curl gpg
            mkdir -p /etc/apt/keyrings
            magnum_retry sh -c "curl -fsSL $repo/deb/Release.key | \
                gpg --dearmor --yes -o /etc/apt/keyrings/kubernetes.gpg"
            echo "deb [signed-by=/etc/apt/keyrings/kubernetes.gpg] $repo/deb/ /" \
                > /etc/apt/sources.list.d/kubernetes.list
            magnum_retry apt-get update -q
            magnum_retry apt-get install -y -q kubelet kubeadm kubectl
            ;;
        fedora)
            printf '[kubernetes]\nname=Kubernetes\nbaseurl=%s/rpm/\nenabled=1\ngpgcheck=1\ngpgkey=%s/rpm/repodata/repomd.xml.key\n' \
                "$repo" "$repo" > /etc/yum.repos.d/kubernetes.repo
            magnum_retry dnf install -y -q kubelet kubeadm kubectl
            ;;
    esac
    systemctl enable --now kubelet
}
magnum_swarm_join() {
    # Joins the swarm as $1 (worker or manager) with a token read from the
    # Docker API of the manager(s) at address $2.
    # NOTE: plain tcp: a TLS bay's engines want a client certificate the
    # nodes do not have yet (see doc/source/admin/heat.rst).
    role=$1
    endpoint="tcp://$2:$(magnum_param API_PORT)"
    address=$(hostname -I | awk '{print $1}')
    token_file=/etc/magnum/swarm-token
    magnum_retry sh -c "docker -H $endpoint swarm join-token -q $role \
        > $token_file"
    manager=$(docker -H "$endpoint" info \
        --format '{{range .Swarm.RemoteManagers}}{{.Addr}} {{end}}' | \
        awk '{print $1}')
    docker swarm join --advertise-addr "$address" \
        --token "$(cat "$token_file")" "$manager"
    rm -f "$token_file"
}
MAGNUM_FUNCTIONS_END
