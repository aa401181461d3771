#!/bin/sh
# First boot, part 3 (swarm bays, nodes): join the swarm as a worker, with
# the token read from the masters' Docker API (their address is in
# /etc/magnum/masters.env, written by common/cluster.yaml).
set -eu
. /etc/magnum/functions.sh

magnum_swarm_join worker "$(magnum_param MASTER_ADDRESS)"
