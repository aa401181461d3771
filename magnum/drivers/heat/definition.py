"""From a BayModel and a Bay to the parameters of ``templates/bay.yaml``,
and from a cluster's node groups to its ``common/cluster.yaml``.

``BayDefinition`` checks that the templates know the BayModel's COE, server
type and distribution, and that the fields a Heat bay cannot do without are
there, raising ``InvalidParameterValue`` naming the field, so a bad
combination is a 400 at bay create rather than a failed stack later.

``cluster_template`` adds a resource group to ``common/cluster.yaml`` for
each extra worker node group (Heat templates cannot loop over a list), and
the servers each resource group must remove first; each worker group's
servers boot with its own Kubernetes labels and taints.
"""

import copy
import ipaddress
import os
import re

from oslo_config import cfg

from magnum.common import exception
from magnum.objects import nodegroup as nodegroup_obj

TEMPLATE = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                        'templates', 'bay.yaml')
CLUSTER_TEMPLATE = os.path.join(os.path.dirname(TEMPLATE), 'common',
                                'cluster.yaml')
# The resource groups of the default node groups in common/cluster.yaml.
DEFAULT_GROUPS = {'default-master': 'masters', 'default-worker': 'nodes'}

COES = ('kubernetes', 'swarm', 'docker')
SERVER_TYPES = ('vm', 'bm')
# The distribution families the boot scripts know (magnum_distro_family in
# fragments/write-heat-params.sh), by the prefix of cluster_distro.
DISTRO_FAMILIES = {'ubuntu': 'debian', 'debian': 'debian',
                   'fedora': 'fedora', 'centos': 'fedora', 'rhel': 'fedora',
                   'rocky': 'fedora', 'almalinux': 'fedora'}
# The COE's API port when the BayModel sets no apiserver_port: (TLS, plain).
DEFAULT_PORTS = {'kubernetes': (6443, 6443), 'swarm': (2376, 2375),
                 'docker': (2376, 2375)}
# The BayModel field behind a template parameter, for error messages.
_FIELD_OF = {'image': 'image_id', 'master_flavor': 'master_flavor_id',
             'node_flavor': 'flavor_id', 'key_name': 'keypair_id',
             'ssh_authorized_key': 'ssh_authorized_key',
             'external_network': 'external_network_id',
             'kube_version': 'labels', 'fixed_cidr': 'fixed_subnet'}
_NOT_NAME = re.compile(r'[^a-zA-Z0-9_.-]+')
# The default workers' part of their boot configuration in
# common/cluster.yaml that writes their node group's labels and taints
# (fragments/write-nodegroup-env.sh), and their boot configuration.
REGISTRATION = 'node_registration'
NODE_BOOT = 'node_boot'
# NOTE: the characters Kubernetes allows in the keys and values of labels
# and taints. The API checks their whole syntax; the boot scripts need only
# that none of them is a separator of the kubelet's flags, a line break or
# shell.
_KUBE_KEY = re.compile(r'[A-Za-z0-9._/-]+\Z')
_KUBE_VALUE = re.compile(r'[A-Za-z0-9._-]*\Z')
TAINT_EFFECTS = nodegroup_obj.TAINT_EFFECTS


def stack_name(bay):
    """The bay's stack name: Heat's name rules, unique by the bay's uuid."""
    name = _NOT_NAME.sub('-', bay.name or 'bay').strip('-.') or 'bay'
    if not name[0].isalpha():
        name = 'bay-' + name
    return '%s-%s' % (name[:200], bay.uuid)


def _cidr(text):
    """``text`` if it is a CIDR (fixed_subnet may also name a subnet)."""
    try:
        return str(ipaddress.ip_network(text or '', strict=False))
    except ValueError:
        return None


def _field(record, name):
    if isinstance(record, dict):
        return record.get(name)
    return getattr(record, name, None)


