#!/bin/sh
# A CA rotation, on every server of the bay: Magnum's heat provisioner
# sends the bay's new certificates in a stack update, and Heat hands this
# script to the server's agent (fragments/heat-agent.py) through the
# certificates deployment of common/server.yaml (UPDATE only; the boot
# configuration already has the certificates of the CA a server was
# created under). It replaces the files fragments/write-certs.sh wrote,
# each whole, and restarts what reads them:
# - swarm and docker bays: Docker Engine, whose API then trusts only
#   clients of the new CA;
# - kubernetes masters: the cluster CA of kubeadm, the certificates it
#   signed (the API server's, still named <bay uuid>.bay.magnum, and its
#   client certificate for the kubelets), the kubeconfigs of the control
#   plane and the kubelet, then the control plane's static pods and the
#   kubelet; the first master also renews the cluster-info the nodes join
#   by. Front-proxy, etcd and the service account keys have keys of their
#   own and stay;
# - kubernetes nodes (after the masters: the nodes' group depends on
#   theirs): the kubelet bootstraps a new client certificate with the
#   bay's token, pinning the new CA.
# Nothing here prints a key: the script's output goes back to Heat.
set -eu
umask 077
# Heat's str_replace fills these two in (master or node; the bay's COE).
# shellcheck disable=SC2016
role='$ROLE'
# shellcheck disable=SC2016
coe='$COE'
etc=${MAGNUM_ETC:-/etc/magnum}
certs=$etc/certs
mkdir -p "$certs"

replace() {
    # replace NAME MARKER: the text of the heredoc ending in MARKER as
    # $certs/NAME, whole, or no such file when it is empty.
    name=$1
    cat > "$certs/$name.new"
    if grep -q -e '-----BEGIN' "$certs/$name.new"; then
        mv -f "$certs/$name.new" "$certs/$name"
    else
        rm -f "$certs/$name.new" "$certs/$name"
    fi
}
replace ca.crt <<'MAGNUM_CA_CERT_END'
$CA_CERT
MAGNUM_CA_CERT_END
replace server.crt <<'MAGNUM_SERVER_CERT_END'
$SERVER_CERT
MAGNUM_SERVER_CERT_END
replace server.key <<'MAGNUM_SERVER_KEY_END'
$SERVER_KEY
MAGNUM_SERVER_KEY_END
replace ca.key <<'MAGNUM_CA_KEY_END'
$CA_KEY
MAGNUM_CA_KEY_END
chmod 644 "$certs/ca.crt" "$certs/server.crt" 2>/dev/null || true
echo "certificates replaced in $certs"

if [ "$coe" != kubernetes ]; then
    systemctl restart docker
    echo "docker restarted"
    exit 0
fi

. "$etc/functions.sh"
pki=/etc/kubernetes/pki
port=$(magnum_param API_PORT)
if [ "$role" = master ]; then
    lb=$(magnum_param API_LB_ADDRESS)
    address=$(hostname -I | awk '{print $1}')
    endpoint=${lb:-$address}
    install -m 644 "$certs/ca.crt" "$pki/ca.crt"
    install -m 600 "$certs/ca.key" "$pki/ca.key"
    rm -f "$pki/apiserver.crt" "$pki/apiserver.key" \
        "$pki/apiserver-kubelet-client.crt" "$pki/apiserver-kubelet-client.key"
    kubeadm init phase certs apiserver \
        --apiserver-advertise-address "$address" \
        --apiserver-cert-extra-sans "$(magnum_param BAY_UUID).bay.magnum" \
        --control-plane-endpoint "$endpoint:$port"
    kubeadm init phase certs apiserver-kubelet-client
    for conf in admin super-admin controller-manager scheduler kubelet; do
        rm -f "/etc/kubernetes/$conf.conf"
    done
    kubeadm init phase kubeconfig all \
        --apiserver-advertise-address "$address" \
        --apiserver-bind-port "$port" \
        --control-plane-endpoint "$endpoint:$port" \
        --node-name "$(hostname)"
    rm -f /var/lib/kubelet/pki/kubelet-client-*.pem
    for pod in kube-apiserver kube-controller-manager kube-scheduler; do
        for container in $(crictl ps -q --name "$pod"); do
            crictl stop "$container" >/dev/null
        done
    done
    systemctl restart kubelet
    echo "control plane restarted with the new CA"
    case "$(hostname)" in
        *-master-0)
            magnum_retry kubeadm init phase bootstrap-token \
                --kubeconfig /etc/kubernetes/admin.conf
            echo "cluster-info renewed"
            ;;
    esac
else
    install -m 644 "$certs/ca.crt" "$pki/ca.crt"
    systemctl stop kubelet
    rm -f /etc/kubernetes/kubelet.conf /var/lib/kubelet/pki/kubelet-client-*.pem
    # shellcheck disable=SC2046 # two words or one, on purpose
    magnum_retry kubeadm join phase kubelet-start \
        "$(magnum_param MASTER_ADDRESS):$port" \
        --token "$(magnum_param KUBE_TOKEN)" \
        $(magnum_kube_ca_pinning)
    echo "kubelet bootstrapped under the new CA"
fi
