#!/bin/sh
# First boot, part 3 (kubernetes bays, nodes): kubelet and kubeadm, then
# `kubeadm join` through the masters' address (/etc/magnum/masters.env,
# the load balancer when there is one) with the bay's bootstrap token,
# pinning the bay's CA when Magnum gave it one.
set -eu
. /etc/magnum/functions.sh

magnum_install_kubernetes
if [ ! -e /etc/kubernetes/kubelet.conf ]; then
    # shellcheck disable=SC2046 # two words or one, on purpose
    magnum_retry kubeadm join \
        "$(magnum_param MASTER_ADDRESS):$(magnum_param API_PORT)" \
        --token "$(magnum_param KUBE_TOKEN)" \
        $(magnum_kube_ca_pinning)
fi
