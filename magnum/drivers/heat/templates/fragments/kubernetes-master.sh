#!/bin/sh
# First boot, part 3 (kubernetes bays, masters): kubelet, kubeadm and
# kubectl from the Kubernetes project's package repository for the bay's
# KUBE_VERSION, then `kubeadm init` on the first master (with the bootstrap
# token Heat generated, so nodes can join without asking anyone) and
# `kubeadm join --control-plane` on the others, through the load balancer
# in front of the masters, then the pod network named by network_driver
# (flannel unless it says calico).
set -eu
. /etc/magnum/functions.sh

magnum_install_kubernetes
port=$(magnum_param API_PORT)
token=$(magnum_param KUBE_TOKEN)
certificate_key=$(magnum_param KUBE_CERTIFICATE_KEY)
lb=$(magnum_param API_LB_ADDRESS)
network_driver=$(magnum_param NETWORK_DRIVER)

if [ "$network_driver" = calico ]; then
    pod_cidr=192.168.0.0/16
else
    pod_cidr=10.244.0.0/16
fi
address=$(hostname -I | awk '{print $1}')
endpoint=${lb:-$address}

case "$(hostname)" in
    *-master-0)
        if [ ! -e /etc/kubernetes/admin.conf ]; then
            kubeadm init --token "$token" --token-ttl 0 \
                --apiserver-advertise-address "$address" \
                --apiserver-bind-port "$port" \
                --control-plane-endpoint "$endpoint:$port" \
                --upload-certs --certificate-key "$certificate_key" \
                --pod-network-cidr "$pod_cidr"
        fi
        export KUBECONFIG=/etc/kubernetes/admin.conf
        if [ "$network_driver" = calico ]; then
            manifest=https://raw.githubusercontent.com/projectcalico/calico/v3.27.0/manifests/calico.yaml
        else
            manifest=https://github.com/flannel-io/flannel/releases/latest/download/kube-flannel.yml
        fi
        magnum_retry kubectl apply -f "$manifest"
        ;;
    *)
        if [ ! -e /etc/kubernetes/kubelet.conf ]; then
            magnum_retry kubeadm join "$endpoint:$port" --token "$token" \
                --discovery-token-unsafe-skip-ca-verification \
                --control-plane --certificate-key "$certificate_key" \
                --apiserver-advertise-address "$address" \
                --apiserver-bind-port "$port"
        fi
        ;;
esac
