"""magnum-api: the REST API under gunicorn, with [api] workers processes."""

from gunicorn.app import base as gunicorn_base
from oslo_config import cfg
from oslo_log import log as logging

from magnum.api import server
from magnum.cmd import service

LOG = logging.getLogger(__name__)


class WSGIServer(gunicorn_base.BaseApplication):
    """gunicorn, configured from oslo.config instead of its command line."""

    def __init__(self, options, on_worker_start=None):
        self.options = options
        self.on_worker_start = on_worker_start
        super().__init__()

    def load_config(self):
        for key, value in self.options.items():
            self.cfg.set(key, value)
        if self.on_worker_start is not None:
            hook = self.on_worker_start
            self.cfg.set('post_worker_init', lambda worker: hook())

    def load(self):
        # NOTE: imported here, in the worker: the arbiter never serves a
        # request (preload_app is off), so it need not hold the API.
        from magnum.api import app as api_app
        return server.PathOnly(api_app.load_app())


def server_options(workers=None, threads=None):
    conf = cfg.CONF.api
    workers = workers or conf.workers
    threads = threads or conf.threads
    return {
        'bind': '%s:%d' % (conf.host, conf.port),
        'workers': workers,
        'threads': threads,
        # gunicorn's own workers, refusing what they cannot parse in the
        # API's error form (magnum/api/server.py).
        'worker_class': (server.ThreadAPIWorker if threads > 1
                         else server.SyncAPIWorker),
        # Each worker loads the app itself: no database connection or RPC
        # transport is shared across a fork.
        'preload_app': False,
        # NOTE: otherwise every gunicorn on the host shares one control
        # socket in the home directory.
        'control_socket_disable': True,
        'proc_name': 'magnum-api',
        'loglevel': 'warning',
        'accesslog': None,
    }


def main():
    service.prepare()
    LOG.info('magnum-api on http://%s:%d with %d worker(s)',
             cfg.CONF.api.host, cfg.CONF.api.port, cfg.CONF.api.workers)
    WSGIServer(server_options()).run()
