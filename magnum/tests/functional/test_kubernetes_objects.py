"""Pods, services and replication controllers against a real Kubernetes.

magnum-api and magnum-conductor (PostgreSQL, RabbitMQ) in front of the
session's kube-apiserver 1.20 with bearer tokens and RBAC (conftest.py's
``kube``; kube_apiserver.py, ``auth='token'``), in namespaces of this
module's projects. Magnum's credentials are the ``magnum`` user's token
file, named by ``[kubernetes] kubeconfig`` on the conductor; the bays are
static kubernetes bays on that API. What Magnum says is checked against
what Kubernetes holds, read with the Kubernetes admin's own client.

Manifests served by the test come from 127.0.0.1, which the deployment
allows (``manifest_allowed_networks = 127.0.0.1/32``); any other loopback
address and the link-local metadata address stay refused.
"""

import http.server
import json
import os
import threading
import time

import kubernetes.client
import pytest

from magnum.tests.functional import db_servers
from magnum.tests.functional import processes

pytestmark = [pytest.mark.kubernetes, pytest.mark.postgresql,
              pytest.mark.rabbitmq]


PROJECT_A = {'X-Project-Id': 'k8s-project-a', 'X-User-Id': 'user-a',
             'X-Roles': 'member'}
PROJECT_B = {'X-Project-Id': 'k8s-project-b', 'X-User-Id': 'user-b',
             'X-Roles': 'member'}
READER_A = dict(PROJECT_A, **{'X-Roles': 'reader'})
COLLECTIONS = {'pod': 'pods', 'service': 'services', 'rc': 'rcs'}


# -- manifests ----------------------------------------------------------------

def manifest(resource, name, fmt='json'):
    """A manifest of ``resource`` called ``name`` as JSON or YAML text."""
    if resource == 'pod':
        obj = {'apiVersion': 'v1', 'kind': 'Pod',
               'metadata': {'name': name, 'labels': {'app': name}},
               'spec': {'containers': [{'name': 'web', 'image': 'nginx:1'}]}}
    elif resource == 'service':
        obj = {'apiVersion': 'v1', 'kind': 'Service',
               'metadata': {'name': name, 'labels': {'app': name}},
               'spec': {'selector': {'app': name},
                        'ports': [{'port': 80, 'targetPort': 8080}]}}
    else:
        obj = {'apiVersion': 'v1', 'kind': 'ReplicationController',
               'metadata': {'name': name, 'labels': {'app': name}},
               'spec': {'replicas': 1, 'selector': {'app': name},
                        'template': {
                            'metadata': {'labels': {'app': name}},
                            'spec': {'containers': [
                                {'name': 'web', 'image': 'busybox:1'}]}}}}
    if fmt == 'json':
        return json.dumps(obj)
    # Written by hand, as a person would, not by a YAML library.
    lines = ['apiVersion: v1', 'kind: %s' % obj['kind'], 'metadata:',
             '  name: %s' % name, '  labels:', '    app: %s' % name, 'spec:']
    if resource == 'pod':
        lines += ['  containers:', '  - name: web', '    image: nginx:1']
    elif resource == 'service':
        lines += ['  selector:', '    app: %s' % name, '  ports:',
                  '  - port: 80', '    targetPort: 8080']
    else:
        lines += ['  replicas: 1', '  selector:', '    app: %s' % name,
                  '  template:', '    metadata:', '      labels:',
                  '        app: %s' % name, '    spec:', '      containers:',
                  '      - name: web', '        image: busybox:1']
    return '\n'.join(lines) + '\n'


class ManifestServer:
    """Serves ``files`` (path -> bytes) over HTTP on ``host``, a free port.
    """

    def __init__(self, host='127.0.0.1'):
        self.files = {}
        files = self.files

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                body = files.get(self.path)
                if body is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header('Content-Type', 'application/yaml')
                self.send_header('Content-Length', str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer((host, 0), Handler)
        self.url = 'http://%s:%d' % (host, self.server.server_address[1])
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       daemon=True)
        self.thread.start()

    def serve(self, path, text):
        self.files[path] = text.encode() if isinstance(text, str) else text
        return self.url + path

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope='module')
def files():
    server = ManifestServer()
    yield server
    server.close()


