"""API unit tests: the whole paste pipeline, in process, on SQLite."""

import json

from unittest import mock
import webob

from magnum.api import app
from magnum.api import hooks
from magnum.drivers import base as drivers
from magnum.tests import base
from magnum.tests import openapi_check
from magnum.tests.unit import fake_provisioner


class APITestCase(base.TestCase):

    headers = {'X-Project-Id': 'project-a', 'X-User-Id': 'user-a',
               'X-Roles': 'member'}

    def setUp(self):
        super().setUp()
        self.use_fake_rpc()
        hooks.RPCHook._api = None
        self.addCleanup(setattr, hooks.RPCHook, '_api', None)
        self.provisioner = fake_provisioner.FakeProvisioner()
        self.mock_out('magnum.lifecycle.provisioning.installed_names',
                              return_value=['fake', 'static'])
        drivers._LOADED['fake'] = self.provisioner
        self.addCleanup(drivers._LOADED.pop, 'fake', None)
        self.casts = []
        # NOTE: (the kind of the action cast, its bay's uuid)
        self.mock_out(
            'magnum.conductor.api.ConductorAPI.action_run',
            side_effect=lambda ctx, action: self.casts.append(
                (action.kind, action.bay_uuid)), autospec=False)
        self.app = app.load_app()

    def mock_out(self, target, **kwargs):
        patcher = mock.patch(target, **kwargs)
        patcher.start()
        self.addCleanup(patcher.stop)

    def request(self, method, path, body=None, headers=None, raw=None,
                as_admin=False):
        request = webob.Request.blank(path, method=method)
        all_headers = dict(self.headers)
        if as_admin:
            all_headers['X-Roles'] = 'admin'
        all_headers.update(headers or {})
        for name, value in all_headers.items():
            if value is None:
                request.headers.pop(name, None)
            else:
                request.headers[name] = value
        if raw is not None:
            request.body = raw
            request.content_type = 'application/json'
        elif body is not None:
            request.body = json.dumps(body).encode()
            request.content_type = 'application/json'
        response = request.get_response(self.app)
        openapi_check.check(method, path, response.status_int,
                            response.text)
        return response

    def get(self, path, **kwargs):
        return self.request('GET', path, **kwargs)

    def post(self, path, body, **kwargs):
        return self.request('POST', path, body=body, **kwargs)

    def patch(self, path, body, **kwargs):
        return self.request('PATCH', path, body=body, **kwargs)

    def delete(self, path, **kwargs):
        return self.request('DELETE', path, **kwargs)

    def fault(self, response):
        """The faultstring of an error response (asserting the format)."""
        outer = response.json
        self.assertEqual({'error_message'}, set(outer))
        inner = json.loads(outer['error_message'])
        self.assertEqual({'faultstring', 'faultcode', 'debuginfo'},
                         set(inner))
        return inner['faultstring']
