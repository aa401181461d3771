#!/bin/sh
# First boot, part 3 (kubernetes bays, nodes): kubelet and kubeadm, then
# `kubeadm join` through the masters' address (/etc/magnum/masters.env,
# the load balancer when there is one) with the bay's bootstrap token,
# pinning the bay's CA when Magnum gave it one. The node registers with
# its node group's labels and taints (/etc/magnum/nodegroup.env).
set -eu
. /etc/magnum/functions.sh

magnum_install_kubernetes

# NOTE: the kubelet's extra flags go where the kubeadm drop-in of its unit
# reads KUBELET_EXTRA_ARGS, before `kubeadm join` restarts it. The kubelet
# applies them when it registers its node, once: a node that runs keeps
# the labels and taints it registered with.
labels=$(magnum_param NODE_LABELS)
taints=$(magnum_param NODE_TAINTS)
extra_args=${labels:+--node-labels=$labels}
if [ -n "$taints" ]; then
    extra_args="${extra_args:+$extra_args }--register-with-taints=$taints"
fi
if [ -n "$extra_args" ]; then
    case "$(magnum_distro_family)" in
        debian) kubelet_defaults=/etc/default/kubelet ;;
        fedora) kubelet_defaults=/etc/sysconfig/kubelet ;;
    esac
    echo "KUBELET_EXTRA_ARGS=\"$extra_args\"" > "$kubelet_defaults"
fi

if [ ! -e /etc/kubernetes/kubelet.conf ]; then
    # shellcheck disable=SC2046 # two words or one, on purpose
    magnum_retry kubeadm join \
        "$(magnum_param MASTER_ADDRESS):$(magnum_param API_PORT)" \
        --token "$(magnum_param KUBE_TOKEN)" \
        $(magnum_kube_ca_pinning)
fi