# -- the deployment -----------------------------------------------------------

@pytest.fixture(scope='module')
def magnum(kube, tmp_path_factory):
    kubeconfig = kube.magnum_kubeconfig(
        str(tmp_path_factory.mktemp('kubecfg') / 'kubeconfig'))
    extra = {'DEFAULT': {'debug': True},
             'kubernetes': {'kubeconfig': kubeconfig,
                            'manifest_allowed_networks': '127.0.0.1/32',
                            'manifest_max_bytes': 65536}}
    with processes.running(db_servers.PostgresDatabase()) as database:
        with processes.running(processes.MagnumServices(
                database.url, extra=extra)) as magnum:
            yield magnum


@pytest.fixture(scope='module')
def api_a(magnum):
    client = processes.Client(magnum, headers=PROJECT_A)
    yield client
    client.close()


@pytest.fixture(scope='module')
def api_b(magnum):
    client = processes.Client(magnum, headers=PROJECT_B)
    yield client
    client.close()


def _make_bay(api, magnum, url, name):
    response = api.post('/v1/baymodels', json={
        'name': name, 'coe': 'kubernetes',
        'labels': {'provisioner': 'static', 'kube_api_url': url}})
    assert response.status_code == 201, response.text
    response = api.post('/v1/bays', json={
        'name': name, 'baymodel_id': response.json()['uuid']})
    assert response.status_code == 201, response.text
    bay = processes.wait_for_bay(api, magnum, response.json()['uuid'],
                                 ('CREATE_COMPLETE', 'CREATE_FAILED'))
    assert bay['status'] == 'CREATE_COMPLETE', (bay, magnum.logs())
    return bay


@pytest.fixture(scope='module')
def bay_a(api_a, magnum, kube):
    return _make_bay(api_a, magnum, kube.url, processes.unique_name('kba'))


@pytest.fixture(scope='module')
def bay_b(api_b, magnum, kube):
    # Project B's own bay on the very same Kubernetes API.
    return _make_bay(api_b, magnum, kube.url, processes.unique_name('kbb'))


@pytest.fixture
def core_v1(kube):
    """The Kubernetes admin's own client, to see what Magnum did."""
    with kube.client() as api:
        yield kubernetes.client.CoreV1Api(api)


def _namespace(project):
    return 'magnum-' + project['X-Project-Id']


def _read(core_v1, resource, name, project=PROJECT_A):
    method = {'pod': 'read_namespaced_pod',
              'service': 'read_namespaced_service',
              'rc': 'read_namespaced_replication_controller'}[resource]
    return getattr(core_v1, method)(name, _namespace(project))


def _create(api, resource, bay, **fields):
    return api.post('/v1/%s' % COLLECTIONS[resource],
                    json=dict(fields, bay_uuid=bay['uuid']))


fault = processes.faultstring


# -- the whole life of each kind, from each kind of input --------------------

