"""Horizon with the Magnum panel (magnum-ui), for real, on a free port.

Horizon 27.0.0 and magnum-ui 19.0.0 run from their own virtualenv
(``tools/horizon.sh`` builds it once under
``~/.cache/magnum-tests/horizon-venv``, with python-magnumclient pinned to
4.11.0: 5.0.0 drops the ``input_auth_token`` that magnum-ui passes)::

    with processes.running(horizon.Horizon(keystone)) as dashboard:
        dashboard.url  # http://127.0.0.1:PORT/

Nothing in the virtualenv is changed. The work directory holds a small
``manage.py`` and a package ``local`` whose ``local_settings.py`` Horizon's
settings import (``from local.local_settings import *``: the work
directory comes first on ``sys.path``). The settings point at the test
Keystone, keep sessions in a local-memory cache (``runserver`` is one
process), and enable magnum-ui's five ``magnum_ui/enabled/_*.py`` files by
adding that directory to ``openstack_dashboard.local.enabled``'s package
path, where Horizon looks for enabled files.

``collectstatic`` and ``compress`` (offline compression: the pages then
need no SCSS compiler at request time) take about a minute; their output
depends only on the virtualenv and these settings, so it is kept in the
cache beside the virtualenv (keyed by both) and copied in on later runs.
The server is ``manage.py runserver --insecure --noreload``, which also
serves the static files.
"""

import hashlib
import http.server
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import uuid

import fixtures
import requests

from magnum.tests.functional import keystone as keystone_mod
from magnum.tests.functional import processes

REPO = keystone_mod.REPO
SCRIPT = os.path.join(REPO, 'tools', 'horizon.sh')
CACHE = os.environ.get('MAGNUM_TEST_CACHE',
                       os.path.expanduser('~/.cache/magnum-tests'))
# Seconds: collectstatic + compress cold (~1 min on 2 cores), and the first
# page (Django imports every dashboard's panels on the first request).
STATIC_TIMEOUT = 600
START_TIMEOUT = 120

_MANAGE = '''\
#!/usr/bin/env python
"""Horizon's management commands with the local settings beside this file.
"""
import os
import sys

if __name__ == '__main__':
    os.environ.setdefault('DJANGO_SETTINGS_MODULE',
                          'openstack_dashboard.settings')
    from django.core.management import execute_from_command_line
    execute_from_command_line(sys.argv)
'''

# NOTE: everything that changes the collected static files is in this
# template (and the virtualenv); the Keystone URL and the secret key are
# not, so the cached output serves every run.
_STATIC_SETTINGS = '''\
import os

import magnum_ui.enabled
from openstack_dashboard.local import enabled as _enabled

# magnum-ui's enabled files (the project's Container Infra panel group,
# its Clusters and Cluster Templates panels, the admin Quotas panel).
_enabled.__path__.append(os.path.dirname(magnum_ui.enabled.__file__))

DEBUG = False
COMPRESS_OFFLINE = True
STATIC_ROOT = %(static_root)r
STATIC_URL = '/static/'
WEBROOT = '/'
# NOTE: compress renders the pages' script blocks with the cache at hand;
# with another backend than the server's the offline manifest misses keys.
CACHES = {'default': {
    'BACKEND': 'django.core.cache.backends.locmem.LocMemCache'}}
# (replaced below at run time; set here so that the build writes no key
# store into the virtualenv)
SECRET_KEY = 'collectstatic'
'''

