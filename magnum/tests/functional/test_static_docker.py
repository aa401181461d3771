"""The ``static`` provisioner against a real Docker Engine.

The engine is a private ``dockerd`` started by tools/docker-engine.sh (see
docker_engine.py); nothing here mocks Docker.
"""

import os
import shutil
import tempfile
import time

import docker
import pytest

from magnum.common import exception
from magnum.lifecycle import provisioning
from magnum.conductor import api as conductor_api
from magnum.conductor import service as conductor_service
from magnum.db import services as db_services
from magnum.drivers import static
from magnum.lifecycle import actions
from magnum.objects import bay as bay_obj
from magnum.objects import baymodel as baymodel_obj
from magnum.tests import base

pytestmark = pytest.mark.docker

WAIT = 20  # seconds a conductor gets to finish a static bay


def _engine_name(url):
    client = docker.DockerClient(base_url=url, timeout=10)
    try:
        return client.info()['Name']
    finally:
        client.close()


@pytest.fixture
def missing_socket_url():
    """A unix:// URL whose socket does not exist."""
    directory = tempfile.mkdtemp(prefix='mgnx-', dir='/tmp')
    yield 'unix://%s' % os.path.join(directory, 'docker.sock')
    shutil.rmtree(directory, ignore_errors=True)


def _docker_error(url):
    """What the Docker SDK itself says when ``url`` does not answer."""
    try:
        # NOTE: the client asks for the API version as it is made.
        docker.DockerClient(base_url=url, timeout=5).info()
    except Exception as e:
        return str(e)
    raise AssertionError('%s answered' % url)


def _baymodel(url, coe='docker'):
    return baymodel_obj.BayModel(coe=coe, labels={'docker_url': url})


# -- the provisioner on its own ---------------------------------------------

def test_engine_runs_busybox(docker_engine):
    # The tooling's promise to later tests: a local image, containers run.
    client = docker_engine.client()
    try:
        out = client.containers.run('busybox:latest', ['echo', 'hi'],
                                    network_mode='none', remove=True)
    finally:
        client.close()
    assert out == b'hi\n'


@pytest.mark.parametrize('coe', ['docker', 'swarm'])
def test_create_registers_the_engine(docker_engine, coe):
    state = static.StaticProvisioner().create(
        None, bay_obj.Bay(), _baymodel(docker_engine.url, coe))

    assert state.status == bay_obj.CREATE_COMPLETE, state.status_reason
    assert state.api_address == docker_engine.url
    assert state.node_addresses == [_engine_name(docker_engine.url)]
    assert state.master_addresses == []
    assert docker_engine.url in state.status_reason
    assert state.health_status == 'HEALTHY'
    assert state.health_status_reason == {'api': 'ok'}


def test_update_asks_the_engine_again(docker_engine):
    state = static.StaticProvisioner().update(
        None, bay_obj.Bay(), _baymodel(docker_engine.url))

    assert state.status == bay_obj.UPDATE_COMPLETE, state.status_reason
    assert state.api_address == docker_engine.url
    assert state.node_addresses == [_engine_name(docker_engine.url)]


def test_create_fails_with_the_engine_error(missing_socket_url):
    expected = _docker_error(missing_socket_url)

    state = static.StaticProvisioner().create(
        None, bay_obj.Bay(), _baymodel(missing_socket_url))

    assert state.status == bay_obj.CREATE_FAILED
    assert missing_socket_url in state.status_reason
    assert expected in state.status_reason
    assert 'No such file or directory' in state.status_reason
    assert state.api_address is None
    assert state.node_addresses is None
    assert state.health_status == 'UNHEALTHY'
    assert state.health_status_reason == {'api': state.status_reason}


# -- through the conductor --------------------------------------------------

@pytest.fixture(scope='class')
def _class_docker_engine(request, docker_engine):
    request.cls.docker_engine = docker_engine


