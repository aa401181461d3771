#!/bin/sh
# First boot, part 3 (swarm bays, nodes): join the swarm as a worker, with
# the token read from the masters' Docker API (their address is in
# /etc/magnum/masters.env, written by common/cluster.yaml).
set -eu
. /etc/magnum/functions.sh

port=$(magnum_param API_PORT)
master=$(magnum_param MASTER_ADDRESS)
address=$(hostname -I | awk '{print $1}')
token_file=/etc/magnum/swarm-token
magnum_retry sh -c "docker -H tcp://$master:$port swarm join-token -q \
    worker > $token_file"
manager=$(docker -H "tcp://$master:$port" info \
    --format '{{range .Swarm.RemoteManagers}}{{.Addr}} {{end}}' | \
    awk '{print $1}')
docker swarm join --advertise-addr "$address" \
    --token "$(cat "$token_file")" "$manager"
rm -f "$token_file"
