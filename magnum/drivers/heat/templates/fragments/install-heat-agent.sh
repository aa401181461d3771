#!/bin/sh
# First boot: Magnum's Heat agent (fragments/heat-agent.py), which runs
# the software deployments Heat has for this server (a CA rotation's new
# certificates, common/server.yaml), and a systemd timer that runs it
# every 30 seconds. It only acts on a server Heat gave credentials to
# (user_data_format SOFTWARE_CONFIG, the servers of a bay with TLS); on
# the others it finds none and does nothing.
set -eu
mkdir -p /usr/local/bin /var/lib/magnum
cat > /usr/local/bin/magnum-heat-agent <<'MAGNUM_HEAT_AGENT_END'
$MAGNUM_HEAT_AGENT
MAGNUM_HEAT_AGENT_END
chmod 755 /usr/local/bin/magnum-heat-agent
cat > /etc/systemd/system/magnum-heat-agent.service <<'UNIT_END'
[Unit]
Description=Magnum's Heat agent: one pass over this server's deployments
After=network-online.target
Wants=network-online.target

[Service]
Type=oneshot
ExecStart=/usr/bin/python3 /usr/local/bin/magnum-heat-agent
UNIT_END
cat > /etc/systemd/system/magnum-heat-agent.timer <<'UNIT_END'
[Unit]
Description=Run Magnum's Heat agent every 30 seconds

[Timer]
OnBootSec=30
OnUnitInactiveSec=30

[Install]
WantedBy=timers.target
UNIT_END
systemctl daemon-reload
systemctl enable --now magnum-heat-agent.timer
