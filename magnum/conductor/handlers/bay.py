"""Bay lifecycle on the conductor: hand each action to its provisioner's
verb under the bay's lock, and follow it to its end.

The API writes the action (PENDING) with the bay's new status, then casts
the action's uuid. Every entry point here looks at the action under the
lock and hands it over only while it is still PENDING, so a duplicate
message, a lost one (the reconciler redoes it) and a restart mid-way all
end in the same place. The reconciler follows the actions that are not
finished, never a state guessed from rows (magnum/lifecycle/actions.py).
"""

import collections
from concurrent import futures
import datetime
import threading

from oslo_config import cfg
from oslo_log import log as logging
from oslo_utils import timeutils

from magnum.common import context as magnum_context
from magnum.common import exception
from magnum.conductor.handlers import certificate
from magnum.conductor import hash_ring
from magnum.conductor import locks
from magnum.conductor import periodic
from magnum.db import actions as db_actions
from magnum.db import bays as db_bays
from magnum.drivers import base as drivers
from magnum.lifecycle import actions
from magnum.lifecycle import provisioning
from magnum.objects import action as action_obj
from magnum.objects import bay as bay_obj
from magnum.objects import bay_tls
from magnum.objects import baymodel as baymodel_obj
from magnum.objects import nodegroup as nodegroup_obj
from magnum.objects import states

LOG = logging.getLogger(__name__)
CONF = cfg.CONF
# The watch: how old the hash ring it checks ownership on may be (seconds),
# and how often, how soon, a bay found locked is looked at again.
_WATCH_RING_AGE = 1.0
_WATCH_RETRIES = 50
_WATCH_RETRY_DELAY = 0.2


