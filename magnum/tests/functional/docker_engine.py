"""A real, private Docker Engine for functional tests.

``DockerEngine`` runs ``tools/docker-engine.sh start DIR`` on a fresh short
directory under /tmp (unix socket paths are limited to 107 bytes), which
installs Debian's docker.io and busybox-static if needed, starts ``dockerd``
on ``DIR/docker.sock`` without networking (``--bridge=none``, no iptables)
and imports a local ``busybox:latest`` image; nothing is pulled from a
registry. Containers run with loopback only. On cleanup the engine is
stopped and DIR removed.

Starting takes about a second; a pytest fixture ``docker_engine`` in
``conftest.py`` shares one engine per test module.

``DockerEngine(tls_dir=D, tcp_port=P)`` also serves the API on
``tcp://127.0.0.1:P`` with ``--tlsverify`` and the certificates in ``D``
(``ca.crt``, ``server.crt``, ``server.key``: a static bay's certificate
directory); ``restart()`` makes dockerd read them again.
"""

import os
import shutil
import subprocess
import tempfile

import docker
import fixtures

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))
SCRIPT = os.path.join(REPO, 'tools', 'docker-engine.sh')
IMAGE = 'busybox:latest'
# Installing docker.io on a bare machine takes a while; a start alone ~1 s.
START_TIMEOUT = 900
STOP_TIMEOUT = 120


class DockerEngineError(Exception):
    pass


def _run(action, directory, timeout, env=None):
    try:
        result = subprocess.run([SCRIPT, action, directory],
                                stdin=subprocess.DEVNULL,
                                capture_output=True, text=True,
                                timeout=timeout,
                                env=dict(os.environ, **(env or {})))
    except subprocess.TimeoutExpired as e:
        raise DockerEngineError('%s %s %s took more than %ss:\n%s'
                                % (SCRIPT, action, directory, timeout,
                                   e.stderr or ''))
    if result.returncode:
        raise DockerEngineError('%s %s %s failed (%d):\n%s%s'
                                % (SCRIPT, action, directory,
                                   result.returncode, result.stdout,
                                   result.stderr))
    return result.stdout


class DockerEngine(fixtures.Fixture):
    """A dockerd of its own; ``url`` is ``unix:///tmp/.../docker.sock``."""

    def __init__(self, image=IMAGE, tls_dir=None, tcp_port=None):
        super().__init__()
        self.image = image
        self.url = None
        self.directory = None
        self.env = {}
        if tcp_port:
            self.env = {'DOCKER_ENGINE_TCP_PORT': str(tcp_port),
                        'DOCKER_ENGINE_TLS_DIR': tls_dir}
        self.tcp_url = 'tcp://127.0.0.1:%d' % tcp_port if tcp_port else None

    def _setUp(self):
        self.directory = tempfile.mkdtemp(prefix='mgdk-', dir='/tmp')
        self.addCleanup(shutil.rmtree, self.directory, ignore_errors=True)
        # Stop even when start failed half-way (the daemon may be up).
        self.addCleanup(_run, 'stop', self.directory, STOP_TIMEOUT)
        self._start()

    def restart(self):
        """Stop and start dockerd (its certificates are read again)."""
        _run('stop', self.directory, STOP_TIMEOUT)
        self._start()

    def _start(self):
        lines = _run('start', self.directory, START_TIMEOUT,
                     env=self.env).splitlines()
        if not lines or not lines[-1].startswith('unix://'):
            raise DockerEngineError('%s printed no socket URL: %r'
                                    % (SCRIPT, lines))
        self.url = lines[-1].strip()

    @property
    def socket_path(self):
        return self.url[len('unix://'):]

    def client(self, **kwargs):
        """A ``docker.DockerClient`` on this engine; close it when done."""
        kwargs.setdefault('timeout', 30)
        return docker.DockerClient(base_url=self.url, **kwargs)
