"""From a bay, its template and its node groups to its Cluster API objects
(pure functions, no I/O).

A bay is one ``Cluster`` (cluster.x-k8s.io/v1beta2) with ``spec.topology``
in the namespace of its project: the class, the Kubernetes version (label
``kube_tag``), the control plane (``master_count``), one
``workers.machineDeployments`` entry per worker node group and the
variables of Magnum's ClusterClass (magnum/drivers/capi/class.yaml). Every
change of the bay renders the whole topology again from the rows and
replaces the Cluster's, as the heat provisioner sends Heat the whole
template.

Node groups, labels that matter here:

* ``auto_scaling_enabled=true`` (the bay's labels, or the group's): the
  group's ``min_node_count`` and ``max_node_count`` become the Cluster API
  autoscaler's size annotations on its MachineDeployment, and its replicas
  are left to the autoscaler (no ``replicas`` in the topology).
* ``auto_healing_enabled=true``: the topology's health checks are on (the
  control plane's and every group's).
* ``availability_zone``: the group's failure domain.
"""

import base64
import hashlib
import re

from magnum.common import exception
from magnum.common import k8s_names
from magnum.common import x509
from magnum.drivers.capi import kube
from magnum.drivers.capi import status

MIN_SIZE = 'cluster.x-k8s.io/cluster-api-autoscaler-node-group-min-size'
MAX_SIZE = 'cluster.x-k8s.io/cluster-api-autoscaler-node-group-max-size'
SECRET_TYPE = 'cluster.x-k8s.io/secret'
# The Cluster API certificate Secrets of a cluster, by suffix.
CERTIFICATE_SECRETS = ('ca', 'etcd', 'proxy', 'sa')
_VERSION = re.compile(r'^v?(\d+)\.(\d+)\.(\d+)([-+][0-9A-Za-z.+-]+)?$')
_TRUE = ('true', 'yes', '1', 'on')


def cluster_name(bay):
    """The bay's Cluster name: a readable part of its name and the start
    of its uuid (a DNS label, at most 45 characters)."""
    name = k8s_names.dns_label(bay.name, 'bay', 36)
    if not name[0].isalpha():
        name = 'bay-' + name[:32].strip('-')
    return '%s-%s' % (name, bay.uuid[:8])


def secret_name(cluster, suffix):
    return '%s-%s' % (cluster, suffix)


def credentials_secret_name(cluster):
    return secret_name(cluster, 'cloud-config')


def _flag(labels, name):
    return str((labels or {}).get(name, '')).strip().lower() in _TRUE


def kube_version(baymodel, default):
    """The Kubernetes version of the template's ``kube_tag`` (v-prefixed),
    or ``default``; raises InvalidParameterValue naming ``labels``."""
    tag = (baymodel.labels or {}).get('kube_tag') or default
    found = _VERSION.match(tag or '')
    if not found:
        raise exception.InvalidParameterValue(
            field='labels',
            reason='kube_tag "%s" is not a Kubernetes version such as '
                   'v1.33.4' % tag)
    return tag if tag.startswith('v') else 'v' + tag


def _first(*values):
    for value in values:
        if value not in (None, ''):
            return value
    return None


def autoscaling(bay, group):
    """(min, max) when the group's size is the autoscaler's, else None."""
    labels = dict(bay.labels or {}, **(group.labels or {}))
    if not _flag(labels, 'auto_scaling_enabled'):
        return None
    low = _first(group.min_node_count if not group.is_default else None,
                 labels.get('min_node_count'), group.min_node_count, 0)
    high = _first(group.max_node_count, labels.get('max_node_count'))
    return (_count(low, 'min_node_count'),
            None if high is None else _count(high, 'max_node_count'))


def _count(value, field):
    try:
        count = int(value)
    except (TypeError, ValueError):
        count = -1
    if count < 0:
        raise exception.InvalidParameterValue(
            field=field, reason='"%s" is not a number of nodes' % value)
    return count


def node_labels(group):
    """Kubernetes labels of the group's nodes (API 1.14's node_labels)."""
    return dict(group.node_labels or {})


def node_taints(group):
    """Taints of the group's nodes (API 1.14's node_taints), each
    {key, value, effect} without an empty value (Cluster API's schema
    wants a value absent rather than empty)."""
    return [{k: v for k, v in taint.items() if v}
            for taint in group.node_taints or ()]