def call_verb(provisioner, context, bay, baymodel, action):
    """The provisioner's verb for ``action``, with what the action asked."""
    kind, param = action.kind, action.param
    rollback = bool(param('rollback'))
    if not provisioner.supports(kind):
        raise exception.ActionUnsupported(action=kind,
                                          provisioner=bay.provisioner,
                                          bay=bay.uuid)
    if kind in (action_obj.CREATE, action_obj.DELETE):
        return getattr(provisioner, kind)(context, bay, baymodel)
    if kind == action_obj.UPDATE:
        return provisioner.update(context, bay, baymodel, rollback=rollback)
    if kind == action_obj.ROTATE_CREDENTIAL:
        return provisioner.rotate_credential(context, bay, baymodel)
    if kind == action_obj.NODEGROUP_DELETE:
        return provisioner.delete_nodegroup(context, bay, baymodel,
                                            param('name'))
    group = None
    if param('nodegroup'):
        group = nodegroup_obj.NodeGroup.get(context, bay.uuid,
                                            param('nodegroup'))
    if kind == action_obj.RESIZE:
        return provisioner.resize(context, bay, baymodel, group,
                                  param('node_count'),
                                  param('nodes_to_remove'), rollback)
    if kind == action_obj.UPGRADE:
        template = baymodel_obj.BayModel.get_by_uuid_unscoped(
            context, param('cluster_template') or bay.baymodel_id)
        return provisioner.upgrade(context, bay, baymodel, template, group,
                                   param('max_batch_size'), rollback)
    if kind == action_obj.NODEGROUP_CREATE:
        return provisioner.create_nodegroup(context, bay, baymodel, group,
                                            rollback)
    if kind == action_obj.NODEGROUP_UPDATE:
        return provisioner.update_nodegroup(context, bay, baymodel, group,
                                            rollback)
    raise exception.ActionUnsupported(action=kind,
                                      provisioner=bay.provisioner,
                                      bay=bay.uuid)


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
        # The watch: bays to look at, being looked at, changed meanwhile.
        self._watched = []
        self._watch_pool = None
        self._watch_ring = None
        self._seen_lock = threading.Lock()
        self._seen_pending = set()
        self._seen_running = set()
        self._seen_again = set()

    # -- RPC entry points --------------------------------------------------

    def action_run(self, context, bay_uuid, action_uuid):
        self._run(context, bay_uuid, action_uuid, (action_obj.PENDING,))

    def bay_changed(self, context, bay):
        """RPC 1.0 (bay_create, bay_update, bay_delete), from an API of
        before actions: the bay's row says the change; it becomes the
        bay's action here, then runs as any other."""
        action = action_obj.Action.open_of(context, bay.uuid)
        if action is None:
            try:
                current = bay_obj.Bay.get_by_uuid_unscoped(context, bay.uuid)
            except exception.BayNotFound:
                return
            if not states.is_busy(current.status):
                return
            row, _ = db_actions.start(
                context, bay.uuid, states.operation(current.status), {},
                {}, (current.status,))
            action = action_obj.Action.from_row(context, row)
        self._run(context, bay.uuid, action.uuid, (action_obj.PENDING,))

    def _run(self, context, bay_uuid, action_uuid, expected):
        """Hand the action over, under the bay's lock, if it is still in
        one of the ``expected`` statuses."""
        try:
            with locks.bay_lock(context, bay_uuid, self.host,
                                wait=locks.LOCK_WAIT) as bay:
                action = action_obj.Action.get(context, action_uuid)
                if action.status not in expected:
                    LOG.debug('Action %s of bay %s is %s: nothing to do',
                              action_uuid, bay_uuid, action.status)
                    return
                self._hand_over(context, bay, action)
        except exception.BayLocked as e:
            # The holder, or the reconciler after it, finishes the work.
            LOG.info('%s', e)
        except (exception.BayNotFound, exception.ActionNotFound):
            LOG.info('Bay %s (action %s) is gone; nothing to do', bay_uuid,
                     action_uuid)

    def _hand_over(self, context, bay, action):
        if action.kind == action_obj.ROTATE_CA:
            try:
                certificate.rotate(context, self.host, bay, action)
            except exception.MagnumException as e:
                LOG.warning('Bay %s: CA rotation %s failed: %s', bay.uuid,
                            action.uuid, e)
            return
        try:
            provisioner = drivers.get(bay.provisioner)
            baymodel = baymodel_obj.BayModel.get_by_uuid_unscoped(
                context, bay.baymodel_id)
            if action.kind == action_obj.CREATE and bay_tls.wants_ca(
                    bay, baymodel):
                # NOTE: before the provisioner, which hands the bay its
                # certificates; a create redone keeps the first CA.
                bay_tls.ensure(bay, baymodel,
                               provisioner.serves_bay_certificates(
                                   bay, baymodel))
            state = call_verb(provisioner, context, bay, baymodel, action)
        except Exception as e:
            LOG.exception('Provisioner %s failed to %s bay %s',
                          bay.provisioner, action.kind, bay.uuid)
            state = drivers.BayState(status=states.failed(bay.status),
                                     status_reason=str(e))
        actions.record(context, self.host, bay, action, state)

    # -- watch -------------------------------------------------------------

    def start_watches(self):
        """Subscribe to every installed provisioner that can be watched
        (the capi provisioner): a change of a bay this conductor owns is
        written within moments, on ``[conductor] watch_workers`` threads,
        one bay at a time each; the reconcile pass stays the safety net."""
        # NOTE: the watch's events come many a second: they check the
        # ring on heartbeats at most a second old.
        self._watch_ring = self.rings
        if isinstance(self.rings, hash_ring.RingCache):
            self._watch_ring = hash_ring.RingCache(max_age=_WATCH_RING_AGE)
        self._watch_pool = futures.ThreadPoolExecutor(
            CONF.conductor.watch_workers, thread_name_prefix='magnum-watch')
        for name in provisioning.installed_names():
            try:
                drivers.get(name).start_watch(self.bay_changed_in_backend)
            except Exception:
                LOG.exception('Could not watch the bays of provisioner %s',
                              name)
            else:
                self._watched.append(name)

    def stop_watches(self):
        for name in self._watched:
            drivers.get(name).stop_watch(self.bay_changed_in_backend)
        self._watched = []
        with self._seen_lock:
            pool, self._watch_pool = self._watch_pool, None
        if pool is not None:
            pool.shutdown(wait=True)
        with self._seen_lock:
            self._seen_pending.clear()
            self._seen_running.clear()
            self._seen_again.clear()

    def bay_changed_in_backend(self, bay_uuid):
        """A provisioner's watch says ``bay_uuid`` changed: look at it
        soon, once however many changes arrive meanwhile."""
        self._schedule(bay_uuid, 0)

    def _schedule(self, bay_uuid, attempt):
        with self._seen_lock:
            if self._watch_pool is None:
                return
            if bay_uuid in self._seen_running:
                self._seen_again.add(bay_uuid)
                return
            if bay_uuid in self._seen_pending:
                return
            self._seen_pending.add(bay_uuid)
            try:
                self._watch_pool.submit(self._look_at, bay_uuid, attempt)
            except RuntimeError:
                self._seen_pending.discard(bay_uuid)  # stopping

    def _look_at(self, bay_uuid, attempt):
        with self._seen_lock:
            self._seen_pending.discard(bay_uuid)
            self._seen_running.add(bay_uuid)
        done = False
        try:
            done = self._observe(bay_uuid)
        except Exception:
            LOG.exception('Could not write what the backend shows of bay %s',
                          bay_uuid)
        finally:
            with self._seen_lock:
                self._seen_running.discard(bay_uuid)
                again = bay_uuid in self._seen_again
                self._seen_again.discard(bay_uuid)
        if again:
            self._schedule(bay_uuid, 0)
        elif not done and attempt < _WATCH_RETRIES:
            # NOTE: a verb (or the reconciler) holds the bay, or the
            # database did not answer: look again in a moment rather than
            # wait for the next event or reconcile pass.
            timer = threading.Timer(_WATCH_RETRY_DELAY, self._schedule,
                                    (bay_uuid, attempt + 1))
            timer.daemon = True
            timer.start()

    def _observe(self, bay_uuid):
        """Write what the backend shows of the bay, if this conductor owns
        it. False when it must be looked at again (the bay was locked)."""
        if self._watch_ring is not None and not self._watch_ring.get().owns(
                self.host, bay_uuid):
            return True
        context = magnum_context.make_admin_context()
        try:
            bay = bay_obj.Bay.get_by_uuid_unscoped(context, bay_uuid)
        except exception.BayNotFound:
            return True
        provisioner = drivers.get(bay.provisioner)
        action = action_obj.Action.open_of(context, bay_uuid)
        try:
            if action is not None:
                baymodel = baymodel_obj.BayModel.get_by_uuid_unscoped(
                    context, bay.baymodel_id)
                state = provisioner.poll_changed(
                    context, [(bay, baymodel, action)]).get(action.uuid)
                if state is not None:
                    self._write(context, bay, action, state)
                return True
            if states.is_busy(bay.status):
                return True  # its action is being made; next change
            state = provisioner.observe(context, bay)
            if state is None or not actions.differs(bay, state):
                return True
            # NOTE: without the bay's lock (a user's request meanwhile must
            # not find it held): one conditional UPDATE on its status.
            actions.observe(bay, state)
        except exception.BayLocked:
            return False
        except (exception.BayNotFound, exception.BayInProgress):
            pass
        return True

    # -- reconciler --------------------------------------------------------

    @periodic.periodic()
    def reconcile_bays(self):
        """Bring the unfinished actions up to date with their provisioners.

        One ``poll`` per provisioner answers for all of its actions (the
        heat provisioner makes one list call to Heat per pass, however many
        bays there are); each answer is then written under the bay's lock,
        only if the action has not moved meanwhile. An action the
        provisioner never got is handed over again on the redo pool.
        """
        context = magnum_context.make_admin_context()
        ring = self.rings.get() if self.rings is not None else None
        batches = collections.defaultdict(list)
        baymodels = {}
        for row, bay_row in db_actions.open_actions():
            if ring is not None and not ring.owns(self.host, row.bay_uuid):
                continue  # another conductor's
            bay = bay_obj.Bay.from_row(context, bay_row)
            try:
                if bay.baymodel_id not in baymodels:
                    baymodels[bay.baymodel_id] = (
                        baymodel_obj.BayModel.get_by_uuid_unscoped(
                            context, bay.baymodel_id))
            except exception.BayModelNotFound:
                LOG.warning('Bay %s has no BayModel', bay.uuid)
                continue
            batches[bay.provisioner].append(
                (bay, baymodels[bay.baymodel_id],
                 action_obj.Action.from_row(context, row)))
        for name, items in batches.items():
            self._reconcile_batch(context, name, items)

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
        cleared = db_bays.clear_reservations_of(down)
        if cleared:
            LOG.warning('Took over %d bay reservation(s) of the conductor(s) '
                        'down: %s', cleared, ', '.join(down))

    def _reconcile_batch(self, context, name, items):
        answers = {}
        try:
            provisioner = drivers.get(name)
            if not provisioner.handles_timeout:
                for bay, _, action in items:
                    if self._timed_out(bay, action):
                        answers[action.uuid] = drivers.BayState(
                            status=states.CREATE_FAILED,
                            status_reason='Bay creation timed out after %d '
                                          'minute(s).'
                                          % bay.bay_create_timeout)
            polled = [item for item in items if item[2].uuid not in answers]
            if polled:
                answers.update(provisioner.poll(context, polled))
        except Exception:
            # NOTE: a backend that does not answer is no news about the
            # bays: they are polled again next pass (and a create still
            # times out).
            LOG.exception('Could not poll %d action(s) of provisioner %s',
                          len(items), name)
        for bay, baymodel, action in items:
            state = answers.get(action.uuid)
            if state is None:
                continue
            try:
                self._write(context, bay, action, state)
            except exception.BayLocked:
                continue
            except Exception:
                LOG.exception('Could not reconcile bay %s', bay.uuid)

    def _write(self, context, bay, action, state):
        """Write the provisioner's answer ``state`` about ``action`` under
        the bay's lock, unless the action or the bay moved since they were
        read (BayLocked: another holder has the bay). An answer that says
        the backend never got the action hands it over again, later."""
        if state.redo:
            if not self._recent(action):
                self._redo_soon(context, bay, action)
            return
        try:
            with locks.bay_lock(context, bay.uuid, self.host) as locked:
                current = action_obj.Action.get(context, action.uuid)
                if (current.status != action.status
                        or locked.status != bay.status):
                    return  # someone acted meanwhile; next pass
                actions.record(context, self.host, locked, current, state)
        except (exception.BayNotFound, exception.ActionNotFound):
            return

    def _redo_soon(self, context, bay, action):
        """Hand ``action`` over again, its message (or its conductor) being
        lost, on the redo pool (``[conductor] redo_workers``), once at a
        time per action, whatever the provisioner.

        NOTE: not inline in the reconcile pass: a provisioner's verb can
        take seconds (a Heat create validates the whole template before it
        answers, a static endpoint may be slow), and a pass redoing the
        dozen bays of a dead conductor one after another held every other
        bay's finished status back for minutes.
        """
        with self._redo_lock:
            if action.uuid in self._redoing:
                return
            self._redoing.add(action.uuid)
            if self._redo_pool is None:
                self._redo_pool = futures.ThreadPoolExecutor(
                    CONF.conductor.redo_workers,
                    thread_name_prefix='magnum-redo')
        LOG.info('Bay %s: action %s (%s) again (the provisioner never got '
                 'it)', bay.uuid, action.uuid, action.kind)
        self._redo_pool.submit(self._redo, context, bay.uuid, action)

    def _redo(self, context, bay_uuid, action):
        try:
            self._run(context, bay_uuid, action.uuid, (action.status,))
        except Exception:
            LOG.exception('Could not hand action %s over again', action.uuid)
        finally:
            with self._redo_lock:
                self._redoing.discard(action.uuid)

    def wait_for_redos(self):
        """Let the actions being redone finish (a conductor draining)."""
        with self._redo_lock:
            pool, self._redo_pool = self._redo_pool, None
        if pool is not None:
            pool.shutdown(wait=True)

    @staticmethod
    def _recent(action):
        """Asked, or handed over, less than ``[conductor] redo_after``
        seconds ago: its message may still be on its way."""
        changed = action.updated_at or action.created_at
        if changed is None:
            return False
        age = timeutils.utcnow() - changed.replace(tzinfo=None)
        return age < datetime.timedelta(seconds=CONF.conductor.redo_after)

    @staticmethod
    def _timed_out(bay, action):
        return action.kind == action_obj.CREATE and drivers.create_overdue(
            bay)
