"""Every error leaves the API as ``{"error_message": "<json>"}``.

The inner JSON has ``faultstring``, ``faultcode`` and ``debuginfo``: the
form every python-magnumclient release prints. Errors raised by Magnum are
formatted by the Pecan hook; this middleware rewrites the rest (404 from
routing, 401 from auth_token, 413 from the size limit, 405, ...).
"""

import html
import json
import re

from oslo_config import cfg
from oslo_middleware import sizelimit  # noqa: F401  (registers the limit)
import webob

_TAGS = re.compile(r'<[^>]+>')


def error_body(status, faultstring, debuginfo=None):
    fault = {'faultstring': faultstring,
             'faultcode': 'Server' if status >= 500 else 'Client',
             'debuginfo': debuginfo}
    return json.dumps({'error_message': json.dumps(fault)}).encode()


def _text_of(body):
    """The human text of an error page (webob's HTML or plain bodies)."""
    text = html.unescape(_TAGS.sub(' ', body.decode('utf-8', 'replace')))
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    # webob repeats the title ("404 Not Found") on its first lines.
    if len(lines) > 1 and lines[0] == lines[1]:
        lines = lines[1:]
    return ' '.join(lines)


class ParsableErrorMiddleware:
    """Rewrites error answers that are not in the error format yet.

    Plain WSGI: a success passes straight through, unbuffered; only an
    error's body is read.
    """

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        error = []

        def start(status, headers, exc_info=None):
            if int(status.split(' ', 1)[0]) < 400:
                return start_response(status, headers, exc_info)
            error.append((status, headers, exc_info))
            return lambda data: None  # nothing writes here in this stack

        app_iter = self.app(environ, start)
        if not error:
            return app_iter
        try:
            body = b''.join(app_iter)
        finally:
            getattr(app_iter, 'close', lambda: None)()
        status, headers, exc_info = error[0]
        response = webob.Response(status=status, headerlist=list(headers),
                                  body=body)
        if not _is_formatted(response):
            if response.status_int == 413:
                text = ('The request body is too large: the limit is %d '
                        'bytes.' % cfg.CONF.oslo_middleware
                        .max_request_body_size)
            else:
                text = _text_of(response.body) or response.status
            response.body = error_body(response.status_int, text)
            response.content_type = 'application/json'
            response.charset = None
        start_response(response.status, response.headerlist, exc_info)
        return [response.body]


def _is_formatted(response):
    if response.content_type != 'application/json':
        return False
    try:
        return 'error_message' in json.loads(response.body)
    except ValueError:
        return False


def factory(global_config, **local_conf):
    return ParsableErrorMiddleware
