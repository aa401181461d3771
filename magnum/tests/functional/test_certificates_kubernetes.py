"""Certificates end to end on Kubernetes: a static kubernetes bay whose real
kube-apiserver serves the bay's own certificates and trusts its CA's client
certificates (``--client-ca-file``).

magnum-api and magnum-conductor run on PostgreSQL and RabbitMQ (noauth)
with ``[static] certificate_dir`` and *no* ``[kubernetes] kubeconfig``: the
bay's client certificate is the only credential the conductor has. The
conductor delivers the bay's CA, server certificate and key, and the test
starts kube-apiserver 1.20 (tokens and RBAC, kube_apiserver.py) on a free
port chosen beforehand, with those files. RBAC there grants the ClusterRole
``magnum`` to the user ``magnum`` (the conductor certificate's CN) and
nothing else to it; ``system:masters`` (the O of the ``/config``
certificates) is Kubernetes' administrator group.

Checked: pods go through Magnum over TLS with the bay's client certificate,
as the RBAC user ``magnum``; a certificate signed through
``POST /v1/certificates`` and the kubeconfig of ``GET /v1/bays/<ident>/
config`` let the test's own ``kubernetes`` client in as the subject they
carry; after a CA rotation (kube-apiserver restarted on the new files) the
old certificates are refused and Magnum still works; no private key in
clear in responses, logs or the database's key columns.
"""

import base64
import json
import os
import shutil
import tempfile
import time

from cryptography import x509 as cx509
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives import serialization
import kubernetes.client
from kubernetes.config import kube_config
import pytest
import sqlalchemy as sa
import yaml

from magnum.common import x509
from magnum.tests.functional import cluster_tools
from magnum.tests.functional import db_servers
from magnum.tests.functional import kube_apiserver as kube_mod
from magnum.tests.functional import processes

pytestmark = [pytest.mark.kubernetes, pytest.mark.postgresql,
              pytest.mark.rabbitmq]

OWNER = {'X-Project-Id': 'kcert-owner', 'X-User-Id': 'alice',
         'X-Roles': 'member'}
NAMESPACE = 'magnum-kcert-owner'
RESPONSES = []   # every body the API sent, for the final scan


class World:
    pass


def _record(response):
    RESPONSES.append(response.text)
    return response


def _pod(name):
    return ('{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "%s"},'
            ' "spec": {"containers": [{"name": "web", "image": "nginx:1"}]}}'
            % name)


def _create_pod(world, name):
    return _record(world.api.post('/v1/pods', json={
        'manifest': _pod(name), 'bay_uuid': world.bay}))


def _key_pem(key):
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()).decode()


def _write(directory, name, text):
    path = os.path.join(directory, name)
    with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600),
              'w') as f:
        f.write(text)
    return path


def _kube_client(world, cert=None, key=None, ca=None):
    """The test's own kubernetes client, checking the server against the
    bay's CA (``ca``, PEM; the delivered ca.crt by default) by address.
    """
    d = tempfile.mkdtemp(dir=world.scratch)
    config = kubernetes.client.Configuration()
    config.host = world.kube.url
    config.verify_ssl = True
    config.ssl_ca_cert = (_write(d, 'ca.crt', ca) if ca
                          else os.path.join(world.bay_dir, 'ca.crt'))
    if cert:
        config.cert_file = _write(d, 'client.crt', cert)
        config.key_file = _write(d, 'client.key', key)
    config.retries = False
    return kubernetes.client.ApiClient(config)


def _list_pods(api_client):
    with api_client as api:
        return kubernetes.client.CoreV1Api(api).list_namespaced_pod(
            NAMESPACE, _request_timeout=10)


def _status_of(api_client):
    """The HTTP status the API answers a pod list with."""
    try:
        _list_pods(api_client)
    except kubernetes.client.ApiException as e:
        return e.status
    return 200


def _sign(world, cn, org=None):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    csr = x509.make_csr(key, x509.name(cn, org)).public_bytes(
        serialization.Encoding.PEM).decode()
    signed = _record(world.api.post('/v1/certificates', json={
        'bay_uuid': world.bay, 'csr': csr}))
    assert signed.status_code == 201, signed.text
    return signed.json()['pem'], _key_pem(key)


def _wait_until(what, check, timeout=20):
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        assert time.monotonic() < deadline, 'no %s within %ss' % (what,
                                                                 timeout)
        time.sleep(0.2)