@pytest.mark.usefixtures('_class_docker_engine')
class TestConductorStaticDocker(base.TestCase):
    """RPC cast → conductor → static provisioner → real engine → DB row."""

    def setUp(self):
        super().setUp()
        self.use_fake_rpc()
        # Only the RPC path may finish the bays: the reconciler runs once
        # when the service starts, then not again within the test.
        self.conf.config(periodic_interval=3600, group='conductor')
        self.service = conductor_service.ConductorService('test-host')
        self.service.start()
        self.addCleanup(self.service.stop)
        self._wait_for_first_periodic_round()
        self.api = conductor_api.ConductorAPI()

    def _wait_for_first_periodic_round(self):
        deadline = time.monotonic() + WAIT
        while not any(row.host == 'test-host'
                      for row in db_services.list_services()):
            self.assertLess(time.monotonic(), deadline,
                            'the conductor never reported its heartbeat')
            time.sleep(0.05)
        # The heartbeat runs first; the reconciler's one run on an empty
        # bay table follows at once.
        time.sleep(0.5)

    def _bay(self, url):
        labels = {'docker_url': url}
        baymodel = baymodel_obj.BayModel(self.context, name='local',
                                         coe='docker', labels=labels)
        baymodel.create(self.context)
        bay = bay_obj.Bay(self.context, name='b1', baymodel_id=baymodel.uuid,
                          provisioner=provisioning.provisioner_for(labels),
                          node_count=1, master_count=1,
                          status=bay_obj.CREATE_IN_PROGRESS)
        # NOTE: as the API writes it: the bay with its create action.
        self.created = actions.create(self.context, bay)
        self.assertEqual('static', bay.provisioner)
        return bay

    def _wait_for_status(self, uuid, statuses):
        deadline = time.monotonic() + WAIT
        while True:
            bay = bay_obj.Bay.get_by_uuid_unscoped(self.admin_context, uuid)
            if bay.status in statuses and bay.reservation is None:
                return bay
            if time.monotonic() > deadline:
                self.fail('bay %s is still %s (reservation %s) after %ss'
                          % (uuid, bay.status, bay.reservation, WAIT))
            time.sleep(0.1)

    def _wait_until_gone(self, uuid):
        deadline = time.monotonic() + WAIT
        while True:
            try:
                bay = bay_obj.Bay.get_by_uuid_unscoped(self.admin_context,
                                                       uuid)
            except exception.BayNotFound:
                return
            if time.monotonic() > deadline:
                self.fail('bay %s is still there (%s: %s) after %ss'
                          % (uuid, bay.status, bay.status_reason, WAIT))
            time.sleep(0.1)

    def _delete(self, uuid):
        bay = bay_obj.Bay.get_by_uuid_unscoped(self.context, uuid)
        self.api.action_run(self.context, actions.delete(self.context, bay))
        self._wait_until_gone(uuid)

    def test_create_then_delete(self):
        url = self.docker_engine.url
        bay = self._bay(url)

        self.api.action_run(self.context, self.created)

        done = self._wait_for_status(
            bay.uuid, (bay_obj.CREATE_COMPLETE, bay_obj.CREATE_FAILED))
        self.assertEqual(bay_obj.CREATE_COMPLETE, done.status,
                         done.status_reason)
        self.assertEqual(url, done.api_address)
        self.assertEqual([_engine_name(url)], done.node_addresses)
        self.assertEqual([], done.master_addresses)

        self._delete(bay.uuid)
        # Deleting the bay leaves the engine as it was.
        client = self.docker_engine.client()
        try:
            self.assertTrue(client.ping())
        finally:
            client.close()

    def test_create_fails_then_delete(self):
        directory = tempfile.mkdtemp(prefix='mgnx-', dir='/tmp')
        self.addCleanup(shutil.rmtree, directory, ignore_errors=True)
        url = 'unix://%s' % os.path.join(directory, 'docker.sock')
        bay = self._bay(url)

        self.api.action_run(self.context, self.created)

        done = self._wait_for_status(
            bay.uuid, (bay_obj.CREATE_COMPLETE, bay_obj.CREATE_FAILED))
        self.assertEqual(bay_obj.CREATE_FAILED, done.status)
        self.assertIn(url, done.status_reason)
        self.assertIn('No such file or directory', done.status_reason)
        self.assertIsNone(done.api_address)

        # A failed bay can always be deleted.
        self._delete(bay.uuid)
