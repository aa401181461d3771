"""magnum-conductor: the RPC server that drives the bays."""

import signal
import threading

from oslo_log import log as logging

from magnum.cmd import service
from magnum.common import keystore
from magnum.conductor import service as conductor_service

LOG = logging.getLogger(__name__)


def wait_for_signal():
    """Block until SIGTERM or SIGINT."""
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    while not stop.wait(3600):
        pass


def main():
    service.prepare()
    keystore.check_or_exit(LOG)
    conductor = conductor_service.ConductorService()
    conductor.start()
    try:
        wait_for_signal()
    finally:
        conductor.stop()
