"""A stand-in for the Cluster API controllers, for the functional tests.

It stands in for Cluster API's core controllers (the topology, Cluster,
MachineDeployment, MachineSet and Machine controllers), its kubeadm
control-plane and bootstrap providers and the OpenStack infrastructure
provider (CAPO): Go programs that cannot run here, with no cloud to make
servers in. It plays them "just far enough", through the same
kube-apiserver Magnum talks to (the management cluster; management.py
installs crds.yaml there and runs this as a process)::

    python -m magnum.tests.functional.capi.standin --kubeconfig K \\
        [--delay SECONDS] [--delete-delay SECONDS] [--events FILE]

What it does, for every Cluster (cluster.x-k8s.io/v1beta2) with
``spec.topology`` that is not paused, from what the API holds each time
(level-triggered: a watch event of a Cluster, or of a MachineDeployment or
Machine of it, reconciles that Cluster from a fresh read; timers do the
delays):

* the Cluster gets finalizer ``cluster.cluster.x-k8s.io`` and a made-up
  ``spec.controlPlaneEndpoint`` (10.x.y.z, stable for the Cluster; port
  ``clusterNetwork.apiServerPort`` or 6443);
* the control plane is ``topology.controlPlane.replicas`` Machines, the
  workers one MachineDeployment per ``topology.workers.machineDeployments``
  entry with its Machines; each Machine turns Running (provider ID,
  addresses, node ref, v1beta2 conditions) ``--delay`` seconds after it was
  made (annotation ``standin.capi.magnum.test/delay`` on the Cluster
  overrides it; flavor ``m1.slow``: ``SLOW_SECONDS``), or Failed when its
  flavor is ``m1.fail`` or its version ends with ``-fail``
  (``failed_message()``);
* scaling (Machines annotated ``cluster.x-k8s.io/delete-machine`` go first,
  then the newest), a ``topology.version`` change (a rolling replacement,
  one Machine at a time, the control plane before the workers), the
  topology's labels and annotations followed onto its objects;
* the status of the Cluster and of its MachineDeployments (conditions,
  counts, phase, observed generation) through the status subresource;
* deletion: MachineDeployments and worker Machines, then the control
  plane's, each Machine's finalizer ``machine.cluster.x-k8s.io`` released
  ``--delete-delay`` seconds after its deletion began (never for flavor
  ``m1.stuck``: the Cluster's ``Deleting`` condition says so, see
  ``stuck_message()``), then the Cluster's finalizer;
* ``--events FILE``: a JSON line a Cluster transition, flushed at once:
  ``{"cluster": "<namespace>/<name>", "event": E, "generation": N,
  "time": <time.time()>}``, E ``available`` (done with generation N:
  Available and TopologyReconciled True; once a generation, again after a
  dip), ``failed`` (each new failure message) or ``deleted`` (its
  finalizer released).

What it does not do: no server, network, load balancer or bootstrap data
anywhere (the addresses and provider IDs are made up, nothing answers
there); no KubeadmControlPlane, MachineSet, KubeadmConfig or OpenStack*
objects (the references name objects that do not exist); no ClusterClass
read, no variable validation, no patches applied, no webhooks, no health
checks or remediation, no workload cluster (no Nodes, no kubeconfig or
certificate Secrets: Magnum makes those). Its timers live in its memory: a
restarted stand-in counts the delays again from when it first sees each
object.

It stops on SIGTERM or SIGINT (exit status 0).
"""

import argparse
import datetime
import hashlib
import json
import logging
import os
import random
import signal
import string
import sys
import threading
import time
import uuid

import kubernetes.client
import kubernetes.config
from kubernetes import watch
from kubernetes.client import exceptions as kube_exc

LOG = logging.getLogger('capi-standin')

GROUP = 'cluster.x-k8s.io'
VERSION = 'v1beta2'
API_VERSION = '%s/%s' % (GROUP, VERSION)
CLUSTERS = 'clusters'
MACHINE_DEPLOYMENTS = 'machinedeployments'
MACHINES = 'machines'
BOOTSTRAP_GROUP = 'bootstrap.cluster.x-k8s.io'
INFRASTRUCTURE_GROUP = 'infrastructure.cluster.x-k8s.io'

CLUSTER_NAME_LABEL = 'cluster.x-k8s.io/cluster-name'
CONTROL_PLANE_LABEL = 'cluster.x-k8s.io/control-plane'
DEPLOYMENT_NAME_LABEL = 'cluster.x-k8s.io/deployment-name'
TOPOLOGY_OWNED_LABEL = 'topology.cluster.x-k8s.io/owned'
TOPOLOGY_DEPLOYMENT_LABEL = 'topology.cluster.x-k8s.io/deployment-name'
DELETE_MACHINE_ANNOTATION = 'cluster.x-k8s.io/delete-machine'
MIN_SIZE_ANNOTATION = (
    'cluster.x-k8s.io/cluster-api-autoscaler-node-group-min-size')
FLAVOR_ANNOTATION = 'standin.capi.magnum.test/flavor'
DELAY_ANNOTATION = 'standin.capi.magnum.test/delay'
CLUSTER_FINALIZER = 'cluster.cluster.x-k8s.io'
MACHINE_FINALIZER = 'machine.cluster.x-k8s.io'

WORKER_FLAVOR_VARIABLE = 'workerFlavor'
CONTROL_PLANE_FLAVOR_VARIABLE = 'controlPlaneFlavor'
FAIL_FLAVOR = 'm1.fail'
# A Machine of a version that ends so fails too (an upgrade that fails).
FAIL_VERSION_SUFFIX = '-fail'
STUCK_FLAVOR = 'm1.stuck'
SLOW_FLAVOR = 'm1.slow'
DEFAULT_API_SERVER_PORT = 6443

# Messages, word for word (str.format fields).
FAILED_MESSAGE = ('Failed to create server {machine}: No valid host was '
                  'found. There are not enough hosts available.')
STUCK_MESSAGE = ('Machine {machine}: waiting for the drain of node {node} '
                 'to finish (finalizer %s)' % MACHINE_FINALIZER)
