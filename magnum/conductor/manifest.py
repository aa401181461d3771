"""Kubernetes manifests: parsed from text, or fetched from a URL with care.

A manifest is one Kubernetes object as JSON or YAML text. ``manifest_url``
is fetched by the conductor, which sits inside the cloud, on a user's
behalf: that is a server-side request forgery door unless it is narrowed.
So a fetch

* speaks http or https only, follows no redirect, and sends no credentials;
* resolves the host once, refuses it when any address is loopback,
  link-local, private or otherwise not global (unless the operator lists
  the network in ``[kubernetes] manifest_allowed_networks``), and connects
  to exactly the address it checked (a second DNS answer cannot differ);
* gives up after ``manifest_fetch_timeout`` seconds without progress and
  after ``manifest_max_bytes`` bytes.

Every refusal is a 400 naming ``manifest`` or ``manifest_url``.
"""

import ipaddress
import json
import socket
from urllib import parse

from oslo_config import cfg
from oslo_log import log as logging
import urllib3
import yaml

from magnum.common import exception

LOG = logging.getLogger(__name__)
CONF = cfg.CONF

_CHUNK = 64 * 1024


def _invalid(field, reason):
    return exception.InvalidParameterValue(field=field, reason=reason)


def parse_text(text, field='manifest'):
    """The object of a JSON or YAML manifest: a mapping with a ``kind``."""
    limit = CONF.kubernetes.manifest_max_bytes
    if len(text.encode('utf-8', 'replace')) > limit:
        raise _invalid(field, 'the manifest is larger than %d bytes' % limit)
    try:
        document = json.loads(text)
    except ValueError:
        try:
            # NOTE: safe_load builds plain data only (no Python objects) and
            # refuses a stream of several documents: one object a manifest.
            document = yaml.safe_load(text)
        except yaml.YAMLError as e:
            raise _invalid(field, 'the manifest is neither JSON nor YAML: '
                                  '%s' % str(e).replace('\n', ' '))
        except RecursionError:
            raise _invalid(field, 'the manifest is nested too deeply')
    except RecursionError:
        raise _invalid(field, 'the manifest is nested too deeply')
    if not isinstance(document, dict):
        raise _invalid(field, 'the manifest must describe one object (a '
                              'mapping with kind, apiVersion and metadata)')
    return document


def check_kind(document, kind, field='manifest'):
    """Refuse a manifest of another kind, or without a name."""
    found = document.get('kind')
    if found != kind:
        raise _invalid(field, 'the manifest is of kind %r; this resource '
                              'takes kind %r' % (found, kind))
    version = document.get('apiVersion', 'v1')
    if version != 'v1':
        raise _invalid(field, 'apiVersion %r is not served here; %s is '
                              'apiVersion v1' % (version, kind))
    metadata = document.get('metadata')
    if not isinstance(metadata, dict) or not isinstance(
            metadata.get('name'), str) or not metadata['name']:
        raise _invalid(field, 'the manifest has no metadata.name')
    return document


def _address(text):
    address = ipaddress.ip_address(text)
    # NOTE: ::ffff:127.0.0.1 reaches 127.0.0.1; judge what it reaches.
    return getattr(address, 'ipv4_mapped', None) or address


def _allowed(address):
    address = _address(address)
    for network in CONF.kubernetes.manifest_allowed_networks:
        try:
            if address in ipaddress.ip_network(network, strict=False):
                return True
        except ValueError:
            LOG.warning('[kubernetes] manifest_allowed_networks has %r, '
                        'which is not a network; ignored', network)
    return address.is_global and not address.is_multicast


def _kind_of(address):
    address = _address(address)
    for name in ('loopback', 'link_local', 'private', 'multicast',
                 'reserved', 'unspecified'):
        if getattr(address, 'is_%s' % name):
            return '%s, a %s address' % (address, name.replace('_', '-'))
    return '%s, not a global address' % address