@pytest.mark.parametrize('source', ['json', 'yaml', 'url'])
@pytest.mark.parametrize('resource', ['pod', 'service', 'rc'])
def test_create_list_show_update_delete(api_a, bay_a, core_v1, files,
                                        resource, source):
    plural = COLLECTIONS[resource]
    name = processes.unique_name(resource)
    if source == 'url':
        url = files.serve('/%s.yaml' % name, manifest(resource, name, 'yaml'))
        response = _create(api_a, resource, bay_a, manifest_url=url)
    else:
        response = _create(api_a, resource, bay_a,
                           manifest=manifest(resource, name, source))
    assert response.status_code == 201, response.text
    created = response.json()
    kube_obj = _read(core_v1, resource, name)
    assert created['uuid'] == kube_obj.metadata.uid
    assert created['name'] == name
    assert created['bay_uuid'] == bay_a['uuid']
    assert created['labels'] == {'app': name}
    assert created['links'][0]['href'].endswith(
        '/v1/%s/%s/%s' % (plural, created['uuid'], bay_a['uuid']))
    if resource == 'pod':
        assert created['images'] == ['nginx:1']
        assert created['status'] == 'Pending'  # no kubelet
    elif resource == 'service':
        assert created['selector'] == {'app': name}
        assert created['ip'] == kube_obj.spec.cluster_ip
        assert created['ports'][0]['port'] == 80
        assert created['ports'][0]['targetPort'] == 8080
    else:
        assert created['images'] == ['busybox:1']
        assert created['replicas'] == 1

    # Listed (by bay name too), shown by name and by uuid, both addressings.
    listed = api_a.get('/v1/%s?bay_ident=%s' % (plural, bay_a['name']))
    assert listed.status_code == 200, listed.text
    assert name in [o['name'] for o in listed.json()[plural]]
    for path in ('/v1/%s/%s?bay_ident=%s' % (plural, name, bay_a['uuid']),
                 '/v1/%s/%s/%s' % (plural, created['uuid'], bay_a['name']),
                 '/v1/%s/%s/?bay_ident=%s' % (plural, name, bay_a['name'])):
        shown = api_a.get(path)
        assert shown.status_code == 200, (path, shown.text)
        assert shown.json()['uuid'] == created['uuid']

    # A label, by JSON-patch on Magnum's view, lands in Kubernetes.
    response = api_a.patch('/v1/%s/%s/%s' % (plural, name, bay_a['uuid']),
                           json=[{'op': 'add', 'path': '/labels/tier',
                                  'value': 'front'}])
    assert response.status_code == 200, response.text
    assert response.json()['labels'] == {'app': name, 'tier': 'front'}
    assert _read(core_v1, resource, name).metadata.labels == {
        'app': name, 'tier': 'front'}

    response = api_a.delete('/v1/%s/%s?bay_ident=%s'
                            % (plural, created['uuid'], bay_a['uuid']))
    assert response.status_code == 204, response.text
    response = api_a.get('/v1/%s/%s/%s' % (plural, name, bay_a['uuid']))
    if response.status_code == 200:
        # A pod may linger while it terminates; it is going.
        assert resource == 'pod'
    else:
        assert response.status_code == 404, response.text
        assert name in fault(response)


def test_rc_scaling_is_visible_in_kubernetes(api_a, bay_a, core_v1):
    name = processes.unique_name('rc')
    assert _create(api_a, 'rc', bay_a,
                   manifest=manifest('rc', name)).status_code == 201

    response = api_a.patch('/v1/rcs/%s/%s' % (name, bay_a['uuid']), json=[
        {'op': 'replace', 'path': '/replicas', 'value': 3}])

    assert response.status_code == 200, response.text
    assert response.json()['replicas'] == 3
    assert _read(core_v1, 'rc', name).spec.replicas == 3
    # The controller manager makes the pods (they stay Pending).
    deadline = time.monotonic() + 30
    while True:
        pods = core_v1.list_namespaced_pod(
            _namespace(PROJECT_A), label_selector='app=%s' % name).items
        if len(pods) == 3:
            break
        assert time.monotonic() < deadline, len(pods)
        time.sleep(0.2)
    shown = api_a.get('/v1/rcs/%s/%s' % (name, bay_a['uuid'])).json()
    assert shown['replicas'] == 3

    api_a.delete('/v1/rcs/%s/%s' % (name, bay_a['uuid']))


def test_pod_image_change_and_refused_change(api_a, bay_a, core_v1):
    name = processes.unique_name('pod')
    assert _create(api_a, 'pod', bay_a,
                   manifest=manifest('pod', name)).status_code == 201
    path = '/v1/pods/%s/%s' % (name, bay_a['uuid'])

    response = api_a.patch(path, json=[
        {'op': 'replace', 'path': '/spec/containers/0/image',
         'value': 'nginx:2'}])
    assert response.status_code == 200, response.text
    assert response.json()['images'] == ['nginx:2']

    # Kubernetes refuses to rename a container: its own words, a 400.
    response = api_a.patch(path, json=[
        {'op': 'replace', 'path': '/spec/containers/0/name', 'value': 'x'}])
    assert response.status_code == 400, response.text
    assert 'pod updates may not change fields' in fault(response)
    assert _read(core_v1, 'pod', name).spec.containers[0].name == 'web'

    # Read-only fields of Magnum's view are refused by Magnum.
    response = api_a.patch(path, json=[
        {'op': 'replace', 'path': '/status', 'value': 'Running'}])
    assert response.status_code == 400, response.text
    assert '/status' in fault(response)
    api_a.delete(path)


