"""``/v1/containers`` through the whole API, a real conductor endpoint on
the in-process RPC transport, and an in-memory Docker Engine.
"""

import threading

from oslo_config import cfg
import oslo_messaging as messaging

from magnum.conductor.coe import docker as docker_coe
from magnum.conductor import manager as conductor_manager
from magnum.conductor import rpc
from magnum.db import bays as db_bays
from magnum.db import containers as db_containers
from magnum.objects import bay as bay_obj
from magnum.tests.unit.api import base
from magnum.tests.unit import fake_docker

READER = {'X-Roles': 'reader'}
PROJECT_B = {'X-Project-Id': 'project-b', 'X-User-Id': 'user-b'}


class ContainerTestCase(base.APITestCase):

    def setUp(self):
        super().setUp()
        self.engine = fake_docker.FakeDockerEngine()
        manager = conductor_manager.ConductorManager('test-host')
        manager.containers.engine_for = self.engine
        self.handler = manager.containers
        # NOTE: a create whose image must be pulled ends on a thread of the
        # handler's; the tests wait for that thread to finish (an event per
        # container), not for a clock.
        self.created = {}
        pull_and_create = self.handler._pull_and_create

        def pull_and_create_then_tell(engine, container):
            try:
                pull_and_create(engine, container)
            finally:
                self.created.setdefault(container.uuid,
                                        threading.Event()).set()

        self.handler._pull_and_create = pull_and_create_then_tell
        server = rpc.get_server(
            messaging.Target(topic=cfg.CONF.conductor.topic,
                             server='test-host'), [manager])
        server.start()
        # NOTE: the executor's idle threads take a second to notice the
        # end; they finish in the background rather than in every test.
        self.addCleanup(lambda: threading.Thread(
            target=server.wait, daemon=True).start())
        self.addCleanup(server.stop)
        self.bay = self.make_bay('bay1')

    def make_bay(self, name, coe='docker', status=bay_obj.CREATE_COMPLETE,
                 headers=None):
        baymodel = self.post('/v1/baymodels', {
            'name': 'bm-%s' % name, 'coe': coe,
            'labels': {'provisioner': 'fake'}}, headers=headers).json
        bay = self.post('/v1/bays', {'name': name,
                                     'baymodel_id': baymodel['uuid']},
                        headers=headers).json
        db_bays.update_bay(bay['uuid'], {
            'status': status, 'api_address': 'unix:///fake.sock'})
        return bay

    def create(self, headers=None, **values):
        body = {'name': 'c1', 'image': 'busybox',
                'command': 'echo hello', 'bay_uuid': self.bay['uuid']}
        body.update(values)
        return self.post('/v1/containers', body, headers=headers)

    def engine_container(self, uuid):
        row = db_containers.get_container_by_uuid_unscoped(uuid)
        return self.engine.containers[row.container_id]

    def put(self, path, **kwargs):
        return self.request('PUT', path, **kwargs)

    def wait_for_create(self, uuid, timeout=5):
        """The container once its pull-and-create thread has ended."""
        done = self.created.setdefault(uuid, threading.Event())
        self.assertTrue(done.wait(timeout),
                        'container %s is still being created' % uuid)
        return self.get('/v1/containers/%s' % uuid).json


