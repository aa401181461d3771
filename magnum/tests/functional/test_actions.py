"""Actions on real processes: magnum-api and two magnum-conductors on
PostgreSQL and RabbitMQ, static bays on a real Docker Engine.

- every change a user makes shows up in ``/v1/clusters/<c>/actions`` with
  its outcome, and its audit notifications (CADF) arrive in RabbitMQ;
- a conductor killed (``kill -9``) while it hands a create to its
  provisioner: the other conductor hands that action over again once, and
  finishes it once.

The endpoint of the second test is the module's Docker Engine behind
``CountingProxy``, a TCP proxy on 127.0.0.1 that counts the ``/info``
requests (the static provisioner's one call a create) and holds each a few
seconds, long enough to kill the conductor inside its call. It is the
narrowest seam that counts the provisioner's calls: the static provisioner,
the Docker SDK and the engine are the real ones. Heat's side of actions
(Heat's reason on a failed resize, ROLLED_BACK) is checked in
test_heat_nodegroups.py.
"""

import socket
import threading
import time
import uuid

import kombu
import pytest
import sqlalchemy as sa

from magnum.tests.functional import db_servers
from magnum.tests.functional import processes
from magnum.tests.functional import test_audit_rabbitmq as audit_test

pytestmark = [pytest.mark.postgresql, pytest.mark.rabbitmq,
              pytest.mark.docker]

LATEST = {'OpenStack-API-Version': 'container-infra latest'}
# Seconds the proxy holds each /info request: the window to kill in.
HOLD = 4


class CountingProxy:
    """127.0.0.1:<port> -> a unix socket, counting ``GET .../info``."""

    def __init__(self, socket_path, hold):
        self.socket_path = socket_path
        self.hold = hold
        self.infos = 0
        self.seen = threading.Event()
        self._lock = threading.Lock()
        self._server = socket.create_server(('127.0.0.1', 0))
        self.url = 'tcp://127.0.0.1:%d' % self._server.getsockname()[1]
        self._closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def close(self):
        self._closed = True
        self._server.close()

    def _accept(self):
        while not self._closed:
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,),
                             daemon=True).start()

    def _serve(self, client):
        upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            upstream.connect(self.socket_path)
            threading.Thread(target=self._pump, args=(upstream, client),
                             daemon=True).start()
            while True:
                data = client.recv(65536)
                if not data:
                    break
                if b'/info ' in data and data.startswith(b'GET '):
                    with self._lock:
                        self.infos += 1
                    self.seen.set()
                    time.sleep(self.hold)
                upstream.sendall(data)
        except OSError:
            pass
        finally:
            client.close()
            upstream.close()

    @staticmethod
    def _pump(source, sink):
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                sink.sendall(data)
        except OSError:
            pass
        finally:
            sink.close()


@pytest.fixture(scope='module')
def database():
    with processes.running(db_servers.PostgresDatabase()) as database:
        yield database


@pytest.fixture
def topic():
    name = 'magnum-actions-test-%s' % uuid.uuid4().hex[:10]
    yield name
    with kombu.Connection(audit_test._amqp_url(),
                          connect_timeout=5) as connection:
        channel = connection.channel()
        for priority in ('info', 'error'):
            channel.queue_delete('%s.%s' % (name, priority))


def _magnum(database, topic, **kwargs):
    extra = {'oslo_messaging_notifications': {
        'driver': 'messagingv2', 'topics': topic, 'retry': 0},
        'conductor': {'redo_after': 2},
        # NOTE: creates racing with one key reach the database at once.
        'api': {'workers': 2, 'threads': 4}}
    return processes.MagnumServices(database.url, conductors=2, extra=extra,
                                    **kwargs)


def _cluster(api, name, docker_url, node_count=1):
    template = api.post('/v1/clustertemplates', headers=LATEST, json={
        'name': processes.unique_name('ct'), 'coe': 'docker',
        'labels': {'docker_url': docker_url}})
    assert template.status_code == 201, template.text
    created = api.post('/v1/clusters', headers=LATEST, json={
        'name': name, 'cluster_template_id': template.json()['uuid'],
        'node_count': node_count})
    assert created.status_code == 202, created.text
    return template.json(), created


