"""Bay lifecycle on the conductor: drive the bay's provisioner under its lock.

The API writes the wanted change to the row first (status *_IN_PROGRESS),
then casts. Every entry point here looks at the row under the lock and does
only what the row still asks for, so a duplicate message, a lost one (the
reconciler redoes it) and a restart mid-way all end in the same place.
"""

import collections
from concurrent import futures
import datetime
import threading

from oslo_config import cfg
from oslo_log import log as logging
from oslo_utils import timeutils

from magnum.common import bay_tls
from magnum.common import context as magnum_context
from magnum.common import exception
from magnum.conductor import locks
from magnum.conductor import periodic
from magnum.conductor.handlers import cluster as cluster_handler
from magnum.db import api as db_api
from magnum.drivers import base as drivers
from magnum.objects import bay as bay_obj
from magnum.objects import baymodel as baymodel_obj
from magnum.objects import node as node_obj

LOG = logging.getLogger(__name__)
CONF = cfg.CONF

_FAILED = {bay_obj.CREATE_IN_PROGRESS: bay_obj.CREATE_FAILED,
           bay_obj.UPDATE_IN_PROGRESS: bay_obj.UPDATE_FAILED,
           bay_obj.DELETE_IN_PROGRESS: bay_obj.DELETE_FAILED}
# NOTE: the reconciler holds a bay's lock only for a moment at a time, so a
# message that arrives meanwhile waits for it rather than being dropped.
LOCK_WAIT = 10

_ACTION = {bay_obj.CREATE_IN_PROGRESS: 'create',
           bay_obj.UPDATE_IN_PROGRESS: 'update',
           bay_obj.DELETE_IN_PROGRESS: 'delete'}