def check_coe(coe):
    if coe != 'kubernetes':
        raise exception.InvalidParameterValue(
            field='coe',
            reason='the capi provisioner makes kubernetes bays only, not %s'
                   % coe)


def check(bay, baymodel, groups):
    """Raise InvalidParameterValue (a 400 naming the field) for what a
    Cluster cannot be made of (``baymodel`` None: the node groups only)."""
    if baymodel is not None:
        _check_template(bay, baymodel)
    for group in groups:
        if group.role == 'master':
            continue
        sizes = autoscaling(bay, group)
        if sizes is None:
            continue
        low, high = sizes
        if high is None:
            raise exception.InvalidParameterValue(
                field='max_node_count',
                reason='auto_scaling_enabled needs a max_node_count '
                       '(node group %s)' % group.name)
        if low > high:
            raise exception.InvalidParameterValue(
                field='min_node_count',
                reason='%d is above max_node_count %d (node group %s)'
                       % (low, high, group.name))


def _check_template(bay, baymodel):
    check_coe(baymodel.coe)
    for field in ('image_id', 'flavor_id', 'master_flavor_id'):
        if not _first(getattr(bay, field, None), getattr(baymodel, field)):
            raise exception.InvalidParameterValue(
                field=field, reason='a Cluster API bay needs one')
    labels = baymodel.labels or {}
    try:
        int(labels.get('boot_volume_size') or 0)
    except ValueError:
        raise exception.InvalidParameterValue(
            field='labels', reason='boot_volume_size "%s" is not a size in '
            'GiB' % labels['boot_volume_size'])


def _subnet(bay, baymodel):
    """(subnet id, subnet CIDR): fixed_subnet names one or the other."""
    text = _first(bay.fixed_subnet, baymodel.fixed_subnet) or ''
    if re.match(r'^[0-9a-fA-F.:]+/\d+$', text):
        return '', text
    return text, '10.0.0.0/24'


def variables(bay, baymodel, cluster):
    """The ClusterClass variables of the bay, as the topology lists them."""
    labels = baymodel.labels or {}
    subnet_id, cidr = _subnet(bay, baymodel)
    lb = _first(bay.master_lb_enabled, baymodel.master_lb_enabled)
    fip = _first(bay.floating_ip_enabled, baymodel.floating_ip_enabled)
    values = {
        'image': baymodel.image_id,
        'controlPlaneFlavor': _first(bay.master_flavor_id,
                                     baymodel.master_flavor_id),
        'workerFlavor': _first(bay.flavor_id, baymodel.flavor_id),
        'sshKeyName': _first(bay.keypair, baymodel.keypair_id) or '',
        'externalNetworkId': baymodel.external_network_id or '',
        'fixedNetworkId': _first(bay.fixed_network,
                                 baymodel.fixed_network) or '',
        'fixedSubnetId': subnet_id,
        'fixedSubnetCidr': cidr,
        'dnsNameservers': ([baymodel.dns_nameserver]
                           if baymodel.dns_nameserver else []),
        'apiServerLoadBalancer': bool(lb),
        'apiServerFloatingIP': True if fip is None else bool(fip),
        'bootVolume': {'type': labels.get('boot_volume_type') or '',
                       'size': int(labels.get('boot_volume_size') or 0)},
        'httpProxy': baymodel.http_proxy or '',
        'httpsProxy': baymodel.https_proxy or '',
        'noProxy': baymodel.no_proxy or '',
        'insecureRegistry': baymodel.insecure_registry or '',
        'cloudCredentialsSecretName': credentials_secret_name(cluster),
        # NOTE: the name Magnum's clients check the API's certificate for
        # (the bay's CA signs it: <cluster>-ca).
        'apiServerCertSANs': [x509.server_name(bay.uuid)],
    }
    return [{'name': name, 'value': value}
            for name, value in sorted(values.items())]


def machine_deployment_name(group):
    """The group's name in the topology: the name itself when it is a DNS
    label, else a readable part of it and a hash of all of it (two groups
    never share one)."""
    label = k8s_names.dns_label(group.name, 'workers', 40)
    if label == group.name:
        return label
    digest = hashlib.sha256(group.name.encode('utf-8')).hexdigest()[:8]
    return '%s-%s' % (label[:31].strip('-'), digest)


