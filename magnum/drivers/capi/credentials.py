"""A bay's cloud credentials: a Keystone application credential of its
owner, in a Secret the infrastructure provider reads (``clouds.yaml``).

The credential is made through Keystone with the token of the user who
asks (Keystone lets only a user make their own), restricted (it cannot
make other credentials), with the user's roles in the bay's project. It is
deleted with the bay, and replaced by ``credential rotate``, with that
user's token when it is here, else with Magnum's service credentials of
the ``[capi]`` group (Keystone's admin may delete any user's).

NOTE: the secret of a credential exists in Keystone's answer and in the
Secret only: nothing here logs it, and Magnum's database never holds it.
"""

from keystoneauth1 import exceptions as ks_exc
from keystoneauth1.identity import v3
from keystoneclient.v3 import client as ks_client
from oslo_config import cfg
from oslo_log import log as logging
from oslo_utils import timeutils
import yaml

from magnum.common import exception
from magnum.drivers import service_auth

LOG = logging.getLogger(__name__)
CONF = cfg.CONF
# The cloud's name in clouds.yaml, and where the machines find the CA
# bundle: what Magnum's ClusterClass reads (class.yaml).
CLOUD_NAME = 'openstack'
CACERT_PATH = '/etc/kubernetes/openstack/cacert'


def _service_auth():
    return service_auth.auth('capi')


def _keystone(auth):
    return ks_client.Client(session=service_auth.session('capi', auth),
                            interface=CONF.capi.interface,
                            region_name=CONF.capi.region_name)


def auth_url():
    """The Keystone URL in the bays' clouds.yaml."""
    return CONF.capi.clouds_auth_url or _service_auth().auth_url


def _user_keystone(context):
    if not context.auth_token or not context.project_id:
        return None
    return _keystone(v3.Token(auth_url=_service_auth().auth_url,
                              token=context.auth_token,
                              project_id=context.project_id))


def create(context, bay):
    """A new application credential of the user behind ``context``, for
    ``bay``: (id, secret, user id). Raises ProvisionerError when there is
    no such user (no token) or Keystone refuses."""
    keystone = _user_keystone(context)
    if keystone is None or context.project_id != bay.project_id:
        raise exception.ProvisionerError(
            reason='the cloud credentials of bay %s are made with the token '
                   'of a user of its project; this request has none'
                   % bay.uuid)
    name = 'magnum-%s-%s' % (bay.uuid, timeutils.utcnow().strftime(
        '%Y%m%d%H%M%S%f'))
    try:
        made = keystone.application_credentials.create(
            name=name, user=context.user_id, unrestricted=False,
            description='Cloud credentials of Magnum bay %s' % bay.uuid)
    except ks_exc.ClientException as e:
        raise exception.ProvisionerError(
            reason='Keystone refused the application credential of bay '
                   '%s: %s' % (bay.uuid, e))
    LOG.info('Bay %s: application credential %s made for user %s',
             bay.uuid, made.id, context.user_id)
    return made.id, made.secret, context.user_id


def delete(context, credential_id, user_id):
    """Delete an application credential; one already gone is fine."""
    keystone = None
    if context is not None and context.user_id == user_id:
        keystone = _user_keystone(context)
    if keystone is None:
        keystone = _keystone(_service_auth())
    try:
        keystone.application_credentials.delete(credential_id,
                                                user=user_id)
    except ks_exc.NotFound:
        return
    LOG.info('Application credential %s of user %s deleted', credential_id,
             user_id)


def clouds_yaml(credential_id, secret):
    """The clouds.yaml of a bay's credentials (cloud ``openstack``)."""
    cloud = {'auth_type': 'v3applicationcredential',
             'auth': {'auth_url': auth_url(),
                      'application_credential_id': credential_id,
                      'application_credential_secret': secret},
             'interface': CONF.capi.interface,
             'identity_api_version': 3}
    if CONF.capi.region_name:
        cloud['region_name'] = CONF.capi.region_name
    if CONF.capi.ca_file:
        cloud['cacert'] = CACERT_PATH
    return yaml.safe_dump({'clouds': {CLOUD_NAME: cloud}},
                          default_flow_style=False)


def ca_bundle():
    """The CA bundle the Secret carries (``cacert``), or ''."""
    if not CONF.capi.ca_file:
        return ''
    with open(CONF.capi.ca_file) as f:
        return f.read()
