"""The auth seam: which pipeline runs, and what each one trusts."""

import os
import tempfile

from keystonemiddleware import auth_token  # noqa: F401  (its options)

from magnum.api import app
from magnum.common import policy
from magnum.tests.unit.api import base


class TestKeystonePipeline(base.APITestCase):

    def setUp(self):
        super().setUp()
        self.conf.config(auth_strategy='keystone')
        # Where a 401 tells clients to authenticate; nothing is contacted.
        self.conf.config(www_authenticate_uri='http://keystone.invalid/v3',
                         group='keystone_authtoken')
        self.app = app.load_app()

    def test_version_documents_need_no_token(self):
        for path in ('/', '/v1', '/v1/'):
            self.assertEqual(200, self.get(path).status_int, path)

    def test_resources_without_a_token_are_401_in_the_error_format(self):
        response = self.get('/v1/bays', headers={'X-Auth-Token': None})
        self.assertEqual(401, response.status_int)
        self.assertTrue(self.fault(response))

    def test_healthcheck_needs_no_token(self):
        self.assertEqual(200, self.get('/healthcheck').status_int)


class TestNoAuthPipeline(base.APITestCase):

    def test_identity_comes_from_headers(self):
        body = self.post('/v1/baymodels', {'coe': 'docker'},
                         headers={'X-Project-Id': 'p9',
                                  'X-User-Id': 'u9'}).json
        self.assertEqual(('p9', 'u9'), (body['project_id'], body['user_id']))

    def test_defaults_apply_without_headers(self):
        self.conf.config(project_id='demo', group='noauth')
        body = self.post('/v1/baymodels', {'coe': 'docker'},
                         headers={'X-Project-Id': None, 'X-User-Id': None,
                                  'X-Roles': None}).json
        self.assertEqual('demo', body['project_id'])


class TestRoles(base.APITestCase):
    """reader looks, member also changes, admin does anything anywhere."""

    def as_role(self, role, project='project-a'):
        return {'X-Roles': role, 'X-Project-Id': project}

    def setUp(self):
        super().setUp()
        self.bm = self.post('/v1/baymodels', {
            'coe': 'docker', 'name': 'bm',
            'labels': {'provisioner': 'fake'}}).json
        self.path = '/v1/baymodels/%s' % self.bm['uuid']
        self.rename = [{'op': 'replace', 'path': '/name', 'value': 'x'}]

    def test_reader_can_look_but_not_change(self):
        reader = self.as_role('reader')
        self.assertEqual(200, self.get(self.path, headers=reader).status_int)
        self.assertEqual(1, len(self.get('/v1/baymodels', headers=reader)
                                .json['baymodels']))
        self.assertEqual(403, self.post('/v1/baymodels', {'coe': 'docker'},
                                        headers=reader).status_int)
        self.assertEqual(403, self.patch(self.path, self.rename,
                                         headers=reader).status_int)
        self.assertEqual(403, self.delete(self.path,
                                          headers=reader).status_int)
        self.assertEqual('bm', self.get(self.path).json['name'])

    def test_member_can_change_its_projects_rows(self):
        member = self.as_role('member')
        self.assertEqual(200, self.patch(self.path, self.rename,
                                         headers=member).status_int)
        self.assertEqual(204, self.delete(self.path,
                                          headers=member).status_int)

    def test_no_role_can_do_nothing(self):
        nobody = self.as_role('')
        self.assertEqual(403, self.get('/v1/baymodels',
                                       headers=nobody).status_int)

    def test_admin_of_another_project_changes_any_row(self):
        admin = self.as_role('admin', project='ops')
        self.assertEqual(200, self.get(self.path, headers=admin).status_int)
        self.assertEqual(200, self.patch(self.path, self.rename,
                                         headers=admin).status_int)

    def test_member_of_another_project_gets_404_not_403(self):
        other = self.as_role('member', project='project-b')
        self.assertEqual(404, self.get(self.path, headers=other).status_int)
        self.assertEqual(404, self.delete(self.path,
                                          headers=other).status_int)

    def test_published_baymodel_changes_only_by_admin(self):
        public = self.post('/v1/baymodels', {'coe': 'docker',
                                             'public': True},
                           as_admin=True).json
        path = '/v1/baymodels/%s' % public['uuid']
        member = self.as_role('member')
        self.assertEqual(200, self.get(path, headers=member).status_int)
        self.assertEqual(403, self.patch(path, self.rename,
                                         headers=member).status_int)
        self.assertEqual(403, self.delete(path, headers=member).status_int)
        self.assertEqual(204, self.delete(path, as_admin=True).status_int)


class TestPolicyFile(base.APITestCase):

    def test_a_policy_file_overrides_the_defaults(self):
        with tempfile.NamedTemporaryFile('w', suffix='.yaml',
                                         delete=False) as f:
            f.write('"baymodel:get_all": "role:auditor"\n')
        self.addCleanup(os.unlink, f.name)
        # NOTE: the enforcer registers the [oslo_policy] options; this test
        # may be the first of its process to need them.
        policy.get_enforcer()
        self.conf.config(policy_file=f.name, group='oslo_policy')
        policy.reset()
        self.assertEqual(403, self.get('/v1/baymodels').status_int)
        self.assertEqual(200, self.get(
            '/v1/baymodels', headers={'X-Roles': 'auditor'}).status_int)
