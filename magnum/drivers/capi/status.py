"""A bay's state from its Cluster API objects (pure functions, no I/O).

What the capi provisioner reads, all ``cluster.x-k8s.io/v1beta2``: the
Cluster, its MachineDeployments and its Machines, as the watch cache or a
list holds them. v1beta2 conditions are ``metav1.Condition`` in
``status.conditions``; the names are v1beta2's (v1beta1's ``Ready`` and
``ControlPlaneReady`` became ``Available`` and ``ControlPlaneAvailable``).

* Done: the Cluster's ``Available``, ``ControlPlaneAvailable`` and
  ``InfrastructureReady`` are True, its ``TopologyReconciled`` is True for
  its current generation, and every MachineDeployment of the topology has
  all its replicas ready and up to date (and none is left over).
* Failed: a Machine in phase ``Failed``, or a condition of a Machine or of
  the Cluster that is False with a reason that says so (``*Failed``); the
  bay's ``status_reason`` is that condition's reason and its message, word
  for word (``InstanceCreateFailed: Failed to create server ...``).
* Health: the control plane's availability and each Machine's
  ``NodeHealthy``.
"""

import datetime

from magnum.drivers import base
from magnum.objects import states

# Annotations Magnum puts on the Cluster (which action applied it) and on
# each MachineDeployment of the topology (the node group it is).
ACTION_ANNOTATION = 'magnum.openstack.org/action'
NODEGROUP_ANNOTATION = 'magnum.openstack.org/nodegroup'
CONTROL_PLANE_LABEL = 'cluster.x-k8s.io/control-plane'
DEPLOYMENT_LABEL = 'cluster.x-k8s.io/deployment-name'
MASTER_GROUP = 'default-master'
_DONE = ('Available', 'ControlPlaneAvailable', 'InfrastructureReady')
_FAILING = ('InfrastructureReady', 'BootstrapConfigReady', 'Ready',
            'Available', 'NodeHealthy')


def condition(obj, kind):
    """The condition ``kind`` of ``obj`` (a dict), or None."""
    for item in ((obj or {}).get('status') or {}).get('conditions') or ():
        if item.get('type') == kind:
            return item
    return None


def is_true(obj, kind, generation=None):
    found = condition(obj, kind)
    if found is None or found.get('status') != 'True':
        return False
    if generation is not None and found.get('observedGeneration') is not None:
        return found['observedGeneration'] >= generation
    return True


def _generation(obj):
    return (obj.get('metadata') or {}).get('generation') or 0


def _observed(obj):
    return (obj.get('status') or {}).get('observedGeneration') or 0


def _failed(reason):
    return bool(reason) and reason.endswith('Failed')


def _because(found):
    """A failing condition as the bay shows it: its reason, then its
    message word for word."""
    if not found.get('message'):
        return found.get('reason')
    if not found.get('reason'):
        return found['message']
    return '%s: %s' % (found['reason'], found['message'])


def failure(cluster, machines):
    """What failed (a condition's reason and message), or None."""
    for kind in ('TopologyReconciled', 'InfrastructureReady'):
        found = condition(cluster, kind)
        if found and found.get('status') == 'False' and _failed(
                found.get('reason')):
            return _because(found)
    for machine in sorted(machines, key=_name):
        if (machine.get('metadata') or {}).get('deletionTimestamp'):
            continue
        for kind in _FAILING:
            found = condition(machine, kind)
            if found and found.get('status') == 'False' and _failed(
                    found.get('reason')):
                return _because(found)
        if (machine.get('status') or {}).get('phase') == 'Failed':
            found = condition(machine, 'Ready') or {}
            return _because(found) or 'Machine %s failed.' % _name(machine)
    return None


def _name(obj):
    return obj['metadata']['name']


def _wanted(cluster):
    """{MachineDeployment topology name: its entry} of the Cluster."""
    topology = (cluster.get('spec') or {}).get('topology') or {}
    return {entry['name']: entry for entry in
            ((topology.get('workers') or {}).get('machineDeployments')
             or ())}


def _topology_name(md):
    labels = md['metadata'].get('labels') or {}
    return labels.get('topology.cluster.x-k8s.io/deployment-name')


