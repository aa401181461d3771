"""Containers on the conductor: every call on a bay's Docker Engine.

The API calls these synchronously (``ConductorAPI._call``) and answers with
what they return; Magnum exceptions go back to it as themselves.

Create writes the row first, as ``Creating``, then makes the container on
the engine (labelled with its uuid, project and bay), so a conductor that
dies half-way leaves a row that the engine's labels explain. When the image
is on the engine already this is done before answering (``Stopped``, or the
engine's refusal as a 4xx and no row); when it must be pulled, a thread
pulls and creates while the API answers ``Creating``, and the row becomes
``Stopped`` or ``Error`` with the engine's own message.

The reconciler reads each bay's containers in one list call and brings the
rows in line: a container stopped or killed behind Magnum's back becomes
``Stopped``, one removed becomes ``Unknown``, and a ``Creating`` row that no
conductor finishes within ``[docker] create_timeout`` becomes ``Error``. A
row is changed only if its status is still the one read before the engine
was asked (compare-and-set), so an action answered meanwhile wins.
"""

import datetime
import threading

from oslo_config import cfg
from oslo_log import log as logging
from oslo_utils import timeutils

from magnum.common import context as magnum_context
from magnum.common import exception
from magnum.conductor.coe import docker as docker_coe
from magnum.conductor import periodic
from magnum.objects import bay as bay_obj
from magnum.objects import container as container_obj

LOG = logging.getLogger(__name__)
CONF = cfg.CONF


