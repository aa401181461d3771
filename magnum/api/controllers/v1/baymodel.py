"""``/v1/baymodels``: cluster shapes."""

from oslo_config import cfg
import pecan
from wsme import types as wtypes

from magnum.api.controllers.v1 import access
from magnum.api.controllers.v1 import collection
from magnum.api.controllers.v1 import patch as json_patch
from magnum.api.controllers.v1 import types
from magnum.common import exception
from magnum.common import policy
from magnum.lifecycle import cloud
from magnum.lifecycle import provisioning
from magnum import objects
from magnum.objects import baymodel as baymodel_obj
from magnum.objects import bay as bay_obj

objects.register_all()
CONF = cfg.CONF

COES = ('kubernetes', 'swarm', 'docker')
_URL_LABELS = {'docker_url': ('unix', 'tcp', 'http', 'https'),
               'kube_api_url': ('http', 'https')}


class BayModelFields(wtypes.Base):
    """The fields a client may set, each with its rules."""

    name = types.NameType()
    coe = wtypes.wsattr(wtypes.Enum(wtypes.text, *COES), mandatory=True)
    image_id = types.string()
    flavor_id = types.string()
    master_flavor_id = types.string()
    keypair_id = types.string()
    external_network_id = types.string()
    fixed_network = types.string()
    fixed_subnet = types.string()
    network_driver = types.string()
    volume_driver = types.string()
    dns_nameserver = types.IPv4Type()
    apiserver_port = types.integer(minimum=1024, maximum=65535)
    docker_volume_size = types.integer(minimum=1)
    docker_storage_driver = types.string()
    cluster_distro = types.string()
    http_proxy = types.string()
    https_proxy = types.string()
    no_proxy = types.string(1024)
    registry_enabled = bool
    labels = {wtypes.text: wtypes.text}
    tls_disabled = bool
    public = bool
    server_type = wtypes.Enum(wtypes.text, 'vm', 'bm')
    insecure_registry = types.string()
    master_lb_enabled = bool
    floating_ip_enabled = bool
    hidden = bool
    tags = types.string()
    driver = types.string()
    ssh_authorized_key = types.SSHPublicKeyType()


WRITABLE = tuple(attr.name for attr in
                 wtypes.list_attributes(BayModelFields))
# What a field becomes when a patch removes it or a create leaves it out.
DEFAULTS = {'registry_enabled': False, 'tls_disabled': False,
            'public': False, 'master_lb_enabled': False,
            'floating_ip_enabled': True, 'hidden': False,
            'server_type': 'vm'}
# What may change while bays use the BayModel.
CHANGEABLE_IN_USE = ('name', 'public', 'hidden', 'tags')

VIEW = collection.View(
    'baymodels',
    short_fields=('uuid', 'name', 'coe', 'image_id', 'public', 'hidden',
                  'server_type', 'tls_disabled'),
    detail_fields=('uuid', 'project_id', 'user_id') + WRITABLE + (
        'created_at', 'updated_at'))
SORT_KEYS = ('id', 'uuid', 'project_id', 'user_id', 'created_at',
             'updated_at') + tuple(f for f in WRITABLE if f != 'labels')


# The drivers each COE supports (OpenStack Magnum's lists); the
# [cluster_template] options narrow the network drivers.
NETWORK_DRIVERS = {'kubernetes': ('flannel', 'calico', 'cilium'),
                   'swarm': ('docker', 'flannel'),
                   'docker': ('docker', 'flannel')}
VOLUME_DRIVERS = {'kubernetes': ('cinder',), 'swarm': ('rexray',),
                  'docker': ('rexray',)}


def check_drivers(coe, network_driver, volume_driver):
    """Refuse a driver the COE does not support or the operator does not
    allow (a 400 naming the field and the allowed values)."""
    if network_driver:
        option = ('kubernetes_allowed_network_drivers' if coe == 'kubernetes'
                  else 'swarm_allowed_network_drivers')
        allowed = list(getattr(CONF.cluster_template, option))
        supported = NETWORK_DRIVERS.get(coe, ())
        if 'all' not in allowed:
            supported = [d for d in supported if d in allowed]
        if network_driver not in supported:
            raise exception.InvalidParameterValue(
                field='network_driver',
                reason='%s templates take %s (or none), not %r'
                % (coe, _either(supported), network_driver))
    if volume_driver and volume_driver not in VOLUME_DRIVERS.get(coe, ()):
        raise exception.InvalidParameterValue(
            field='volume_driver',
            reason='%s templates take %s (or none), not %r'
            % (coe, _either(VOLUME_DRIVERS.get(coe, ())), volume_driver))


def _either(names):
    names = list(names)
    if not names:
        return 'no driver'
    if len(names) == 1:
        return names[0]
    return ', '.join(names[:-1]) + ' or ' + names[-1]


def check_labels(labels, coe=None):
    for name, schemes in _URL_LABELS.items():
        value = (labels or {}).get(name)
        if value is not None:
            try:
                types.URLType(schemes).validate(value)
            except ValueError as e:
                raise exception.InvalidParameterValue(
                    field='labels.%s' % name, reason=str(e))
    chosen = (labels or {}).get('provisioner')
    if chosen and chosen not in provisioning.installed_names():
        raise exception.InvalidParameterValue(
            field='labels.provisioner',
            reason='%r is not one of the installed provisioners: %s'
            % (chosen, ', '.join(provisioning.installed_names())))
    if chosen and coe:
        provisioning.check_template(chosen, coe)


def _authorize_publish(context, values, prefix='baymodel'):
    if values.get('public'):
        policy.authorize(context, prefix + ':publish')


