"""What the API's HTTP server answers without the application.

gunicorn refuses a request it cannot parse (a request line that is not
HTTP, one over ``limit_request_line`` bytes, too many or too large headers)
before any middleware runs, with an HTML page of its own and no request id.
Its workers here answer in the API's error form instead, with an
``X-OpenStack-Request-Id`` that the log line names too.

``PathOnly`` sits outside the paste pipeline: the pipeline's URL map can
only route a path, so it answers ``OPTIONS *`` (a question about the server
as a whole) and a request for a target that is not a path itself.
"""

import http
import ssl

from gunicorn.http import errors as http_errors
from gunicorn import util as gunicorn_util
from gunicorn.workers import gthread
from gunicorn.workers import sync
from oslo_context import context as oslo_context
from oslo_log import log as logging

from magnum.api.middleware import errors

LOG = logging.getLogger(__name__)

REQUEST_ID = 'X-OpenStack-Request-Id'
# Every method some resource of the API serves: the answer to OPTIONS *.
METHODS = 'GET, HEAD, POST, PUT, PATCH, DELETE'
UNEXPECTED = ('The server could not handle the request; the operator can '
              'find its request id in the logs.')

# gunicorn's words for one header field over limit_request_field_size, and
# for more than limit_request_fields of them (gunicorn/http/message.py).
_FIELD_TOO_LARGE = 'limit request headers fields size'
_TOO_MANY_FIELDS = 'limit request headers fields'

_REFUSALS = (
    ((http_errors.InvalidRequestLine, http_errors.InvalidRequestMethod,
      http_errors.InvalidHTTPVersion),
     400, 'The request line is not valid HTTP.'),
    ((http_errors.InvalidHeader, http_errors.InvalidHeaderName,
      http_errors.ObsoleteFolding),
     400, 'A request header is not valid HTTP.'),
    ((http_errors.InvalidChunkSize, http_errors.ChunkMissingTerminator,
      http_errors.InvalidChunkExtension),
     400, 'The chunked request body is not valid HTTP.'),
    ((http_errors.UnsupportedTransferCoding,),
     501, 'The request\'s Transfer-Encoding is not supported.'),
    ((http_errors.ExpectationFailed,),
     417, 'The request\'s Expect header asks for something other than '
          '100-continue.'),
    ((http_errors.InvalidSchemeHeaders,),
     400, 'The request\'s forwarded-scheme headers contradict each other.'),
)


def refusal(exc, cfg):
    """The status and message for what a gunicorn worker caught.

    ``cfg`` is gunicorn's configuration, for the limits a message names. A
    message is None for the server's own failure (a 500).
    """
    # NOTE: before InvalidHeader, their parent: a header the application
    # tried to send is its own fault, not the client's.
    if isinstance(exc, (http_errors.InvalidResponseHeader,
                        http_errors.InvalidResponseHeaderName,
                        http_errors.ConfigurationProblem)):
        return 500, None
    if isinstance(exc, http_errors.LimitRequestLine):
        return 414, ('The request line is longer than %d bytes.'
                     % cfg.limit_request_line)
    if isinstance(exc, http_errors.LimitRequestHeaders):
        if str(exc) == _TOO_MANY_FIELDS:
            return 431, ('The request has too many headers: the limit is %d.'
                         % cfg.limit_request_fields)
        if str(exc) == _FIELD_TOO_LARGE:
            return 431, ('The request headers are too large: a header may '
                         'be at most %d bytes.'
                         % cfg.limit_request_field_size)
        return 431, 'The request headers are too large.'
    for kinds, status, message in _REFUSALS:
        if isinstance(exc, kinds):
            return status, message
    if isinstance(exc, (http_errors.ParseException, ssl.SSLError)):
        return 400, 'The request is not valid HTTP.'
    return 500, None


def error_response(status, message, request_id):
    """A whole HTTP/1.1 answer in the API's error form, as bytes; the
    connection closes after it."""
    body = errors.error_body(status, message)
    head = ('HTTP/1.1 %d %s\r\n'
            'Content-Type: application/json\r\n'
            'Content-Length: %d\r\n'
            '%s: %s\r\n'
            'Connection: close\r\n'
            '\r\n' % (status, http.HTTPStatus(status).phrase, len(body),
                      REQUEST_ID, request_id))
    return head.encode('latin-1') + body


class _ErrorForm:
    """gunicorn's ``handle_error`` in the API's error form (a mixin)."""

    def handle_error(self, req, client, addr, exc):
        request_id = oslo_context.generate_request_id()
        context = oslo_context.RequestContext(request_id=request_id)
        peer = addr[0] if addr else 'a unix socket'
        status, message = refusal(exc, self.cfg)
        if message is None:
            message = UNEXPECTED
            what = ('%s %s' % (req.method, req.uri)
                    if hasattr(req, 'uri') else 'a request')
            LOG.error('%s from %s failed', what, peer, exc_info=exc,
                      context=context)
        else:
            # NOTE: called while gunicorn handles the exception, so oslo.log
            # appends its words (what exactly it found) for the operator.
            LOG.warning('Refused a request from %s with %d: %s',
                        peer, status, message, context=context)
        try:
            gunicorn_util.write_nonblock(
                client, error_response(status, message, request_id))
        except Exception:
            # The client is gone or its socket is full; it closes anyway.
            LOG.debug('Could not send the %d answer to %s', status, peer,
                      context=context)


class SyncAPIWorker(_ErrorForm, sync.SyncWorker):
    """gunicorn's sync worker (one request at a time a process).

    NOTE: named so that gunicorn, which swaps a worker class whose name
    ends in ``SyncWorker`` for its own threaded one, never swaps it.
    """


class ThreadAPIWorker(_ErrorForm, gthread.ThreadWorker):
    """gunicorn's threaded worker, with keep-alive."""


class PathOnly:
    """Passes a request for a path to the API; answers the rest itself.

    The target of ``OPTIONS *`` is the server as a whole: the answer is 200
    with the methods the API serves. Any other target that is not a path
    (a ``CONNECT``'s ``host:port``) is a 400: this server is no proxy.
    """

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        path = environ.get('PATH_INFO', '')
        # NOTE: an absolute-form target without a path ("GET http://host")
        # reaches here as '': the URL map routes it as '/'.
        if not path or path.startswith('/'):
            return self.app(environ, start_response)
        request_id = oslo_context.generate_request_id()
        if environ['REQUEST_METHOD'] == 'OPTIONS' and path == '*':
            start_response('200 OK', [('Allow', METHODS),
                                      ('Content-Length', '0'),
                                      (REQUEST_ID, request_id)])
            return [b'']
        body = errors.error_body(
            400, 'The request target must be a path, such as /v1; '
                 'this server is not a proxy.')
        start_response('400 Bad Request', [
            ('Content-Type', 'application/json'),
            ('Content-Length', str(len(body))),
            (REQUEST_ID, request_id)])
        return [body]