WAITING_MESSAGE = 'Waiting for the deletion of Machines {machines}'
# A Machine of flavor m1.slow runs after this many seconds, whatever the
# delay.
SLOW_SECONDS = 10.0
UPGRADING_MESSAGE = 'Cluster is upgrading to {version}'

# The conditions of a Running Machine: (type, reason), all True.
RUNNING_CONDITIONS = (
    ('InfrastructureReady', 'Ready'), ('BootstrapConfigReady', 'Ready'),
    ('NodeReady', 'NodeReady'), ('NodeHealthy', 'NodeHealthy'),
    ('Ready', 'Ready'), ('Available', 'Available'),
    ('UpToDate', 'UpToDate'))

# The Cluster conditions its Available sums up.
AVAILABLE_GATES = ('InfrastructureReady', 'ControlPlaneAvailable',
                   'WorkersAvailable', 'TopologyReconciled', 'Deleting')

# Printed once the watches have listed everything (management.py waits for
# it).
READY_LINE = 'capi-standin: watching'

REQUEST_TIMEOUT = 30
WATCH_SECONDS = 300
RETRY_SECONDS = 5.0
CONFLICT_RETRY_SECONDS = 0.05
STOP_SECONDS = 10
_NAME_LIMIT = 63
_RANDOM_LENGTH = 5
_ALPHANUMERIC = string.ascii_lowercase + string.digits


# -- small helpers ------------------------------------------------------------

def failed_message(machine):
    """What a Machine of flavor m1.fail (and its Cluster) says."""
    return FAILED_MESSAGE.format(machine=machine)


def stuck_message(machine):
    """What the Cluster's Deleting condition says of a Machine of flavor
    m1.stuck (its node has the Machine's name)."""
    return STUCK_MESSAGE.format(machine=machine, node=machine)


def _meta(obj):
    return obj['metadata']


def _labels(obj):
    return _meta(obj).get('labels') or {}


def _annotations(obj):
    return _meta(obj).get('annotations') or {}


def _deleting(obj):
    return bool(_meta(obj).get('deletionTimestamp'))


def _condition(obj, kind):
    for item in (obj.get('status') or {}).get('conditions') or ():
        if item.get('type') == kind:
            return item
    return None


def _is_true(obj, kind):
    found = _condition(obj, kind)
    return bool(found) and found.get('status') == 'True'


def _ready(machine):
    return _is_true(machine, 'Ready')


def _failed(machine):
    return (machine.get('status') or {}).get('phase') == 'Failed'


def _now_text():
    return datetime.datetime.now(datetime.timezone.utc).strftime(
        '%Y-%m-%dT%H:%M:%SZ')


def _random_suffix():
    return ''.join(random.choices(_ALPHANUMERIC, k=_RANDOM_LENGTH))


def _fit(name, suffix):
    """``name`` + ``suffix`` in 63 characters, the way Cluster API trims
    the names it generates."""
    if len(name) + len(suffix) <= _NAME_LIMIT:
        return name + suffix
    return name[:_NAME_LIMIT - _RANDOM_LENGTH] + suffix[-_RANDOM_LENGTH:]


def generated_name(base):
    """``base`` and 5 random lowercase letters and digits."""
    return _fit(base, _random_suffix())


def machine_deployment_name(cluster_name, topology_name):
    """``<cluster>-<entry name>`` (63 characters at most: a longer one
    ends with 5 characters of its hash instead)."""
    name = '%s-%s' % (cluster_name, topology_name)
    if len(name) <= _NAME_LIMIT:
        return name
    return _fit(name[:_NAME_LIMIT - _RANDOM_LENGTH],
                hashlib.sha256(name.encode()).hexdigest())


def _octets(seed, count):
    digest = hashlib.sha256(seed.encode()).digest()
    return [digest[i] for i in range(count)]


def endpoint_host(cluster):
    """A made-up 10.x.y.z for the Cluster (the same every time)."""
    a, b, c = _octets(_meta(cluster)['uid'], 3)
    return '10.%d.%d.%d' % (a, b, c % 254 + 1)


def _made_up_addresses():
    return [{'type': 'InternalIP', 'address': '10.%d.%d.%d' % (
                random.randrange(256), random.randrange(256),
                random.randrange(1, 255))},
            {'type': 'ExternalIP', 'address': '172.24.%d.%d' % (
                random.randrange(256), random.randrange(1, 255))}]


def condition(kind, ok, reason, message, generation, previous):
    """A metav1.Condition; its lastTransitionTime is kept from
    ``previous`` (the object) when the status did not change."""
    status = 'True' if ok else 'False'
    old = _condition(previous, kind)
    since = (old['lastTransitionTime']
             if old and old.get('status') == status else _now_text())
    return {'type': kind, 'status': status, 'reason': reason,
            'message': message, 'observedGeneration': generation,
            'lastTransitionTime': since}


def owner_reference(owner):
    """A controller reference to ``owner`` (a Cluster API object)."""
    return {'apiVersion': API_VERSION, 'kind': owner['kind'],
            'name': _meta(owner)['name'], 'uid': _meta(owner)['uid'],
            'controller': True, 'blockOwnerDeletion': True}


def merge_patch(current, desired):
    """The JSON merge patch (a dict, empty when equal) that turns the dict
    ``current`` into ``desired``."""
    patch = {}
    for key in set(current) | set(desired):
        if key not in desired:
            patch[key] = None
        elif isinstance(desired[key], dict) and isinstance(
                current.get(key), dict):
            inner = merge_patch(current[key], desired[key])
            if inner:
                patch[key] = inner
        elif key not in current or current[key] != desired[key]:
            patch[key] = desired[key]
    return patch


def _variable(items, name):
    for item in items or ():
        if item.get('name') == name:
            return item.get('value')
    return None


def _text(value):
    return None if value is None else str(value)


def _sorted_for_deletion(machines, clock, newest_first):
    """Machines annotated ``cluster.x-k8s.io/delete-machine`` first, then
    the newest (or the oldest) first."""
    ordered = sorted(machines, reverse=newest_first, key=lambda m: (
        _meta(m).get('creationTimestamp') or '',
        clock.get((_meta(m)['uid'], 'created'), 0.0), _meta(m)['name']))
    return sorted(ordered, key=lambda m: (
        DELETE_MACHINE_ANNOTATION not in _annotations(m)))


