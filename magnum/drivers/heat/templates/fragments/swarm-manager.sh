#!/bin/sh
# First boot, part 3 (swarm bays, masters): swarm mode. The first master
# initialises the swarm; the others join it as managers with a token read
# through the load balancer in front of the masters' API (there is one
# whenever there are several masters). Nodes read theirs the same way from
# the masters' address (fragments/swarm-node.sh).
set -eu
. /etc/magnum/functions.sh

address=$(hostname -I | awk '{print $1}')
case "$(hostname)" in
    *-master-0)
        state=$(docker info --format '{{.Swarm.LocalNodeState}}')
        if [ "$state" != active ]; then
            docker swarm init --advertise-addr "$address"
        fi
        ;;
    *)
        magnum_swarm_join manager "$(magnum_param API_LB_ADDRESS)"
        ;;
esac
