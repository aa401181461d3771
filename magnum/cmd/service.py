"""What every Magnum process does first: configuration and logging."""

import sys

from oslo_config import cfg
from oslo_log import log as logging

from magnum import conf  # noqa: F401  (registers every option)
from magnum import objects
from magnum import version

LOG = logging.getLogger(__name__)


# oslo.messaging loads oslo.service, which announces its backend at INFO.
_QUIET = ['oslo_service=WARN']


def _production_auth_default():
    """With a configuration file, Keystone unless the file says otherwise.

    NOTE: the embedded default (no file at all: the all-in-one) stays
    noauth; a deployment that writes a configuration file gets
    authentication without having to remember to ask for it.
    """
    if not cfg.CONF.config_file and not cfg.CONF.config_dir:
        return
    location = cfg.CONF.get_location('auth_strategy')
    chosen = (cfg.Locations.user, cfg.Locations.command_line,
              cfg.Locations.environment)
    if location is None or location.location not in chosen:
        cfg.CONF.set_default('auth_strategy', 'keystone')


def prepare(argv=None, default_config_files=None):
    """Parse the command line and config files; set up logging."""
    logging.set_defaults(
        default_log_levels=logging.get_default_log_levels() + _QUIET)
    argv = sys.argv[1:] if argv is None else argv
    cfg.CONF(argv, project='magnum', version=version.version_string(),
             default_config_files=default_config_files)
    _production_auth_default()
    logging.setup(cfg.CONF, 'magnum')
    objects.register_all()
