"""What a template, a bay or a node group names in the cloud, looked up
before anything is written: its image (Glance), flavors and keypair
(Nova), external and fixed networks and subnet (Neutron).

Each lookup goes with the caller's own token (keystonemiddleware's
``keystone.token_auth``, on the request context as ``user_auth``) to the
endpoint of the caller's catalog, so it sees what the caller may see: a
private flavor of another project or another user's keypair is not found,
as Nova would not find it when the bay's servers are made. A name that is
not found is a 400 naming the field; a service that does not answer is a
503 naming it. Nothing is looked up for a bay its provisioner builds
without the cloud (``static``), without a token (``noauth``), or in a
service the catalog does not have (the all-in-one, a static-only
deployment): the log says once which checks were skipped. ``[cloud_checks]
checks`` chooses the checks (empty: none).

NOTE: plain GETs through a keystoneauth Adapter, not python-glanceclient,
novaclient and neutronclient: five reads do not pay for three clients and
their imports in every API worker.
"""

import threading
from urllib import parse

from oslo_config import cfg
from oslo_log import log as logging

from magnum.common import exception

LOG = logging.getLogger(__name__)
CONF = cfg.CONF

# {check: (service type, what the user calls it)}
SERVICES = {'image': ('image', 'the image service (Glance)'),
            'flavor': ('compute', 'the compute service (Nova)'),
            'keypair': ('compute', 'the compute service (Nova)'),
            'network': ('network', 'the network service (Neutron)')}
# Provisioners whose bays are built of the cloud's servers and networks.
CLOUD_PROVISIONERS = ('heat', 'capi')

_said = set()
_said_lock = threading.Lock()


def _say_once(key, message, *args):
    with _said_lock:
        if key in _said:
            return
        _said.add(key)
    LOG.info(message, *args)


class _Skip(Exception):
    """The service is not in the caller's catalog."""


class _Cloud:
    """The caller's view of the cloud, a session per request."""

    def __init__(self, auth):
        # NOTE: keystoneauth is imported by the Keystone pipeline already;
        # a noauth API never gets here.
        from keystoneauth1 import adapter
        from keystoneauth1 import loading as ks_loading
        self._adapter = adapter
        self._session = ks_loading.load_session_from_conf_options(
            CONF, 'cloud_checks', auth=auth)

    def get(self, check, path, **params):
        """Service ``check``'s answer to GET ``path``: its JSON, or None
        for a 404. A _Skip when the catalog has no such service."""
        from keystoneauth1 import exceptions as ks_exc
        service_type, service = SERVICES[check]
        client = self._adapter.Adapter(
            self._session, service_type=service_type,
            interface=CONF.cloud_checks.interface,
            region_name=CONF.cloud_checks.region_name)
        try:
            response = client.get(path, params=params or None,
                                  raise_exc=False)
        except ks_exc.EndpointNotFound:
            raise _Skip()
        except ks_exc.ClientException as e:
            raise exception.ServiceUnavailable(
                reason='%s did not answer: %s' % (service, e))
        if response.status_code == 404:
            return None
        if response.status_code >= 500 or response.status_code in (401,
                                                                   407):
            raise exception.ServiceUnavailable(
                reason='%s did not answer the lookup of %s: %d %s'
                % (service, path, response.status_code, response.reason))
        if response.status_code >= 400:
            return None  # not the caller's to see, as good as missing
        return response.json()