def _resolve(url):
    """(scheme, host, port, path, the one address to connect to)."""
    parts = parse.urlsplit(url)
    if parts.scheme not in ('http', 'https'):
        raise _invalid('manifest_url', '%r is not an http or https URL'
                       % url)
    if parts.username or parts.password:
        raise _invalid('manifest_url', 'the URL must not carry credentials')
    host = parts.hostname
    if not host:
        raise _invalid('manifest_url', '%r names no host' % url)
    try:
        port = parts.port or (443 if parts.scheme == 'https' else 80)
    except ValueError as e:
        raise _invalid('manifest_url', str(e))
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as e:
        raise _invalid('manifest_url', 'the host %s could not be resolved: '
                                       '%s' % (host, e))
    addresses = []
    for info in infos:
        address = info[4][0].split('%', 1)[0]
        if address not in addresses:
            addresses.append(address)
    refused = [a for a in addresses if not _allowed(a)]
    if refused:
        raise _invalid('manifest_url', '%s resolves to %s; manifests are '
                                       'not fetched from there unless the '
                                       'operator allows that network'
                       % (host, _kind_of(refused[0])))
    path = parts.path or '/'
    if parts.query:
        path += '?' + parts.query
    return parts.scheme, host, port, path, addresses[0]


def fetch(url):
    """The text at ``url``, within the limits in the module's note."""
    scheme, host, port, path, address = _resolve(url)
    limit = CONF.kubernetes.manifest_max_bytes
    seconds = CONF.kubernetes.manifest_fetch_timeout
    timeout = urllib3.Timeout(connect=seconds, read=seconds)
    if scheme == 'https':
        pool = urllib3.HTTPSConnectionPool(
            address, port, timeout=timeout, retries=False, maxsize=1,
            server_hostname=host, assert_hostname=host,
            cert_reqs='CERT_REQUIRED')
    else:
        pool = urllib3.HTTPConnectionPool(address, port, timeout=timeout,
                                          retries=False, maxsize=1)
    host_header = host if ':' not in host else '[%s]' % host
    if _default_port(scheme, port):
        headers = {'Host': host_header}
    else:
        headers = {'Host': '%s:%d' % (host_header, port)}
    headers['Accept'] = 'application/json, application/yaml, text/*'
    try:
        with pool:
            response = pool.urlopen('GET', path, headers=headers,
                                    redirect=False, preload_content=False)
            try:
                if response.status != 200:
                    raise _invalid('manifest_url', '%s answered %d %s' % (
                        url, response.status, response.reason))
                length = response.headers.get('Content-Length')
                if length and length.isdigit() and int(length) > limit:
                    raise _invalid('manifest_url', 'the manifest is larger '
                                                   'than %d bytes' % limit)
                body = b''
                for chunk in response.stream(_CHUNK):
                    body += chunk
                    if len(body) > limit:
                        raise _invalid('manifest_url', 'the manifest is '
                                       'larger than %d bytes' % limit)
            finally:
                response.release_conn()
    except urllib3.exceptions.HTTPError as e:
        raise _invalid('manifest_url', '%s could not be fetched: %s'
                       % (url, _reason(e)))
    try:
        text = body.decode('utf-8')
    except UnicodeDecodeError:
        raise _invalid('manifest_url', 'the manifest at %s is not UTF-8'
                       % url)
    return text


def _default_port(scheme, port):
    return port == (443 if scheme == 'https' else 80)


def _reason(e):
    return str(getattr(e, 'reason', None) or e)


def load(kind, manifest=None, manifest_url=None):
    """The object a request describes: from ``manifest`` text or fetched
    from ``manifest_url`` (exactly one of them), checked to be ``kind``.
    """
    if manifest_url:
        field = 'manifest_url'
        document = parse_text(fetch(manifest_url), field)
    else:
        field = 'manifest'
        document = parse_text(manifest, field)
    return check_kind(document, kind, field)
