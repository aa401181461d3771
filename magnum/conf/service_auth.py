"""keystoneauth's session and auth options in a group of Magnum's: the
service credentials a provisioner uses where no user is behind the work."""

from keystoneauth1 import loading as ks_loading


def register(conf, group_name):
    ks_loading.register_session_conf_options(conf, group_name)
    ks_loading.register_auth_conf_options(conf, group_name)


def options():
    """The options as oslo-config-generator lists them (password auth)."""
    return (ks_loading.get_session_conf_options()
            + ks_loading.get_auth_common_conf_options()
            + ks_loading.get_auth_plugin_conf_options('password'))
