"""The ``heat`` provisioner: a bay is a Heat stack of the shipped templates.

``templates/bay.yaml`` serves every COE (``kubernetes``, ``swarm``,
``docker``) on VMs and bare metal; ``definition.py`` turns a BayModel and a
Bay into its parameters and checks the combination is one the templates
know. Stack outputs become ``api_address``, ``master_addresses``,
``node_addresses`` and the bay's Node rows. A stack's change reaches its bay
as Heat tells it (its notifications, notifications.py: the conductor's
watch reads that one stack), or at the next reconcile pass (one list of
every Magnum stack), whichever comes first.

Whose credentials: create, update and delete run with the token of the user
who asked (the RPC context carries it), so the stack lives in the user's
project and Heat's trusts carry the work on. The reconciler has no user: it
lists every stack tagged ``[heat] stack_tag`` across projects in one call
with the service credentials of the ``[heat]`` group, which need Heat's
admin role. Work without the owner's token (an admin of another project, an
action redone after a lost message) uses them too, addressed to the bay's
project.
"""

import collections
from concurrent import futures
import copy
import functools
import json
import time

from heatclient.common import template_utils
from heatclient.common import utils as heat_utils
from heatclient import exc as heat_exc
from oslo_config import cfg
from oslo_log import log as logging

from magnum.drivers import base
from magnum.drivers.heat import clients
from magnum.drivers.heat import definition
from magnum.drivers.heat import notifications
from magnum.objects import bay_tls
from magnum.objects import nodegroup as nodegroup_obj
from magnum.objects import states

LOG = logging.getLogger(__name__)
CONF = cfg.CONF

# Heat's stack status (ACTION_STATE) as a bay status; anything else (e.g.
# ROLLBACK_*, SUSPEND_*) is reported as the failure of the bay's action.
_STATUS = {
    'CREATE_IN_PROGRESS': states.CREATE_IN_PROGRESS,
    'CREATE_COMPLETE': states.CREATE_COMPLETE,
    'CREATE_FAILED': states.CREATE_FAILED,
    'UPDATE_IN_PROGRESS': states.UPDATE_IN_PROGRESS,
    'UPDATE_COMPLETE': states.UPDATE_COMPLETE,
    'UPDATE_FAILED': states.UPDATE_FAILED,
    'DELETE_IN_PROGRESS': states.DELETE_IN_PROGRESS,
    'DELETE_COMPLETE': states.DELETE_COMPLETE,
    'DELETE_FAILED': states.DELETE_FAILED,
}
_COMPLETE = (states.CREATE_COMPLETE, states.UPDATE_COMPLETE)
_REDO = object()
# The watch's poll of at most this many bays (mostly one) reads their
# stacks one ``get`` each, not the list of every Magnum stack.
_GET_AT_MOST = 4
# Seconds a stack read after Heat told of its new state is read again, and
# for how long, until it shows that state (see _get_each).
_TOLD_STEP = 0.1
_TOLD_WAIT = 5
# How many finished stacks' outputs one reconcile pass reads at once.
_OUTPUT_READERS = 8
# NOTE: Heat marks a failed update UPDATE_FAILED and only then starts its
# rollback (ROLLBACK_IN_PROGRESS): an update that asked for the rollback
# waits this long for it before UPDATE_FAILED counts as the outcome (a
# cancel without rollback leaves the stack so).
ROLLBACK_START_GRACE = 60.0
# NOTE: heatclient's name for the file in the files it sends.
_CLUSTER_URL = heat_utils.normalise_file_path_to_url(
    definition.CLUSTER_TEMPLATE)


@functools.lru_cache(maxsize=1)
def _shipped_templates():
    """bay.yaml and the files it names (heatclient's answer, nested
    templates as JSON), read once a process."""
    return template_utils.get_template_contents(
        template_file=definition.TEMPLATE)


def _created_at(stack):
    # ISO 8601 text from Heat, which sorts as time does.
    return getattr(stack, 'creation_time', None) or ''


def _heat_error(e):
    """The text of a Heat error, as Heat wrote it."""
    error = getattr(e, 'error', None)
    if isinstance(error, dict):
        error = error.get('error', error)
        if isinstance(error, dict) and error.get('message'):
            return error['message']
    return str(e)


