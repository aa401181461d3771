"""Docker and Kubernetes clients that speak TLS with a bay's certificates.

The conductor checks the bay's server against the bay's CA *and* against
the name every server certificate of the bay carries
(``x509.server_name``), not the address in the URL: a Heat bay's address
is not known when its CA is made, and the name is what makes a
certificate the bay's server certificate.
"""

import docker
from docker import tls as docker_tls
from requests import adapters

from magnum.objects import bay_tls

# NOTE: the lowest API version the docker SDK speaks; the client is made
# with it so that no request leaves before the TLS adapter is in place.
_BOOT_VERSION = '1.24'


class _ServerNameAdapter(adapters.HTTPAdapter):
    """HTTPS whose certificate must name ``server_name`` (SNI too)."""

    def __init__(self, server_name, **kwargs):
        self._server_name = server_name
        super().__init__(**kwargs)

    def init_poolmanager(self, *args, **kwargs):
        kwargs['server_hostname'] = self._server_name
        kwargs['assert_hostname'] = self._server_name
        super().init_poolmanager(*args, **kwargs)


def docker_tls_config(tls):
    return docker_tls.TLSConfig(client_cert=(tls.cert_file, tls.key_file),
                                ca_cert=tls.ca_file, verify=True)


def docker_api_client(url, bay, timeout, version=None):
    """A ``docker.APIClient`` on ``url``; over TLS with the bay's client
    certificate when the bay's endpoint serves its certificates.
    """
    tls = bay_tls.client_tls(bay) if bay is not None else None
    if tls is None:
        return docker.APIClient(base_url=url, version=version or 'auto',
                                timeout=timeout)
    client = docker.APIClient(base_url=url, version=version or _BOOT_VERSION,
                              timeout=timeout, tls=docker_tls_config(tls))
    # NOTE: with trust_env, requests takes REQUESTS_CA_BUNDLE or
    # CURL_CA_BUNDLE from the environment over the session's CA: the bay's
    # CA must be the only one.
    client.trust_env = False
    client.mount('https://', _ServerNameAdapter(tls.server_name))
    if version is None:
        # NOTE: what version='auto' would have asked, through the adapter.
        client._version = client.version(api_version=False)['ApiVersion']
    return client


def kube_configure(config, bay):
    """Fill a ``kubernetes.client.Configuration`` with the bay's client
    certificate and CA; False when the bay's endpoint does not serve them.
    """
    tls = bay_tls.client_tls(bay) if bay is not None else None
    if tls is None:
        return False
    config.ssl_ca_cert = tls.ca_file
    config.cert_file = tls.cert_file
    config.key_file = tls.key_file
    config.verify_ssl = True
    config.tls_server_name = tls.server_name
    config.assert_hostname = tls.server_name
    return True