def settled(cluster, mds, machines):
    """Whether the Cluster is done with its current spec; else what it
    still waits for (a short text)."""
    generation = _generation(cluster)
    if _observed(cluster) < generation:
        return 'the Cluster\'s generation %d is not observed yet' % generation
    for kind in _DONE:
        if not is_true(cluster, kind):
            found = condition(cluster, kind) or {}
            return found.get('message') or '%s is not True yet' % kind
    if not is_true(cluster, 'TopologyReconciled', generation):
        found = condition(cluster, 'TopologyReconciled') or {}
        return found.get('message') or 'the topology is not reconciled yet'
    wanted = _wanted(cluster)
    seen = set()
    for md in mds:
        if md['metadata'].get('deletionTimestamp'):
            return 'MachineDeployment %s is being deleted' % _name(md)
        name = _topology_name(md)
        if name not in wanted:
            return 'MachineDeployment %s is not in the topology' % _name(md)
        seen.add(name)
        spec, status = md.get('spec') or {}, md.get('status') or {}
        replicas = spec.get('replicas')
        entry = wanted[name]
        if entry.get('replicas') is not None and replicas != entry[
                'replicas']:
            return 'MachineDeployment %s has %s replicas, not %s' % (
                _name(md), replicas, entry['replicas'])
        if _observed(md) < _generation(md):
            return 'MachineDeployment %s is not observed yet' % _name(md)
        for field in ('replicas', 'readyReplicas', 'upToDateReplicas'):
            if (status.get(field) or 0) != (replicas or 0):
                return 'MachineDeployment %s: %s %s of %s' % (
                    _name(md), field, status.get(field) or 0, replicas)
    missing = sorted(set(wanted) - seen)
    if missing:
        return 'MachineDeployment(s) %s not made yet' % ', '.join(missing)
    version = ((cluster.get('spec') or {}).get('topology') or {}).get(
        'version')
    for machine in machines:
        if (machine.get('metadata') or {}).get('deletionTimestamp'):
            return 'Machine %s is being deleted' % _name(machine)
        if version and (machine.get('spec') or {}).get('version') not in (
                None, version):
            return 'Machine %s still runs %s' % (
                _name(machine), machine['spec']['version'])
    return None


def _addresses(machine):
    """(internal, external) addresses of a Machine."""
    internal, external = [], []
    for item in (machine.get('status') or {}).get('addresses') or ():
        kind, address = item.get('type'), item.get('address')
        if not address:
            continue
        (external if kind == 'ExternalIP' else internal).append(address)
    return internal, external


def _server_id(machine):
    provider_id = (machine.get('spec') or {}).get('providerID') or ''
    return provider_id.rsplit('/', 1)[-1] or _name(machine)


def nodegroup_of(machine, mds_by_name):
    labels = machine['metadata'].get('labels') or {}
    if CONTROL_PLANE_LABEL in labels:
        return MASTER_GROUP
    md = mds_by_name.get(labels.get(DEPLOYMENT_LABEL))
    if md is None:
        return None
    annotations = md['metadata'].get('annotations') or {}
    return annotations.get(NODEGROUP_ANNOTATION) or _topology_name(md)


