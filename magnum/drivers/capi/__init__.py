"""The ``capi`` provisioner: a kubernetes bay is a Cluster API ``Cluster``
on a management cluster (``[capi] kubeconfig``).

What it makes there, in the bay's project namespace
(``<[capi] namespace_prefix><project id>``), all labelled
``magnum.openstack.org/bay=<uuid>``:

* the ``Cluster`` (cluster.x-k8s.io/v1beta2) with ``spec.topology`` on
  Magnum's ClusterClass (spec.py, classes.py);
* the Cluster API certificate Secrets ``<cluster>-ca`` (the bay's own CA
  from Magnum's database, so ``bay config``, CA signing and CA rotation
  work as on every bay), ``-etcd``, ``-proxy`` and ``-sa`` (made here at
  create);
* ``<cluster>-cloud-config``: ``clouds.yaml`` with a Keystone application
  credential of the bay's owner (credentials.py), which Magnum's finalizer
  keeps until the Cluster is gone, so the credential that deletes the
  servers outlives them, and is then deleted from Keystone.

Every Secret is owned by the Cluster: deleting the Cluster leaves nothing.

Status comes by watch (watch.py): the conductor subscribes with
``start_watch`` and reads each bay's objects from the cache; ``poll``
answers from the cache too when it is in sync, otherwise with one list per
kind. status.py turns the objects into the bay's state.
"""

import datetime
import threading

from kubernetes.client import exceptions as kube_exc
from oslo_config import cfg
from oslo_log import log as logging
from oslo_utils import timeutils

from magnum.common import exception
from magnum.common import x509
from magnum.drivers import base
from magnum.drivers.capi import classes
from magnum.drivers.capi import credentials
from magnum.drivers.capi import kube
from magnum.drivers.capi import spec
from magnum.drivers.capi import status
from magnum.drivers.capi import watch
from magnum.objects import action as action_obj
from magnum.objects import bay_tls
from magnum.objects import baymodel as baymodel_obj
from magnum.objects import nodegroup as nodegroup_obj
from magnum.objects import states

LOG = logging.getLogger(__name__)
CONF = cfg.CONF

# Magnum's finalizer on a bay's cloud-config Secret: the application
# credential is deleted from Keystone before the Secret goes.
CREDENTIAL_FINALIZER = 'magnum.openstack.org/application-credential'
CREDENTIAL_ID = 'magnum.openstack.org/application-credential-id'
CREDENTIAL_USER = 'magnum.openstack.org/application-credential-user'
PREVIOUS_CREDENTIAL_ID = (
    'magnum.openstack.org/previous-application-credential-id')
PREVIOUS_CREDENTIAL_USER = (
    'magnum.openstack.org/previous-application-credential-user')
DELETE_MACHINE = 'cluster.x-k8s.io/delete-machine'
# What an upgrade leaves, noted on the Cluster for its rollback.
ROLLBACK_CLASS = 'magnum.openstack.org/rollback-class'
ROLLBACK_VERSION = 'magnum.openstack.org/rollback-version'
# Kinds whose plural is not their name and an s.
_PLURALS = {'ClusterClass': 'clusterclasses'}


def _plural(kind):
    return _PLURALS.get(kind) or kind.lower() + 's'


def _where(bay):
    """(namespace, Cluster name) of the bay."""
    if bay.stack_id and '/' in bay.stack_id:
        namespace, name = bay.stack_id.split('/', 1)
        return namespace, name
    return kube.namespace_for(bay.project_id), spec.cluster_name(bay)


class _Values:
    """Attribute access to a create's values (validate has no Bay yet)."""

    def __init__(self, values, **extra):
        self.__dict__.update(values)
        self.__dict__.update(extra)

    def __getattr__(self, name):
        return None


