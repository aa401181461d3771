"""The conductor service: RPC server, heartbeat and periodic tasks."""

import threading

from oslo_config import cfg
from oslo_log import log as logging
import oslo_messaging as messaging

from magnum.common import rpc
from magnum.conductor import manager as conductor_manager
from magnum.conductor import periodic
from magnum.db import api as db_api
from magnum.objects import magnum_service

LOG = logging.getLogger(__name__)
BINARY = 'magnum-conductor'


class Heartbeat:
    def __init__(self, host):
        self.host = host

    @periodic.periodic()
    def report(self):
        magnum_service.MagnumService.report(self.host, BINARY)


class ConductorService:

    def __init__(self, host=None):
        self.host = host or cfg.CONF.host
        self.manager = conductor_manager.ConductorManager(self.host)
        self._server = None
        self._worker = None
        self._thread = None

    def start(self):
        cleared = db_api.clear_reservations(self.host)
        if cleared:
            LOG.warning('Cleared %d stale bay reservation(s) of %s',
                        cleared, self.host)
        target = messaging.Target(topic=cfg.CONF.conductor.topic,
                                  server=self.host)
        self._server = rpc.get_server(target, [self.manager])
        self._server.start()
        self._worker = periodic.make_worker(
            self.host, Heartbeat(self.host), self.manager.bays,
            self.manager.containers)
        self._thread = threading.Thread(target=self._worker.start,
                                        name='magnum-periodic', daemon=True)
        self._thread.start()
        LOG.info('Conductor %s started on topic %s', self.host,
                 cfg.CONF.conductor.topic)

    def stop(self):
        if self._server is not None:
            self._server.stop()
            self._server.wait()
        if self._worker is not None:
            self._worker.stop()
            self._worker.wait()
        LOG.info('Conductor %s stopped', self.host)
