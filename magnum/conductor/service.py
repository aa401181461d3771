"""The conductor service: RPC server, heartbeat and periodic tasks.

Any number of conductors share one topic, one database and one broker. Each
listens on the topic (for messages any conductor may take) and on its own
queue, ``<topic>.<host>``, where the API sends the messages of the bays it
owns on the hash ring (``hash_ring``); its periodic tasks touch only those
bays.

The heartbeat runs on its own thread: a reconcile pass that waits on a slow
backend must never make a live conductor look dead (its bays would be taken
over while it still works on them).

A clean stop drains: the conductor says it is leaving (it drops out of the
ring at once rather than after ``service_down_time``), stops taking
messages, lets the ones it is handling and the current periodic pass
finish, and gives back any reservation it still holds. Messages already in
its own queue wait there for its return; meanwhile the bays' new owners
finish that work from the database (``[conductor] redo_after``).

Provisioners that can be watched (capi) tell the conductor of each change
of a bay as it happens (``BayHandler.start_watches``); the periodic
reconcile pass stays the safety net.
"""

import threading

from oslo_config import cfg
from oslo_log import log as logging
import oslo_messaging as messaging

from magnum.conductor import hash_ring
from magnum.conductor import manager as conductor_manager
from magnum.conductor import periodic
from magnum.conductor import rpc
from magnum.db import bays as db_bays
from magnum.objects import magnum_service

LOG = logging.getLogger(__name__)
BINARY = magnum_service.CONDUCTOR


def heartbeat_interval():
    """Seconds between two heartbeats: ``periodic_interval``, but a third
    of ``service_down_time`` at most, so that a conductor whose reconcile
    passes are far apart (it hears its provisioner's notifications, say)
    is never seen down between two of them."""
    conf = cfg.CONF.conductor
    return min(conf.periodic_interval, max(conf.service_down_time / 3.0,
                                           0.1))


class Heartbeat:
    """Reports ``host`` alive every ``heartbeat_interval()``, on its own
    thread; then frees the bays of conductors found down (``take_over``).
    """

    def __init__(self, host, take_over=None):
        self.host = host
        self.take_over = take_over
        self._stop = threading.Event()
        self._thread = None

    def report(self):
        try:
            magnum_service.MagnumService.report(self.host, BINARY)
        except Exception:
            LOG.exception('Could not report the heartbeat of %s', self.host)
            return
        if self.take_over is not None:
            try:
                self.take_over()
            except Exception:
                LOG.exception('Could not take over the bays of conductors '
                              'down')

    def _run(self, interval):
        while not self._stop.wait(interval):
            self.report()

    def start(self):
        self.report()
        self._stop.clear()
        self._thread = threading.Thread(
            target=self._run, args=(heartbeat_interval(),),
            name='magnum-heartbeat', daemon=True)
        self._thread.start()

    def stop(self):
        self._stop.set()
        if self._thread is not None:
            self._thread.join()


class ConductorService:

    def __init__(self, host=None):
        self.host = host or cfg.CONF.host
        # NOTE: conductors read the heartbeats afresh at every periodic run.
        self.rings = hash_ring.RingCache(max_age=0)
        self.manager = conductor_manager.ConductorManager(self.host,
                                                          rings=self.rings)
        self.heartbeat = Heartbeat(self.host,
                                   take_over=self.manager.bays.take_over)
        self._server = None
        self._worker = None
        self._thread = None

    def start(self):
        cleared = db_bays.clear_reservations(self.host)
        if cleared:
            LOG.warning('Cleared %d stale bay reservation(s) of %s',
                        cleared, self.host)
        # NOTE: the first heartbeat before anything else: the conductor is
        # on the ring (and owns bays) from its first periodic run.
        self.heartbeat.start()
        target = messaging.Target(topic=cfg.CONF.conductor.topic,
                                  server=self.host)
        self._server = rpc.get_server(target, [self.manager])
        self._server.start()
        self._worker = periodic.make_worker(
            self.host, self.manager.bays, self.manager.containers,
            rings=self.rings)
        self._thread = threading.Thread(target=self._worker.start,
                                        name='magnum-periodic', daemon=True)
        self._thread.start()
        self.manager.bays.start_watches()
        LOG.info('Conductor %s started on topic %s', self.host,
                 cfg.CONF.conductor.topic)

    def stop(self):
        """Drain: leave the ring, finish what is in hand, give bays back."""
        self.heartbeat.stop()
        try:
            magnum_service.MagnumService.leave(self.host, BINARY)
        except Exception:
            LOG.exception('Could not mark %s as leaving; it drops out of '
                          'the ring after service_down_time', self.host)
        if self._server is not None:
            self._server.stop()
            self._server.wait()
        self.manager.bays.stop_watches()
        if self._worker is not None:
            self._worker.stop()
            self._worker.wait()
        self.manager.bays.wait_for_redos()
        try:
            cleared = db_bays.clear_reservations(self.host)
        except Exception:
            LOG.exception('Could not give back the reservations of %s',
                          self.host)
        else:
            if cleared:
                LOG.warning('Gave back %d bay reservation(s) on stopping',
                            cleared)
        LOG.info('Conductor %s stopped', self.host)