class BayDefinition:

    def __init__(self, baymodel, bay):
        self.baymodel = baymodel
        self.bay = bay
        self.coe = baymodel.coe
        if self.coe not in COES:
            raise exception.InvalidParameterValue(
                field='coe', reason='the heat provisioner builds %s bays, '
                                    'not %s' % (', '.join(COES), self.coe))
        self.server_type = baymodel.server_type or 'vm'
        if self.server_type not in SERVER_TYPES:
            raise exception.InvalidParameterValue(
                field='server_type', reason='must be one of %s'
                                            % ', '.join(SERVER_TYPES))
        self.distro = (baymodel.cluster_distro
                       or cfg.CONF.heat.default_cluster_distro)
        if self._family() is None:
            raise exception.InvalidParameterValue(
                field='cluster_distro',
                reason='the heat templates boot %s, not %s'
                       % (', '.join(sorted(DISTRO_FAMILIES)), self.distro))
        for name in ('image_id', 'flavor_id', 'external_network_id'):
            if not getattr(baymodel, name, None):
                raise exception.InvalidParameterValue(
                    field=name, reason='a bay built by Heat needs the '
                                       "BayModel's %s" % name)
        self.node_count = _field(bay, 'node_count')
        if self.node_count is None:
            self.node_count = 1

    def _family(self):
        for prefix, family in DISTRO_FAMILIES.items():
            if self.distro.lower().startswith(prefix):
                return family
        return None

    @property
    def stack_name(self):
        return stack_name(self.bay)

    @property
    def api_port(self):
        if self.baymodel.apiserver_port:
            return self.baymodel.apiserver_port
        tls, plain = DEFAULT_PORTS[self.coe]
        return plain if self.baymodel.tls_disabled else tls

    def api_address(self, ip):
        """The bay's API URL, from the address the stack reports."""
        if not ip:
            return None
        if self.coe == 'kubernetes':
            return 'https://%s:%d' % (ip, self.api_port)
        return 'tcp://%s:%d' % (ip, self.api_port)

    def parameters(self):
        model = self.baymodel
        labels = model.labels or {}
        name = stack_name(self.bay)[:-37][:48]
        master_count = _field(self.bay, 'master_count') or 1
        params = {
            'bay_uuid': self.bay.uuid,
            'name': name,
            'coe': self.coe,
            'server_type': self.server_type,
            'cluster_distro': self.distro,
            'image': model.image_id,
            'master_flavor': model.master_flavor_id or model.flavor_id,
            'node_flavor': model.flavor_id,
            'key_name': model.keypair_id or '',
            'ssh_authorized_key': model.ssh_authorized_key or '',
            'external_network': model.external_network_id,
            'api_port': self.api_port,
            'master_count': master_count,
            'node_count': self.node_count,
            'master_lb_enabled': bool(model.master_lb_enabled),
            'floating_ip_enabled': model.floating_ip_enabled is not False,
            'docker_volume_size': model.docker_volume_size or 0,
            'network_driver': model.network_driver or '',
            'http_proxy': model.http_proxy or '',
            'https_proxy': model.https_proxy or '',
            'no_proxy': model.no_proxy or '',
            'insecure_registry': model.insecure_registry or '',
            'tls_disabled': bool(model.tls_disabled),
            'kube_version': labels.get('kube_tag')
            or cfg.CONF.heat.kube_version,
        }
        optional = {'dns_nameserver': model.dns_nameserver,
                    'docker_storage_driver': model.docker_storage_driver,
                    'fixed_cidr': labels.get('fixed_cidr')
                    or _cidr(model.fixed_subnet)}
        params.update({k: v for k, v in optional.items() if v})
        for key, value in params.items():
            # NOTE: the boot scripts keep one KEY=VALUE a line; a line break
            # in a value would write a parameter of its own.
            if isinstance(value, str) and not value.isprintable():
                raise exception.InvalidParameterValue(
                    field=_FIELD_OF.get(key, key),
                    reason='control characters cannot reach the nodes')
        return params


def group_resource(name):
    """The resource of an extra node group in common/cluster.yaml."""
    return DEFAULT_GROUPS.get(name) or 'nodegroup-%s' % name


def _checked(field, text, pattern):
    text = '' if text is None else text
    if not isinstance(text, str) or not pattern.match(text):
        raise exception.InvalidParameterValue(
            field=field, reason='%r is not a Kubernetes name or value'
                                % (text,))
    return text


def kubelet_labels(group):
    """The group's ``node_labels`` as the kubelet's ``--node-labels``
    takes them: ``k1=v1,k2=v2`` (by key, so an update that changes none
    changes no resource); '' for none."""
    labels = _field(group, 'node_labels') or {}
    return ','.join(
        '%s=%s' % (_checked('node_labels', key, _KUBE_KEY),
                   _checked('node_labels', labels[key], _KUBE_VALUE))
        for key in sorted(labels))