def cluster_key(obj):
    """(namespace, Cluster name) of a Cluster, MachineDeployment or
    Machine; None for anything else (a watch's error Status)."""
    metadata = obj.get('metadata') or {}
    if obj.get('kind') == 'Cluster':
        return metadata.get('namespace'), metadata.get('name')
    name = (obj.get('spec') or {}).get('clusterName')
    if name and metadata.get('namespace'):
        return metadata['namespace'], name
    return None


def error_text(e):
    """The API server's message of an ApiException."""
    try:
        return json.loads(e.body)['message']
    except (TypeError, ValueError, KeyError):
        return '%s %s' % (e.status, e.reason)


# -- the API ------------------------------------------------------------------

class Api:
    """The calls the stand-in makes, on plain dicts."""

    def __init__(self, custom):
        self.custom = custom

    def get(self, namespace, plural, name):
        try:
            return self.custom.get_namespaced_custom_object(
                GROUP, VERSION, namespace, plural, name,
                _request_timeout=REQUEST_TIMEOUT)
        except kube_exc.ApiException as e:
            if e.status == 404:
                return None
            raise

    def list_of_cluster(self, namespace, plural, cluster_name):
        return self.custom.list_namespaced_custom_object(
            GROUP, VERSION, namespace, plural,
            label_selector='%s=%s' % (CLUSTER_NAME_LABEL, cluster_name),
            _request_timeout=REQUEST_TIMEOUT)['items']

    def create(self, namespace, plural, body):
        LOG.info('create %s %s/%s', plural, namespace,
                 body['metadata']['name'])
        return self.custom.create_namespaced_custom_object(
            GROUP, VERSION, namespace, plural, body,
            _request_timeout=REQUEST_TIMEOUT)

    def patch(self, obj, plural, patch):
        """Merge-patch ``obj`` (spec, metadata)."""
        LOG.info('patch %s %s/%s: %s', plural, _meta(obj)['namespace'],
                 _meta(obj)['name'], json.dumps(patch, sort_keys=True))
        return self.custom.patch_namespaced_custom_object(
            GROUP, VERSION, _meta(obj)['namespace'], plural,
            _meta(obj)['name'], patch, _request_timeout=REQUEST_TIMEOUT)

    def patch_status(self, obj, plural, status):
        LOG.info('status %s %s/%s: %s', plural, _meta(obj)['namespace'],
                 _meta(obj)['name'], status.get('phase'))
        return self.custom.patch_namespaced_custom_object_status(
            GROUP, VERSION, _meta(obj)['namespace'], plural,
            _meta(obj)['name'], {'status': status},
            _request_timeout=REQUEST_TIMEOUT)

    def delete(self, obj, plural):
        LOG.info('delete %s %s/%s', plural, _meta(obj)['namespace'],
                 _meta(obj)['name'])
        try:
            self.custom.delete_namespaced_custom_object(
                GROUP, VERSION, _meta(obj)['namespace'], plural,
                _meta(obj)['name'], _request_timeout=REQUEST_TIMEOUT)
        except kube_exc.ApiException as e:
            if e.status != 404:
                raise

    def remove_finalizer(self, obj, plural, finalizer):
        """Drop ``finalizer`` (a 409 when ``obj`` changed meanwhile)."""
        rest = [f for f in _meta(obj).get('finalizers') or ()
                if f != finalizer]
        return self.patch(obj, plural, {'metadata': {
            'finalizers': rest,
            'resourceVersion': _meta(obj)['resourceVersion']}})


# -- one reconcile of one Cluster ---------------------------------------------

class Pass:
    """What one reconcile of a Cluster read, and when it wants to run
    again (``wake``, seconds from now; None: only on a change).

    ``clock`` is the Cluster's {(uid, event): monotonic time first seen},
    kept between passes: the delays count from it.
    """

    def __init__(self, cluster, mds, machines, clock, default_delay):
        self.cluster = cluster
        self.mds = mds
        self.machines = machines
        self.clock = clock
        self.now = time.monotonic()
        self.wake = None
        self.error = None
        self.delay = self._delay(default_delay)
        clock.setdefault((_meta(cluster)['uid'], 'created'), self.now)

    def _delay(self, default):
        try:
            return float(_annotations(self.cluster)[DELAY_ANNOTATION])
        except (KeyError, ValueError):
            return default

    @property
    def name(self):
        return _meta(self.cluster)['name']

    @property
    def namespace(self):
        return _meta(self.cluster)['namespace']

    @property
    def generation(self):
        return _meta(self.cluster).get('generation') or 1

    @property
    def topology(self):
        return self.cluster['spec']['topology']

    @property
    def version(self):
        return self.topology['version']

    @property
    def control_plane_replicas(self):
        replicas = (self.topology.get('controlPlane') or {}).get('replicas')
        return 1 if replicas is None else replicas

    @property
    def entries(self):
        """{topology name: its workers.machineDeployments entry}."""
        workers = self.topology.get('workers') or {}
        return {entry['name']: entry
                for entry in workers.get('machineDeployments') or ()}

    def topology_mds(self):
        """{topology name: MachineDeployment} of the topology's own."""
        return {_labels(md)[TOPOLOGY_DEPLOYMENT_LABEL]: md
                for md in self.mds
                if TOPOLOGY_OWNED_LABEL in _labels(md)
                and TOPOLOGY_DEPLOYMENT_LABEL in _labels(md)}

    def control_plane_machines(self):
        return [m for m in self.machines if CONTROL_PLANE_LABEL in _labels(m)]

    def worker_machines(self):
        return [m for m in self.machines
                if CONTROL_PLANE_LABEL not in _labels(m)]

    def machines_of(self, md):
        return [m for m in self.machines if _labels(m).get(
            DEPLOYMENT_NAME_LABEL) == _meta(md)['name']]

    def elapsed(self, obj, event, seconds):
        """Whether ``seconds`` passed since ``event`` of ``obj`` was first
        seen; if not, ``wake`` is set to run again then."""
        since = self.clock.setdefault((_meta(obj)['uid'], event), self.now)
        left = since + seconds - self.now
        if left <= 0:
            return True
        self.wake = left if self.wake is None else min(self.wake, left)
        return False

    def started(self, obj):
        """``obj`` was just made: its delays count from now."""
        self.clock[(_meta(obj)['uid'], 'created')] = time.monotonic()


