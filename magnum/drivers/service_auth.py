"""Magnum's service credentials of a provisioner's group (``[heat]``,
``[capi]``): keystoneauth's auth and session, loaded from the options
magnum/conf/service_auth.py registers."""

import functools

from keystoneauth1 import loading as ks_loading
from oslo_config import cfg

from magnum.common import exception

CONF = cfg.CONF


@functools.lru_cache(maxsize=None)
def auth(group):
    """The auth plugin of ``group``, loaded once a process; a
    ProvisionerError naming the group when it has none."""
    plugin = ks_loading.load_auth_from_conf_options(CONF, group)
    if plugin is None:
        raise exception.ProvisionerError(
            reason='the %s provisioner needs service credentials in the '
                   '[%s] section of magnum.conf (auth_type, auth_url, ...)'
                   % (group, group))
    return plugin


def session(group, plugin):
    """A keystoneauth session of ``group``'s settings with ``plugin``."""
    return ks_loading.load_session_from_conf_options(CONF, group,
                                                     auth=plugin)
