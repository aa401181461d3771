"""Microversion negotiation: the ``OpenStack-API-Version`` headers."""

from magnum.api.middleware import errors

SERVICE_TYPE = 'container-infra'
MIN_VERSION = (1, 1)
MAX_VERSION = (1, 14)
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
    """Checks the requested version of /v1 calls and answers with it.

    Plain WSGI, no webob: it runs on every request.
    """

    _RANGE = [
        ('OpenStack-API-Minimum-Version',
         '%s %s' % (SERVICE_TYPE, as_string(MIN_VERSION))),
        ('OpenStack-API-Maximum-Version',
         '%s %s' % (SERVICE_TYPE, as_string(MAX_VERSION))),
        ('Vary', HEADER),
    ]

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        if not environ.get('PATH_INFO', '').startswith('/v1'):
            return self.app(environ, start_response)
        try:
            version = negotiate(environ.get('HTTP_OPENSTACK_API_VERSION'))
        except ValueError as e:
            body = errors.error_body(406, str(e))
            start_response('406 Not Acceptable', [
                ('Content-Type', 'application/json'),
                ('Content-Length', str(len(body)))] + self._RANGE)
            return [body]
        environ['magnum.api_version'] = version
        extra = [(HEADER, '%s %s' % (SERVICE_TYPE, as_string(version)))]
        extra += self._RANGE

        def start(status, headers, exc_info=None):
            return start_response(status, headers + extra, exc_info)
        return self.app(environ, start)


def factory(global_config, **local_conf):
    return VersionMiddleware