def _active(machines):
    return [m for m in machines if not _deleting(m)]


def _failures(machines):
    """The messages of the failed ones, one a line, by name."""
    return '\n'.join(failed_message(_meta(m)['name'])
                     for m in sorted(machines, key=lambda m: _meta(m)['name'])
                     if _failed(m))


class Standin:
    """The controllers' stand-in: ``reconcile(key)`` one Cluster."""

    def __init__(self, api, delay, delete_delay, events_path=None):
        self.api = api
        self.delay = delay
        self.delete_delay = delete_delay
        self.events_path = events_path
        self.clocks = {}

    def run(self, queue):
        """Reconcile what ``queue`` hands out until it is closed."""
        while True:
            key = queue.get()
            if key is None:
                return
            try:
                wake = self.reconcile(key)
            except kube_exc.ApiException as e:
                if e.status in (404, 409):
                    wake = CONFLICT_RETRY_SECONDS
                else:
                    LOG.warning('%s/%s: %s', key[0], key[1], error_text(e))
                    wake = RETRY_SECONDS
            except Exception:
                LOG.exception('%s/%s', key[0], key[1])
                wake = RETRY_SECONDS
            if wake is not None:
                queue.add(key, wake)

    def reconcile(self, key):
        """Move the Cluster ``key`` one step; seconds until it wants to run
        again (0: at once), or None."""
        namespace, name = key
        cluster = self.api.get(namespace, CLUSTERS, name)
        spec = (cluster or {}).get('spec') or {}
        if not spec.get('topology') or spec.get('paused'):
            self.clocks.pop(key, None)
            return None
        p = self._read(key, cluster)
        try:
            if self._act(p):
                return 0
        except kube_exc.ApiException as e:
            if e.status in (404, 409):
                raise
            p.error = error_text(e)
            LOG.warning('%s/%s: %s', namespace, name, p.error)
            p.wake = RETRY_SECONDS
        if _deleting(p.cluster):
            self._report_deletion(p)
        else:
            self._report(p)
        return p.wake

    def _read(self, key, cluster):
        namespace, name = key
        mds = self.api.list_of_cluster(namespace, MACHINE_DEPLOYMENTS, name)
        machines = self.api.list_of_cluster(namespace, MACHINES, name)
        uids = {_meta(obj)['uid'] for obj in [cluster] + machines}
        clock = {k: v for k, v in self.clocks.get(key, {}).items()
                 if k[0] in uids}
        self.clocks[key] = clock
        return Pass(cluster, mds, machines, clock, self.delay)

    def _act(self, p):
        """The first step that has something to do does it: True."""
        if _deleting(p.cluster):
            steps = (self._advance_machines, self._delete_workers,
                     self._delete_control_plane, self._release_cluster)
        else:
            steps = (self._add_finalizer, self._set_endpoint,
                     self._advance_machines, self._sync_labels,
                     self._converge_control_plane,
                     self._sync_machine_deployments, self._converge_workers)
        return any(step(p) for step in steps)

    # -- the Cluster ---------------------------------------------------------

    def _add_finalizer(self, p):
        finalizers = _meta(p.cluster).get('finalizers') or []
        if CLUSTER_FINALIZER in finalizers:
            return False
        self.api.patch(p.cluster, CLUSTERS, {'metadata': {
            'finalizers': finalizers + [CLUSTER_FINALIZER],
            'resourceVersion': _meta(p.cluster)['resourceVersion']}})
        return True

    def _set_endpoint(self, p):
        if (p.cluster['spec'].get('controlPlaneEndpoint') or {}).get('host'):
            return False
        network = p.cluster['spec'].get('clusterNetwork') or {}
        port = network.get('apiServerPort') or DEFAULT_API_SERVER_PORT
        self.api.patch(p.cluster, CLUSTERS, {'spec': {
            'controlPlaneEndpoint': {'host': endpoint_host(p.cluster),
                                     'port': port}}})
        return True

    # -- Machines ------------------------------------------------------------

    def _advance_machines(self, p):
        """Machines whose delay is over: Running (or Failed); deleting
        Machines whose delete delay is over: released."""
        acted = False
        for machine in p.machines:
            if _deleting(machine):
                acted |= self._advance_deletion(p, machine)
            elif (machine.get('status') or {}).get('phase') not in (
                    'Running', 'Failed'):
                slow = _annotations(machine).get(
                    FLAVOR_ANNOTATION) == SLOW_FLAVOR
                if p.elapsed(machine, 'created',
                             SLOW_SECONDS if slow else p.delay):
                    self._provision(machine)
                    acted = True
        return acted

    def _provision(self, machine):
        version = (machine.get('spec') or {}).get('version') or ''
        if (_annotations(machine).get(FLAVOR_ANNOTATION) == FAIL_FLAVOR
                or version.endswith(FAIL_VERSION_SUFFIX)):
            self._fail(machine)
        else:
            self._run(machine)

    def _fail(self, machine):
        """Failed: its server could not be made."""
        message = failed_message(_meta(machine)['name'])
        generation = _meta(machine).get('generation') or 1
        self.api.patch_status(machine, MACHINES, {
            'phase': 'Failed', 'observedGeneration': generation,
            'initialization': {'infrastructureProvisioned': False,
                               'bootstrapDataSecretCreated': True},
            'conditions': [
                condition('InfrastructureReady', False,
                          'InstanceCreateFailed', message, generation,
                          machine),
                condition('BootstrapConfigReady', True, 'Ready', '',
                          generation, machine),
                condition('Ready', False, 'NotReady', message, generation,
                          machine),
                condition('Available', False, 'NotAvailable', message,
                          generation, machine),
                condition('UpToDate', True, 'UpToDate', '', generation,
                          machine)]})

    def _run(self, machine):
        """Running: a provider ID (spec), addresses, a node (status)."""
        if not machine['spec'].get('providerID'):
            machine = self.api.patch(machine, MACHINES, {'spec': {
                'providerID': 'openstack:///%s' % uuid.uuid4()}})
        generation = _meta(machine).get('generation') or 1
        self.api.patch_status(machine, MACHINES, {
            'phase': 'Running', 'observedGeneration': generation,
            'addresses': _made_up_addresses(),
            'nodeRef': {'name': _meta(machine)['name']},
            'initialization': {'infrastructureProvisioned': True,
                               'bootstrapDataSecretCreated': True},
            'conditions': [condition(kind, True, reason, '', generation,
                                     machine)
                           for kind, reason in RUNNING_CONDITIONS]})

    def _advance_deletion(self, p, machine):
        name = _meta(machine)['name']
        stuck = _annotations(machine).get(FLAVOR_ANNOTATION) == STUCK_FLAVOR
        if (machine.get('status') or {}).get('phase') != 'Deleting':
            generation = _meta(machine).get('generation') or 1
            reason, message = (
                ('DrainingNode', stuck_message(name))
                if stuck else ('Deleting', ''))
            self.api.patch_status(machine, MACHINES, {
                'phase': 'Deleting', 'conditions': [
                    c for c in (machine.get('status') or {}).get(
                        'conditions') or () if c['type'] != 'Deleting'] + [
                    condition('Deleting', True, reason, message, generation,
                              machine)]})
            return True
        if stuck or MACHINE_FINALIZER not in (
                _meta(machine).get('finalizers') or ()):
            return False
        if not p.elapsed(machine, 'deleting', self.delete_delay):
            return False
        self.api.remove_finalizer(machine, MACHINES, MACHINE_FINALIZER)
        return True

    def _machine(self, p, base, labels, owner, version, flavor,
                 failure_domain=None):
        """Create a Machine named ``base`` + 5 random characters."""
        name = generated_name(base)
        metadata = {'name': name, 'namespace': p.namespace,
                    'labels': labels, 'finalizers': [MACHINE_FINALIZER],
                    'ownerReferences': [owner_reference(owner)]}
        if flavor is not None:
            metadata['annotations'] = {FLAVOR_ANNOTATION: flavor}
        spec = {'clusterName': p.name, 'version': version,
                'bootstrap': {'configRef': {
                    'apiGroup': BOOTSTRAP_GROUP, 'kind': 'KubeadmConfig',
                    'name': name}},
                'infrastructureRef': {
                    'apiGroup': INFRASTRUCTURE_GROUP,
                    'kind': 'OpenStackMachine', 'name': name}}
        if failure_domain:
            spec['failureDomain'] = failure_domain
        created = self.api.create(p.namespace, MACHINES, {
            'apiVersion': API_VERSION, 'kind': 'Machine',
            'metadata': metadata, 'spec': spec})
        p.started(created)

    def _converge(self, p, machines, replicas, version, make):
        """One step of a group of Machines towards ``replicas`` of them at
        ``version`` (``make()`` creates one); whether it wrote.

        A version change replaces one Machine at a time: a new one first,
        then, once it is ready, an old one goes.
        """
        active = _active(machines)
        outdated = [m for m in active if m['spec'].get('version') != version]
        if len(active) < replicas:
            for _ in range(replicas - len(active)):
                make()
            return True
        if outdated:
            if any(not _ready(m) for m in active if m not in outdated):
                return False
            if len(active) > replicas:
                self.api.delete(_sorted_for_deletion(
                    outdated, p.clock, newest_first=False)[0], MACHINES)
            else:
                make()
            return True
        if len(active) > replicas:
            for machine in _sorted_for_deletion(
                    active, p.clock, newest_first=True)[
                    :len(active) - replicas]:
                self.api.delete(machine, MACHINES)
            return True
        return False

    # -- the control plane ---------------------------------------------------

    def _control_plane_labels(self, p):
        metadata = (p.topology.get('controlPlane') or {}).get('metadata')
        return dict((metadata or {}).get('labels') or {}, **{
            CLUSTER_NAME_LABEL: p.name, CONTROL_PLANE_LABEL: ''})

    def _converge_control_plane(self, p):
        flavor = _text(_variable(p.topology.get('variables'),
                                 CONTROL_PLANE_FLAVOR_VARIABLE))
        return self._converge(
            p, p.control_plane_machines(), p.control_plane_replicas,
            p.version, lambda: self._machine(
                p, '%s-control-plane-' % p.name,
                self._control_plane_labels(p), p.cluster, p.version, flavor))

    def _control_plane_upgraded(self, p):
        active = _active(p.control_plane_machines())
        return len(active) >= p.control_plane_replicas and all(
            m['spec'].get('version') == p.version and _ready(m)
            for m in active)

    # -- workers -------------------------------------------------------------

    def _worker_labels(self, p, md, entry):
        return dict((entry.get('metadata') or {}).get('labels') or {}, **{
            CLUSTER_NAME_LABEL: p.name,
            DEPLOYMENT_NAME_LABEL: _meta(md)['name'],
            TOPOLOGY_DEPLOYMENT_LABEL: entry['name']})

    def _machine_deployment(self, p, entry, current):
        """The MachineDeployment ``entry`` asks for (metadata and spec)."""
        metadata = entry.get('metadata') or {}
        labels = dict(metadata.get('labels') or {}, **{
            CLUSTER_NAME_LABEL: p.name, TOPOLOGY_OWNED_LABEL: '',
            TOPOLOGY_DEPLOYMENT_LABEL: entry['name']})
        annotations = dict(metadata.get('annotations') or {})
        name = machine_deployment_name(p.name, entry['name'])
        selector = {CLUSTER_NAME_LABEL: p.name,
                    TOPOLOGY_DEPLOYMENT_LABEL: entry['name']}
        replicas = entry.get('replicas')
        version = p.version
        if current is not None:
            if replicas is None:
                replicas = current['spec'].get('replicas')
            if not self._control_plane_upgraded(p):
                version = current['spec']['template']['spec'].get(
                    'version', version)
        if replicas is None:
            replicas = int(annotations.get(MIN_SIZE_ANNOTATION) or 1)
        template_spec = {
            'clusterName': p.name, 'version': version,
            'bootstrap': {'configRef': {
                'apiGroup': BOOTSTRAP_GROUP, 'kind': 'KubeadmConfigTemplate',
                'name': name}},
            'infrastructureRef': {
                'apiGroup': INFRASTRUCTURE_GROUP,
                'kind': 'OpenStackMachineTemplate', 'name': name}}
        if entry.get('failureDomain'):
            template_spec['failureDomain'] = entry['failureDomain']
        return {
            'metadata': {'name': name, 'labels': labels,
                         'annotations': annotations},
            'spec': {'clusterName': p.name, 'replicas': replicas,
                     'selector': {'matchLabels': selector},
                     'template': {
                         'metadata': {'labels': dict(
                             metadata.get('labels') or {},
                             **{DEPLOYMENT_NAME_LABEL: name}, **selector)},
                         'spec': template_spec}}}

    def _sync_machine_deployments(self, p):
        """Create, update and delete the topology's MachineDeployments."""
        acted = False
        entries, existing = p.entries, p.topology_mds()
        for topology_name, md in existing.items():
            if topology_name not in entries and not _deleting(md):
                self._delete_machine_deployment(p, md)
                acted = True
        for topology_name, entry in entries.items():
            current = existing.get(topology_name)
            desired = self._machine_deployment(p, entry, current)
            if current is None:
                self._create_machine_deployment(p, desired)
                acted = True
            elif self._update_machine_deployment(current, desired):
                acted = True
        return acted

    def _create_machine_deployment(self, p, desired):
        metadata = dict(desired['metadata'], namespace=p.namespace,
                        ownerReferences=[owner_reference(p.cluster)])
        if not metadata['annotations']:
            del metadata['annotations']
        self.api.create(p.namespace, MACHINE_DEPLOYMENTS, {
            'apiVersion': API_VERSION, 'kind': 'MachineDeployment',
            'metadata': metadata, 'spec': desired['spec']})

    def _update_machine_deployment(self, current, desired):
        """Labels, annotations and spec as ``desired``; whether it wrote.
        """
        patch = merge_patch(
            {'metadata': {'labels': _labels(current),
                          'annotations': _annotations(current)},
             'spec': current['spec']},
            {'metadata': {'labels': desired['metadata']['labels'],
                          'annotations': desired['metadata']['annotations']},
             'spec': desired['spec']})
        if patch:
            self.api.patch(current, MACHINE_DEPLOYMENTS, patch)
        return bool(patch)

    def _delete_machine_deployment(self, p, md):
        self.api.delete(md, MACHINE_DEPLOYMENTS)
        for machine in _active(p.machines_of(md)):
            self.api.delete(machine, MACHINES)

    def _converge_workers(self, p):
        entries = p.entries
        for topology_name, md in sorted(p.topology_mds().items()):
            entry = entries.get(topology_name)
            if entry is None or _deleting(md):
                continue
            flavor = _text(_variable(
                (entry.get('variables') or {}).get('overrides'),
                WORKER_FLAVOR_VARIABLE))
            if flavor is None:
                flavor = _text(_variable(p.topology.get('variables'),
                                         WORKER_FLAVOR_VARIABLE))
            version = md['spec']['template']['spec'].get('version')
            labels = self._worker_labels(p, md, entry)
            if self._converge(
                    p, p.machines_of(md), md['spec'].get('replicas') or 0,
                    version, lambda: self._machine(
                        p, '%s-' % _meta(md)['name'], labels, md, version,
                        flavor, entry.get('failureDomain'))):
                return True
        return False

    def _sync_labels(self, p):
        """The topology's labels, added or changed, onto its Machines."""
        wanted = {}
        entries = p.entries
        for topology_name, md in p.topology_mds().items():
            if topology_name in entries:
                wanted[_meta(md)['name']] = self._worker_labels(
                    p, md, entries[topology_name])
        acted = False
        for machine in _active(p.machines):
            if CONTROL_PLANE_LABEL in _labels(machine):
                labels = self._control_plane_labels(p)
            else:
                labels = wanted.get(_labels(machine).get(
                    DEPLOYMENT_NAME_LABEL), {})
            missing = {k: v for k, v in labels.items()
                       if _labels(machine).get(k) != v}
            if missing:
                self.api.patch(machine, MACHINES,
                               {'metadata': {'labels': missing}})
                acted = True
        return acted

    # -- deletion ------------------------------------------------------------

    def _delete_workers(self, p):
        acted = False
        for md in p.mds:
            if not _deleting(md):
                self.api.delete(md, MACHINE_DEPLOYMENTS)
                acted = True
        for machine in _active(p.worker_machines()):
            self.api.delete(machine, MACHINES)
            acted = True
        return acted

    def _delete_control_plane(self, p):
        if p.worker_machines():
            return False
        active = _active(p.control_plane_machines())
        for machine in active:
            self.api.delete(machine, MACHINES)
        return bool(active)

    def _release_cluster(self, p):
        if p.machines or p.mds or CLUSTER_FINALIZER not in (
                _meta(p.cluster).get('finalizers') or ()):
            return False
        self.api.remove_finalizer(p.cluster, CLUSTERS, CLUSTER_FINALIZER)
        self._record(p, 'deleted')
        return True

    # -- status --------------------------------------------------------------

    def _md_status(self, p, md):
        """The status of a MachineDeployment from its Machines."""
        generation = _meta(md).get('generation') or 1
        replicas = md['spec'].get('replicas') or 0
        active = _active(p.machines_of(md))
        ready = [m for m in active if _ready(m)]
        failures = _failures(active)
        available = len(ready) >= replicas
        message = '' if available else failures or (
            'MachineDeployment %s: %d of %d replicas available'
            % (_meta(md)['name'], len(ready), replicas))
        if failures:
            phase = 'Failed'
        elif len(active) < replicas:
            phase = 'ScalingUp'
        elif len(active) > replicas:
            phase = 'ScalingDown'
        else:
            phase = 'Running'
        selector = md['spec']['selector'].get('matchLabels') or {}
        return {
            'selector': ','.join('%s=%s' % item
                                 for item in sorted(selector.items())),
            'replicas': len(active), 'readyReplicas': len(ready),
            'availableReplicas': len(ready),
            'upToDateReplicas': len([m for m in ready if m['spec'].get(
                'version') == p.version]),
            'phase': phase, 'observedGeneration': generation,
            'conditions': [condition(
                'Available', available,
                'Available' if available else 'NotAvailable', message,
                generation, md)]}

    def _write_status(self, obj, plural, status):
        old = obj.get('status') or {}
        if any(old.get(key) != value for key, value in status.items()):
            self.api.patch_status(obj, plural, status)

    @staticmethod
    def _counts(machines, desired, version):
        active = _active(machines)
        ready = [m for m in active if _ready(m)]
        return {'desiredReplicas': desired, 'replicas': len(active),
                'readyReplicas': len(ready), 'availableReplicas': len(ready),
                'upToDateReplicas': len([
                    m for m in ready if m['spec'].get('version') == version])}

    def _upgrading(self, p, mds):
        if any(m['spec'].get('version') != p.version
               for m in _active(p.control_plane_machines())):
            return True
        for md in mds:
            version = md['spec']['template']['spec'].get('version')
            if version != p.version or any(
                    m['spec'].get('version') != version
                    for m in _active(p.machines_of(md))):
                return True
        return False

    def _report(self, p):
        """The status of the Cluster and its MachineDeployments."""
        mds = [md for name, md in sorted(p.topology_mds().items())
               if name in p.entries and not _deleting(md)]
        md_conditions = []
        for md in mds:
            status = self._md_status(p, md)
            self._write_status(md, MACHINE_DEPLOYMENTS, status)
            md_conditions.extend(status['conditions'])
        cp = _active(p.control_plane_machines())
        conditions = [self._infrastructure_condition(p),
                      self._initialized_condition(p, cp),
                      self._control_plane_condition(p, cp),
                      self._workers_condition(p, md_conditions),
                      self._topology_condition(p, mds),
                      condition('Deleting', False, 'NotDeleting', '',
                                p.generation, p.cluster)]
        available = self._available(p, conditions)
        status = {
            'conditions': conditions + [available],
            'initialization': {
                'infrastructureProvisioned':
                    conditions[0]['status'] == 'True',
                'controlPlaneInitialized': conditions[1]['status'] == 'True'},
            'controlPlane': self._counts(
                cp, p.control_plane_replicas, p.version),
            'workers': self._counts(
                [m for md in mds for m in p.machines_of(md)],
                sum(md['spec'].get('replicas') or 0 for md in mds),
                p.version),
            'phase': ('Provisioned' if available['status'] == 'True'
                      else 'Provisioning'),
            'observedGeneration': p.generation}
        old = p.cluster.get('status') or {}
        self._write_status(p.cluster, CLUSTERS, status)
        self._record_transition(p, old, status)

    def _infrastructure_condition(self, p):
        ready = _is_true(p.cluster, 'InfrastructureReady') or p.elapsed(
            p.cluster, 'created', p.delay)
        return condition('InfrastructureReady', ready,
                         'Ready' if ready else 'NotReady',
                         '' if ready else
                         'OpenStackCluster is being provisioned',
                         p.generation, p.cluster)

    def _initialized_condition(self, p, cp):
        initialized = any(_ready(m) for m in cp) or _is_true(
            p.cluster, 'ControlPlaneInitialized')
        return condition('ControlPlaneInitialized', initialized,
                         'Initialized' if initialized else 'NotInitialized',
                         '' if initialized else
                         'Waiting for the first control plane Machine',
                         p.generation, p.cluster)

    def _control_plane_condition(self, p, cp):
        ready = len([m for m in cp if _ready(m)])
        available = ready >= p.control_plane_replicas
        message = '' if available else _failures(cp) or (
            'Control plane: %d of %d Machines ready'
            % (ready, p.control_plane_replicas))
        return condition('ControlPlaneAvailable', available,
                         'Available' if available else 'NotAvailable',
                         message, p.generation, p.cluster)

    def _workers_condition(self, p, md_conditions):
        """From the Available conditions of the MachineDeployments."""
        bad = [c['message'] for c in md_conditions if c['status'] != 'True']
        if bad:
            reason = 'NotAvailable'
        else:
            reason = 'Available' if md_conditions else 'NoWorkers'
        return condition('WorkersAvailable', not bad, reason,
                         '\n'.join(bad), p.generation, p.cluster)

    def _topology_condition(self, p, mds):
        if p.error is not None:
            return condition('TopologyReconciled', False, 'ReconcileFailed',
                             p.error, p.generation, p.cluster)
        if self._upgrading(p, mds):
            return condition('TopologyReconciled', False, 'ClusterUpgrading',
                             UPGRADING_MESSAGE.format(version=p.version),
                             p.generation, p.cluster)
        return condition('TopologyReconciled', True, 'ReconcileSucceeded',
                         '', p.generation, p.cluster)

    def _available(self, p, conditions):
        """Cluster API's summary of its gates: each True (Deleting False;
        TopologyReconciled counts only when it failed); when not, the
        messages of those that are not, one a line."""
        bad = []
        for c in conditions:
            if c['type'] not in AVAILABLE_GATES:
                continue
            if c['type'] == 'Deleting':
                ok = c['status'] == 'False'
            elif c['type'] == 'TopologyReconciled':
                ok = c['reason'] != 'ReconcileFailed'
            else:
                ok = c['status'] == 'True'
            if not ok and c['message'] not in bad:
                bad.append(c['message'])
        return condition('Available', not bad,
                         'NotAvailable' if bad else 'Available',
                         '\n'.join(bad), p.generation, p.cluster)

    def _report_deletion(self, p):
        workers = p.worker_machines()
        waiting = workers or p.control_plane_machines()
        reason = ('WaitingForWorkersDeletion' if workers or p.mds
                  else 'WaitingForControlPlaneDeletion')
        lines = [stuck_message(_meta(m)['name'])
                 for m in sorted(waiting, key=lambda m: _meta(m)['name'])
                 if _annotations(m).get(FLAVOR_ANNOTATION) == STUCK_FLAVOR]
        others = sorted(_meta(m)['name'] for m in waiting
                        if _annotations(m).get(FLAVOR_ANNOTATION)
                        != STUCK_FLAVOR)
        if others:
            lines.append(WAITING_MESSAGE.format(machines=', '.join(others)))
        message = '\n'.join(lines)
        cluster = p.cluster
        kept = [c for c in (cluster.get('status') or {}).get(
            'conditions') or () if c['type'] not in (
            'Deleting', 'TopologyReconciled', 'Available')]
        conditions = kept + [
            condition('TopologyReconciled', False, 'Deleting',
                      'Cluster is being deleted', p.generation, cluster),
            condition('Deleting', True, reason, message, p.generation,
                      cluster),
            condition('Available', False, 'NotAvailable', message,
                      p.generation, cluster)]
        self._write_status(cluster, CLUSTERS, {
            'conditions': conditions, 'phase': 'Deleting',
            'observedGeneration': p.generation})

    # -- events --------------------------------------------------------------

    def _record_transition(self, p, old, new):
        """``available`` when the Cluster is done with its generation
        (Available and TopologyReconciled True; once a generation, and
        again after a dip), ``failed`` for each new failure (a message of
        Available while a Machine failed or a write was refused)."""
        if self._done(p, new):
            if not self._done(p, old):
                self._record(p, 'available')
            return
        if p.error is None and not any(
                _failed(m) for m in _active(p.machines)):
            return
        before = _condition({'status': old}, 'Available') or {}
        after = _condition({'status': new}, 'Available')
        if (before.get('status'), before.get('message')) != (
                after['status'], after['message']):
            self._record(p, 'failed')

    @staticmethod
    def _done(p, status):
        holder = {'status': status}
        return (status.get('observedGeneration') == p.generation
                and _is_true(holder, 'Available')
                and _is_true(holder, 'TopologyReconciled'))

    def _record(self, p, event):
        LOG.info('%s/%s: %s', p.namespace, p.name, event)
        if not self.events_path:
            return
        line = json.dumps({'cluster': '%s/%s' % (p.namespace, p.name),
                           'event': event, 'generation': p.generation,
                           'time': time.time()})
        with open(self.events_path, 'a') as f:
            f.write(line + '\n')
            f.flush()