def test_manifest_patch_of_a_service(api_a, bay_a, core_v1):
    # python-magnumclient 2.x's ``coe-service-update ... replace
    # manifest=FILE`` sends the file's text.
    name = processes.unique_name('svc')
    assert _create(api_a, 'service', bay_a,
                   manifest=manifest('service', name)).status_code == 201
    new = json.loads(manifest('service', name))
    new['spec']['selector'] = {'app': 'other'}

    response = api_a.patch('/v1/services/%s/%s' % (name, bay_a['uuid']),
                           json=[{'op': 'replace', 'path': '/manifest',
                                  'value': json.dumps(new)}])

    assert response.status_code == 200, response.text
    assert response.json()['selector'] == {'app': 'other'}
    assert _read(core_v1, 'service', name).spec.selector == {'app': 'other'}
    api_a.delete('/v1/services/%s/%s' % (name, bay_a['uuid']))


# -- refusals -----------------------------------------------------------------

def test_wrong_kind_is_400_naming_the_kind(api_a, bay_a, core_v1):
    name = processes.unique_name('svc')
    response = _create(api_a, 'pod', bay_a,
                       manifest=manifest('service', name))
    assert response.status_code == 400, response.text
    assert "'Service'" in fault(response)
    assert "'Pod'" in fault(response)
    with pytest.raises(kubernetes.client.ApiException):
        _read(core_v1, 'service', name)


def test_bad_yaml_is_400(api_a, bay_a):
    response = _create(api_a, 'pod', bay_a,
                       manifest='kind: Pod\nmetadata: [unclosed\n')
    assert response.status_code == 400, response.text
    assert 'manifest' in fault(response)
    assert 'YAML' in fault(response)


def test_name_that_exists_is_409_with_kubernetes_message(api_a, bay_a):
    name = processes.unique_name('pod')
    assert _create(api_a, 'pod', bay_a,
                   manifest=manifest('pod', name)).status_code == 201
    response = _create(api_a, 'pod', bay_a, manifest=manifest('pod', name))
    assert response.status_code == 409, response.text
    assert 'pods "%s" already exists' % name in fault(response)
    api_a.delete('/v1/pods/%s/%s' % (name, bay_a['uuid']))


def test_invalid_object_is_400_with_kubernetes_message(api_a, bay_a):
    text = manifest('pod', 'Bad_Name')
    response = _create(api_a, 'pod', bay_a, manifest=text)
    assert response.status_code == 400, response.text
    assert 'Bad_Name' in fault(response)
    assert 'RFC 1123' in fault(response) or 'DNS' in fault(response)


def test_missing_object_is_404(api_a, bay_a):
    response = api_a.get('/v1/rcs/nosuchrc/%s' % bay_a['uuid'])
    assert response.status_code == 404, response.text
    assert 'nosuchrc' in fault(response)


@pytest.mark.parametrize('url, words', [
    # Loopback, but not the allowed 127.0.0.1/32.
    ('http://127.0.0.2:%(port)d/pod.yaml', ['127.0.0.2', 'loopback']),
    # The cloud metadata service: link-local, never fetched by default.
    ('http://169.254.169.254/latest/meta-data/', ['169.254.169.254',
                                                  'link-local']),
    ('http://10.1.2.3/pod.yaml', ['10.1.2.3', 'private']),
    ('file:///etc/passwd', ['manifest_url']),
    ('ftp://example.com/pod.yaml', ['manifest_url']),
])
def test_refused_manifest_url_is_400(api_a, bay_a, files, url, words):
    port = int(files.url.rsplit(':', 1)[1])
    response = _create(api_a, 'pod', bay_a,
                       manifest_url=url % {'port': port})
    assert response.status_code == 400, response.text
    for word in words:
        assert word in fault(response)