def kubelet_taints(group):
    """The group's ``node_taints`` as the kubelet's
    ``--register-with-taints`` takes them: ``key=value:Effect``, or
    ``key:Effect`` for an empty value, comma-separated; '' for none."""
    taints = []
    for taint in _field(group, 'node_taints') or ():
        key = _checked('node_taints', taint.get('key'), _KUBE_KEY)
        value = _checked('node_taints', taint.get('value'), _KUBE_VALUE)
        effect = taint.get('effect')
        if effect not in TAINT_EFFECTS:
            raise exception.InvalidParameterValue(
                field='node_taints', reason='%r is not one of %s'
                % (effect, ', '.join(TAINT_EFFECTS)))
        taints.append('%s=%s:%s' % (key, value, effect) if value
                      else '%s:%s' % (key, effect))
    return ','.join(taints)


def _registration(config, group):
    """``config`` (common/cluster.yaml's ``node_registration``, a copy)
    with the labels and taints of ``group``."""
    params = config['properties']['config']['str_replace']['params']
    params['$NODE_LABELS'] = kubelet_labels(group)
    params['$NODE_TAINTS'] = kubelet_taints(group)
    return config


def _boot(base, registration):
    """The default workers' boot configuration with the part
    ``registration`` in place of their own labels and taints."""
    boot = copy.deepcopy(base['resources'][NODE_BOOT])
    boot['properties']['parts'] = [
        {'config': {'get_resource': registration}}
        if part == {'config': {'get_resource': REGISTRATION}} else part
        for part in boot['properties']['parts']]
    return boot


def cluster_template(base, groups=(), removals=None):
    """``common/cluster.yaml`` (``base``, a dict, left untouched) with a
    resource group for each extra node group in ``groups``, the labels
    and taints of each worker group, and the ``removals``: {node group
    name: server ids its group removes first}.

    ``groups``: rows or dicts with name, is_default, role, node_count,
    flavor_id, image_id, docker_volume_size, node_labels, node_taints (a
    cluster's every group; a group without is_default is an extra one).
    Each extra group is a copy of the default workers' (``nodes``: their
    network, security group and boot configuration) with its own count,
    flavor, image and volume, and a boot configuration of its own
    (``node-boot-<name>``): the default workers' with its labels and
    taints (``node-registration-<name>``) in place of theirs. The default
    groups keep their resource names, so an update keeps their servers;
    the masters get no labels or taints (the API refuses them on master
    groups).

    NOTE: a change of a group's labels or taints changes the boot data of
    its servers, which keep the data they booted with (common/server.yaml,
    user_data_update_policy IGNORE): the servers created after it register
    with the new ones, those that run keep theirs (the kubelet applies
    them once, when it registers its node).
    """
    template = copy.deepcopy(base)
    resources = template['resources']
    outputs = template['outputs']
    servers = {}
    for group in groups:
        if _field(group, 'is_default'):
            if _field(group, 'role') != 'master':
                _registration(resources[REGISTRATION], group)
            continue
        name = _field(group, 'name')
        registration = 'node-registration-%s' % name
        resources[registration] = _registration(
            copy.deepcopy(base['resources'][REGISTRATION]), group)
        resources['node-boot-%s' % name] = _boot(base, registration)
        resource = copy.deepcopy(resources['nodes'])
        props = resource['properties']
        props['count'] = _field(group, 'node_count') or 0
        member = props['resource_def']['properties']
        member['name'] = {'str_replace': {
            'template': 'NAME-%s-%%index%%' % name,
            'params': {'NAME': {'get_param': 'name'}}}}
        member['flavor'] = _field(group, 'flavor_id')
        member['image'] = _field(group, 'image_id')
        member['docker_volume_size'] = (
            _field(group, 'docker_volume_size') or 0)
        member['user_data'] = {'get_attr': ['node-boot-%s' % name,
                                            'config']}
        resources[group_resource(name)] = resource
        servers[name] = {'get_attr': [group_resource(name), 'server_info']}
    outputs['nodegroup_servers'] = {'value': servers}
    for name, server_ids in (removals or {}).items():
        if server_ids and group_resource(name) in resources:
            resources[group_resource(name)]['properties'][
                'removal_policies'] = [{'resource_list': list(server_ids)}]
    return template