class TestCreate(ContainerTestCase):

    def test_create_with_a_local_image_answers_201_stopped(self):
        response = self.create(memory='512M', environment={'PW': 's3cret'},
                               labels={'team': 'a'})
        self.assertEqual(201, response.status_int, response.body)
        body = response.json
        self.assertEqual('Stopped', body['status'])
        self.assertEqual('512m', body['memory'])
        self.assertEqual('c1', body['name'])
        self.assertEqual(self.bay['uuid'], body['bay_uuid'])
        self.assertEqual({'team': 'a'}, body['labels'])
        self.assertTrue(body['links'][0]['href'].endswith(body['uuid']))
        labels = self.engine_container(body['uuid'])['labels']
        self.assertEqual(body['uuid'], labels[docker_coe.LABEL_UUID])
        self.assertEqual('project-a', labels[docker_coe.LABEL_PROJECT])
        self.assertEqual(self.bay['uuid'], labels[docker_coe.LABEL_BAY])
        self.assertEqual('a', labels['team'])
        self.assertEqual({'PW': 's3cret'},
                         self.engine_container(body['uuid'])['environment'])

    def test_environment_values_are_never_returned(self):
        uuid = self.create(environment={'PW': 's3cret'}).json['uuid']
        for path in ('/v1/containers/%s' % uuid, '/v1/containers',
                     '/v1/containers/detail'):
            response = self.get(path)
            self.assertNotIn(b's3cret', response.body, path)
        self.assertEqual({'PW': '******'},
                         self.get('/v1/containers/c1').json['environment'])

    def test_name_is_generated_when_missing(self):
        body = self.create(name=None, command=None, memory=None).json
        self.assertTrue(body['name'].startswith('container-'))
        self.assertIsNone(body['command'])

    def test_image_that_must_be_pulled_is_created_asynchronously(self):
        self.engine.pullable.add('alpine:3')
        self.engine.pull_gate.clear()
        body = self.create(image='alpine:3').json
        self.assertEqual('Creating', body['status'])
        self.engine.pull_gate.set()
        done = self.wait_for_create(body['uuid'])
        self.assertEqual('Stopped', done['status'], done)

    def test_missing_image_is_error_with_the_engines_message(self):
        self.engine.pull_gate.clear()
        body = self.create(image='nosuchimage').json
        self.assertEqual('Creating', body['status'])
        self.engine.pull_gate.set()
        done = self.wait_for_create(body['uuid'])
        self.assertEqual('Error', done['status'])
        self.assertIn('pull access denied for nosuchimage',
                      done['status_reason'])
        self.assertIn(self.bay['uuid'], done['status_reason'])

    def test_memory_over_the_engines_is_400_and_no_row(self):
        response = self.create(memory='100g')
        self.assertEqual(400, response.status_int)
        self.assertIn('memory', self.fault(response))
        self.assertIn('100g', self.fault(response))
        self.assertEqual([], self.get('/v1/containers').json['containers'])

    def test_engine_refusal_is_400_with_its_words_and_no_row(self):
        response = self.create(memory='1m')
        self.assertEqual(400, response.status_int)
        self.assertIn('Minimum memory limit allowed is 6MB',
                      self.fault(response))
        self.assertEqual([], self.get('/v1/containers').json['containers'])
        self.assertEqual({}, self.engine.containers)

    def test_bad_fields_are_400_naming_the_field(self):
        cases = [({'memory': '12x'}, 'memory'),
                 ({'memory': 512}, 'memory'),
                 ({'command': 'echo "unclosed'}, 'command'),
                 ({'image': None}, 'image'),
                 ({'bay_uuid': None}, 'bay_uuid'),
                 ({'bay_uuid': 'nosuchbay'}, 'bay_uuid'),
                 ({'environment': {'A=B': 'x'}}, 'environment'),
                 ({'environment': {'A': 1}}, 'environment.A'),
                 ({'labels': {'magnum.container.uuid': 'x'}}, 'labels'),
                 ({'name': 'has space'}, 'name'),
                 ({'nosuchfield': 1}, 'nosuchfield')]
        for values, field in cases:
            response = self.create(**values)
            self.assertEqual(400, response.status_int, values)
            self.assertIn(field, self.fault(response), values)
        self.assertEqual([], self.get('/v1/containers').json['containers'])

    def test_unknown_field_names_the_closest_known_one(self):
        body = {'name': 'c1', 'image': 'busybox',
                'bay_uid': self.bay['uuid']}
        response = self.post('/v1/containers', body)
        self.assertEqual(400, response.status_int)
        self.assertEqual("Unknown field 'bay_uid'; did you mean 'bay_uuid'?",
                         self.fault(response))
        response = self.create(nosuchfield=1)
        self.assertEqual(400, response.status_int)
        self.assertEqual("Unknown field 'nosuchfield'.", self.fault(response))
        # NOTE: no hint that would mislead: a uuid is not the bay's.
        response = self.create(uuid='x')
        self.assertEqual("Unknown field 'uuid'.", self.fault(response))
        self.assertEqual([], self.get('/v1/containers').json['containers'])
        self.assertEqual([], [c for c in self.engine.calls
                              if c == 'create'])

    def test_kubernetes_bay_is_400(self):
        kube = self.make_bay('kube1', coe='kubernetes')
        response = self.create(bay_uuid=kube['uuid'])
        self.assertEqual(400, response.status_int)
        self.assertIn('kubernetes', self.fault(response))
        self.assertIn('bay_uuid', self.fault(response))

    def test_bay_not_ready_is_400(self):
        failed = self.make_bay('failed1', status=bay_obj.CREATE_FAILED)
        response = self.create(bay_uuid='failed1')
        self.assertEqual(400, response.status_int)
        self.assertIn('CREATE_FAILED', self.fault(response))
        self.assertIn(failed['uuid'], self.fault(response))

    def test_unreachable_engine_is_503_naming_the_bay(self):
        self.engine.down = True
        response = self.create()
        self.assertEqual(503, response.status_int)
        self.assertIn(self.bay['uuid'], self.fault(response))
        self.assertEqual([], self.get('/v1/containers').json['containers'])

    def test_reader_may_not_create(self):
        self.assertEqual(403, self.create(headers=READER).status_int)


