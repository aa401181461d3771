"""Pecan hooks: the request context, the conductor API, error formatting."""

import traceback

from oslo_config import cfg
from oslo_db import exception as db_exc
from oslo_log import log as logging
import oslo_messaging as messaging
from pecan import hooks
from sqlalchemy import exc as sa_exc
import webob

from magnum.api.controllers.v1 import collection
from magnum.api.middleware import errors
from magnum.common import context as magnum_context
from magnum.common import exception
from magnum.common import policy
from magnum.conductor import api as conductor_api

LOG = logging.getLogger(__name__)


class ContextHook(hooks.PecanHook):
    """Builds the RequestContext from the identity headers."""

    def before(self, state):
        request = state.request
        # NOTE: anything but a yes is a no here, never a 400 (the lists
        # take both names and do not check their values).
        all_projects = any(
            request.GET.get(name, '').lower() in collection.TRUE
            for name in ('all_projects', 'all_tenants'))
        context = magnum_context.RequestContext.from_environ(
            request.environ, all_projects=all_projects)
        context.is_admin = policy.check(context, 'context_is_admin')
        # The caller's token and catalog, for the checks against the
        # cloud (magnum/lifecycle/cloud.py); None without Keystone.
        context.user_auth = request.environ.get('keystone.token_auth')
        request.context = context


class BodyHook(hooks.PecanHook):
    """Refuses a form body before routing reads it.

    NOTE: pecan reads a form body (its fields become a handler's
    arguments) while it routes; a multipart body with a bad boundary was a
    500 there. The API takes JSON only: a form is a 415, which no client
    of ours sends (a plain ``curl -d`` body is urlencoded, and read as the
    JSON it usually is).
    """

    def on_route(self, state):
        kind = state.request.content_type or ''
        if kind.startswith('multipart/'):
            raise webob.exc.HTTPUnsupportedMediaType(
                detail='The body must be JSON (Content-Type: '
                       'application/json), not %s.' % kind)


class RPCHook(hooks.PecanHook):
    """Gives controllers the conductor API (one client per process)."""

    _api = None

    def before(self, state):
        if RPCHook._api is None:
            RPCHook._api = conductor_api.ConductorAPI()
        state.request.rpcapi = RPCHook._api


def _database_unreachable(e):
    """A connection that could not be made or was lost (a database that is
    down or restarting), whether or not oslo.db translated it.

    NOTE: Magnum's reads open plain engine connections; a refused connect
    reaches us as SQLAlchemy's OperationalError, untranslated.
    """
    if isinstance(e, db_exc.DBConnectionError):
        return True
    if isinstance(e, db_exc.DBError) and e.inner_exception is not None:
        e = e.inner_exception
    if isinstance(e, (sa_exc.OperationalError, sa_exc.InterfaceError)):
        return True
    return isinstance(e, sa_exc.DBAPIError) and e.connection_invalidated


def _status_and_message(e):
    if isinstance(e, exception.MagnumException):
        return e.code, str(e)
    if isinstance(e, webob.exc.HTTPBadRequest) and not e.detail:
        # NOTE: pecan's only bare 400: a request attribute that did not
        # decode (pecan.core.Request.__getattribute__).
        return 400, 'The request is not valid UTF-8.'
    if isinstance(e, webob.exc.HTTPException):
        return e.code, e.detail or e.explanation
    if isinstance(e, RecursionError):
        return 400, 'The JSON body is nested too deeply.'
    if isinstance(e, UnicodeDecodeError):
        return 400, 'The request is not valid UTF-8.'
    if isinstance(e, db_exc.DBDeadlock):
        # NOTE: a SQLite writer that waited out its retries (magnum/db/
        # sqlite.py), or a deadlock: the database is up, and busy.
        return 503, 'The database is busy; try again shortly.'
    if _database_unreachable(e):
        return 503, 'The database is unreachable; try again shortly.'
    if isinstance(e, messaging.MessagingTimeout):
        return 503, 'The conductor did not answer; try again shortly.'
    return 500, None


class ErrorHook(hooks.PecanHook):
    """Turns exceptions into the error body; never leaks a traceback."""

    def on_error(self, state, e):
        status, message = _status_and_message(e)
        if status >= 500:
            LOG.error('%s %s failed', state.request.method,
                      state.request.path, exc_info=e)
        if message is None:
            message = ('The server could not handle the request; the '
                       'operator can find its request id in the logs.')
        response = webob.Response(
            status=status, content_type='application/json', charset=None,
            body=errors.error_body(status, message,
                                   _debuginfo(e) if status >= 500 else None))
        if isinstance(e, webob.exc.HTTPException) and 'Allow' in e.headers:
            response.headers['Allow'] = e.headers['Allow']
        return response


def _debuginfo(e):
    if cfg.CONF.debug:
        return ''.join(traceback.format_exception(e))
    return None