# -- the queue and the watches ------------------------------------------------

class WorkQueue:
    """Cluster keys, each due at a time; a key added again keeps the
    earlier time. ``get()`` blocks until one is due (None once closed)."""

    def __init__(self):
        self._due = {}
        self._closed = False
        self._changed = threading.Condition()

    def add(self, key, delay=0.0):
        at = time.monotonic() + delay
        with self._changed:
            if key not in self._due or at < self._due[key]:
                self._due[key] = at
                self._changed.notify()

    def get(self):
        with self._changed:
            while not self._closed:
                wait = None
                if self._due:
                    key = min(self._due, key=self._due.get)
                    wait = self._due[key] - time.monotonic()
                    if wait <= 0:
                        del self._due[key]
                        return key
                self._changed.wait(wait)
            return None

    def close(self):
        with self._changed:
            self._closed = True
            self._changed.notify_all()


def watch_objects(custom, plural, queue, listed):
    """Forever: list ``plural`` in every namespace, then watch it; every
    object's Cluster goes to ``queue``. ``listed`` is set after the first
    list."""
    while True:
        try:
            answer = custom.list_cluster_custom_object(
                GROUP, VERSION, plural, _request_timeout=REQUEST_TIMEOUT)
            for obj in answer['items']:
                _enqueue(queue, obj)
            listed.set()
            stream = watch.Watch().stream(
                custom.list_cluster_custom_object, GROUP, VERSION, plural,
                resource_version=answer['metadata']['resourceVersion'],
                timeout_seconds=WATCH_SECONDS,
                _request_timeout=WATCH_SECONDS + REQUEST_TIMEOUT)
            for event in stream:
                _enqueue(queue, event['object'])
        except Exception as e:
            LOG.warning('watch of %s: %s (again in 1 s)', plural,
                        '%s %s' % (e.status, e.reason)
                        if isinstance(e, kube_exc.ApiException) else e)
            time.sleep(1)