class BayHandler:
    """``rings``: a ``hash_ring.RingCache`` saying which bays this
    conductor owns and which conductors are down; None owns every bay (a
    lone conductor, the unit tests).
    """

    def __init__(self, host, rings=None):
        self.host = host
        self.rings = rings
        self._redo_pool = None
        self._redoing = set()
        self._redo_lock = threading.Lock()

    # -- RPC entry points --------------------------------------------------

    def bay_create(self, context, bay):
        self._act(context, bay.uuid, bay_obj.CREATE_IN_PROGRESS)

    def bay_update(self, context, bay):
        self._act(context, bay.uuid, bay_obj.UPDATE_IN_PROGRESS)

    def bay_delete(self, context, bay):
        self._act(context, bay.uuid, bay_obj.DELETE_IN_PROGRESS)

    def _act(self, context, uuid, status):
        try:
            with locks.bay_lock(context, uuid, self.host,
                                wait=LOCK_WAIT) as bay:
                if bay.status != status:
                    LOG.debug('Bay %s is %s, not %s: nothing to do',
                              uuid, bay.status, status)
                    return
                self._drive(context, bay, _ACTION[status])
        except exception.BayLocked as e:
            # The holder, or the reconciler after it, finishes the work.
            LOG.info('%s', e)
        except exception.BayNotFound:
            LOG.info('Bay %s is gone; nothing to do', uuid)

    def _drive(self, context, bay, action):
        try:
            provisioner = drivers.get(bay.provisioner)
            baymodel = baymodel_obj.BayModel.get_by_uuid_unscoped(
                context, bay.baymodel_id)
            if action == 'create' and bay_tls.wants_ca(bay, baymodel):
                # NOTE: before the provisioner, which hands the bay its
                # certificates; a create redone keeps the first CA.
                bay_tls.ensure(bay, baymodel,
                               provisioner.serves_bay_certificates(
                                   bay, baymodel))
            state = getattr(provisioner, action)(context, bay, baymodel)
            bay.driven_at = timeutils.utcnow()
        except Exception as e:
            LOG.exception('Provisioner %s failed to %s bay %s',
                          bay.provisioner, action, bay.uuid)
            state = drivers.BayState(status=_FAILED[bay.status],
                                     status_reason=str(e))
        self._apply(bay, state)

    def _apply(self, bay, state):
        """Write the provisioner's answer; the last step under the lock.

        NOTE: the reservation is given back in the same UPDATE, so nobody
        who sees the new status can find the bay still locked.
        """
        if state.status == bay_obj.DELETE_COMPLETE:
            bay.destroy(holder=self.host)
            LOG.info('Bay %s deleted', bay.uuid)
            return
        changes = state.changes()
        changes.pop('redo', None)
        nodes = changes.pop('nodes', None)
        if nodes is not None:
            node_obj.Node.replace_for_bay(bay.uuid, nodes)
        cluster_handler.record_addresses(
            bay.uuid, changes.pop('nodegroup_addresses', None))
        for name, value in changes.items():
            setattr(bay, name, value)
        cluster_handler.finish(bay, state)
        bay.reservation = None
        bay.save(holder=self.host)
        if state.status:
            LOG.info('Bay %s is %s', bay.uuid, state.status)

    # -- reconciler --------------------------------------------------------

    @periodic.periodic()
    def reconcile_bays(self):
        """Bring the bays in progress up to date with their provisioners.

        One ``poll`` per provisioner answers for all of its bays (the heat
        provisioner makes one list call to Heat per pass, however many bays
        there are); each bay's answer is then written under the bay's lock,
        only if its status has not moved meanwhile.
        """
        context = magnum_context.make_admin_context()
        ring = self.rings.get() if self.rings is not None else None
        batches = collections.defaultdict(list)
        baymodels = {}
        for bay in bay_obj.Bay.list_by_status(context, bay_obj.IN_PROGRESS):
            if ring is not None and not ring.owns(self.host, bay.uuid):
                continue  # another conductor's
            try:
                if bay.baymodel_id not in baymodels:
                    baymodels[bay.baymodel_id] = (
                        baymodel_obj.BayModel.get_by_uuid_unscoped(
                            context, bay.baymodel_id))
                batches[bay.provisioner].append(
                    (bay, baymodels[bay.baymodel_id]))
            except exception.BayModelNotFound:
                LOG.warning('Bay %s has no BayModel', bay.uuid)
        for name, pairs in batches.items():
            self._reconcile_batch(context, name, pairs)

    def take_over(self):
        """Free the bays of conductors that are down (the heartbeat thread
        calls it after each heartbeat, so a long reconcile pass never
        delays it).

        NOTE: a conductor that stopped heartbeating for ``service_down_time``
        is taken for dead: its reservations are cleared so that the bays'
        new owners (whose rings no longer hold it) carry its work on from
        the provisioner's state. A conductor that only lost its database for
        that long finds its writes refused (they are conditional on its
        reservation) and leaves the bays to the new owners.
        """
        if self.rings is None:
            return
        members = self.rings.members()
        if self.host not in members.ring and self.host in members.down:
            return  # this conductor itself is late; it decides nothing
        down = [host for host in members.down if host != self.host]
        cleared = db_api.clear_reservations_of(down)
        if cleared:
            LOG.warning('Took over %d bay reservation(s) of the conductor(s) '
                        'down: %s', cleared, ', '.join(down))

    def _reconcile_batch(self, context, name, pairs):
        states = {}
        try:
            provisioner = drivers.get(name)
            if not provisioner.handles_timeout:
                for bay, _ in pairs:
                    if self._timed_out(bay):
                        states[bay.uuid] = drivers.BayState(
                            status=bay_obj.CREATE_FAILED,
                            status_reason='Bay creation timed out after %d '
                                          'minute(s).'
                                          % bay.bay_create_timeout)
            polled = [pair for pair in pairs if pair[0].uuid not in states]
            if polled:
                states.update(provisioner.poll(context, polled))
        except Exception:
            # NOTE: a backend that does not answer is no news about the
            # bays: they are polled again next pass (and a create still
            # times out).
            LOG.exception('Could not poll %d bay(s) of provisioner %s',
                          len(pairs), name)
        for bay, baymodel in pairs:
            state = states.get(bay.uuid)
            if state is None:
                continue
            if state.redo and self._recent(bay):
                # NOTE: its message may still be on its way. Read before the
                # lock: taking the reservation stamps updated_at.
                continue
            if state.redo:
                self._redo_soon(context, bay)
                continue
            try:
                with locks.bay_lock(context, bay.uuid, self.host) as locked:
                    if locked.status != bay.status:
                        continue  # someone acted meanwhile; next pass
                    self._apply(locked, state)
            except (exception.BayLocked, exception.BayNotFound):
                continue
            except Exception:
                LOG.exception('Could not reconcile bay %s', bay.uuid)

    def _redo_soon(self, context, bay):
        """Drive ``bay``'s action again, its message being lost, on the
        redo pool (``[conductor] redo_workers``), once at a time per bay.

        NOTE: not inline in the reconcile pass: a provisioner's action can
        take seconds (a Heat create validates the whole template before it
        answers), and a pass redoing the dozen bays of a dead conductor one
        after another held every other bay's finished status back for
        minutes.
        """
        with self._redo_lock:
            if bay.uuid in self._redoing:
                return
            self._redoing.add(bay.uuid)
            if self._redo_pool is None:
                self._redo_pool = futures.ThreadPoolExecutor(
                    CONF.conductor.redo_workers,
                    thread_name_prefix='magnum-redo')
        LOG.info('Bay %s: %s again (its message was lost)', bay.uuid,
                 _ACTION[bay.status])
        self._redo_pool.submit(self._redo, context, bay.uuid, bay.status)

    def _redo(self, context, uuid, status):
        try:
            self._act(context, uuid, status)
        except Exception:
            LOG.exception('Could not drive bay %s again', uuid)
        finally:
            with self._redo_lock:
                self._redoing.discard(uuid)

    def wait_for_redos(self):
        """Let the actions being redone finish (a conductor draining)."""
        with self._redo_lock:
            pool, self._redo_pool = self._redo_pool, None
        if pool is not None:
            pool.shutdown(wait=True)

    @staticmethod
    def _recent(bay):
        """Changed less than ``[conductor] redo_after`` seconds ago."""
        changed = bay.updated_at or bay.created_at
        if changed is None:
            return False
        age = timeutils.utcnow() - changed.replace(tzinfo=None)
        return age < datetime.timedelta(seconds=CONF.conductor.redo_after)

    @staticmethod
    def _timed_out(bay):
        if bay.status != bay_obj.CREATE_IN_PROGRESS:
            return False
        if not bay.bay_create_timeout or bay.created_at is None:
            return False
        deadline = bay.created_at.replace(tzinfo=None) + datetime.timedelta(
            minutes=bay.bay_create_timeout)
        return timeutils.utcnow() > deadline
