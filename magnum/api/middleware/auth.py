"""Authentication filters: ``noauth`` and Keystone's auth_token.

Both leave the identity in the X-Project-Id, X-User-Id and X-Roles headers,
which the context hook turns into a RequestContext. ``/``, ``/v1`` and
``/v1/openapi.json`` are public under Keystone, so clients can discover
versions and the API's description before logging in.
"""

import re

from oslo_config import cfg

_PUBLIC = re.compile(r'^/(v1/?|v1/openapi\.json)?$')


class NoAuthMiddleware:
    """Identity from the request's headers, with configured defaults.

    NOTE: for development and the all-in-one only: whoever can reach the
    API can claim any project and any role.
    """

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        conf = cfg.CONF.noauth
        environ.setdefault('HTTP_X_PROJECT_ID', conf.project_id)
        environ.setdefault('HTTP_X_USER_ID', conf.user_id)
        environ.setdefault('HTTP_X_ROLES', ','.join(conf.roles))
        environ['HTTP_X_IDENTITY_STATUS'] = 'Confirmed'
        return self.app(environ, start_response)


def _keystone_middleware():
    """auth_token, except for the version documents.

    NOTE: keystonemiddleware is imported only for the keystone pipeline:
    with keystoneclient and oslo.cache it is ~3 MiB in every API worker,
    which the noauth pipeline never uses.
    """
    from keystonemiddleware import auth_token

    class KeystoneAuthMiddleware(auth_token.AuthProtocol):

        def __init__(self, app, conf):
            self._unprotected = app
            super().__init__(app, conf)

        def __call__(self, environ, start_response):
            if _PUBLIC.match(environ.get('PATH_INFO', '')):
                return self._unprotected(environ, start_response)
            return super().__call__(environ, start_response)

    return KeystoneAuthMiddleware


def noauth_factory(global_config, **local_conf):
    return NoAuthMiddleware


def keystone_factory(global_config, **local_conf):
    middleware = _keystone_middleware()
    conf = dict(global_config, **local_conf)
    # NOTE: hand over Magnum's own parsed configuration, so the
    # [keystone_authtoken] section and overrides are the ones Magnum sees.
    conf['oslo_config_config'] = cfg.CONF

    def filter(app):
        return middleware(app, conf)
    return filter