def _enqueue(queue, obj):
    key = cluster_key(obj) if isinstance(obj, dict) else None
    if key is not None:
        queue.add(key)


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog='capi-standin',
        description='Plays the Cluster API controllers for the tests.')
    parser.add_argument('--kubeconfig', required=True)
    parser.add_argument('--delay', type=float, default=1.0,
                        help='seconds until a new Machine runs')
    parser.add_argument('--delete-delay', type=float, default=2.0,
                        help='seconds until a deleted Machine is released')
    parser.add_argument('--events', help='a JSON line a transition here')
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, stream=sys.stderr,
        format='%(asctime)s %(threadName)s %(levelname)s %(message)s')
    # NOTE: before any thread starts, so that every thread inherits the
    # mask and only sigwait() below receives the signals.
    signals = {signal.SIGTERM, signal.SIGINT}
    signal.pthread_sigmask(signal.SIG_BLOCK, signals)
    custom = kubernetes.client.CustomObjectsApi(
        kubernetes.config.new_client_from_config(config_file=args.kubeconfig))
    queue = WorkQueue()
    standin = Standin(Api(custom), args.delay, args.delete_delay, args.events)
    listed = []
    for plural in (CLUSTERS, MACHINE_DEPLOYMENTS, MACHINES):
        listed.append(threading.Event())
        threading.Thread(target=watch_objects, name='watch-%s' % plural,
                         args=(custom, plural, queue, listed[-1]),
                         daemon=True).start()
    worker = threading.Thread(target=standin.run, args=(queue,),
                              name='reconcile', daemon=True)
    worker.start()
    threading.Thread(target=_announce, args=(listed,), name='announce',
                     daemon=True).start()
    LOG.info('stopping on signal %d', signal.sigwait(signals))
    queue.close()
    worker.join(STOP_SECONDS)
    return 0


def _announce(listed):
    for event in listed:
        event.wait()
    print(READY_LINE, file=sys.stderr, flush=True)


if __name__ == '__main__':
    code = main()
    # NOTE: the watch threads are daemons blocked in reads of the API
    # server: an interpreter finalizing under them can abort (SIGABRT,
    # seen once in a loaded suite run). What there is to write is
    # written; the process ends without finalization.
    logging.shutdown()
    sys.stderr.flush()
    os._exit(code)