def _machine_deployment(bay, baymodel, group, worker_class, healing):
    entry = {
        'class': worker_class,
        'name': machine_deployment_name(group),
        'metadata': {'labels': {kube.BAY_LABEL: bay.uuid},
                     'annotations': {
                         status.NODEGROUP_ANNOTATION: group.name}},
        'healthCheck': {'enabled': healing},
    }
    sizes = autoscaling(bay, group)
    if sizes is None:
        # NOTE: the default workers' count is the bay's node_count.
        entry['replicas'] = (bay.node_count if group.is_default
                             else group.node_count)
    else:
        entry['metadata']['annotations'].update(
            {MIN_SIZE: str(sizes[0]), MAX_SIZE: str(sizes[1])})
    zone = (group.labels or {}).get('availability_zone')
    if zone:
        entry['failureDomain'] = zone
    taints = node_taints(group)
    if taints:
        entry['taints'] = [dict(taint, propagation='Always')
                           for taint in taints]
    overrides = []
    flavor = group.flavor_id if not group.is_default else None
    if flavor:
        overrides.append({'name': 'workerFlavor', 'value': flavor})
    if group.image_id and group.image_id != baymodel.image_id:
        overrides.append({'name': 'image', 'value': group.image_id})
    labels = node_labels(group)
    if labels:
        overrides.append({'name': 'nodeLabels', 'value': labels})
    if overrides:
        entry['variables'] = {'overrides': overrides}
    return entry


def topology(bay, baymodel, groups, class_ref, version, worker_class):
    """``spec.topology`` of the bay's Cluster."""
    healing = _flag(dict(baymodel.labels or {}, **(bay.labels or {})),
                    'auto_healing_enabled')
    workers = [g for g in groups if g.role != 'master']
    workers.sort(key=lambda g: (not g.is_default, g.name))
    return {
        'classRef': class_ref,
        'version': version,
        'controlPlane': {
            'replicas': bay.master_count or 1,
            'metadata': {'labels': {kube.BAY_LABEL: bay.uuid}},
            'healthCheck': {'enabled': healing},
        },
        'workers': {'machineDeployments': [
            _machine_deployment(bay, baymodel, g, worker_class, healing)
            for g in workers]},
        'variables': variables(bay, baymodel, cluster_name(bay)),
    }


def labels(bay):
    return {kube.BAY_LABEL: bay.uuid, kube.PROJECT_LABEL: bay.project_id}


def cluster(bay, baymodel, groups, namespace, class_ref, version,
            worker_class, action_uuid):
    """The whole Cluster object of the bay."""
    port = baymodel.apiserver_port or 6443
    labels_ = (baymodel.labels or {})
    return {
        'apiVersion': kube.API_VERSION,
        'kind': 'Cluster',
        'metadata': {
            'name': cluster_name(bay), 'namespace': namespace,
            'labels': labels(bay),
            'annotations': {status.ACTION_ANNOTATION: action_uuid,
                            'magnum.openstack.org/bay-name': bay.name or ''},
        },
        'spec': {
            'clusterNetwork': {
                'apiServerPort': port,
                'services': {'cidrBlocks': [
                    labels_.get('service_cluster_ip_range')
                    or '10.254.0.0/16']},
                'pods': {'cidrBlocks': [
                    labels_.get('calico_ipv4pool') or '10.100.0.0/16']},
            },
            'topology': topology(bay, baymodel, groups, class_ref, version,
                                 worker_class),
        },
    }


def _b64(text):
    return base64.b64encode(text.encode('utf-8')).decode('ascii')


def secret(bay, cluster, suffix, data, kind=SECRET_TYPE):
    """A Secret of the bay's Cluster (``data`` in clear; base64 here)."""
    metadata = {'name': secret_name(cluster, suffix),
                'labels': dict(labels(bay), **{
                    kube.CLUSTER_NAME_LABEL: cluster})}
    return {'apiVersion': 'v1', 'kind': 'Secret', 'type': kind,
            'metadata': metadata,
            'data': {k: _b64(v) for k, v in data.items()}}


def owned_by(body, cluster_obj):
    """``body`` owned by the Cluster (deleted with it)."""
    body['metadata']['ownerReferences'] = [{
        'apiVersion': kube.API_VERSION, 'kind': 'Cluster',
        'name': cluster_obj['metadata']['name'],
        'uid': cluster_obj['metadata']['uid'],
        'blockOwnerDeletion': True}]
    return body