_SETTINGS = _STATIC_SETTINGS + '''
SECRET_KEY = %(secret_key)r
LOCAL_PATH = %(work_dir)r
ALLOWED_HOSTS = ['127.0.0.1', 'localhost']
OPENSTACK_HOST = '127.0.0.1'
OPENSTACK_KEYSTONE_URL = %(keystone_url)r
OPENSTACK_KEYSTONE_DEFAULT_ROLE = 'member'
OPENSTACK_ENDPOINT_TYPE = 'publicURL'
# NOTE: the stand-in of Nova, Neutron and Glance is in RegionOne; the
# session's real ones (cloud.py) may be in the catalog too, in a region of
# their own.
DEFAULT_SERVICE_REGIONS = {'*': 'RegionOne'}
SESSION_ENGINE = 'django.contrib.sessions.backends.cache'
SESSION_TIMEOUT = 3600
LOGGING = {
    'version': 1,
    'disable_existing_loggers': False,
    'handlers': {'console': {'class': 'logging.StreamHandler'}},
    'loggers': {
        'django.server': {'handlers': ['console'], 'level': 'INFO'},
        'django.request': {'handlers': ['console'], 'level': 'WARNING'},
        'horizon': {'handlers': ['console'], 'level': 'WARNING'},
        'openstack_dashboard': {'handlers': ['console'],
                                'level': 'WARNING'},
        'openstack_auth': {'handlers': ['console'], 'level': 'WARNING'},
        'magnum_ui': {'handlers': ['console'], 'level': 'WARNING'},
    },
}
'''


def venv():
    return keystone_mod.venv(SCRIPT, 'Horizon')


class Horizon(fixtures.Fixture):
    """Horizon + magnum-ui under ``runserver`` on a free port, logging in
    against ``keystone`` (a ``keystone.Keystone``).
    """

    def __init__(self, keystone):
        super().__init__()
        self.keystone = keystone
        self.processes = []

    def _setUp(self):
        self.venv = venv()
        self.python = os.path.join(self.venv, 'bin', 'python')
        if os.environ.get('MAGNUM_TEST_KEEP_LOGS'):
            self.work_dir = tempfile.mkdtemp(prefix='magnum-horizon-')
            sys.stderr.write('horizon logs in %s\n' % self.work_dir)
        else:
            self.work_dir = self.useFixture(fixtures.TempDir()).path
        self.addCleanup(lambda: processes.stop_all(self.processes))
        self.static_root = os.path.join(self.work_dir, 'static')
        self._write(self.work_dir, _SETTINGS % {
            'static_root': self.static_root,
            'secret_key': uuid.uuid4().hex,
            'work_dir': self.work_dir,
            'keystone_url': self.keystone.url,
        })
        self._static_files()
        self.process = self._start()

    @staticmethod
    def _write(directory, settings):
        with open(os.path.join(directory, 'manage.py'), 'w') as f:
            f.write(_MANAGE)
        local = os.path.join(directory, 'local')
        os.makedirs(local, exist_ok=True)
        open(os.path.join(local, '__init__.py'), 'w').close()
        with open(os.path.join(local, 'local_settings.py'), 'w') as f:
            f.write(settings)

    def _manage(self, cwd, *args, timeout=STATIC_TIMEOUT):
        result = subprocess.run(
            [self.python, 'manage.py'] + list(args), cwd=cwd,
            stdin=subprocess.DEVNULL, capture_output=True, text=True,
            timeout=timeout, env=processes._child_environment(None))
        if result.returncode:
            raise processes.ServiceFailed(
                'manage.py %s failed (%d):\n%s' % (
                    ' '.join(args), result.returncode,
                    (result.stdout + result.stderr)[-4000:]))

    def _static_files(self):
        """collectstatic + compress, or their cached output."""
        with open(os.path.join(self.venv, '.complete'), 'rb') as f:
            key = hashlib.sha256(f.read() + _STATIC_SETTINGS.encode())
        cached = os.path.join(CACHE, 'horizon-static-%s'
                              % key.hexdigest()[:16])
        if not os.path.isdir(cached):
            build = tempfile.mkdtemp(prefix='horizon-static-', dir=CACHE)
            try:
                static_root = os.path.join(build, 'static')
                self._write(build, _STATIC_SETTINGS % {
                    'static_root': static_root})
                self._manage(build, 'collectstatic', '--noinput', '-v0')
                self._manage(build, 'compress', '--force', '-v0')
                try:
                    os.rename(static_root, cached)
                except OSError:
                    pass  # another run finished first: same files
            finally:
                shutil.rmtree(build, ignore_errors=True)
        # NOTE: the offline manifest names files by URL (STATIC_URL), not
        # by path, so the cached tree serves from any work directory.
        os.symlink(cached, self.static_root)

    def _start(self):
        for attempt in range(1, processes._PORT_ATTEMPTS + 1):
            self.port = processes.free_port()
            self.url = 'http://127.0.0.1:%d/' % self.port
            log_path = os.path.join(self.work_dir, 'horizon.log')
            process = processes.Process('horizon', [
                self.python, 'manage.py', 'runserver', '--insecure',
                '--noreload', '127.0.0.1:%d' % self.port,
            ], log_path, cwd=self.work_dir).start()
            self.processes.append(process)

            def answers(process=process):
                if 'port is already in use' in process.tail(20):
                    raise processes._PortTaken()
                response = requests.get(self.url + 'auth/login/', timeout=30)
                return response.status_code == 200

            try:
                processes.wait_for(answers, 'GET %sauth/login/' % self.url,
                                   self.processes, timeout=START_TIMEOUT,
                                   interval=0.5)
                return process
            except processes._PortTaken:
                process.stop(grace=0)
                self.processes.remove(process)
                os.rename(log_path, '%s.%d' % (log_path, attempt))
        raise processes.ServiceFailed('horizon found no free port in %d '
                                      'tries' % processes._PORT_ATTEMPTS)

    def logs(self, lines=40):
        return processes.logs_of(self.processes, lines)


