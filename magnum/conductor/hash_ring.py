"""Which conductor owns a bay: a consistent hash ring of the live conductors.

The ring is built from the heartbeat table (``magnum_service``): a conductor
is on it while its heartbeat is younger than ``[conductor]
service_down_time``, it has not stopped cleanly (``forced_down``) and no
operator disabled it. A bay's owner is the ring's node for the bay's uuid
(tooz ``HashRing``), so when a conductor joins or leaves only about 1/N of
the bays move.

Routing is an optimisation, never the guarantee: the API sends a bay's
messages to its owner, and each conductor's periodic tasks touch only the
bays it owns, but two conductors may briefly disagree about the ring (each
reads the heartbeats at its own moment). What keeps two of them off one bay
is the bay's lock (``locks.bay_lock``).
"""

import threading
import time

from oslo_log import log as logging
from tooz import hashring

from magnum.objects import magnum_service

LOG = logging.getLogger(__name__)

# NOTE: 2**7 partitions a conductor: 2**5 leaves one of three conductors
# with 25% more bays than another; 2**7 is within a few per cent, and
# still cheap to build at every periodic run.
PARTITIONS = 2 ** 7


class Ring:
    """An immutable ring of conductor hosts."""

    def __init__(self, hosts):
        self.hosts = tuple(sorted(set(hosts)))
        self._ring = (hashring.HashRing(self.hosts, partitions=PARTITIONS)
                      if self.hosts else None)

    def owner(self, bay_uuid):
        """The host that owns ``bay_uuid``, or None when no conductor is
        live.
        """
        if self._ring is None:
            return None
        return next(iter(self._ring.get_nodes(bay_uuid.encode('utf-8'))))

    def owns(self, host, bay_uuid):
        return self.owner(bay_uuid) == host

    def __contains__(self, host):
        return host in self.hosts

    def __repr__(self):
        return 'Ring(%s)' % ', '.join(self.hosts)


class Membership:
    """The conductors' heartbeat rows, read once: who is on the ring, and
    who is down (whose bay reservations nobody will ever give back).
    """

    def __init__(self, rows, now=None):
        self.live = []
        self.down = []
        self.disabled = []
        for row in rows:
            state = magnum_service.state_of(row, now)
            if state == magnum_service.DOWN:
                self.down.append(row.host)
            elif row.disabled:
                self.disabled.append(row.host)
            else:
                self.live.append(row.host)
        self.ring = Ring(self.live)

    @classmethod
    def read(cls):
        return cls(magnum_service.MagnumService.conductors())


class RingCache:
    """The heartbeats, read at most every ``max_age`` seconds (magnum-api:
    ``[conductor] hash_ring_reset_interval``; a conductor: 0, afresh at each
    periodic run); safe to share between threads.
    """

    def __init__(self, max_age):
        self.max_age = max_age
        self._lock = threading.Lock()
        self._members = None
        self._read_at = None

    def members(self):
        with self._lock:
            now = time.monotonic()
            if (self._members is None or self._read_at is None
                    or now - self._read_at >= self.max_age):
                members = Membership.read()
                if (self._members is not None and members.ring.hosts
                        != self._members.ring.hosts):
                    LOG.info('Conductor hash ring is now %s', members.ring)
                self._members, self._read_at = members, now
            return self._members

    def get(self):
        """The ring."""
        return self.members().ring

    def reset(self):
        with self._lock:
            self._read_at = None
