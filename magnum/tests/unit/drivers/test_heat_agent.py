"""Magnum's Heat agent (fragments/heat-agent.py), the part that needs no
Heat: which deployments it runs, what their scripts see, what it keeps.

Its talk with the real Keystone and Heat (the credentials Heat makes, the
metadata, the signals) is tested in the functional test
test_heat_bays.test_ca_rotation_reaches_the_servers_through_heat.
"""

import importlib.util
import json
import os
import shutil
import tempfile

from magnum.tests import base
from magnum.tests.unit.drivers import test_heat_templates

_PATH = os.path.join(test_heat_templates.FRAGMENTS, 'heat-agent.py')


def _agent():
    spec = importlib.util.spec_from_file_location('magnum_heat_agent',
                                                  _PATH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _deployment(ident, config, group='script', **inputs):
    values = dict({'deploy_signal_transport': 'HEAT_SIGNAL',
                   'deploy_password': 'the-deployments-password',
                   'deploy_action': 'UPDATE'}, **inputs)
    return {'id': ident, 'name': 'certificates', 'group': group,
            'config': config,
            'inputs': [{'name': k, 'value': v} for k, v in values.items()]}


class TestHeatAgent(base.TestCase):

    def setUp(self):
        super().setUp()
        self.agent = _agent()
        self.scratch = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, self.scratch)
        self.credentials = os.path.join(self.scratch, 'cfn-init-data')
        self.state = os.path.join(self.scratch, 'state')
        with open(self.credentials, 'w') as f:
            json.dump({'os-collect-config': {'heat': {
                'auth_url': 'http://keystone/v3', 'user_id': 'u',
                'password': 'the-servers-password', 'project_id': 'p',
                'stack_id': 'server-stack/1', 'resource_name': 'server'}}},
                f)
        self.listed = []
        self.signals = []
        self.agent.deployments = lambda heat: list(self.listed)
        self.agent.signal = (
            lambda deployment, outcome, heat: self.signals.append(
                (deployment['id'], outcome)))

    def _pass(self):
        return self.agent.one_pass(self.credentials, self.state)

    def test_a_script_runs_once_with_its_inputs_but_no_passwords(self):
        out = os.path.join(self.scratch, 'seen')
        self.listed = [_deployment(
            'd1', '#!/bin/sh\nenv > %s\necho done; echo oops >&2\n'
            'exit 3\n' % out, bay='b1')]
        self.assertEqual(['d1'], self._pass())
        self.assertEqual([('d1', ('done\n', 'oops\n', 3))], self.signals)
        with open(out) as f:
            seen = f.read()
        self.assertIn('bay=b1\n', seen)
        self.assertIn('deploy_action=UPDATE\n', seen)
        self.assertNotIn('the-deployments-password', seen)
        self.assertNotIn('the-servers-password', seen)
        # Its script is gone; it is not run again.
        self.assertEqual(['done.json'], os.listdir(self.state))
        self.assertEqual(0o700, os.stat(self.state).st_mode & 0o777)
        self.assertEqual([], self._pass())
        # A new configuration is a new deployment id: run.
        self.listed.append(_deployment('d2', '#!/bin/sh\n'))
        self.assertEqual(['d2'], self._pass())

    def test_a_deployment_whose_signal_fails_is_run_again(self):
        self.listed = [_deployment('d1', '#!/bin/sh\necho hi\n')]

        def refused(deployment, outcome, heat):
            raise self.agent.AgentError('POST signal: 503')
        self.agent.signal = refused
        self.assertRaises(self.agent.AgentError, self._pass)
        self.agent.signal = lambda d, o, h: self.signals.append(d['id'])
        self.assertEqual(['d1'], self._pass())

    def test_other_groups_and_servers_without_credentials_run_nothing(self):
        self.listed = [_deployment('d1', 'echo hi', group='puppet')]
        self.assertEqual([], self._pass())
        os.remove(self.credentials)
        self.listed = [_deployment('d2', '#!/bin/sh\n')]
        self.assertEqual([], self._pass())
        self.assertEqual([], self.signals)

    def test_a_script_that_cannot_start_is_a_failure_heat_hears_of(self):
        self.listed = [_deployment('d1', 'no interpreter line')]
        self.assertEqual(['d1'], self._pass())
        _, (stdout, stderr, status) = self.signals[0]
        self.assertNotEqual(0, status)
        self.assertIn('could not run', stderr)

    def test_no_signal_is_sent_when_none_is_asked(self):
        agent = _agent()
        calls = []
        agent.authenticate = lambda *a: calls.append(a)
        agent.signal(_deployment('d1', '', deploy_signal_transport=(
            'NO_SIGNAL')), ('', '', 0), {})
        self.assertEqual([], calls)
        self.assertRaises(agent.AgentError, agent.signal, _deployment(
            'd2', '', deploy_signal_transport='CFN_SIGNAL'), ('', '', 0), {})
