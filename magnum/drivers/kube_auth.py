"""Magnum's credentials for a bay's Kubernetes API server.

Both the conductor's Kubernetes client (pods, services, RCs) and the
static provisioner (which asks a bay's API for its nodes) speak to a bay's
API server as Magnum. ``configuration(url, verify)`` gives them a
``kubernetes.client.Configuration`` for it, from the first source that
knows the endpoint:

1. the bay's own CA and the client certificate Magnum issued for itself
   from it, when the bay's endpoint serves the bay's certificates
   (magnum/objects/bay_tls.py); the server is checked against the bay's CA
   and server name;
2. the operator's kubeconfig, ``[kubernetes] kubeconfig``: the context
   whose cluster ``server`` is the bay's ``api_address`` (scheme, host and
   port compared, a default port and a trailing "/" ignored). Its user may
   have a bearer ``token``, a ``tokenFile``, or ``client-certificate`` and
   ``client-key`` (or their ``-data`` forms); its cluster's
   ``certificate-authority`` is the CA the server's certificate is checked
   against;
3. nothing: the request carries no credentials.

NOTE: credentials never live in BayModel labels or any other field the API
returns; the kubeconfig is a file on the conductors' hosts only. Nothing
here logs a credential.
"""

import threading
from urllib import parse

import kubernetes.client
from kubernetes.config import kube_config
from oslo_config import cfg
from oslo_log import log as logging
import yaml

LOG = logging.getLogger(__name__)
CONF = cfg.CONF

_LOCK = threading.Lock()


def _endpoint(url):
    """(scheme, host, port, path) of a URL, for comparing endpoints."""
    try:
        parts = parse.urlsplit((url or '').strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if port is None:
        port = {'https': 443, 'http': 80}.get(scheme)
    return (scheme, (parts.hostname or '').lower(), port,
            parts.path.rstrip('/'))


def _kubeconfig_context(path, url):
    """The name of the context in ``path`` for ``url``, or None."""
    try:
        with open(path) as f:
            data = yaml.safe_load(f) or {}
    except (OSError, yaml.YAMLError) as e:
        # NOTE: the error names the file, never its contents.
        LOG.error('Could not read [kubernetes] kubeconfig %s: %s', path,
                  type(e).__name__)
        return None
    wanted = _endpoint(url)
    servers = {}
    for item in data.get('clusters') or []:
        if isinstance(item, dict) and isinstance(item.get('cluster'), dict):
            servers[item.get('name')] = item['cluster'].get('server')
    for item in data.get('contexts') or []:
        if not isinstance(item, dict) or not isinstance(
                item.get('context'), dict):
            continue
        server = servers.get(item['context'].get('cluster'))
        if server and _endpoint(server) == wanted:
            return item.get('name')
    return None


def _from_bay_ca(url, config, bay):
    if bay is None:
        return False
    # NOTE: imported here: the API process imports this module too.
    from magnum.drivers import tls_clients
    return tls_clients.kube_configure(config, bay)


def _from_kubeconfig(url, config, bay=None):
    path = CONF.kubernetes.kubeconfig
    if not path:
        return False
    name = _kubeconfig_context(path, url)
    if name is None:
        return False
    # NOTE: the kubernetes library resolves relative file names against the
    # kubeconfig's directory and writes -data forms to private temp files.
    with _LOCK:
        kube_config.load_kube_config(config_file=path, context=name,
                                     client_configuration=config,
                                     persist_config=False)
    # NOTE: a tokenFile is read as it is, newline and all, which no HTTP
    # header may carry (and the error would print the token). The
    # configuration is built afresh for each use, so the library's refresh
    # hook, which would put the newline back, is not needed.
    config.refresh_api_key_hook = None
    for key, value in list(config.api_key.items()):
        if isinstance(value, str):
            config.api_key[key] = value.strip()
    return True


# The sources, most specific first; each fills ``config`` and returns True
# when it knows the endpoint.
_SOURCES = (_from_bay_ca, _from_kubeconfig)


def configuration(url, verify=True, bay=None):
    """A client configuration for the API server at ``url``.

    ``verify=False`` (the BayModel label ``kube_tls_verify=false``) skips
    checking the server's certificate whatever the source says, except for
    a bay's own CA, which is always checked. ``bay`` (a Bay) lets the
    bay's own certificates go first.
    """
    config = kubernetes.client.Configuration()
    own_ca = False
    for source in _SOURCES:
        if source(url, config, bay):
            own_ca = source is _from_bay_ca
            break
    config.host = url.rstrip('/')
    if not verify and not own_ca:
        config.verify_ssl = False
    # NOTE: a bay that does not answer is reported at once; the caller
    # decides whether to try again.
    config.retries = False
    return config