class TestLife(ContainerTestCase):

    def test_full_life(self):
        uuid = self.create().json['uuid']
        response = self.put('/v1/containers/c1/start')
        self.assertEqual(200, response.status_int, response.body)
        self.assertEqual('Running', response.json['status'])
        self.assertEqual(uuid, response.json['uuid'])
        self.assertEqual({'output': 'hello\n'},
                         self.get('/v1/containers/c1/logs').json)
        out = self.put('/v1/containers/c1/execute?command=ls%20-l').json
        self.assertEqual('ran: ls -l\n', out['output'])
        self.assertEqual(0, out['exit_code'])
        for action, status in [('pause', 'Paused'), ('unpause', 'Running'),
                               ('reboot', 'Running'), ('stop', 'Stopped')]:
            response = self.put('/v1/containers/%s/%s' % (uuid, action))
            self.assertEqual(200, response.status_int, action)
            self.assertEqual(status, response.json['status'], action)
            self.assertEqual(status,
                             self.get('/v1/containers/c1').json['status'])
        response = self.delete('/v1/containers/c1')
        self.assertEqual(204, response.status_int)
        self.assertEqual(404, self.get('/v1/containers/c1').status_int)
        self.assertEqual({}, self.engine.containers)

    def test_delete_of_a_running_container_stops_it_first(self):
        self.create()
        self.put('/v1/containers/c1/start')
        self.engine.calls.clear()
        self.assertEqual(204, self.delete('/v1/containers/c1').status_int)
        self.assertEqual(['stop', 'remove'], self.engine.calls)

    def test_forced_delete_does_not_stop(self):
        self.create()
        self.put('/v1/containers/c1/start')
        self.engine.calls.clear()
        response = self.delete('/v1/containers/c1?force=true')
        self.assertEqual(204, response.status_int)
        self.assertEqual(['remove'], self.engine.calls)

    def test_bad_force_is_400(self):
        self.create()
        response = self.delete('/v1/containers/c1?force=maybe')
        self.assertEqual(400, response.status_int)
        self.assertIn('force', self.fault(response))

    def test_engine_conflict_is_409_with_its_words(self):
        self.create()
        self.put('/v1/containers/c1/start')
        self.put('/v1/containers/c1/pause')
        response = self.put('/v1/containers/c1/pause')
        self.assertEqual(409, response.status_int)
        self.assertIn('is already paused', self.fault(response))

    def test_execute_in_a_stopped_container_is_409(self):
        self.create()
        response = self.put('/v1/containers/c1/execute?command=ls')
        self.assertEqual(409, response.status_int)
        self.assertIn('is not running', self.fault(response))

    def test_bad_command_is_400_and_the_row_says_why(self):
        self.create(command='nosuchcommand --now')
        response = self.put('/v1/containers/c1/start')
        self.assertEqual(400, response.status_int)
        self.assertIn('executable file not found', self.fault(response))
        body = self.get('/v1/containers/c1').json
        self.assertEqual('Error', body['status'])
        self.assertIn('executable file not found', body['status_reason'])

    def test_container_removed_behind_magnums_back(self):
        uuid = self.create().json['uuid']
        self.engine.containers.clear()
        response = self.put('/v1/containers/c1/start')
        self.assertEqual(409, response.status_int)
        self.assertIn('removed outside Magnum', self.fault(response))
        self.assertEqual('Unknown',
                         self.get('/v1/containers/%s' % uuid).json['status'])
        # It can still be deleted.
        self.assertEqual(204, self.delete('/v1/containers/c1').status_int)

    def test_execute_needs_one_command(self):
        self.create()
        for query in ('', '?command=', '?command=a&command=b',
                      '?command=ls&other=1'):
            response = self.put('/v1/containers/c1/execute' + query)
            self.assertEqual(400, response.status_int, query)

    def test_routing_of_actions(self):
        self.create()
        self.assertEqual(404,
                         self.put('/v1/containers/c1/explode').status_int)
        response = self.get('/v1/containers/c1/start')
        self.assertEqual(405, response.status_int)
        self.assertEqual('PUT', response.headers['Allow'])
        self.assertEqual(405,
                         self.put('/v1/containers/c1/logs').status_int)
        self.assertEqual(404,
                         self.put('/v1/containers/nope/start').status_int)

    def test_action_on_a_creating_container_is_409(self):
        # NOTE: the pull is held, so the row is Creating (and has no engine
        # id) until the test lets it go; the create ends before the next
        # test.
        self.engine.pull_gate.clear()
        uuid = self.create(image='nosuchimage').json['uuid']
        self.addCleanup(self.wait_for_create, uuid)
        self.addCleanup(self.engine.pull_gate.set)
        response = self.put('/v1/containers/%s/start' % uuid)
        self.assertEqual(409, response.status_int, response.body)
        self.assertIn('%s is Creating' % uuid, self.fault(response))
        self.assertIn('wait until it is created', self.fault(response))
        self.assertNotIn('start', self.engine.calls)

    def test_action_on_a_container_whose_create_failed_is_409_saying_why(
            self):
        # NOTE: waiting never helps such a container: the answer names its
        # status and reason and says what does help, without asking the
        # engine or changing the row.
        self.engine.pull_gate.set()
        uuid = self.create(image='nosuchimage').json['uuid']
        before = self.wait_for_create(uuid)
        self.assertEqual('Error', before['status'])
        for path, verb in (('start', 'start'), ('reboot', 'reboot'),
                           ('execute?command=ls', 'run a command in')):
            response = self.put('/v1/containers/%s/%s' % (uuid, path))
            self.assertEqual(409, response.status_int, response.body)
            fault = self.fault(response)
            self.assertIn('Container %s is Error (' % uuid, fault)
            self.assertIn('pull access denied for nosuchimage', fault)
            self.assertIn('nothing to %s; delete it and create it again'
                          % verb, fault)
            self.assertNotIn('wait', fault)
        response = self.get('/v1/containers/%s/logs' % uuid)
        self.assertEqual(409, response.status_int)
        self.assertIn('nothing to read logs from', self.fault(response))
        self.assertEqual(before, self.get('/v1/containers/%s' % uuid).json)
        for call in ('start', 'restart', 'exec', 'logs'):
            self.assertNotIn(call, self.engine.calls)

    def test_unreachable_engine_on_an_action_is_503(self):
        self.create()
        self.engine.down = True
        response = self.put('/v1/containers/c1/start')
        self.assertEqual(503, response.status_int)
        self.assertIn(self.bay['uuid'], self.fault(response))


