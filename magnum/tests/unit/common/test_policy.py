"""The policy enforcer shared by an API worker's threads."""

import os
import threading
import time
from unittest import mock

import fixtures

from oslo_policy import policy as oslo_policy

from magnum.common import context as magnum_context
from magnum.common import policy
from magnum.tests import base


class TestEnforcerThreads(base.TestCase):

    def test_a_check_never_sees_half_loaded_rules(self):
        # A policy file overriding one rule: oslo.policy loads it by
        # replacing the rules with the file's, then adding the defaults.
        directory = self.useFixture(fixtures.TempDir()).path
        path = os.path.join(directory, 'policy.yaml')
        with open(path, 'w') as f:
            f.write('"bay:get_all": "role:reader or role:admin"\n')
        policy.get_enforcer()   # registers the [oslo_policy] options
        self.conf.config(policy_file=path, group='oslo_policy')
        policy.reset()
        admin = magnum_context.RequestContext(
            user_id='u', project_id='p', roles=['admin'], is_admin=True)
        load = oslo_policy.Rules.load
        record = oslo_policy.Enforcer._record_file_rules
        first = []

        def slow_first_load(*args, **kwargs):
            # The first loader is slow after reading the file, and again
            # after putting the file's rules in place (before the
            # defaults): other threads load and check meanwhile.
            if not first:
                first.append(threading.current_thread())
                time.sleep(0.2)
            return load(*args, **kwargs)

        def slow_first_record(enforcer, *args, **kwargs):
            if first and first[0] is threading.current_thread():
                time.sleep(0.2)
            return record(enforcer, *args, **kwargs)

        denied = []
        stop = time.monotonic() + 1.0

        def check():
            while time.monotonic() < stop:
                if not policy.check(admin, 'clustertemplate:create'):
                    denied.append(1)

        with mock.patch.object(oslo_policy.Rules, 'load',
                               side_effect=slow_first_load), \
                mock.patch.object(oslo_policy.Enforcer, '_record_file_rules',
                                  autospec=True,
                                  side_effect=slow_first_record):
            threads = [threading.Thread(target=check) for _ in range(4)]
            for thread in threads:
                thread.start()
                time.sleep(0.05)
            for thread in threads:
                thread.join()
        self.assertTrue(first)
        self.assertEqual([], denied)

    def test_the_enforcer_is_shared_only_once_every_rule_is_registered(self):
        policy.reset()
        admin = magnum_context.RequestContext(
            user_id='u', project_id='p', roles=['admin'], is_admin=True)
        register = oslo_policy.Enforcer.register_default
        denied = []

        def slow_register(enforcer, default):
            # Registering takes a while: other threads ask meanwhile.
            time.sleep(0.001)
            return register(enforcer, default)

        def check():
            try:
                if not policy.check(admin, 'clustertemplate:create'):
                    denied.append('refused')
            except Exception as e:
                denied.append(repr(e))

        with mock.patch.object(oslo_policy.Enforcer, 'register_default',
                               autospec=True, side_effect=slow_register):
            threads = [threading.Thread(target=check) for _ in range(4)]
            for thread in threads:
                thread.start()
                time.sleep(0.02)
            for thread in threads:
                thread.join()
        self.assertEqual([], denied)


class TestCheckSignaturesOnce(base.TestCase):
    """oslo.policy asks each check's signature whether it takes the rule's
    name; magnum.common.policy has that worked out once a check class. A
    check of either kind is called as oslo.policy would call it, every
    time."""

    def test_checks_with_and_without_the_rule_name_are_called_right(self):
        from oslo_policy import _checks

        seen = []

        class Named(_checks.Check):
            def __call__(self, target, creds, enforcer, current_rule=None):
                seen.append(('named', current_rule))
                return self.match == 'yes'

        class Legacy(_checks.Check):
            def __call__(self, target, creds, enforcer):
                seen.append(('legacy', None))
                return self.match == 'yes'

        for name, check in (('named', Named), ('legacy', Legacy)):
            _checks.register(name)(check)
            self.addCleanup(_checks.registered_checks.pop, name, None)
        policy.get_enforcer()   # puts the signature cache in place
        self.assertIsInstance(_checks.inspect, policy._SignaturesOnce)
        enforcer = oslo_policy.Enforcer(self.conf.conf, use_conf=False)
        enforcer.set_rules(oslo_policy.Rules.from_dict({
            't:named': 'named:yes', 't:legacy': 'legacy:yes',
            't:refused': 'named:no or legacy:no'}))
        for _ in range(3):
            self.assertTrue(enforcer.enforce('t:named', {}, {}))
            self.assertTrue(enforcer.enforce('t:legacy', {}, {}))
            self.assertFalse(enforcer.enforce('t:refused', {}, {}))
        self.assertEqual([('named', 't:named'), ('legacy', None),
                          ('named', 't:refused'), ('legacy', None)] * 3,
                         seen)
