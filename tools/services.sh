#!/usr/bin/env bash
# Starts the machine's PostgreSQL, MariaDB and RabbitMQ if they are down.
# They are installed and started before a session on these machines; CI
# runs after the session's processes were ended, so check each one.
set -uo pipefail

up() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_port() {
    local port=$1 name=$2
    for _ in $(seq 1 60); do
        up "$port" && return 0
        sleep 1
    done
    echo "services.sh: $name did not come up on port $port" >&2
    return 1
}

if ! up 5432; then
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main start
    wait_port 5432 PostgreSQL
fi
if ! up 3306; then
    start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd
    wait_port 3306 MariaDB
fi
if ! up 5672; then
    rabbitmq-server -detached
    wait_port 5672 RabbitMQ
fi
exit 0
