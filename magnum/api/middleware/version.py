"""Microversion negotiation: the ``OpenStack-API-Version`` headers."""

import webob

from magnum.api.middleware import errors

SERVICE_TYPE = 'container-infra'
MIN_VERSION = (1, 1)
MAX_VERSION = (1, 13)
HEADER = 'OpenStack-API-Version'


def as_string(version):
    return '%d.%d' % version


def negotiate(header):
    """The version a request asks for; ValueError if unusable."""
    if not header:
        return MIN_VERSION
    wanted = None
    for part in header.split(','):
        words = part.strip().split()
        if len(words) == 2 and words[0].lower() == SERVICE_TYPE:
            wanted = words[1].lower()
    if wanted is None:
        return MIN_VERSION
    if wanted == 'latest':
        return MAX_VERSION
    try:
        major, minor = (int(x) for x in wanted.split('.'))
    except ValueError:
        raise ValueError('Invalid API version %r; use X.Y or latest'
                         % wanted)
    if not MIN_VERSION <= (major, minor) <= MAX_VERSION:
        raise ValueError('API version %s is not supported; this server '
                         'supports %s to %s' % (wanted,
                                                as_string(MIN_VERSION),
                                                as_string(MAX_VERSION)))
    return major, minor


class VersionMiddleware:
    """Checks the requested version of /v1 calls and answers with it."""

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        if not environ.get('PATH_INFO', '').startswith('/v1'):
            return self.app(environ, start_response)
        request = webob.Request(environ)
        try:
            version = negotiate(request.headers.get(HEADER))
        except ValueError as e:
            response = webob.Response(
                status=406, content_type='application/json', charset=None,
                body=errors.error_body(406, str(e)))
            version = None
        else:
            environ['magnum.api_version'] = version
            response = request.get_response(self.app)
        if version is not None:
            response.headers[HEADER] = '%s %s' % (SERVICE_TYPE,
                                                  as_string(version))
        response.headers['OpenStack-API-Minimum-Version'] = '%s %s' % (
            SERVICE_TYPE, as_string(MIN_VERSION))
        response.headers['OpenStack-API-Maximum-Version'] = '%s %s' % (
            SERVICE_TYPE, as_string(MAX_VERSION))
        response.headers['Vary'] = HEADER
        return response(environ, start_response)


def factory(global_config, **local_conf):
    return VersionMiddleware