def observed(cluster, mds, machines):
    """What the Cluster shows of the bay whatever it is doing: address,
    nodes, node counts, health. A BayState without a status."""
    state = base.BayState()
    endpoint = (cluster.get('spec') or {}).get('controlPlaneEndpoint') or {}
    if endpoint.get('host'):
        state.api_address = 'https://%s:%s' % (endpoint['host'],
                                               endpoint.get('port') or 6443)
    mds_by_name = {_name(md): md for md in mds}
    state.nodes, state.nodegroup_addresses = [], {}
    masters, workers = [], []
    health = {}
    for machine in sorted(machines, key=_name):
        if (machine.get('metadata') or {}).get('deletionTimestamp'):
            continue
        group = nodegroup_of(machine, mds_by_name)
        internal, external = _addresses(machine)
        public = external[0] if external else (internal[0] if internal
                                               else None)
        if public:
            (masters if group == MASTER_GROUP else workers).append(public)
            state.nodegroup_addresses.setdefault(group, []).append(public)
        node = ((machine.get('status') or {}).get('nodeRef') or {}).get(
            'name') or _name(machine)
        state.nodes.append({
            'server_id': _server_id(machine), 'name': node,
            'type': 'master' if group == MASTER_GROUP else 'node',
            'image_id': None, 'nodegroup': group,
            'addresses': internal + external})
        healthy = condition(machine, 'NodeHealthy')
        health['%s.Ready' % node] = (
            'Unknown' if healthy is None else healthy.get('status'))
    state.master_addresses, state.node_addresses = masters, workers
    counts = {}
    for md in mds:
        annotations = md['metadata'].get('annotations') or {}
        group = annotations.get(NODEGROUP_ANNOTATION)
        replicas = (md.get('spec') or {}).get('replicas')
        if group and replicas is not None:
            counts[group] = replicas
    state.nodegroup_counts = counts
    control_plane = condition(cluster, 'ControlPlaneAvailable')
    if control_plane is None:
        health['api'] = 'Unknown'
    else:
        health['api'] = ('ok' if control_plane.get('status') == 'True'
                         else control_plane.get('message')
                         or control_plane.get('reason') or 'unavailable')
    values = [v for k, v in health.items() if k != 'api']
    if health['api'] == 'ok' and all(v == 'True' for v in values):
        state.health_status = 'HEALTHY'
    elif (control_plane is not None and health['api'] != 'ok') or any(
            v == 'False' for v in values):
        state.health_status = 'UNHEALTHY'
    else:
        state.health_status = 'UNKNOWN'
    state.health_status_reason = health
    return state


def _age(action, now):
    since = action.started_at or action.created_at
    if since is None:
        return datetime.timedelta(0)
    return now - since.replace(tzinfo=None)


def _with_status(state, status, reason=None):
    state.status = status
    state.status_reason = reason
    return state


def state_of(bay, action, cluster, mds, machines, now, delete_timeout):
    """The bay's state for its open ``action`` from its objects (None:
    no Cluster), or None when nothing is new.

    ``now``: naive UTC; ``delete_timeout``: a timedelta.
    """
    operation = states.operation(bay.status)
    pending = action.status == 'PENDING'
    if operation == 'delete':
        if cluster is None:
            return base.BayState(status=states.DELETE_COMPLETE)
        if not cluster['metadata'].get('deletionTimestamp'):
            return base.BayState(redo=True) if pending else None
        if _age(action, now) > delete_timeout:
            found = condition(cluster, 'Deleting') or {}
            reason = (found.get('message') or found.get('reason')
                      or 'The Cluster is still being deleted.')
            return base.BayState(status=states.DELETE_FAILED,
                                 status_reason=reason)
        return base.BayState() if pending else None
    if cluster is None:
        if pending:
            return base.BayState(redo=True)
        return base.BayState(
            status=states.failed(bay.status),
            status_reason='Cluster %s is gone from the management cluster.'
                          % bay.stack_id)
    annotations = cluster['metadata'].get('annotations') or {}
    if operation != 'create' and not (annotations.get(
            ACTION_ANNOTATION) or '').startswith(action.uuid):
        # NOTE: the Cluster was never given this change (its message was
        # lost, or its conductor died before it applied it). A change
        # rolled back is marked "<action uuid>-rollback".
        return base.BayState(redo=True)
    state = observed(cluster, mds, machines)
    message = failure(cluster, machines)
    if message is not None:
        return _with_status(state, states.failed(bay.status), message)
    waiting = settled(cluster, mds, machines)
    if waiting is None:
        return _with_status(state, states.outcome(bay.status, True))
    if operation == 'create' and bay.bay_create_timeout and (
            _age(action, now) > datetime.timedelta(
                minutes=bay.bay_create_timeout)):
        return _with_status(
            state, states.CREATE_FAILED,
            'Bay creation timed out after %d minute(s): %s'
            % (bay.bay_create_timeout, waiting))
    # In progress: only what the action's progress needs.
    return base.BayState() if pending else None