@pytest.fixture(scope='module')
def world():
    w = World()
    w.scratch = tempfile.mkdtemp(prefix='mgkcert-')
    w.cert_dir = os.path.join(w.scratch, 'bays')
    os.mkdir(w.cert_dir, 0o700)
    port = processes.free_port()
    with processes.running(db_servers.PostgresDatabase()) as database:
        with processes.running(processes.MagnumServices(
                database.url, periodic_interval=1,
                extra={'static': {'certificate_dir': w.cert_dir}})) as magnum:
            w.database, w.magnum = database, magnum
            w.api = processes.Client(magnum, headers=OWNER)
            baymodel = _record(w.api.post('/v1/baymodels', json={
                'name': processes.unique_name('ktls'), 'coe': 'kubernetes',
                'labels': {'provisioner': 'static',
                           'kube_api_url': 'https://127.0.0.1:%d' % port}}))
            assert baymodel.status_code == 201, baymodel.text
            t0 = time.monotonic()
            bay = _record(w.api.post('/v1/bays', json={
                'name': processes.unique_name('ktls'),
                'baymodel_id': baymodel.json()['uuid']}))
            assert bay.status_code == 201, bay.text
            w.bay = bay.json()['uuid']
            w.bay_dir = os.path.join(w.cert_dir, w.bay)
            deadline = time.monotonic() + 30
            while not os.path.exists(os.path.join(w.bay_dir, 'server.key')):
                assert time.monotonic() < deadline, magnum.logs()
                time.sleep(0.1)
            assert _record(w.api.get('/v1/bays/%s' % w.bay)).json()[
                'status'] == 'CREATE_IN_PROGRESS'
            with kube_mod.KubeAPIServer(auth='token', port=port,
                                        tls_dir=w.bay_dir) as kube:
                w.kube = kube
                # NOTE: the reconciler asks every second; the bay may see
                # a 403 until RBAC knows the user magnum.
                bay = processes.wait_for_bay(
                    w.api, magnum, w.bay,
                    ('CREATE_COMPLETE', 'CREATE_FAILED'), timeout=90)
                w.created = time.monotonic() - t0
                assert bay['status'] == 'CREATE_COMPLETE', '%s\n%s' % (
                    bay['status_reason'], magnum.logs())
                yield w
            w.api.close()
    shutil.rmtree(w.scratch, ignore_errors=True)


def test_the_api_serves_the_bays_server_certificate(world):
    assert world.kube.url == 'https://127.0.0.1:%d' % int(
        world.kube.url.rsplit(':', 1)[1])
    # The admin's token, the server checked against the bay's CA by address.
    with world.kube.client() as api:
        assert kubernetes.client.VersionApi(api).get_code().git_version
    bay = world.api.get('/v1/bays/%s' % world.bay).json()
    assert bay['api_address'] == world.kube.url
    print('\nbay complete %.2fs after POST' % world.created)


def test_a_bay_whose_endpoint_presents_an_older_certificate_waits(world):
    # A second bay on the same endpoint: kube-apiserver presents the first
    # bay's server certificate, not one of the new bay's CA. The create
    # waits for it (until bay_create_timeout); it does not fail at once.
    baymodel = world.api.get('/v1/bays/%s' % world.bay).json()['baymodel_id']
    created = _record(world.api.post('/v1/bays', json={
        'name': processes.unique_name('ktls'), 'baymodel_id': baymodel}))
    assert created.status_code == 201, created.text
    uuid = created.json()['uuid']
    try:
        _wait_until('a status_reason', lambda: world.api.get(
            '/v1/bays/%s' % uuid).json()['status_reason'])
        time.sleep(2.5)   # the reconciler asks again every second
        bay = _record(world.api.get('/v1/bays/%s' % uuid)).json()
        assert bay['status'] == 'CREATE_IN_PROGRESS', bay['status_reason']
        assert bay['status_reason'] == (
            "Waiting for %s to present a certificate signed by the bay's "
            "CA: certificate verify failed: unable to get local issuer "
            "certificate" % world.kube.url)
    finally:
        _record(world.api.delete('/v1/bays/%s' % uuid))
        processes.wait_for_bay(world.api, world.magnum, uuid, (None,))


def test_pods_go_through_magnum_over_tls(world):
    name = processes.unique_name('p')
    created = _create_pod(world, name)
    assert created.status_code == 201, created.text
    listed = _record(world.api.get('/v1/pods?bay_ident=%s' % world.bay))
    assert listed.status_code == 200, listed.text
    assert name in [p['name'] for p in listed.json()['pods']]
    with world.kube.client() as api:
        pod = kubernetes.client.CoreV1Api(api).read_namespaced_pod(
            name, NAMESPACE)
    assert pod.metadata.name == name