class CapiProvisioner(base.Provisioner):

    handles_timeout = True
    rotates_by_update = False
    applies_node_limits = True

    def __init__(self):
        self._watcher = watch.Watcher()
        self._class_lock = threading.Lock()
        self._class_installed = None

    # -- checks ------------------------------------------------------------

    def validate(self, baymodel, bay_values):
        if not kube.configured():
            raise exception.InvalidParameterValue(
                field='labels',
                reason='provisioner capi is not set up in this cloud '
                       '([capi] kubeconfig is not set)')
        bay = _Values(bay_values)
        labels = dict(baymodel.labels or {}, **(bay.labels or {}))
        worker = _Values({}, name='default-worker', is_default=True,
                         role='worker', labels=labels,
                         node_count=bay.node_count or 1,
                         min_node_count=labels.get('min_node_count'),
                         max_node_count=labels.get('max_node_count'))
        spec.check(bay, baymodel, [worker])
        spec.kube_version(baymodel, CONF.capi.kube_version)

    def validate_template(self, coe):
        spec.check_coe(coe)

    def validate_nodegroup(self, bay, values):
        spec.check(bay, None, [_Values(values)])

    def serves_bay_certificates(self, bay, baymodel):
        # NOTE: kubeadm signs the API server's certificate with the CA in
        # <cluster>-ca, which is the bay's.
        return True

    # -- the class ---------------------------------------------------------

    def _class_ref(self):
        """The classRef of new bays and upgrades: the operator's class, or
        Magnum's, installed once a process."""
        namespace = CONF.capi.class_namespace
        if CONF.capi.cluster_class:
            return {'name': CONF.capi.cluster_class, 'namespace': namespace}
        name = classes.name()
        with self._class_lock:
            if self._class_installed != name:
                kube.ensure_namespace(namespace)
                for body in classes.objects(namespace):
                    group, _, version = body['apiVersion'].rpartition('/')
                    try:
                        kube.custom().create_namespaced_custom_object(
                            group, version, namespace, _plural(body['kind']),
                            body, _request_timeout=kube.timeout())
                    except kube_exc.ApiException as e:
                        if e.status != 409:
                            raise
                LOG.info('ClusterClass %s/%s is installed', namespace, name)
                self._class_installed = name
        return {'name': name, 'namespace': namespace}

    # -- create ------------------------------------------------------------

    def create(self, context, bay, baymodel):
        namespace, name = _where(bay)
        where = '%s/%s' % (namespace, name)
        try:
            kube.ensure_namespace(namespace, bay.project_id)
            existing = kube.get(namespace, kube.CLUSTERS, name)
            if existing is not None:
                # NOTE: a create redone (a duplicate message, a conductor
                # taking over) adopts the Cluster it already made, and
                # gives it the Secrets made before it that it does not own
                # yet (the conductor died in between).
                for secret in self._secrets_of(bay):
                    if not secret.metadata.owner_references:
                        self._own(namespace, secret.metadata.name, existing)
                return base.BayState(stack_id=where)
            class_ref = self._class_ref()
            version = spec.kube_version(baymodel, CONF.capi.kube_version)
            secrets = self._certificate_secrets(bay, name)
            secrets.append(self._credentials_secret(context, bay, name))
            groups = nodegroup_obj.NodeGroup.list_of(context, bay.uuid)
            body = spec.cluster(bay, baymodel, groups, namespace, class_ref,
                                version, classes.worker_class(),
                                self._action_of(context, bay))
            try:
                made = kube.custom().create_namespaced_custom_object(
                    kube.GROUP, kube.VERSION, namespace, kube.CLUSTERS, body,
                    _request_timeout=kube.timeout())
            except kube_exc.ApiException as e:
                if e.status != 409:
                    raise
                made = kube.get(namespace, kube.CLUSTERS, name)
            for secret in secrets:
                self._own(namespace, secret, made)
        except exception.ProvisionerError as e:
            return base.BayState(status=states.CREATE_FAILED,
                                 status_reason=str(e))
        except kube_exc.ApiException as e:
            return base.BayState(
                status=states.CREATE_FAILED,
                status_reason='The management cluster refused Cluster %s: '
                              '%s' % (where, kube.error_text(e)))
        LOG.info('Bay %s: Cluster %s created', bay.uuid, where)
        return base.BayState(stack_id=where)

    @staticmethod
    def _action_of(context, bay):
        action = action_obj.Action.open_of(context, bay.uuid)
        return action.uuid if action is not None else ''

    def _certificate_secrets(self, bay, name):
        """Create the Cluster API certificate Secrets the cluster has not
        got yet; returns them (to be owned by the Cluster)."""
        namespace, _ = _where(bay)
        bundle = bay_tls.load(bay.uuid)
        made = []
        for suffix in spec.CERTIFICATE_SECRETS:
            if suffix == 'ca' and bundle is None:
                continue  # a template with tls_disabled: CAPI makes one
            if kube.read_secret(namespace, spec.secret_name(name, suffix)):
                made.append(spec.secret_name(name, suffix))
                continue
            if suffix == 'ca':
                data = {'tls.crt': bundle.ca_cert, 'tls.key': bundle.ca_key}
            elif suffix == 'sa':
                key = x509.new_key()
                data = {'tls.crt': x509.public_key_pem(key),
                        'tls.key': x509.key_pem(key)}
            else:
                cert, key = x509.make_ca(
                    '%s-%s' % (bay.uuid, suffix),
                    CONF.certificates.ca_validity_days)
                data = {'tls.crt': x509.cert_pem(cert),
                        'tls.key': x509.key_pem(key)}
            kube.apply_secret(namespace, spec.secret(bay, name, suffix, data))
            made.append(spec.secret_name(name, suffix))
        return made

    def _credentials_secret(self, context, bay, name, replace=False):
        """Make (or, with ``replace``, replace) the cloud-config Secret with
        a new application credential; returns its name.

        NOTE: the credential replaced is kept, as the previous one, until
        the next rotation or the bay's delete: machines that booted with
        its clouds.yaml (the cloud controller manager's) go on with it
        until they are rolled. The one previous before it is deleted.
        """
        namespace, _ = _where(bay)
        secret_name = spec.credentials_secret_name(name)
        current = kube.read_secret(namespace, secret_name)
        if current is not None and not replace:
            return secret_name
        credential, secret, user = credentials.create(context, bay)
        # NOTE: both keys, cacert empty without [capi] ca_file: the class's
        # kubeadm files read each of them.
        data = {'clouds.yaml': credentials.clouds_yaml(credential, secret),
                'cacert': credentials.ca_bundle()}
        body = spec.secret(bay, name, 'cloud-config', data, kind='Opaque')
        body['metadata']['finalizers'] = [CREDENTIAL_FINALIZER]
        annotations = {CREDENTIAL_ID: credential, CREDENTIAL_USER: user}
        old = (current.metadata.annotations or {}) if current else {}
        if old.get(CREDENTIAL_ID):
            annotations.update({
                PREVIOUS_CREDENTIAL_ID: old[CREDENTIAL_ID],
                PREVIOUS_CREDENTIAL_USER: old.get(CREDENTIAL_USER)})
        body['metadata']['annotations'] = annotations
        try:
            kube.apply_secret(namespace, body, replace=replace)
            if replace:
                kube.core().patch_namespaced_secret(
                    secret_name, namespace,
                    {'metadata': {'annotations': annotations}},
                    _request_timeout=kube.timeout())
        except Exception:
            credentials.delete(context, credential, user)
            raise
        if old.get(PREVIOUS_CREDENTIAL_ID):
            credentials.delete(context, old[PREVIOUS_CREDENTIAL_ID],
                               old.get(PREVIOUS_CREDENTIAL_USER))
        return secret_name

    @staticmethod
    def _secrets_of(bay):
        namespace, _ = _where(bay)
        return kube.core().list_namespaced_secret(
            namespace, label_selector='%s=%s' % (kube.BAY_LABEL, bay.uuid),
            _request_timeout=kube.timeout()).items

    @staticmethod
    def _own(namespace, secret_name, cluster):
        kube.core().patch_namespaced_secret(
            secret_name, namespace,
            spec.owned_by({'metadata': {}}, cluster),
            _request_timeout=kube.timeout())

    # -- changes -----------------------------------------------------------

    def update(self, context, bay, baymodel, rollback=False):
        return self._apply(context, bay, baymodel)

    def resize(self, context, bay, baymodel, nodegroup, node_count,
               nodes_to_remove=None, rollback=False):
        if nodes_to_remove:
            failed = self._mark_for_deletion(bay, nodes_to_remove)
            if failed is not None:
                return failed
        return self._apply(context, bay, baymodel)

    def upgrade(self, context, bay, baymodel, template, nodegroup=None,
                max_batch_size=None, rollback=False):
        # NOTE: one Kubernetes version a Cluster; Cluster API rolls the
        # machines (the class's rollout strategy sets the batch size).
        return self._apply(context, bay, template, upgrade=True)

    def create_nodegroup(self, context, bay, baymodel, nodegroup,
                         rollback=False):
        return self._apply(context, bay, baymodel)

    def update_nodegroup(self, context, bay, baymodel, nodegroup,
                         rollback=False):
        return self._apply(context, bay, baymodel)

    def delete_nodegroup(self, context, bay, baymodel, name):
        return self._apply(context, bay, baymodel)

    def _apply(self, context, bay, baymodel, upgrade=False):
        """Replace the Cluster's topology with the one the rows say now,
        marked with the bay's open action. An upgrade moves the Cluster to
        the current class and the template's version, and notes the ones
        it leaves (a rollback goes back to them)."""
        action = self._action_of(context, bay)
        groups = nodegroup_obj.NodeGroup.list_of(context, bay.uuid)
        namespace, _ = _where(bay)

        def change(current):
            topology = current['spec'].get('topology') or {}
            annotations = current['metadata'].setdefault('annotations', {})
            class_ref, version = topology.get('classRef'), topology.get(
                'version')
            if upgrade:
                if annotations.get(status.ACTION_ANNOTATION) != action:
                    annotations[ROLLBACK_CLASS] = (class_ref or {}).get(
                        'name', '')
                    annotations[ROLLBACK_VERSION] = version or ''
                class_ref = self._class_ref()
                version = spec.kube_version(baymodel, CONF.capi.kube_version)
            return spec.cluster(bay, baymodel, groups, namespace, class_ref,
                                version, classes.worker_class(), action)

        return self._replace_topology(bay, change)

    def _roll_back(self, context, bay, action):
        """Put the Cluster back as it was before ``action`` (a change asked
        with ``?rollback=True`` that failed): the rows as the action's
        ``restore`` says they were, an upgrade's class and version as they
        were. The failure is recorded as ever; the Cluster then settles
        back on its own."""
        restore = action.param('restore') or {}
        before = bay.obj_clone()
        for name, value in (restore.get('bay') or {}).items():
            setattr(before, name, value)
        groups = []
        restored = restore.get('nodegroup') or {}
        for group in nodegroup_obj.NodeGroup.list_of(context, bay.uuid):
            if (action.kind == action_obj.NODEGROUP_CREATE
                    and group.uuid == action.param('nodegroup')):
                continue  # the group the action added goes
            if group.uuid == restored.get('uuid'):
                group = group.obj_clone()
                for name, value in restored.items():
                    if name != 'uuid':
                        setattr(group, name, value)
            groups.append(group)
        baymodel = baymodel_obj.BayModel.get_by_uuid_unscoped(
            context, before.baymodel_id)
        namespace, _ = _where(bay)

        def change(current):
            topology = current['spec'].get('topology') or {}
            annotations = current['metadata'].get('annotations') or {}
            class_ref, version = topology.get('classRef'), topology.get(
                'version')
            if action.kind == action_obj.UPGRADE:
                if annotations.get(ROLLBACK_CLASS):
                    class_ref = dict(class_ref or {},
                                     name=annotations[ROLLBACK_CLASS])
                version = annotations.get(ROLLBACK_VERSION) or version
            return spec.cluster(before, baymodel, groups, namespace,
                                class_ref, version, classes.worker_class(),
                                '%s-rollback' % action.uuid)

        state = self._replace_topology(bay, change)
        if state.status:
            LOG.warning('Bay %s: could not roll back %s: %s', bay.uuid,
                        action.uuid, state.status_reason)
        else:
            LOG.info('Bay %s: %s failed; its Cluster is rolled back',
                     bay.uuid, action.kind)

    def _replace_topology(self, bay, change, attempts=5):
        """Replace the Cluster's topology and Magnum's annotations with
        what ``change(current Cluster)`` renders; a conflict reads it again.
        """
        namespace, name = _where(bay)
        for _ in range(attempts):
            try:
                current = kube.get(namespace, kube.CLUSTERS, name)
                if current is None:
                    return base.BayState(
                        status=states.UPDATE_FAILED,
                        status_reason='The bay has no Cluster %s/%s.'
                                      % (namespace, name))
                body = change(current)
                current['spec']['topology'] = body['spec']['topology']
                current['metadata'].setdefault('annotations', {}).update(
                    body['metadata']['annotations'])
                kube.custom().replace_namespaced_custom_object(
                    kube.GROUP, kube.VERSION, namespace, kube.CLUSTERS, name,
                    current, _request_timeout=kube.timeout())
                return base.BayState()
            except kube_exc.ApiException as e:
                if e.status == 409:
                    continue  # changed meanwhile: read it again
                return base.BayState(
                    status=states.UPDATE_FAILED,
                    status_reason='The management cluster refused the '
                                  'change of Cluster %s/%s: %s'
                                  % (namespace, name, kube.error_text(e)))
            except exception.MagnumException as e:
                return base.BayState(status=states.UPDATE_FAILED,
                                     status_reason=str(e))
        return base.BayState(
            status=states.UPDATE_FAILED,
            status_reason='Cluster %s/%s kept changing; try again'
                          % (namespace, name))

    def _mark_for_deletion(self, bay, servers):
        """Annotate the Machines of ``servers`` (server ids or Machine
        names) for Cluster API to remove first; a BayState if one is not
        found."""
        namespace, name = _where(bay)
        machines, _ = kube.list_objects(
            kube.MACHINES, '%s=%s' % (kube.CLUSTER_NAME_LABEL, name),
            namespace)
        by_id = {}
        for machine in machines:
            by_id[machine['metadata']['name']] = machine
            provider = (machine.get('spec') or {}).get('providerID') or ''
            if provider:
                by_id[provider.rsplit('/', 1)[-1]] = machine
        missing = [s for s in servers if s not in by_id]
        if missing:
            return base.BayState(
                status=states.UPDATE_FAILED,
                status_reason='No machine of the bay is %s'
                              % ', '.join(missing))
        for server in servers:
            kube.merge_patch(namespace, kube.MACHINES,
                             by_id[server]['metadata']['name'],
                             {'metadata': {'annotations': {
                                 DELETE_MACHINE: 'yes'}}})
        return None

    def rotate_ca(self, context, bay, baymodel, bundle):
        """The new CA in ``<cluster>-ca`` (kubeadm reads it there when it
        joins machines). Done inside the call."""
        namespace, name = _where(bay)
        kube.apply_secret(namespace, spec.secret(
            bay, name, 'ca', {'tls.crt': bundle.ca_cert,
                              'tls.key': bundle.ca_key}), replace=True)
        return None

    def rotate_credential(self, context, bay, baymodel):
        """A new application credential of the caller replaces the bay's
        (the one it replaces is kept until the next rotation)."""
        _, name = _where(bay)
        try:
            self._credentials_secret(context, bay, name, replace=True)
        except exception.ProvisionerError as e:
            return base.BayState(status=states.UPDATE_FAILED,
                                 status_reason=str(e))
        return base.BayState(status=states.UPDATE_COMPLETE)

    # -- delete ------------------------------------------------------------

    def delete(self, context, bay, baymodel):
        namespace, name = _where(bay)
        try:
            kube.custom().delete_namespaced_custom_object(
                kube.GROUP, kube.VERSION, namespace, kube.CLUSTERS, name,
                propagation_policy='Background',
                _request_timeout=kube.timeout())
        except kube_exc.ApiException as e:
            if e.status != 404:
                return base.BayState(
                    status=states.DELETE_FAILED,
                    status_reason='The management cluster refused to delete '
                                  'Cluster %s/%s: %s'
                                  % (namespace, name, kube.error_text(e)))
            if self._release_credentials(context, bay):
                return base.BayState(status=states.DELETE_COMPLETE)
        return base.BayState()

    def _release_credentials(self, context, bay):
        """Once the Cluster is gone: delete the bay's application
        credential and let its Secret go. True when nothing is left."""
        namespace, name = _where(bay)
        secret_name = spec.credentials_secret_name(name)
        try:
            for other in self._secrets_of(bay):
                # NOTE: owned by the Cluster, they go with it; these are
                # only those a create that failed half-way left unowned.
                if (other.metadata.name != secret_name
                        and not other.metadata.owner_references):
                    kube.core().delete_namespaced_secret(
                        other.metadata.name, namespace,
                        _request_timeout=kube.timeout())
            secret = kube.read_secret(namespace, secret_name)
            if secret is None:
                return True
            annotations = secret.metadata.annotations or {}
            for key, user in ((CREDENTIAL_ID, CREDENTIAL_USER),
                              (PREVIOUS_CREDENTIAL_ID,
                               PREVIOUS_CREDENTIAL_USER)):
                if annotations.get(key):
                    credentials.delete(context, annotations[key],
                                       annotations.get(user))
            finalizers = [f for f in secret.metadata.finalizers or ()
                          if f != CREDENTIAL_FINALIZER]
            # NOTE: the answer is not read: a Secret being deleted comes
            # back with empty data, which the client's model refuses.
            kube.core().patch_namespaced_secret(
                secret_name, namespace,
                {'metadata': {'finalizers': finalizers or None}},
                _request_timeout=kube.timeout(), _preload_content=False)
            if not secret.metadata.deletion_timestamp:
                kube.core().delete_namespaced_secret(
                    secret_name, namespace, _request_timeout=kube.timeout())
        except kube_exc.ApiException as e:
            if e.status == 404:
                return True
            LOG.warning('Bay %s: could not release its cloud credentials: '
                        '%s', bay.uuid, kube.error_text(e))
            return False
        except Exception as e:
            LOG.warning('Bay %s: could not delete its application '
                        'credential: %s', bay.uuid, e)
            return False
        return True

    # -- status ------------------------------------------------------------

    def start_watch(self, notify):
        """Call ``notify(bay uuid)`` whenever a bay's objects change."""
        if kube.configured() and CONF.capi.watch:
            self._watcher.subscribe(notify)

    def stop_watch(self, notify):
        self._watcher.unsubscribe(notify)

    def _objects(self, bays):
        """{bay uuid: (Cluster, MDs, Machines)}: from the watch's cache when
        it is in sync, else one list per kind.

        NOTE: a Cluster the cache does not hold (yet: its event may be on
        its way) is read once more from the API before it counts as gone.
        """
        if self._watcher.synced:
            found = {bay.uuid: self._watcher.objects_of(bay.uuid)
                     for bay in bays}
            for bay in bays:
                if found[bay.uuid][0] is None and bay.stack_id:
                    namespace, name = _where(bay)
                    cluster = kube.get(namespace, kube.CLUSTERS, name)
                    if cluster is not None:
                        found[bay.uuid] = (cluster,) + tuple(
                            found[bay.uuid][1:])
            return found
        uuids = [bay.uuid for bay in bays]
        found = {uuid: [None, [], []] for uuid in uuids}
        for index, kind in enumerate(watch.KINDS):
            items, _ = kube.list_objects(kind, kube.BAY_LABEL)
            for item in items:
                slot = found.get(watch.bay_of(item))
                if slot is None:
                    continue
                if index == 0:
                    slot[0] = item
                else:
                    slot[index].append(item)
        return {uuid: tuple(value) for uuid, value in found.items()}

    def poll(self, context, items):
        objects = self._objects([bay for bay, _, _ in items])
        now = timeutils.utcnow()
        timeout = datetime.timedelta(seconds=CONF.capi.delete_timeout)
        answers = {}
        for bay, _, action in items:
            cluster, mds, machines = objects[bay.uuid]
            state = status.state_of(bay, action, cluster, mds, machines, now,
                                    timeout)
            if (state is not None and state.status == states.UPDATE_FAILED
                    and action.param('rollback')):
                self._roll_back(context, bay, action)
            gone = state is not None and (
                state.status == states.DELETE_COMPLETE)
            if gone and not self._release_credentials(context, bay):
                continue  # its credential is still there; next time
            if state is not None:
                answers[action.uuid] = state
        return answers

    def observe(self, context, bay):
        """What the Cluster shows of ``bay`` outside any action, or None."""
        cluster, mds, machines = self._objects([bay])[bay.uuid]
        if cluster is None:
            return None
        return status.observed(cluster, mds, machines)
