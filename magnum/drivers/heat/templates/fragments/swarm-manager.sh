#!/bin/sh
# First boot, part 3 (swarm bays, masters): swarm mode. The first master
# initialises the swarm; the others join it as managers with a token read
# through the load balancer in front of the masters' API (there is one
# whenever there are several masters). Nodes read theirs the same way from
# the masters' address (fragments/swarm-node.sh).
set -eu
. /etc/magnum/functions.sh

port=$(magnum_param API_PORT)
address=$(hostname -I | awk '{print $1}')
case "$(hostname)" in
    *-master-0)
        state=$(docker info --format '{{.Swarm.LocalNodeState}}')
        if [ "$state" != active ]; then
            docker swarm init --advertise-addr "$address"
        fi
        ;;
    *)
        lb=$(magnum_param API_LB_ADDRESS)
        token_file=/etc/magnum/swarm-token
        magnum_retry sh -c "docker -H tcp://$lb:$port swarm join-token -q \
            manager > $token_file"
        manager=$(docker -H "tcp://$lb:$port" info \
            --format '{{range .Swarm.RemoteManagers}}{{.Addr}} {{end}}' | \
            awk '{print $1}')
        docker swarm join --advertise-addr "$address" \
            --token "$(cat "$token_file")" "$manager"
        rm -f "$token_file"
        ;;
esac