class Checker:
    """The checks of one request."""

    def __init__(self, context):
        self.context = context
        self.enabled = set(CONF.cloud_checks.checks)
        auth = getattr(context, 'user_auth', None)
        self._cloud = None
        if self.enabled and auth is not None:
            self._cloud = _Cloud(auth)
        elif self.enabled:
            _say_once('no token', 'Templates and bays are not checked '
                      'against the cloud: requests carry no Keystone token '
                      '(checks %s)', ', '.join(sorted(self.enabled)))

    def _get(self, check, path, **params):
        """GET of service ``check``; None when missing, _Skip when the
        check is off or the service is not in the catalog."""
        if self._cloud is None or check not in self.enabled:
            raise _Skip()
        try:
            return self._cloud.get(check, path, **params)
        except _Skip:
            _say_once(check, 'The %s check of templates and bays is '
                      'skipped: the catalog has no %s endpoint (%s)',
                      check, SERVICES[check][0],
                      CONF.cloud_checks.interface)
            raise

    def _one(self, check, field, kind, path, collection, value,
             by_name=None):
        """The resource ``value`` names (an id, else a unique name) in
        ``collection`` at ``path``; a 400 naming ``field`` otherwise."""
        found = self._get(check, '%s/%s' % (path, parse.quote(value,
                                                              safe='')))
        if found is not None:
            return found.get(kind, found)
        listed = self._get(check, path, **(
            by_name if by_name is not None else {'name': value}))
        items = [item for item in (listed or {}).get(collection, ())
                 if item.get('name') == value]
        if not items:
            raise exception.InvalidParameterValue(
                field=field, reason='%s %r was not found in %s'
                % (kind, value, SERVICES[check][1]))
        if len(items) > 1:
            raise exception.InvalidParameterValue(
                field=field, reason='%d %ss are named %r in %s; give its id'
                % (len(items), kind, value, SERVICES[check][1]))
        return items[0]

    def _skipped(self, function, *args):
        try:
            return function(*args)
        except _Skip:
            return None

    # -- the checks ---------------------------------------------------------

    def image(self, value):
        """The image ``value`` (id or name): its os_distro, checked."""
        found = self._one('image', 'image_id', 'image', '/v2/images',
                          'images', value)
        distro = found.get('os_distro')
        if not distro:
            raise exception.InvalidParameterValue(
                field='image_id',
                reason="image %r has no os_distro property, which says "
                       "what the bay's servers run (set it in Glance, e.g. "
                       "os_distro=ubuntu)" % value)
        return distro

    def flavor(self, field, value):
        # NOTE: Nova finds a flavor by id only; its list has no name
        # filter, so a name is looked for in the whole (public and the
        # project's) list.
        self._one('flavor', field, 'flavor', '/flavors', 'flavors', value,
                  by_name={})

    def keypair(self, field, value):
        found = self._get('keypair', '/os-keypairs/%s'
                          % parse.quote(value, safe=''))
        if found is None:
            raise exception.InvalidParameterValue(
                field=field, reason='keypair %r was not found in %s (a '
                'keypair belongs to the user who made it)'
                % (value, SERVICES['keypair'][1]))

    def network(self, field, value, external):
        found = self._one('network', field, 'network', '/v2.0/networks',
                          'networks', value)
        if external and not found.get('router:external'):
            raise exception.InvalidParameterValue(
                field=field, reason='network %r is not an external network '
                '(router:external is false)' % value)
        if not external and found.get('router:external'):
            raise exception.InvalidParameterValue(
                field=field, reason='network %r is external; the fixed '
                'network is one of the project\'s own' % value)
        return found

    def subnet(self, field, value, network=None):
        found = self._one('network', field, 'subnet', '/v2.0/subnets',
                          'subnets', value)
        if network is not None and found.get('network_id') != network['id']:
            raise exception.InvalidParameterValue(
                field=field, reason='subnet %r is not on the fixed network '
                '%r' % (value, network.get('name') or network['id']))
        return found

    # -- what a template or a bay names --------------------------------------

    def check(self, values, name=None):
        """Check what ``values`` (template fields: image_id, flavor_id,
        master_flavor_id, keypair_id, external_network_id, fixed_network,
        fixed_subnet; those absent or empty are not) names; a 400 names
        ``name(field)`` (the field itself by default). Returns what the
        cloud decides ({'cluster_distro': the image's os_distro}, or {})."""
        name = name or (lambda field: field)
        found = {}
        try:
            if values.get('image_id'):
                distro = self._skipped(self.image, values['image_id'])
                if distro:
                    found['cluster_distro'] = distro
            for field in ('master_flavor_id', 'flavor_id'):
                if values.get(field):
                    self._skipped(self.flavor, field, values[field])
            if values.get('keypair_id'):
                self._skipped(self.keypair, 'keypair_id',
                              values['keypair_id'])
            if values.get('external_network_id'):
                self._skipped(self.network, 'external_network_id',
                              values['external_network_id'], True)
            network = None
            if values.get('fixed_network'):
                network = self._skipped(self.network, 'fixed_network',
                                        values['fixed_network'], False)
            if values.get('fixed_subnet'):
                self._skipped(self.subnet, 'fixed_subnet',
                              values['fixed_subnet'], network)
        except exception.InvalidParameterValue as e:
            field = e.kwargs['field']
            if name(field) == field:
                raise
            raise exception.InvalidParameterValue(
                field=name(field), reason='its %s: %s' % (field,
                                                          e.kwargs['reason']))
        return found


def decide_distro(values, found):
    """Set ``values['cluster_distro']`` from the image's os_distro
    (``found``, check()'s answer); a 400 naming cluster_distro when the
    request set another."""
    distro = found.get('cluster_distro')
    if not distro:
        return
    asked = values.get('cluster_distro')
    if asked and asked != distro:
        raise exception.InvalidParameterValue(
            field='cluster_distro',
            reason='the image %r runs %r (its os_distro), not %r'
            % (values.get('image_id'), distro, asked))
    values['cluster_distro'] = distro


CHECKED = ('image_id', 'flavor_id', 'master_flavor_id', 'keypair_id',
           'external_network_id', 'fixed_network', 'fixed_subnet')


def check_template(context, provisioner, values):
    """Check a template's ``values`` (a create's, or an update's changes)
    against the cloud when its ``provisioner`` builds of the cloud.
    Returns what the cloud decides of the template ({'cluster_distro':
    the image's os_distro}, or {})."""
    if provisioner not in CLOUD_PROVISIONERS:
        return {}
    return Checker(context).check({name: values[name] for name in CHECKED
                                   if name in values})


# {template field: the bay's own column of it}
_BAY_COLUMNS = {'flavor_id': 'flavor_id',
                'master_flavor_id': 'master_flavor_id',
                'keypair_id': 'keypair', 'fixed_network': 'fixed_network',
                'fixed_subnet': 'fixed_subnet'}


def check_bay(context, provisioner, baymodel, values):
    """Check what a new bay of ``values`` (its own, its template's filled
    in) names against the cloud. A 400 names the bay's field, or for the
    template's image and external network, the template."""
    if provisioner not in CLOUD_PROVISIONERS:
        return
    merged = {'image_id': baymodel.image_id,
              'external_network_id': baymodel.external_network_id}
    for field, column in _BAY_COLUMNS.items():
        merged[field] = values.get(column)
    Checker(context).check(merged, name=lambda field: _BAY_COLUMNS.get(
        field, 'baymodel_id'))