class _ProxyHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'

    def log_message(self, format, *args):
        pass

    def _forward(self):
        length = int(self.headers.get('Content-Length') or 0)
        body = self.rfile.read(length) if length else None
        headers = {k: v for k, v in self.headers.items()
                   if k.lower() not in ('host', 'content-length',
                                        'connection')}
        try:
            answer = requests.request(
                self.command, self.server.target + self.path, data=body,
                headers=headers, timeout=60, allow_redirects=False)
            status, content = answer.status_code, answer.content
            answer_headers = answer.headers
        except requests.RequestException as e:
            status, content, answer_headers = 502, str(e).encode(), {}
        self.server.requests.append((self.command, self.path, status))
        if status >= 400:
            self.server.errors.append((self.command, self.path, status,
                                       body, content[:2000]))
        self.send_response(status)
        for name, value in answer_headers.items():
            if name.lower() not in ('content-length', 'connection',
                                    'transfer-encoding', 'content-encoding'):
                self.send_header(name, value)
        self.send_header('Content-Length', str(len(content)))
        self.end_headers()
        self.wfile.write(content)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _forward


class RecordingProxy(fixtures.Fixture):
    """A pass-through HTTP proxy to ``target`` (``http://host:port``) on a
    free port, recording what every request was answered: ``requests``,
    a list of ``(method, path, status)``, and ``errors``. magnum-api keeps
    no access log; put this in the catalog in front of it to see every
    call the dashboard makes and how Magnum answered.
    """

    def __init__(self, target):
        super().__init__()
        self.target = target.rstrip('/')

    def _setUp(self):
        self.server = http.server.ThreadingHTTPServer(
            ('127.0.0.1', 0), _ProxyHandler)
        self.server.daemon_threads = True
        self.server.target = self.target
        self.server.requests = []
        self.server.errors = []
        self.url = 'http://127.0.0.1:%d' % self.server.server_address[1]
        thread = threading.Thread(target=self.server.serve_forever,
                                  name='recording-proxy', daemon=True)
        thread.start()
        self.addCleanup(self.server.server_close)
        self.addCleanup(self.server.shutdown)

    @property
    def requests(self):
        return list(self.server.requests)

    @property
    def errors(self):
        """The requests answered 4xx or 5xx: ``(method, path, status,
        request body, answer body)``."""
        return list(self.server.errors)
