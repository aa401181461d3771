"""etc/magnum/magnum.conf.sample is what oslo-config-generator writes today.

The generator runs in a child process (it changes option defaults in the
libraries it loads) on a made-up host name and home directory, so the test
also proves that the sample holds nothing of the machine that wrote it:
every default that depends on the machine needs a ``sample_default``.
"""

import os
import subprocess
import sys
import tempfile

import testtools

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..',
                                    '..'))
SAMPLE = os.path.join(ROOT, 'etc', 'magnum', 'magnum.conf.sample')
GENERATOR_CONF = os.path.join(ROOT, 'etc', 'magnum',
                              'magnum-config-generator.conf')

FAKE_HOST = 'sample-generator-host.invalid'
FAKE_HOME = '/nonexistent/sample-generator-home'

# NOTE: patched before anything imports an option module, which may read
# the host name at import time.
_GENERATE = '''
import socket
import sys
socket.gethostname = lambda: %(host)r
socket.getfqdn = lambda name='': %(host)r
from oslo_config import generator
generator.main(sys.argv[1:])
''' % {'host': FAKE_HOST}


def generate():
    """The sample as the generator writes it now, on a made-up machine."""
    with tempfile.TemporaryDirectory() as directory:
        output = os.path.join(directory, 'magnum.conf.sample')
        subprocess.run(
            [sys.executable, '-c', _GENERATE, '--config-file', GENERATOR_CONF,
             '--output-file', output],
            cwd=ROOT, env=dict(os.environ, HOME=FAKE_HOME), check=True,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
        with open(output) as f:
            return f.read()


class TestConfigSample(testtools.TestCase):

    def test_committed_sample_is_what_the_generator_writes(self):
        generated = generate()
        for machine_value in (FAKE_HOST, FAKE_HOME):
            self.assertNotIn(
                machine_value, generated,
                'an option default depends on the machine; give it a '
                'sample_default')
        with open(SAMPLE) as f:
            committed = f.read()
        self.assertEqual(
            committed, generated,
            'etc/magnum/magnum.conf.sample is stale; regenerate it with '
            '"tox -e genconfig" (oslo-config-generator --config-file '
            'etc/magnum/magnum-config-generator.conf)')