def _actions(api, uuid_, admin=False):
    headers = dict(LATEST)
    if admin:
        headers['X-Roles'] = 'admin'
    response = api.get('/v1/clusters/%s/actions' % uuid_, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()['actions']


def _settled(api, magnum, uuid_, timeout=60):
    """The newest action once it has ended."""
    deadline = time.monotonic() + timeout
    while True:
        newest = _actions(api, uuid_, admin=True)[0]
        if newest['status'] not in ('PENDING', 'IN_PROGRESS'):
            return newest
        assert time.monotonic() < deadline, (
            'action %s still %s\n%s' % (newest['kind'], newest['status'],
                                        magnum.logs()))
        time.sleep(0.1)


def test_every_change_is_an_action_with_its_outcome_and_notifications(
        database, topic, docker_engine):
    with processes.running(_magnum(database, topic)) as magnum:
        api = processes.Client(magnum)
        template, created = _cluster(api, 'c1', docker_engine.url)
        uuid_ = created.json()['uuid']
        create_request = created.headers[processes.REQUEST_ID]
        assert _settled(api, magnum, uuid_)['status'] == 'COMPLETE'

        def change(method, path, expect, **kwargs):
            response = api.request(method, path, headers=LATEST, **kwargs)
            assert response.status_code == expect, response.text
            done = _settled(api, magnum, uuid_)
            assert done['request_id'] == response.headers[
                processes.REQUEST_ID]
            return done

        cluster = '/v1/clusters/%s' % uuid_
        resized = change('POST', cluster + '/actions/resize', 202,
                         json={'node_count': 2})
        upgraded = change('POST', cluster + '/actions/upgrade', 202,
                          json={'cluster_template': template['uuid'],
                                'max_batch_size': 1})
        grown = change('POST', cluster + '/nodegroups', 202,
                       json={'name': 'extra', 'node_count': 1})
        shrunk = change('DELETE', cluster + '/nodegroups/extra', 204)
        rotated = change('PATCH', '/v1/credentials/%s' % uuid_, 202)
        for action, kind in ((resized, 'resize'), (upgraded, 'upgrade'),
                             (grown, 'nodegroup_create'),
                             (shrunk, 'nodegroup_delete'),
                             (rotated, 'rotate_credential')):
            assert (action['kind'], action['status']) == (kind, 'COMPLETE')
            assert action['conductor'] in magnum.conductor_hosts
            assert action['started_at'] and action['finished_at']
        assert resized['params']['node_count'] == 2
        assert upgraded['params']['max_batch_size'] == 1

        # A change the provisioner cannot make is refused before anything
        # is written: no action. (A static bay without [static]
        # certificate_dir has nowhere to push a new CA.)
        refused = api.patch('/v1/certificates/%s' % uuid_, headers=LATEST)
        assert refused.status_code == 400, refused.text
        assert 'static' in processes.faultstring(refused)
        kinds = [a['kind'] for a in _actions(api, uuid_)]
        assert kinds == ['rotate_credential', 'nodegroup_delete',
                         'nodegroup_create', 'upgrade', 'resize', 'create']

        # The create's audit notifications, as a consumer reads them.
        events = []
        while len(events) < 2 * len(kinds):
            _, message = audit_test._receive('%s.info' % topic)
            events.append(message)
        create = [m['payload'] for m in events
                  if m['event_type'] == 'magnum.cluster.create']
        assert [p['outcome'] for p in create] == ['pending', 'success']
        for payload in create:
            assert payload['target']['id'] == uuid_
            assert payload['typeURI'] == (
                'http://schemas.dmtf.org/cloud/audit/1.0/event')
            assert payload['initiator']['request_id'] == create_request
        assert sorted({m['event_type'] for m in events}) == sorted(
            'magnum.cluster.%s' % kind for kind in kinds)

        # Creates retried with one Idempotency-Key, five at once and once
        # more after: one cluster, and every answer names it.
        body = {'name': 'retried', 'cluster_template_id': template['uuid']}
        headers = dict(LATEST, **{'Idempotency-Key': str(uuid.uuid4())})
        answers = []

        def create():
            client = processes.Client(magnum)
            try:
                answers.append(client.post('/v1/clusters', json=body,
                                           headers=headers))
            finally:
                client.close()

        threads = [threading.Thread(target=create) for _ in range(5)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        create()
        assert [a.status_code for a in answers] == [202] * 6, [
            a.text for a in answers]
        assert len({a.json()['uuid'] for a in answers}) == 1
        listed = api.get('/v1/clusters', headers=LATEST).json()['clusters']
        assert [c['name'] for c in listed].count('retried') == 1


def _holder(database, uuid_):
    engine = sa.create_engine(database.url)
    try:
        with engine.connect() as connection:
            return connection.execute(sa.text(
                'SELECT reservation FROM bay WHERE uuid = :u'),
                {'u': uuid_}).scalar()
    finally:
        engine.dispose()


def test_a_conductor_killed_inside_an_action_has_it_finished_once(
        database, topic, docker_engine):
    proxy = CountingProxy(docker_engine.socket_path, HOLD)
    try:
        with processes.running(_magnum(database, topic)) as magnum:
            api = processes.Client(magnum)
            _, created = _cluster(api, 'c2', proxy.url)
            uuid_ = created.json()['uuid']
            assert proxy.seen.wait(30), magnum.logs()
            holder = _holder(database, uuid_)
            assert holder in magnum.conductor_hosts
            [victim] = [c for c in magnum.conductors if c.name == holder]
            magnum.kill_conductor(victim)
            assert proxy.infos == 1
            # The survivor takes the lock over once the victim's heartbeat
            # is service_down_time old, and hands the action over again.
            done = _settled(api, magnum, uuid_, timeout=90)
            assert (done['kind'], done['status']) == ('create', 'COMPLETE')
            [survivor] = [h for h in magnum.conductor_hosts if h != holder]
            assert done['conductor'] == survivor
            # Exactly once: a few more reconciler passes call nothing.
            time.sleep(3 * magnum.periodic_interval + 1)
            assert proxy.infos == 2
            shown = api.get('/v1/clusters/%s' % uuid_, headers=LATEST)
            assert shown.json()['status'] == 'CREATE_COMPLETE'
    finally:
        proxy.close()
