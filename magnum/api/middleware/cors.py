"""CORS from oslo.middleware, configured by Magnum's own [cors] section."""

from oslo_config import cfg
from oslo_middleware import cors


def factory(global_config, **local_conf):
    # NOTE: oslo.middleware's own paste factory wants either origins in the
    # paste file or a project name to load config files of its own; handing
    # it Magnum's parsed configuration keeps one source of truth.
    def filter(app):
        return cors.CORS(app, cfg.CONF)
    return filter
