"""The WSGI application: the paste pipeline around the Pecan app."""

import functools
import logging as std_logging
import os
import sys

from oslo_config import cfg
from oslo_log import log as logging
from paste import deploy
import pecan
import pecan.routing
import pecan.util

from magnum.api import hooks

LOG = logging.getLogger(__name__)
CONF = cfg.CONF

# Where an install puts the file: pbr's data_files under the prefix, or the
# source tree for an editable install.
_INSTALLED_PASTE = (
    os.path.join(sys.prefix, 'etc', 'magnum', 'api-paste.ini'),
    os.path.join(os.path.dirname(__file__), '..', '..', 'etc', 'magnum',
                 'api-paste.ini'),
)


def _cache_pecan_argspecs():
    """Let pecan inspect each controller method's signature once.

    NOTE: pecan.util.getargspec builds a new namedtuple class on every call
    and pecan calls it twice a request (routing and invoking): a quarter of
    a GET's time here. Our controllers are singletons, so the cache holds
    one entry per controller method. A later pecan without this helper
    simply keeps its own behaviour.
    """
    original = getattr(pecan.util, '_getargspec', None)
    if original is not None and not hasattr(original, 'cache_info'):
        pecan.util._getargspec = functools.lru_cache(maxsize=1024)(original)


def _detect_custom_routes_once():
    """Let pecan look for custom path segments once per controller class.

    NOTE: pecan.routing._detect_custom_path_segments lists every attribute
    of each controller it walks through (``set(dir(obj))``), on every
    request, before it checks whether it has seen the class already, when
    it does nothing more: three dir() calls a GET, ~3% of its CPU time.
    The wrapper returns at once for a class pecan has seen. A later pecan
    without these names keeps its own behaviour.
    """
    routing = pecan.routing
    original = getattr(routing, '_detect_custom_path_segments', None)
    observed = getattr(routing, '__observed_controllers__', None)
    if (original is None or not isinstance(observed, set)
            or getattr(original, '_magnum_once', False)):
        return

    def detect(obj):
        if obj.__class__ not in observed:
            original(obj)

    detect._magnum_once = True
    routing._detect_custom_path_segments = detect


class _NotUTF8(std_logging.Filter):
    """Drops pecan's traceback for a request that is not UTF-8.

    NOTE: pecan logs it as an error with its traceback, then answers 400
    (as ErrorHook does, in our words): a client's mistake, not the
    operator's concern.
    """

    def filter(self, record):
        return not (record.exc_info
                    and isinstance(record.exc_info[1], UnicodeDecodeError))


class _ForgetsPecanLocals:
    """Pecan's app, taking its request and response out of the environ
    once it has answered.

    NOTE: pecan keeps them in ``environ['pecan.locals']``, and its request
    keeps the environ: a reference cycle, so the response, its body with
    it, lived on until Python's cyclic collector ran, some requests later.
    A detail list of 1,000 clusters is 1.7 MB of JSON: held that way, the
    bodies of a few such requests kept a worker up to ~20 MiB larger.
    """

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        try:
            return self.app(environ, start_response)
        finally:
            environ.pop('pecan.locals', None)


def setup_app():
    """The bare Pecan application, without the middleware."""
    _cache_pecan_argspecs()
    _detect_custom_routes_once()
    pecan_log = std_logging.getLogger('pecan.core')
    if not any(isinstance(f, _NotUTF8) for f in pecan_log.filters):
        pecan_log.addFilter(_NotUTF8())
    app = pecan.make_app(
        'magnum.api.controllers.root.RootController',
        hooks=[hooks.BodyHook(), hooks.ContextHook(), hooks.RPCHook(),
               hooks.ErrorHook()],
        force_canonical=False,
        guess_content_type_from_ext=False,
        logging=False,
        wrap_app=_ForgetsPecanLocals,
    )
    return app


def app_factory(global_config, **local_conf):
    return setup_app()


def _paste_file():
    name = CONF.api.api_paste_config
    if os.path.isabs(name):
        return name
    found = CONF.find_file(name)
    if found:
        return os.path.abspath(found)
    for path in _INSTALLED_PASTE:
        if os.path.exists(path):
            return os.path.abspath(path)
    raise RuntimeError('Cannot find the API paste file %s' % name)


def load_app():
    """The whole API: the paste pipeline chosen by auth_strategy."""
    path = _paste_file()
    LOG.info('Loading the API pipeline %s from %s', CONF.auth_strategy, path)
    return deploy.loadapp('config:%s' % path, name=CONF.auth_strategy)

