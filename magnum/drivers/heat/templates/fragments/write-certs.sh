#!/bin/sh
# First boot: the bay's certificates from Magnum (the bay's own CA, and the
# server certificate and key of the bay's API), for the boot scripts that
# follow: /etc/magnum/certs/ca.crt, server.crt and server.key, and on a
# kubernetes bay's masters the CA's key (ca.key), with which kubeadm makes
# the cluster's certificates. Heat passes them as hidden parameters; the
# ones not given are empty and leave no file. The keys are root's alone.
set -eu
umask 077
mkdir -p /etc/magnum/certs
cat > /etc/magnum/certs/ca.crt <<'MAGNUM_CA_CERT_END'
$CA_CERT
MAGNUM_CA_CERT_END
cat > /etc/magnum/certs/server.crt <<'MAGNUM_SERVER_CERT_END'
$SERVER_CERT
MAGNUM_SERVER_CERT_END
cat > /etc/magnum/certs/server.key <<'MAGNUM_SERVER_KEY_END'
$SERVER_KEY
MAGNUM_SERVER_KEY_END
cat > /etc/magnum/certs/ca.key <<'MAGNUM_CA_KEY_END'
$CA_KEY
MAGNUM_CA_KEY_END
for name in ca.crt server.crt server.key ca.key; do
    if ! grep -q -e '-----BEGIN' "/etc/magnum/certs/$name"; then
        rm -f "/etc/magnum/certs/$name"
    fi
done
chmod 644 /etc/magnum/certs/ca.crt /etc/magnum/certs/server.crt 2>/dev/null \
    || true