class ContainerHandler:

    def __init__(self, host, engine_for=docker_coe.Engine, rings=None):
        self.host = host
        # NOTE: which bays this conductor owns (hash_ring.RingCache); None:
        # all of them. Calls about a bay's containers go to its owner, so
        # the owner's reconciler knows which creates are still running.
        self.rings = rings
        # NOTE: how a bay's engine is reached; tests give an in-memory one.
        self.engine_for = engine_for
        self._creating = set()
        self._creating_lock = threading.Lock()

    def _bay_and_engine(self, context, container):
        bay = bay_obj.Bay.get_by_uuid_unscoped(context, container.bay_uuid)
        return bay, self.engine_for(bay)

    def _fresh(self, context, container):
        return container_obj.Container.get_by_uuid_unscoped(context,
                                                            container.uuid)

    # -- create --------------------------------------------------------------

    def container_create(self, context, container):
        bay = bay_obj.Bay.get_by_uuid_unscoped(context, container.bay_uuid)
        engine = self.engine_for(bay)
        if container.memory:
            wanted = container_obj.memory_bytes(container.memory)
            total = engine.memory_total()
            if total and wanted > total:
                raise exception.InvalidParameterValue(
                    field='memory',
                    reason='%s is more than the %d bytes of memory of bay '
                           '%s\'s Docker Engine' % (container.memory, total,
                                                    bay.uuid))
        present = engine.has_image(container.image)
        container.status = container_obj.CREATING
        container.status_reason = (None if present else
                                   'Pulling image %s.' % container.image)
        container.create(context)
        LOG.info('Container %s on bay %s: creating', container.uuid,
                 bay.uuid)
        if present:
            try:
                self._create_on_engine(engine, container)
            except exception.MagnumException:
                # The engine refused at once: the caller gets its words.
                container.destroy()
                raise
            return container
        with self._creating_lock:
            self._creating.add(container.uuid)
        threading.Thread(target=self._pull_and_create,
                         args=(engine, container), daemon=True,
                         name='container-create-%s' % container.uuid).start()
        return container

    def _create_on_engine(self, engine, container):
        container_id = engine.create(container)
        status, reason = engine.state(container_id, container.uuid)
        container.container_id = container_id
        container.status = status
        container.status_reason = reason
        try:
            container.save(expected_status=container_obj.CREATING)
        except exception.ContainerNotFound:
            # Deleted (with force) while it was being made.
            engine.remove(container_id, container.uuid, force=True)
            return
        LOG.info('Container %s created on the engine as %s: %s',
                 container.uuid, container_id, status)

    def _pull_and_create(self, engine, container):
        try:
            try:
                engine.pull(container.image)
            except exception.MagnumException as e:
                raise exception.ContainerEngineRefused(
                    bay=container.bay_uuid,
                    reason='image %s could not be pulled: %s'
                    % (container.image, e.kwargs.get('reason', e)))
            self._create_on_engine(engine, container)
        except exception.ContainerNotFound:
            pass
        except Exception as e:
            LOG.warning('Container %s could not be created: %s',
                        container.uuid, e)
            container.status = container_obj.ERROR
            container.status_reason = str(e)
            try:
                container.save(expected_status=container_obj.CREATING)
            except exception.ContainerNotFound:
                pass
        finally:
            with self._creating_lock:
                self._creating.discard(container.uuid)

    # -- actions -----------------------------------------------------------

    def _engine_id(self, context, container):
        container = self._fresh(context, container)
        if not container.container_id:
            raise exception.ContainerNotReady(container=container.uuid,
                                              status=container.status)
        bay, engine = self._bay_and_engine(context, container)
        return container, engine

    def _record(self, container, status, reason):
        container.status = status
        container.status_reason = reason
        container.save()
        return container

    def container_action(self, context, container, action):
        if action not in container_obj.ACTIONS:
            raise exception.InvalidParameterValue(
                field='action', reason='%r is not one of %s'
                % (action, ', '.join(container_obj.ACTIONS)))
        container, engine = self._engine_id(context, container)
        try:
            getattr(engine, action)(container.container_id, container.uuid)
        except exception.ContainerGone as e:
            self._record(container, container_obj.UNKNOWN, str(e))
            raise
        except exception.ContainerEngineRefused as e:
            if action in ('start', 'reboot'):
                # A command that cannot run: the row says why.
                self._record(container, container_obj.ERROR, str(e))
            raise
        status, reason = engine.state(container.container_id,
                                      container.uuid)
        LOG.info('Container %s: %s -> %s', container.uuid, action, status)
        return self._record(container, status, reason)

    def container_logs(self, context, container):
        container, engine = self._engine_id(context, container)
        return {'output': engine.logs(container.container_id,
                                      container.uuid)}

    def container_execute(self, context, container, command):
        container, engine = self._engine_id(context, container)
        exit_code, output = engine.execute(container.container_id,
                                           container.uuid, command)
        return {'output': output, 'exit_code': exit_code}

    def container_delete(self, context, container, force=False):
        """Remove it from the engine, then the row.

        A running (or paused) container is stopped first, given
        ``[docker] stop_timeout`` seconds; ``force`` kills it instead.
        """
        container = self._fresh(context, container)
        if container.container_id:
            bay, engine = self._bay_and_engine(context, container)
            try:
                if not force and container.status in (
                        container_obj.RUNNING, container_obj.PAUSED):
                    engine.stop(container.container_id, container.uuid)
                engine.remove(container.container_id, container.uuid,
                              force=force)
            except exception.ContainerGone:
                pass  # removed behind Magnum's back: only the row is left
        elif container.status == container_obj.CREATING and not force:
            raise exception.ContainerNotReady(container=container.uuid,
                                              status=container.status)
        container.destroy()
        LOG.info('Container %s deleted', container.uuid)

    # -- reconciler --------------------------------------------------------

    @periodic.periodic()
    def reconcile_containers(self):
        context = magnum_context.make_admin_context()
        ring = self.rings.get() if self.rings is not None else None
        for bay in container_obj.Container.bays_with_containers(context):
            if ring is not None and not ring.owns(self.host, bay.uuid):
                continue
            try:
                self.reconcile_bay(context, bay)
            except exception.BayEndpointUnavailable as e:
                LOG.warning('Containers of bay %s not reconciled: %s',
                            bay.uuid, e)
            except Exception:
                LOG.exception('Containers of bay %s not reconciled',
                              bay.uuid)

    def reconcile_bay(self, context, bay):
        """Bring the rows of ``bay`` in line with its engine's one list."""
        # NOTE: the rows first, then the engine: a row changed after this
        # read is newer than the engine's answer and is left alone.
        rows = container_obj.Container.list_of_bay(context, bay.uuid)
        if not rows:
            return
        states = self.engine_for(bay).list_states()
        for container in rows:
            self._reconcile_one(container, states.get(container.uuid), bay)

    def _reconcile_one(self, container, state, bay):
        read = container.status
        if state is not None and state[0] != container.project_id:
            # NOTE: labels that claim another project are not this row's.
            state = None
        if read == container_obj.ERROR:
            return  # only a user's action or delete changes it
        if read == container_obj.CREATING:
            if state is not None:
                container.container_id = state[3]
                self._set(container, read, state[1], state[2])
            elif self._stuck(container):
                self._set(container, read, container_obj.ERROR,
                          'Creation did not finish within %d seconds (a '
                          'conductor may have restarted); delete it and '
                          'create it again.' % CONF.docker.create_timeout)
            return
        if state is None:
            if read != container_obj.UNKNOWN:
                self._set(container, read, container_obj.UNKNOWN,
                          str(exception.ContainerGone(
                              container=container.uuid, bay=bay.uuid)))
            return
        _project, status, words, engine_id = state
        if status != read or engine_id != container.container_id:
            container.container_id = engine_id
            self._set(container, read, status,
                      'The engine reports: %s' % words)

    def _stuck(self, container):
        with self._creating_lock:
            if container.uuid in self._creating:
                return False
        if container.created_at is None:
            return False
        age = timeutils.utcnow() - container.created_at.replace(tzinfo=None)
        return age > datetime.timedelta(seconds=CONF.docker.create_timeout)

    @staticmethod
    def _set(container, read, status, reason):
        container.status = status
        container.status_reason = reason
        if container.save(expected_status=read):
            LOG.info('Container %s: %s -> %s (%s)', container.uuid, read,
                     status, reason)