def test_magnum_is_the_rbac_user_magnum_not_an_administrator(world):
    # Without the binding of the ClusterRole `magnum` to the user `magnum`,
    # Magnum's calls are forbidden: its certificate is that user, in no
    # group that RBAC grants anything.
    with world.kube.client() as api:
        rbac = kubernetes.client.RbacAuthorizationV1Api(api)
        binding = rbac.read_cluster_role_binding('magnum')
        assert [(s.kind, s.name) for s in binding.subjects] == [
            ('User', 'magnum')]
        rbac.delete_cluster_role_binding('magnum')
    try:
        # NOTE: a list, since a Response that is not ok is false.
        refused = _wait_until('refusal', lambda: [
            r for r in [world.api.get('/v1/pods?bay_ident=%s' % world.bay)]
            if r.status_code != 200])[0]
        _record(refused)
        assert refused.status_code == 503, refused.text
        assert 'User "magnum" cannot list resource "pods"' in (
            processes.faultstring(refused))
    finally:
        with world.kube.client() as api:
            kubernetes.client.RbacAuthorizationV1Api(
                api).create_cluster_role_binding(
                    kubernetes.client.V1ClusterRoleBinding(
                        metadata=kubernetes.client.V1ObjectMeta(
                            name='magnum'),
                        role_ref=binding.role_ref,
                        subjects=binding.subjects))
    _wait_until('access again', lambda: world.api.get(
        '/v1/pods?bay_ident=%s' % world.bay).status_code == 200)


def test_no_client_certificate_is_anonymous_and_forbidden(world):
    assert _status_of(_kube_client(world)) == 403


def test_signed_csr_lets_the_tests_kubernetes_client_in(world):
    cert, key = _sign(world, 'tenant-tool', 'system:masters')
    parsed = cx509.load_pem_x509_certificate(cert.encode())
    assert parsed.subject.get_attributes_for_oid(
        cx509.NameOID.COMMON_NAME)[0].value == 'tenant-tool'
    pods = _list_pods(_kube_client(world, cert, key))
    assert pods.items is not None
    world.old_signed = (cert, key)


def test_a_signed_certificates_subject_is_its_kubernetes_identity(world):
    # CN is the user, O the groups: without a group RBAC knows, the user is
    # authenticated (not anonymous) and forbidden.
    cert, key = _sign(world, 'just-a-user')
    with pytest.raises(kubernetes.client.ApiException) as caught:
        _list_pods(_kube_client(world, cert, key))
    assert caught.value.status == 403
    assert 'User "just-a-user" cannot list' in json.loads(
        caught.value.body)['message']


def test_bay_config_kubeconfig_lets_the_caller_in(world):
    response = world.api.get('/v1/bays/%s/config' % world.bay)
    assert response.status_code == 200, response.text
    assert response.headers['Cache-Control'] == 'no-store'
    assert response.json()['format'] == 'kubeconfig'
    data = yaml.safe_load(response.json()['kubeconfig'])
    config = kubernetes.client.Configuration()
    loader = kube_config.KubeConfigLoader(config_dict=data)
    loader.load_and_set(config)
    config.retries = False
    assert config.host == world.kube.url
    with kubernetes.client.ApiClient(config) as api:
        pods = kubernetes.client.CoreV1Api(api).list_namespaced_pod(
            NAMESPACE, _request_timeout=10)
    assert pods.items is not None
    user = data['users'][0]['user']
    cert = cx509.load_pem_x509_certificate(
        base64.b64decode(user['client-certificate-data']))
    assert cert.subject.get_attributes_for_oid(
        cx509.NameOID.COMMON_NAME)[0].value == OWNER['X-User-Id']
    assert cert.subject.get_attributes_for_oid(
        cx509.NameOID.ORGANIZATION_NAME)[0].value == 'system:masters'
    world.old_config = config


