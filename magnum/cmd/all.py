"""magnum-all: API and conductor in one process, for a first look.

With no configuration file at all it serves http://127.0.0.1:9511 with the
conductor inside, SQLite under [DEFAULT] state_path, the in-process RPC
transport and no authentication.
"""

import os

from oslo_config import cfg
from oslo_log import log as logging

from magnum.cmd import api as api_cmd
from magnum.cmd import service
from magnum.common import keystore
from magnum.conductor import rpc
from magnum.conductor import service as conductor_service
from magnum.db import api as db_api
from magnum.db import migration

LOG = logging.getLogger(__name__)


def main():
    service.prepare()
    keystore.check_or_exit(LOG)
    # The embedded default; a configured transport_url still wins.
    rpc.set_default_url('fake:///')
    os.makedirs(cfg.CONF.state_path, exist_ok=True)
    migration.upgrade()
    db_api.dispose_pool()  # no connection crosses gunicorn's fork

    def start_conductor():
        conductor_service.ConductorService().start()

    LOG.info('magnum-all on http://%s:%d (auth: %s, database: %s)',
             cfg.CONF.api.host, cfg.CONF.api.port, cfg.CONF.auth_strategy,
             cfg.CONF.database.connection)
    # NOTE: one worker: the in-process transport joins the API and the
    # conductor only inside the same process, so the conductor starts in
    # the worker gunicorn forks, next to the API it serves.
    options = api_cmd.server_options(workers=1, threads=8)
    api_cmd.WSGIServer(options, on_worker_start=start_conductor).run()
