"""Heat clients of the ``heat`` provisioner: as Magnum (service
credentials of the ``[heat]`` section, which need Heat's admin role for the
reconciler's one list across projects) or as the user who asked.
"""

from heatclient import client as heat_client
from keystoneauth1.identity import v3
from oslo_config import cfg

from magnum.drivers import service_auth

CONF = cfg.CONF


def _service_auth():
    return service_auth.auth('heat')


def _session(auth):
    return service_auth.session('heat', auth)


def _client(session, endpoint_override=None):
    return heat_client.Client(
        '1', session=session, service_type='orchestration',
        interface=CONF.heat.interface, region_name=CONF.heat.region_name,
        endpoint_override=endpoint_override)


def service_client(project_id=None):
    """A Heat client with Magnum's own (admin) credentials.

    With ``project_id``, its URLs name that project, as Heat wants for an
    admin to update or delete another project's stack (it finds such a
    stack by id alone only to show it).
    """
    session = _session(_service_auth())
    endpoint = None
    if project_id:
        endpoint = session.get_endpoint(
            service_type='orchestration', interface=CONF.heat.interface,
            region_name=CONF.heat.region_name)
        endpoint = '%s/%s' % (endpoint.rstrip('/').rsplit('/', 1)[0],
                              project_id)
    return _client(session, endpoint)


def user_client(context):
    """A Heat client acting as the user behind ``context``, or None."""
    if not context.auth_token or not context.project_id:
        return None
    auth = v3.Token(auth_url=_service_auth().auth_url,
                    token=context.auth_token,
                    project_id=context.project_id)
    return _client(_session(auth))
