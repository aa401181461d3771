#!/bin/sh
# First boot, workers, before part 1: the Kubernetes labels and taints of the
# server's node group, in the kubelet's syntax (--node-labels
# k1=v1,k2=v2; --register-with-taints k=v:Effect,k2:Effect), empty for
# none, as Magnum's heat provisioner rendered them for the group
# (definition.py, which lets through only the characters Kubernetes
# allows). One KEY=VALUE a line, read with magnum_param (never sourced:
# a value is data, not shell); kubernetes-node.sh gives them to the
# kubelet.
set -eu
mkdir -p /etc/magnum
cat > /etc/magnum/nodegroup.env <<'MAGNUM_NODEGROUP_END'
NODE_LABELS=$NODE_LABELS
NODE_TAINTS=$NODE_TAINTS
MAGNUM_NODEGROUP_END
