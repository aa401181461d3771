"""oslo.middleware filters, configured by Magnum's own configuration.

oslo.middleware's paste factories want either settings in the paste file or
a project name to load configuration files of their own; handing them
Magnum's parsed configuration keeps one source of truth. A filter that its
configuration turns off is left out of the pipeline: each costs ~20 us a
request even when it does nothing.
"""

from oslo_config import cfg
from oslo_middleware import cors
from oslo_middleware import http_proxy_to_wsgi


def _identity(app):
    return app


def factory(global_config, **local_conf):
    """CORS, when [cors] allowed_origin names any origin."""
    cfg.CONF.register_opts(cors.CORS_OPTS, 'cors')
    if not cfg.CONF.cors.allowed_origin:
        return _identity
    return lambda app: cors.CORS(app, cfg.CONF)


def proxy_factory(global_config, **local_conf):
    """X-Forwarded-* handling, when enable_proxy_headers_parsing is set."""
    cfg.CONF.register_opts(http_proxy_to_wsgi.OPTS, 'oslo_middleware')
    if not cfg.CONF.oslo_middleware.enable_proxy_headers_parsing:
        return _identity
    return lambda app: http_proxy_to_wsgi.HTTPProxyToWSGI(app, cfg.CONF)