class TestListAndTenancy(ContainerTestCase):

    def test_list_all_and_by_bay(self):
        other = self.make_bay('bay2')
        self.create(name='c1')
        self.create(name='c2', bay_uuid=other['uuid'])
        names = [c['name'] for c in
                 self.get('/v1/containers').json['containers']]
        self.assertEqual(['c1', 'c2'], names)
        # python-magnumclient 2.1.0 asks with a slash before the query.
        body = self.get('/v1/containers/?bay_ident=bay2').json
        self.assertEqual(['c2'], [c['name'] for c in body['containers']])
        body = self.get('/v1/containers/detail?bay_ident=%s'
                        % self.bay['uuid']).json
        self.assertEqual(['c1'], [c['name'] for c in body['containers']])
        self.assertIn('status_reason', body['containers'][0])
        response = self.get('/v1/containers?bay_ident=nosuchbay')
        self.assertEqual(400, response.status_int)
        self.assertIn('bay_ident', self.fault(response))

    def test_paging_by_bay(self):
        for n in range(3):
            self.create(name='c%d' % n)
        body = self.get('/v1/containers?bay_ident=bay1&limit=2').json
        self.assertEqual(2, len(body['containers']))
        self.assertIn('marker=', body['next'])
        self.assertIn('bay_ident=bay1', body['next'])
        rest = self.get(body['next'].split('localhost', 1)[1]).json
        self.assertEqual(['c2'], [c['name'] for c in rest['containers']])

    def test_two_projects_never_mix(self):
        uuid = self.create().json['uuid']
        self.make_bay('bayb', headers=PROJECT_B)
        self.assertEqual(
            201, self.create(headers=PROJECT_B, bay_uuid='bayb').status_int)
        mine = self.get('/v1/containers', headers=PROJECT_B).json
        self.assertEqual(1, len(mine['containers']))
        self.assertNotEqual(uuid, mine['containers'][0]['uuid'])
        for method, path in [('GET', '/v1/containers/%s' % uuid),
                             ('GET', '/v1/containers/%s/logs' % uuid),
                             ('PUT', '/v1/containers/%s/start' % uuid),
                             ('PUT', '/v1/containers/%s/execute?command=ls'
                              % uuid),
                             ('DELETE', '/v1/containers/%s' % uuid)]:
            response = self.request(method, path, headers=PROJECT_B)
            self.assertEqual(404, response.status_int, path)
        # Nor may B put a container on A's bay.
        response = self.create(headers=PROJECT_B)
        self.assertEqual(400, response.status_int)
        self.assertEqual(
            'Stopped', self.get('/v1/containers/%s' % uuid).json['status'])

    def test_admin_sees_every_project_when_asking(self):
        self.create()
        self.make_bay('bayb', headers=PROJECT_B)
        self.create(headers=PROJECT_B, bay_uuid='bayb')
        admin = {'X-Project-Id': 'project-c', 'X-Roles': 'admin'}
        self.assertEqual(0, len(self.get(
            '/v1/containers', headers=admin).json['containers']))
        self.assertEqual(2, len(self.get(
            '/v1/containers?all_projects=1',
            headers=admin).json['containers']))
        self.assertEqual(403, self.get('/v1/containers?all_projects=1')
                         .status_int)

    def test_reader_reads_but_does_not_act(self):
        uuid = self.create().json['uuid']
        self.put('/v1/containers/c1/start')
        self.assertEqual(200, self.get('/v1/containers/c1',
                                       headers=READER).status_int)
        self.assertEqual(200, self.get('/v1/containers/c1/logs',
                                       headers=READER).status_int)
        for method, path in [('PUT', '/v1/containers/c1/stop'),
                             ('PUT', '/v1/containers/c1/execute?command=ls'),
                             ('DELETE', '/v1/containers/c1')]:
            response = self.request(method, path, headers=READER)
            self.assertEqual(403, response.status_int, path)
        self.assertEqual(
            'Running', self.get('/v1/containers/%s' % uuid).json['status'])

    def test_v1_links_to_containers(self):
        self.assertIn('containers', self.get('/v1').json)

    def test_deleting_the_bay_takes_its_container_rows(self):
        uuid = self.create().json['uuid']
        db_bays.destroy_bay(self.bay['uuid'])
        self.assertEqual(404, self.get('/v1/containers/%s' % uuid)
                         .status_int)