def test_unreachable_and_missing_and_large_manifest_urls(api_a, bay_a,
                                                         files):
    port = processes.free_port()
    response = _create(api_a, 'pod', bay_a,
                       manifest_url='http://127.0.0.1:%d/pod.yaml' % port)
    assert response.status_code == 400, response.text
    assert 'could not be fetched' in fault(response)

    response = _create(api_a, 'pod', bay_a,
                       manifest_url=files.url + '/nothing-here.yaml')
    assert response.status_code == 400, response.text
    assert '404' in fault(response)

    big = manifest('pod', 'big', 'yaml') + '#' * 70000 + '\n'
    response = _create(api_a, 'pod', bay_a,
                       manifest_url=files.serve('/big.yaml', big))
    assert response.status_code == 400, response.text
    assert 'larger than 65536 bytes' in fault(response)


def test_listing_needs_a_bay(api_a):
    response = api_a.get('/v1/pods')
    assert response.status_code == 400, response.text
    assert 'bay_ident' in fault(response)


def test_reader_may_list_but_not_create(magnum, bay_a):
    reader = processes.Client(magnum, headers=READER_A)
    try:
        assert reader.get('/v1/pods?bay_ident=%s' % bay_a['uuid'])\
            .status_code == 200
        response = reader.post('/v1/pods', json={
            'bay_uuid': bay_a['uuid'], 'manifest': manifest('pod', 'r1')})
        assert response.status_code == 403, response.text
    finally:
        reader.close()


# -- tenancy ------------------------------------------------------------------

def test_second_project_sees_none_of_the_first(api_a, api_b, bay_a, bay_b,
                                               core_v1):
    name = processes.unique_name('pod')
    assert _create(api_a, 'pod', bay_a,
                   manifest=manifest('pod', name)).status_code == 201

    # B's bay is on the same Kubernetes: a namespace of its own.
    listed = api_b.get('/v1/pods?bay_ident=%s' % bay_b['uuid'])
    assert listed.status_code == 200, listed.text
    assert name not in [p['name'] for p in listed.json()['pods']]
    response = api_b.get('/v1/pods/%s/%s' % (name, bay_b['uuid']))
    assert response.status_code == 404, response.text
    # ... and A's bay is not B's to use.
    response = api_b.get('/v1/pods?bay_ident=%s' % bay_a['uuid'])
    assert response.status_code == 404, response.text
    response = api_b.delete('/v1/pods/%s/%s' % (name, bay_a['uuid']))
    assert response.status_code == 404, response.text

    # The same name in B is B's own object.
    assert _create(api_b, 'pod', bay_b,
                   manifest=manifest('pod', name)).status_code == 201
    a_uid = _read(core_v1, 'pod', name).metadata.uid
    b_uid = _read(core_v1, 'pod', name, PROJECT_B).metadata.uid
    assert a_uid != b_uid
    namespace = core_v1.read_namespace(_namespace(PROJECT_B))
    assert namespace.metadata.labels[
        'magnum.openstack.org/project-id'] == PROJECT_B['X-Project-Id']
    api_a.delete('/v1/pods/%s/%s' % (name, bay_a['uuid']))
    api_b.delete('/v1/pods/%s/%s' % (name, bay_b['uuid']))


# -- secrets ------------------------------------------------------------------

def test_credentials_never_leave_the_conductor(api_a, bay_a, kube, magnum):
    # Last in the module: every call above has been logged by now.
    tokens = [kube.magnum_token, kube.admin_token]
    answers = [api_a.get('/v1/bays/%s' % bay_a['uuid']).text,
               api_a.get('/v1/baymodels').text,
               api_a.get('/v1/pods?bay_ident=%s' % bay_a['uuid']).text]
    logs = ''
    for process in magnum.processes:
        with open(process.log_path, errors='replace') as f:
            logs += f.read()
    assert logs, 'no logs to search'
    for token in tokens:
        assert token not in logs
        for answer in answers:
            assert token not in answer
    with open(os.path.join(magnum.work_dir, 'magnum.conf')) as f:
        assert kube.magnum_token not in f.read()
