"""magnum-api's worker: what loading the API app imports."""

import importlib.util
import json
import os
import subprocess
import sys

import fixtures
import testtools

# What a magnum-api worker does (magnum/cmd/api.py): the command line and
# configuration, then the app, as WSGIServer.load builds it after the fork.
_LOAD_THE_APP = '''
import json, sys
from magnum.cmd import api
from magnum.cmd import service
service.prepare(['--config-file', sys.argv[1]])
api.WSGIServer(api.server_options()).load()
print(json.dumps(sorted(sys.modules)))
'''

# Installed (Magnum's requirements bring them), used by the conductor or
# not at all, and each MiBs in every API worker that imported them.
_INSTALLED_NOT_LOADED = (
    # provisioners' and COE clients: the conductor's drivers
    'heatclient', 'kubernetes', 'docker',
    # Keystone's middleware and client: the keystone pipeline's only
    'keystonemiddleware', 'keystoneclient',
    # keys and certificates are the conductor's; the API loads it only to
    # check an SSH key or a CSR it is sent
    'cryptography',
    # eventlet's green DNS resolver (no Magnum process monkey-patches)
    'dns',
    # Mako's highlighting of HTML error pages
    'pygments',
    # the migrations: magnum-db-manage's
    'alembic',
)
_MAGNUM_NOT_LOADED = (
    'magnum.drivers.heat', 'magnum.drivers.static', 'magnum.drivers.capi',
    'magnum.drivers.tls_clients', 'magnum.conductor.handlers',
    'magnum.conductor.manager', 'magnum.objects.bay_tls',
    'magnum.common.keystore', 'magnum.common.x509',
)


class TestAPIWorkerImports(testtools.TestCase):

    def loaded_modules(self):
        tmp = self.useFixture(fixtures.TempDir()).path
        config = os.path.join(tmp, 'magnum.conf')
        with open(config, 'w') as f:
            f.write('[DEFAULT]\nauth_strategy = noauth\n'
                    'transport_url = fake:///\nstate_path = %s\n'
                    '[database]\nconnection = sqlite:///%s/magnum.sqlite\n'
                    % (tmp, tmp))
        env = dict(os.environ)
        # NOTE: set by magnum.cmd when this process imported it; the worker
        # must set it itself.
        env.pop('EVENTLET_NO_GREENDNS', None)
        result = subprocess.run(
            [sys.executable, '-c', _LOAD_THE_APP, config], env=env, cwd=tmp,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            timeout=120)
        self.assertEqual(0, result.returncode, result.stderr[-3000:])
        return set(json.loads(result.stdout.strip().splitlines()[-1]))

    def test_the_worker_leaves_out_what_the_api_never_uses(self):
        modules = self.loaded_modules()
        self.assertIn('magnum.api.controllers.v1.cluster', modules)
        for name in _INSTALLED_NOT_LOADED:
            # Present, so that their absence below says something.
            self.assertIsNotNone(importlib.util.find_spec(name), name)
        self.assertEqual([], [name for name in _INSTALLED_NOT_LOADED
                              + _MAGNUM_NOT_LOADED if name in modules])