def test_the_auto_healer_and_the_autoscaler_on_a_static_bay(world):
    """Their requests as their source sends them (cluster_tools): health
    reports taken whatever the bay does, its status untouched; node group
    bounds changed while the cluster exists, read back by the
    autoscaler's discovery; its resize by node group uuid, and a resize
    outside the bounds a 400 naming the bound."""
    api, bay = world.api, world.bay
    reason, text = cluster_tools.healer_reason(api_ok=True)
    shown = cluster_tools.healer_report(api, bay, 'HEALTHY', text)
    assert (shown['health_status'], shown['health_status_reason']) == (
        'HEALTHY', reason)
    reason, text = cluster_tools.healer_reason(['ktls-node-0'])
    shown = cluster_tools.healer_report(api, bay, 'UNHEALTHY', text)
    assert shown['health_status_reason'] == reason
    assert shown['status'] == 'CREATE_COMPLETE'

    latest = {'OpenStack-API-Version': 'container-infra latest'}
    response = api.patch('/v1/clusters/%s/nodegroups/default-worker' % bay,
                         headers=latest, json=[
                             {'op': 'replace', 'path': '/min_node_count',
                              'value': 1},
                             {'op': 'replace', 'path': '/max_node_count',
                              'value': 3}])
    assert response.status_code == 202, response.text
    uuid, scaled = cluster_tools.autoscaler_discover(api, bay)
    assert uuid == bay
    [group] = scaled.values()
    assert (group['name'], group['min_node_count'],
            group['max_node_count']) == ('default-worker', 1, 3)
    response = cluster_tools.autoscaler_resize(api, bay, group['uuid'], 2)
    assert response.status_code == 202, response.text
    assert response.json() == {'uuid': bay}
    done = processes.wait_for_bay(api, world.magnum, bay, (
        'UPDATE_COMPLETE', 'UPDATE_FAILED'))
    assert done['status'] == 'UPDATE_COMPLETE', done['status_reason']
    assert done['node_count'] == 2
    for count, bound in ((4, 'max_node_count'), (0, 'min_node_count')):
        response = cluster_tools.autoscaler_resize(api, bay, group['uuid'],
                                                   count)
        assert response.status_code == 400, response.text
        assert bound in processes.faultstring(response)
    response = api.patch('/v1/clusters/%s/nodegroups/%s' % (
        bay, group['uuid']), headers=latest, json=[
            {'op': 'replace', 'path': '/max_node_count', 'value': 5}])
    assert response.status_code == 202, response.text
    _, scaled = cluster_tools.autoscaler_discover(api, bay)
    assert scaled[group['uuid']]['max_node_count'] == 5
    assert api.get('/v1/bays/%s' % bay).json()['status'] == (
        'UPDATE_COMPLETE')


def test_rotation_refuses_old_certificates_and_magnum_still_works(world):
    old_ca = world.api.get('/v1/certificates/%s' % world.bay).json()['pem']
    t0 = time.monotonic()
    rotated = _record(world.api.patch('/v1/certificates/%s' % world.bay))
    rotate_time = time.monotonic() - t0
    assert rotated.status_code == 202, rotated.text
    new_ca = world.api.get('/v1/certificates/%s' % world.bay).json()['pem']
    assert new_ca != old_ca
    with open(os.path.join(world.bay_dir, 'ca.crt')) as f:
        assert f.read() == new_ca
    t0 = time.monotonic()
    world.kube.restart()   # kube-apiserver reads the new files
    restart_time = time.monotonic() - t0
    # The old CA's certificates: 401, checked against the new CA's server.
    cert, key = world.old_signed
    assert _status_of(_kube_client(world, cert, key, new_ca)) == 401
    world.old_config.ssl_ca_cert = os.path.join(world.bay_dir, 'ca.crt')
    world.old_config.tls_server_name = None
    with kubernetes.client.ApiClient(world.old_config) as api:
        with pytest.raises(kubernetes.client.ApiException) as caught:
            kubernetes.client.CoreV1Api(api).list_namespaced_pod(
                NAMESPACE, _request_timeout=10)
    assert caught.value.status == 401
    # The server is now the new CA's: the old CA does not verify it.
    with pytest.raises(kubernetes.client.ApiException) as caught:
        _list_pods(_kube_client(world, ca=old_ca))
    assert caught.value.status == 0
    assert 'CERTIFICATE_VERIFY_FAILED' in caught.value.reason
    # Magnum, with its new client certificate.
    name = processes.unique_name('p')
    created = _create_pod(world, name)
    assert created.status_code == 201, created.text
    listed = _record(world.api.get('/v1/pods?bay_ident=%s' % world.bay))
    assert name in [p['name'] for p in listed.json()['pods']]
    # A certificate of the new CA is let in.
    cert, key = _sign(world, 'tenant-tool', 'system:masters')
    assert _status_of(_kube_client(world, cert, key)) == 200
    print('\nCA rotation answered in %.2fs, kube-apiserver restarted in '
          '%.2fs' % (rotate_time, restart_time))


def test_no_private_key_in_clear_anywhere(world):
    for text in RESPONSES:
        assert 'PRIVATE KEY-----' not in text
    for name in os.listdir(world.magnum.work_dir):
        path = os.path.join(world.magnum.work_dir, name)
        if os.path.isfile(path):
            with open(path, 'rb') as f:
                assert b'PRIVATE KEY-----' not in f.read(), name
    engine = sa.create_engine(world.database.url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(sa.text(
                'SELECT ca_key, server_key, client_key FROM bay_certificate'
            )).all()
    finally:
        engine.dispose()
    assert rows
    for row in rows:
        for value in row:
            assert value.startswith('fernet:')