class HeatProvisioner(base.Provisioner):

    handles_timeout = True

    def __init__(self):
        # {(stack id, action uuid): when UPDATE_FAILED was first seen}
        # for updates that wait for Heat's rollback to start.
        self._failed_since = {}
        self._notifications = notifications.Listener()

    def validate(self, baymodel, bay_values):
        definition.BayDefinition(baymodel, bay_values)

    @staticmethod
    def _certificates(bay, baymodel):
        """The hidden parameters that take the bay's certificates to its
        servers (fragments/write-certs.sh): the CA certificate and the
        server certificate and key; on a kubernetes bay also the CA's key,
        which only the masters get (kubeadm makes the cluster's
        certificates with it). None for a bay without a CA.

        NOTE: every create and update sends them as they are in Magnum's
        database, so an update redone after a lost message, or any update
        after a rotation that failed, takes the current ones to the
        servers. Unchanged, they change no resource.
        """
        bundle = bay_tls.load(bay.uuid)
        if bundle is None or not bundle.endpoint_tls:
            return {}
        certificates = {'ca_cert': bundle.ca_cert,
                        'server_cert': bundle.server_cert,
                        'server_key': bundle.server_key}
        if baymodel.coe == 'kubernetes':
            certificates['ca_key'] = bundle.ca_key
        return certificates

    # NOTE (CA rotation): the new certificates go to the servers in a stack
    # update (their certificates deployments, common/server.yaml), which
    # the conductor follows like any bay update.
    rotates_by_update = True

    def rotate_ca(self, context, bay, baymodel, bundle):
        """A stack update with the bay's new certificates (``bundle`` is
        what the database holds now), without Heat's rollback: rolling
        back would put the old CA back on servers that Magnum no longer
        speaks to with it."""
        return self._update(context, bay, baymodel, rollback=False)

    def serves_bay_certificates(self, bay, baymodel):
        # NOTE (certificates): Docker on swarm and docker bays serves the
        # bay's server certificate (configure-docker.sh); on kubernetes
        # bays kubeadm signs the API server's with the bay's CA, naming
        # the bay (kubernetes-master.sh).
        return True

    # -- lifecycle ---------------------------------------------------------

    def create(self, context, bay, baymodel):
        client = self._client_for(context, bay)
        if bay.stack_id:
            # NOTE: a create redone (a duplicate message, a conductor taking
            # over) adopts the stack it already made, never makes a second.
            return self._state_of(client, bay)
        found = self._find_by_name(client, bay)
        if found is not None:
            return base.BayState(stack_id=found)
        spec = definition.BayDefinition(baymodel, bay)
        # NOTE: the bay's node groups are written with it (the default
        # workers' labels and taints are theirs from the start).
        files, template = self._template(
            nodegroup_obj.NodeGroup.list_of(context, bay.uuid))
        env_files, env = self._environment()
        files.update(env_files)
        parameters = dict(spec.parameters(),
                          **self._certificates(bay, baymodel))
        kwargs = dict(
            stack_name=spec.stack_name, template=template, files=files,
            environment=env, parameters=parameters,
            tags=CONF.heat.stack_tag, disable_rollback=True)
        if bay.bay_create_timeout:
            kwargs['timeout_mins'] = bay.bay_create_timeout
        try:
            created = client.stacks.create(**kwargs)
        except heat_exc.HTTPConflict as e:
            # NOTE: a create of the same bay that raced this one (a
            # conductor that died mid-call) made the stack first: adopt it.
            found = self._find_by_name(client, bay)
            if found is not None:
                return base.BayState(stack_id=found)
            return base.BayState(status=states.CREATE_FAILED,
                                 status_reason=_heat_error(e))
        except heat_exc.HTTPException as e:
            code = getattr(e, 'code', None)
            if isinstance(code, int) and code >= 500:
                # NOTE: Heat's own trouble (an engine that did not answer
                # its API in time, under load or while its broker
                # restarts): the stack may exist or not. The reconciler
                # adopts it by name, or drives the create again once
                # [conductor] redo_after has passed; the bay's create
                # timeout still ends it.
                LOG.warning('Bay %s: Heat could not create its stack yet: '
                            '%s', bay.uuid, _heat_error(e))
                return base.BayState(
                    redo=True, status_reason='Heat could not create the '
                    'stack yet (%s); trying again.' % _heat_error(e))
            return base.BayState(status=states.CREATE_FAILED,
                                 status_reason=_heat_error(e))
        LOG.info('Bay %s: stack %s created', bay.uuid, created['stack']['id'])
        return base.BayState(stack_id=created['stack']['id'])

    # NOTE (every change): Heat is sent the whole desired state, the
    # template with a resource group for each node group, every parameter
    # (an upgrade's image and kube_tag) and the servers a resize removes;
    # a node group deleted is gone from the template, so Heat deletes its
    # servers. With ``rollback`` (``?rollback=True``), Heat rolls the
    # stack back when the update fails (ROLLBACK_COMPLETE); otherwise the
    # stack stays UPDATE_FAILED as it is.

    def update(self, context, bay, baymodel, rollback=False):
        return self._update(context, bay, baymodel, rollback)

    def resize(self, context, bay, baymodel, nodegroup, node_count,
               nodes_to_remove=None, rollback=False):
        removals = {nodegroup.name: nodes_to_remove} if nodes_to_remove \
            else None
        return self._update(context, bay, baymodel, rollback, removals)

    def upgrade(self, context, bay, baymodel, template, nodegroup=None,
                max_batch_size=None, rollback=False):
        # NOTE: the resource groups replace their servers as Heat decides
        # (one batch); max_batch_size is recorded on the action.
        return self._update(context, bay, baymodel, rollback)

    def create_nodegroup(self, context, bay, baymodel, nodegroup,
                         rollback=False):
        return self._update(context, bay, baymodel, rollback)

    def update_nodegroup(self, context, bay, baymodel, nodegroup,
                         rollback=False):
        return self._update(context, bay, baymodel, rollback)

    def delete_nodegroup(self, context, bay, baymodel, name):
        return self._update(context, bay, baymodel, rollback=False)

    def rotate_credential(self, context, bay, baymodel):
        """The stack updated with the caller's token (Magnum makes no
        trust per bay): Heat's work from then on is done as the caller."""
        return self._update(context, bay, baymodel, rollback=False)

    def _update(self, context, bay, baymodel, rollback, removals=None):
        client = self._client_for(context, bay)
        if not bay.stack_id:
            return base.BayState(status=states.UPDATE_FAILED,
                                 status_reason='The bay has no stack.')
        spec = definition.BayDefinition(baymodel, bay)
        files, template = self._template(
            nodegroup_obj.NodeGroup.list_of(context, bay.uuid), removals)
        env_files, env = self._environment()
        files.update(env_files)
        try:
            client.stacks.update(
                bay.stack_id, existing=True, template=template, files=files,
                environment=env,
                parameters=dict(spec.parameters(),
                                **self._certificates(bay, baymodel)),
                tags=CONF.heat.stack_tag, disable_rollback=not rollback)
        except heat_exc.HTTPException as e:
            return base.BayState(status=states.UPDATE_FAILED,
                                 status_reason=_heat_error(e))
        return base.BayState()

    def delete(self, context, bay, baymodel):
        client = self._client_for(context, bay)
        stack_id = bay.stack_id or self._find_by_name(client, bay)
        if not stack_id:
            return base.BayState(status=states.DELETE_COMPLETE)
        try:
            client.stacks.delete(stack_id)
        except heat_exc.HTTPNotFound:
            return base.BayState(status=states.DELETE_COMPLETE)
        except heat_exc.HTTPException as e:
            return base.BayState(status=states.DELETE_FAILED,
                                 status_reason=_heat_error(e))
        return base.BayState(stack_id=stack_id)

    # -- watch (Heat's notifications) --------------------------------------

    def start_watch(self, notify):
        """Call ``notify(bay uuid)`` whenever Heat tells of a change of a
        bay's stack (notifications.py), when ``[heat]
        listen_notifications`` and Magnum's service credentials for Heat
        are set."""
        if CONF.heat.listen_notifications and CONF.heat.auth_type:
            self._notifications.subscribe(notify)

    def stop_watch(self, notify):
        self._notifications.unsubscribe(notify)

    # -- reconciler --------------------------------------------------------

    def poll(self, context, items):
        """One paginated list of Magnum's stacks answers for every bay."""
        return self._poll(items, read_each=False)

    def poll_changed(self, context, items):
        """The bays Heat's notifications named: a few whose stacks are
        known are read one stack each, not in the list of every stack."""
        return self._poll(items, read_each=len(items) <= _GET_AT_MOST and all(
            bay.stack_id for bay, _, _ in items))

    def _poll(self, items, read_each):
        client = clients.service_client()
        if read_each:
            stacks, by_name = self._get_each(client, items), None
        else:
            stacks = {s.id: s for s in client.stacks.list(
                global_tenant=True, tags=CONF.heat.stack_tag)}
            by_name = collections.defaultdict(list)
            for stack in stacks.values():
                by_name[stack.stack_name].append(stack)
        answers = {}
        finished = []
        for bay, baymodel, action in items:
            if not bay.stack_id:
                named = by_name.get(definition.stack_name(bay), ())
                # NOTE: a conductor that died inside create may have made
                # the stack without recording it: adopt it by name (the
                # oldest, should there be several). No stack at all: the
                # create never reached Heat (its message was lost), and the
                # conductor drives it again.
                found = min(named, key=_created_at, default=None)
                answers[action.uuid] = (
                    base.BayState(stack_id=found.id) if found
                    else base.BayState(redo=True))
                continue
            if by_name is not None:
                self._delete_duplicates(
                    bay, by_name.get(definition.stack_name(bay), ()))
            stack = stacks.get(bay.stack_id)
            if stack is None:
                if bay.status == states.DELETE_IN_PROGRESS:
                    answers[action.uuid] = base.BayState(
                        status=states.DELETE_COMPLETE)
                else:
                    answers[action.uuid] = base.BayState(
                        status=states.failed(bay.status),
                        status_reason='Stack %s is gone from Heat.'
                                      % bay.stack_id)
                continue
            state = self._translate(bay, stack, action)
            if state is _REDO:
                LOG.info('Bay %s: its stack never started action %s (%s)',
                         bay.uuid, action.uuid, action.kind)
                state = base.BayState(redo=True)
            if state is not None:
                if state.status in _COMPLETE:
                    finished.append((bay, baymodel, state, stack))
                if stack.stack_status == 'ROLLBACK_COMPLETE':
                    state.status_reason = self._failure_reason(
                        client, stack) or state.status_reason
                answers[action.uuid] = state
        by_bay = {action.bay_uuid: action.uuid for _, _, action in items}
        self._add_all_outputs(client, finished, answers, by_bay)
        return answers

    def _get_each(self, client, items):
        """{stack id: stack} of the bays of ``items``, one ``get`` each;
        a stack Heat does not know is left out.

        NOTE: without the outputs, which Heat resolves by loading every
        nested stack; those of a finished stack are read after. Stacks
        made twice for one bay are found (and deleted) by the list of the
        reconcile pass.
        """
        stacks = {}
        for bay, _, _ in items:
            stack = self._get(client, bay)
            told = self._notifications.told(bay.uuid, bay.stack_id)
            deadline = time.monotonic() + _TOLD_WAIT
            # NOTE: Heat tells of a state just before it writes it: a stack
            # read at once may still show the operation in progress.
            while (stack is not None and told and told != stack.stack_status
                   and not told.endswith('_IN_PROGRESS')
                   and stack.stack_status.endswith('_IN_PROGRESS')
                   and time.monotonic() < deadline):
                time.sleep(_TOLD_STEP)
                stack = self._get(client, bay)
            if stack is not None:
                stacks[stack.id] = stack
        return stacks

    @staticmethod
    def _get(client, bay):
        """The bay's stack without its outputs, or None.

        NOTE: by name and id, which Heat answers at once; by id alone it
        redirects to them (another request through its API and engine). A
        bay renamed since its stack was made is found by id.
        """
        for ident in ('%s/%s' % (definition.stack_name(bay), bay.stack_id),
                      bay.stack_id):
            try:
                return client.stacks.get(ident, resolve_outputs=False)
            except heat_exc.HTTPNotFound:
                continue
        return None

    def _state_of(self, client, bay):
        try:
            stack = client.stacks.get(bay.stack_id)
        except heat_exc.HTTPNotFound:
            return base.BayState(status=states.CREATE_FAILED,
                                 status_reason='Stack %s is gone from Heat.'
                                               % bay.stack_id)
        state = self._translate(bay, stack)
        return state if isinstance(state, base.BayState) else base.BayState()

    def _translate(self, bay, stack, action=None):
        """The bay's new state from its stack's, None when unchanged, or
        _REDO when Heat never saw the action (its message was lost): the
        stack shows an earlier operation, finished.
        """
        operation, _, progress = stack.stack_status.partition('_')
        ours = states.operation(bay.status).upper()
        pending = action is not None and action.status == 'PENDING'
        if pending and ours == 'UPDATE':
            # NOTE: no conductor has handed this update over yet (its
            # message is on its way, or lost): a finished update or
            # rollback of the stack is the one before, never this one's
            # outcome.
            return None if progress == 'IN_PROGRESS' else _REDO
        if (operation == 'ROLLBACK' and ours == 'UPDATE'
                and action is not None and action.param('rollback')):
            # NOTE: the update asked for Heat's rollback, and got it: the
            # stack is back as it was, and the update failed.
            if progress == 'IN_PROGRESS':
                return None
            return base.BayState(status=states.UPDATE_FAILED,
                                 status_reason=stack.stack_status_reason)
        if (stack.stack_status == 'UPDATE_FAILED' and ours == 'UPDATE'
                and action is not None and action.param('rollback')
                and not self._rollback_overdue(stack, action)):
            return None
        if operation != ours:
            return None if progress == 'IN_PROGRESS' else _REDO
        status = _STATUS.get(stack.stack_status) or states.failed(bay.status)
        if status == bay.status:
            return None
        return base.BayState(status=status,
                             status_reason=stack.stack_status_reason)

    def _rollback_overdue(self, stack, action):
        """Whether Heat has left ``stack`` UPDATE_FAILED for longer than
        the start of its rollback takes."""
        now = time.monotonic()
        key = (stack.id, action.uuid)
        for seen_key, seen in list(self._failed_since.items()):
            if now - seen > 10 * ROLLBACK_START_GRACE:
                del self._failed_since[seen_key]
        first = self._failed_since.setdefault(key, now)
        return now - first >= ROLLBACK_START_GRACE

    @staticmethod
    def _failure_reason(client, stack):
        """Why the update Heat rolled back failed, in Heat's words: the
        reason of the stack's last failure event (the rollback's own
        reason says only that it rolled back). None if it cannot be read.
        """
        try:
            events = client.events.list(stack.id, sort_dir='desc', limit=20)
        except heat_exc.HTTPException as e:
            LOG.warning('Could not read the events of stack %s: %s',
                        stack.id, _heat_error(e))
            return None
        for event in events:
            status = getattr(event, 'resource_status', '') or ''
            if (status.endswith('_FAILED')
                    and event.resource_name == stack.stack_name):
                return event.resource_status_reason
        return None

    def _add_all_outputs(self, client, finished, answers, by_bay):
        """Read the outputs of the stacks that finished, a few at a time.

        NOTE: one ``get`` with resolved outputs a stack, which Heat answers
        by loading the nested stacks (a fifth of a second each on a loaded
        machine): when a burst of stacks completes, one after another
        would hold every bay of the pass back for as long. A bay whose
        outputs could not be read is no news; it is polled again.
        """
        if not finished:
            return
        workers = min(_OUTPUT_READERS, len(finished))
        with futures.ThreadPoolExecutor(workers) as pool:
            done = {pool.submit(self._add_outputs, client, *item): item[0]
                    for item in finished}
            for future in futures.as_completed(done):
                bay = done[future]
                try:
                    future.result()
                except Exception:
                    LOG.exception('Could not read the outputs of bay %s',
                                  bay.uuid)
                    answers.pop(by_bay[bay.uuid], None)

    def _add_outputs(self, client, bay, baymodel, state, listed):
        # NOTE: by name and id: Heat answers a stack's id alone with a
        # redirect to them, a second request through its API and engine.
        stack = client.stacks.get('%s/%s' % (listed.stack_name, listed.id),
                                  resolve_outputs=True)
        outputs = {o['output_key']: o.get('output_value')
                   for o in (stack.outputs or [])}
        spec = definition.BayDefinition(baymodel, bay)
        state.api_address = spec.api_address(outputs.get('api_ip'))
        # NOTE: a server Heat knows no address of yet (a site's own server
        # or network resource) lists None; it has no address to record.
        state.master_addresses = [
            a for a in outputs.get('master_addresses') or () if a]
        state.node_addresses = [
            a for a in outputs.get('node_addresses') or () if a]
        groups = [('default-master', outputs.get('master_servers')),
                  ('default-worker', outputs.get('node_servers'))]
        groups += sorted((outputs.get('nodegroup_servers') or {}).items())
        state.nodes = []
        state.nodegroup_addresses = {}
        for group, servers in groups:
            servers = [s for s in (servers or []) if s and s.get('id')]
            state.nodegroup_addresses[group] = [
                s['public_ip'] for s in servers if s.get('public_ip')]
            state.nodes += [
                {'server_id': s['id'], 'name': s.get('name'),
                 'type': s.get('role'), 'image_id': s.get('image'),
                 'nodegroup': group,
                 'addresses': [a for a in (s.get('private_ip'),
                                           s.get('public_ip')) if a]}
                for s in servers]

    @staticmethod
    def _delete_duplicates(bay, named):
        """Delete the stacks named for ``bay`` that are not its own.

        NOTE: Heat checks that a stack name is free before it validates
        the template and stores the stack, not atomically. A conductor
        killed while its create was inside that window, and the new owner
        that redid the create after ``redo_after``, can both get a stack.
        Only the one the bay recorded is kept; the other is deleted here,
        while the bay is still in progress, so each bay ends with one.
        """
        for stack in named:
            if stack.id == bay.stack_id or stack.stack_status.startswith(
                    'DELETE'):
                continue
            LOG.warning('Bay %s: deleting stack %s, a second stack made for '
                        'it (its own is %s)', bay.uuid, stack.id,
                        bay.stack_id)
            try:
                clients.service_client(bay.project_id).stacks.delete(
                    stack.id)
            except heat_exc.HTTPNotFound:
                pass
            except heat_exc.HTTPException as e:
                LOG.warning('Bay %s: could not delete stack %s: %s',
                            bay.uuid, stack.id, _heat_error(e))

    # -- helpers -----------------------------------------------------------

    @staticmethod
    def _client_for(context, bay):
        """The user who asked, when the bay is theirs and their token is
        here; otherwise Magnum's service credentials in the bay's project
        (an admin acting on another project's bay; a conductor finishing
        work after the user's token is gone).
        """
        if context.project_id == bay.project_id:
            client = clients.user_client(context)
            if client is not None:
                return client
        return clients.service_client(bay.project_id)

    @staticmethod
    def _find_by_name(client, bay):
        name = definition.stack_name(bay)
        try:
            return client.stacks.get(name).id
        except heat_exc.HTTPNotFound:
            return None

    @staticmethod
    def _template(groups=(), removals=None):
        """(files, template) for Heat: bay.yaml and its files, with
        common/cluster.yaml rendered for the bay's node groups ``groups``
        (a resource group each extra one; the workers' labels and taints)
        and the servers to remove (``removals``, by node group name).
        """
        files, template = copy.deepcopy(_shipped_templates())
        files[_CLUSTER_URL] = json.dumps(definition.cluster_template(
            json.loads(files[_CLUSTER_URL]), groups, removals))
        return files, template

    @staticmethod
    def _environment():
        return template_utils.process_multiple_environments_and_files(
            env_paths=list(CONF.heat.environment_files))
