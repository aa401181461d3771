import os
import tempfile

from oslo_config import cfg

from magnum.cmd import service
from magnum.tests import base


class TestAuthStrategyDefault(base.TestCase):

    def _prepare_with(self, text):
        with tempfile.NamedTemporaryFile('w', suffix='.conf',
                                         delete=False) as f:
            f.write(text)
        self.addCleanup(os.unlink, f.name)
        service.prepare(['--config-file', f.name], default_config_files=[])

    def test_no_configuration_file_means_noauth(self):
        service.prepare([], default_config_files=[])
        self.assertEqual('noauth', cfg.CONF.auth_strategy)

    def test_a_configuration_file_means_keystone(self):
        self._prepare_with('[api]\nport = 9511\n')
        self.assertEqual('keystone', cfg.CONF.auth_strategy)

    def test_the_file_can_still_choose_noauth(self):
        self._prepare_with('[DEFAULT]\nauth_strategy = noauth\n')
        self.assertEqual('noauth', cfg.CONF.auth_strategy)
