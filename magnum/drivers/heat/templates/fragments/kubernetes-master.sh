#!/bin/sh
# First boot, part 3 (kubernetes bays, masters): kubelet, kubeadm and
# kubectl from the Kubernetes project's package repository for the bay's
# KUBE_VERSION, then `kubeadm init` on the first master (with the bootstrap
# token Heat generated, so nodes can join without asking anyone) and
# `kubeadm join --control-plane` on the others, through the load balancer
# in front of the masters, then the pod network named by network_driver
# (flannel unless it says calico). With the bay's CA from Magnum
# (/etc/magnum/certs, fragments/write-certs.sh), kubeadm makes the
# cluster's certificates with it, the API server's also named
# <bay uuid>.bay.magnum, so Magnum's own client certificate (the user
# "magnum") and those of POST /v1/certificates are the cluster's; the
# user magnum gets what Magnum needs through RBAC, nothing more.
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
server_name="$(magnum_param BAY_UUID).bay.magnum"

case "$(hostname)" in
    *-master-0)
        if [ ! -e /etc/kubernetes/admin.conf ]; then
            if [ -e /etc/magnum/certs/ca.key ]; then
                mkdir -p /etc/kubernetes/pki
                install -m 644 /etc/magnum/certs/ca.crt /etc/kubernetes/pki/ca.crt
                install -m 600 /etc/magnum/certs/ca.key /etc/kubernetes/pki/ca.key
            fi
            kubeadm init --token "$token" --token-ttl 0 \
                --apiserver-advertise-address "$address" \
                --apiserver-bind-port "$port" \
                --apiserver-cert-extra-sans "$server_name" \
                --control-plane-endpoint "$endpoint:$port" \
                --upload-certs --certificate-key "$certificate_key" \
                --pod-network-cidr "$pod_cidr"
        fi
        export KUBECONFIG=/etc/kubernetes/admin.conf
        cat > /etc/magnum/magnum-rbac.yaml <<'MAGNUM_RBAC_END'
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: magnum}
rules:
- apiGroups: [""]
  resources: [namespaces]
  verbs: [get, create]
- apiGroups: [""]
  resources: [pods, services, replicationcontrollers,
              replicationcontrollers/scale, replicationcontrollers/status,
              pods/status, services/status]
  verbs: [get, list, watch, create, update, patch, delete]
- apiGroups: [""]
  resources: [nodes]
  verbs: [get, list]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: magnum}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: magnum}
subjects:
- {apiGroup: rbac.authorization.k8s.io, kind: User, name: magnum}
MAGNUM_RBAC_END
        magnum_retry kubectl apply -f /etc/magnum/magnum-rbac.yaml
        if [ "$network_driver" = calico ]; then
            manifest=https://raw.githubusercontent.com/projectcalico/calico/v3.27.0/manifests/calico.yaml
        else
            manifest=https://github.com/flannel-io/flannel/releases/latest/download/kube-flannel.yml
        fi
        magnum_retry kubectl apply -f "$manifest"
        ;;
    *)
        if [ ! -e /etc/kubernetes/kubelet.conf ]; then
            # shellcheck disable=SC2046 # two words or one, on purpose
            magnum_retry kubeadm join "$endpoint:$port" --token "$token" \
                $(magnum_kube_ca_pinning) \
                --control-plane --certificate-key "$certificate_key" \
                --apiserver-advertise-address "$address" \
                --apiserver-bind-port "$port"
        fi
        ;;
esac
