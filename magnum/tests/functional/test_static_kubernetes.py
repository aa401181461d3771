"""The ``static`` provisioner against a real Kubernetes API.

The API is a private etcd + kube-apiserver 1.20 built from Debian's
``kubernetes`` source and started by tools/kube-apiserver.sh (see
kube_apiserver.py); nothing here mocks Kubernetes. It serves HTTPS with a
self-signed certificate, hence ``kube_tls_verify=false`` on the BayModels.
"""

import socket
import uuid

import kubernetes.client
import pytest

from magnum import conf  # noqa: F401  (registers the [static] options)
from magnum.common import context as magnum_context
from magnum.drivers import static
from magnum.objects import bay as bay_obj
from magnum.objects import baymodel as baymodel_obj
from magnum.tests.functional import kube_apiserver as kube_mod

pytestmark = [
    pytest.mark.kubernetes,
    pytest.mark.filterwarnings(
        'ignore::urllib3.exceptions.InsecureRequestWarning'),
]

kube_apiserver = pytest.fixture(scope='module')(kube_mod.kube_apiserver)


@pytest.fixture
def core_v1(kube_apiserver):
    """The test's own client, which checks the server's certificate."""
    with kube_apiserver.client() as api:
        yield kubernetes.client.CoreV1Api(api)


@pytest.fixture
def node(core_v1):
    """Registers a Node (no kubelet behind it) with addresses; yields them.
    """
    name = 'magnum-test-%s' % uuid.uuid4().hex[:8]
    addresses = {'InternalIP': '10.20.30.%d' % (uuid.uuid4().int % 250 + 2),
                 'ExternalIP': '203.0.113.7',
                 'Hostname': name}
    core_v1.create_node(kubernetes.client.V1Node(
        metadata=kubernetes.client.V1ObjectMeta(name=name)))
    try:
        # NOTE: status is a subresource: create_node drops it, so the
        # addresses go in with a patch of node/status.
        patched = core_v1.patch_node_status(name, {'status': {'addresses': [
            {'type': kind, 'address': address}
            for kind, address in addresses.items()]}})
        assert {a.type: a.address for a in patched.status.addresses} == \
            addresses
        yield addresses
    finally:
        core_v1.delete_node(name)


def _internal_ips(core_v1):
    return [a.address
            for item in core_v1.list_node().items
            for a in (item.status.addresses or [])
            if a.type == 'InternalIP']


def _baymodel(url, **labels):
    labels['kube_api_url'] = url
    return baymodel_obj.BayModel(coe='kubernetes', labels=labels)


def _create(baymodel):
    return static.StaticProvisioner().create(
        magnum_context.make_admin_context(), bay_obj.Bay(), baymodel)


@pytest.fixture
def closed_port_url():
    """An https URL on 127.0.0.1 where nothing listens."""
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        port = s.getsockname()[1]
    return 'https://127.0.0.1:%d' % port


# -- the real API -------------------------------------------------------------

def test_api_answers_anonymously_over_tls(kube_apiserver, core_v1):
    # The tooling's promise to later tests.
    with kube_apiserver.client() as api:
        version = kubernetes.client.VersionApi(api).get_code()
    assert version.git_version == 'v1.20.2'
    assert kube_apiserver.url.startswith('https://127.0.0.1:')
    names = [ns.metadata.name for ns in core_v1.list_namespace().items]
    assert 'default' in names


def test_create_registers_the_api(kube_apiserver, core_v1):
    url = kube_apiserver.url

    state = _create(_baymodel(url, kube_tls_verify='false'))

    assert state.status == bay_obj.CREATE_COMPLETE, state.status_reason
    assert state.api_address == url
    assert state.master_addresses == ['127.0.0.1']
    assert state.node_addresses == _internal_ips(core_v1)
    assert url in state.status_reason


def test_create_reports_registered_nodes(kube_apiserver, core_v1, node):
    state = _create(_baymodel(kube_apiserver.url, kube_tls_verify='false'))

    assert state.status == bay_obj.CREATE_COMPLETE, state.status_reason
    assert node['InternalIP'] in state.node_addresses
    # Only internal addresses are nodes' addresses.
    assert node['ExternalIP'] not in state.node_addresses
    assert node['Hostname'] not in state.node_addresses
    assert state.master_addresses == ['127.0.0.1']


def test_update_asks_the_api_again(kube_apiserver, core_v1, node):
    state = static.StaticProvisioner().update(
        magnum_context.make_admin_context(), bay_obj.Bay(),
        _baymodel(kube_apiserver.url, kube_tls_verify='false'))

    assert state.status == bay_obj.UPDATE_COMPLETE, state.status_reason
    assert state.api_address == kube_apiserver.url
    assert node['InternalIP'] in state.node_addresses


def test_create_checks_the_certificate_by_default(kube_apiserver):
    # The API's certificate is self-signed: without kube_tls_verify=false
    # the provisioner refuses it.
    url = kube_apiserver.url

    state = _create(_baymodel(url))

    assert state.status == bay_obj.CREATE_FAILED
    assert url in state.status_reason
    assert 'CERTIFICATE_VERIFY_FAILED' in state.status_reason
    assert state.api_address is None
    assert state.node_addresses is None


def test_create_fails_on_a_closed_port(closed_port_url):
    state = _create(_baymodel(closed_port_url, kube_tls_verify='false'))

    assert state.status == bay_obj.CREATE_FAILED
    assert closed_port_url in state.status_reason
    assert 'did not answer' in state.status_reason
    assert 'Connection refused' in state.status_reason
    assert state.api_address is None
    assert state.master_addresses is None
    assert state.node_addresses is None


def test_create_fails_without_a_url():
    state = _create(baymodel_obj.BayModel(coe='kubernetes', labels={}))

    assert state.status == bay_obj.CREATE_FAILED
    assert 'kube_api_url' in state.status_reason