def _fetch_to_change(context, ident, rule, prefix='baymodel'):
    """The caller's BayModel ``ident``, once it may ``rule`` it."""
    baymodel = access.fetch_authorized(context, baymodel_obj.BayModel.get,
                                       ident, rule)
    # A published BayModel serves every project: only who may publish may
    # change or remove it.
    if baymodel.public:
        policy.authorize(context, prefix + ':publish')
    return baymodel


class BayModelsController(collection.ListedCollectionController):
    """``/v1/baymodels``, and (subclassed) ``/v1/clustertemplates``."""

    VIEW = VIEW
    POLICY = 'baymodel'

    def _list(self, detail, params):
        context = pecan.request.context
        action = self.POLICY + ':get_all'
        policy.authorize(context, action)
        if context.all_projects:
            policy.authorize(context, action + '_all_projects')
        query = collection.query(params, SORT_KEYS)
        rows, more = collection.fetch(baymodel_obj.BayModel.records,
                                      context, query)
        return self.VIEW.render_page(rows, more, query, detail)

    @pecan.expose('json')
    def get_one(self, ident, **params):
        collection.refuse_query(params)
        context = pecan.request.context
        # A public BayModel is readable by every project: its rule is
        # checked against the caller's own project, not the owner's.
        row = access.fetch_authorized(
            context, baymodel_obj.BayModel.record, ident,
            self.POLICY + ':get',
            owner=lambda row: context if row.public else row)
        return self.VIEW.render(row)

    @pecan.expose('json')
    def post(self):
        context = pecan.request.context
        policy.authorize(context, self.POLICY + ':create')
        values = types.parse(BayModelFields, types.json_body())
        check_labels(values.get('labels'), values.get('coe'))
        check_drivers(values.get('coe'), values.get('network_driver'),
                      values.get('volume_driver'))
        _authorize_publish(context, values, self.POLICY)
        cloud.decide_distro(values, cloud.check_template(
            context, provisioning.provisioner_for(values.get('labels')),
            values))
        for name, default in DEFAULTS.items():
            if values.get(name) is None:
                values[name] = default
        baymodel = baymodel_obj.BayModel(context, **values)
        baymodel.create(context)
        pecan.response.status = 201
        return self.VIEW.render(baymodel_obj.BayModel.record(context,
                                                             baymodel.uuid))

    @pecan.expose('json')
    def patch(self, ident):
        context = pecan.request.context
        patch = json_patch.check(types.json_body(), WRITABLE)
        baymodel = _fetch_to_change(context, ident, self.POLICY + ':update',
                                    self.POLICY)
        before = {name: baymodel[name] for name in WRITABLE}
        after = json_patch.apply(before, patch, WRITABLE, maps=('labels',))
        changes = json_patch.changed(before, after)
        for name, value in list(changes.items()):
            if value is None and name in DEFAULTS:
                changes[name] = DEFAULTS[name]
        changes = types.parse(BayModelFields, changes, partial=True)
        if 'coe' in changes and changes['coe'] is None:
            raise exception.InvalidParameterValue(
                field='coe', reason='the field is required')
        if 'labels' in changes or 'coe' in changes:
            check_labels(changes.get('labels', baymodel.labels),
                         changes.get('coe', baymodel.coe))
        if {'coe', 'network_driver', 'volume_driver'} & set(changes):
            check_drivers(*(changes.get(name, baymodel[name]) for name in (
                'coe', 'network_driver', 'volume_driver')))
        _authorize_publish(context, changes, self.POLICY)
        if (set(changes) - set(CHANGEABLE_IN_USE)
                and bay_obj.Bay.count_using(context, baymodel.uuid)):
            raise exception.Conflict(
                'BayModel %s is used by bays; only %s can change while it '
                'is.' % (baymodel.uuid, ', '.join(CHANGEABLE_IN_USE)))
        self._check_cloud(context, baymodel, changes)
        for name, value in changes.items():
            baymodel[name] = value
        baymodel.save(context)
        return self.VIEW.render(baymodel_obj.BayModel.record(context,
                                                             baymodel.uuid))

    @staticmethod
    def _check_cloud(context, baymodel, changes):
        """Check what a change names in the cloud: the fields it
        changes (all of them when it moves the template to a provisioner
        that builds of the cloud); the image decides cluster_distro."""
        after = {name: changes.get(name, baymodel[name])
                 for name in cloud.CHECKED + ('cluster_distro',)}
        provisioner = provisioning.provisioner_for(
            changes.get('labels', baymodel.labels))
        if provisioner != provisioning.provisioner_for(baymodel.labels):
            asked = after
        else:
            asked = {name: after[name] for name in cloud.CHECKED
                     if name in changes}
            if 'fixed_subnet' in asked:
                asked['fixed_network'] = after['fixed_network']
            if 'cluster_distro' in changes:
                asked['image_id'] = after['image_id']
        found = cloud.check_template(context, provisioner, asked)
        if 'image_id' in asked or 'cluster_distro' in changes:
            wanted = {'image_id': after['image_id'],
                      'cluster_distro': changes.get('cluster_distro')}
            cloud.decide_distro(wanted, found)
            if wanted.get('cluster_distro'):
                changes['cluster_distro'] = wanted['cluster_distro']

    @pecan.expose(content_type='application/json')
    def delete(self, ident):
        context = pecan.request.context
        baymodel = _fetch_to_change(context, ident, self.POLICY + ':delete',
                                    self.POLICY)
        baymodel.destroy(context)
        pecan.response.status = 204
        return ''
