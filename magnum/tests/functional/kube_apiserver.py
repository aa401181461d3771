"""A real, private Kubernetes API for functional tests.

``KubeAPIServer`` runs ``tools/kube-apiserver.sh build`` (which builds
kube-apiserver and kube-controller-manager 1.20 from Debian's ``kubernetes``
source package once, about 6 minutes on 2 CPUs, and caches them under
``$MAGNUM_KUBE_CACHE`` or ``~/.cache/magnum-tests/kubernetes``), then
``tools/kube-apiserver.sh start DIR`` on a fresh directory: Debian's etcd,
kube-apiserver and kube-controller-manager on free 127.0.0.1 ports, about
5 s. On cleanup they are stopped and DIR removed.

The API is HTTPS with a self-signed certificate (``ca_file``), and lets
anonymous requests do everything: clients need no credentials. There is no
kubelet and no scheduler, so pods stay Pending; Node objects can be created
through the API like any other.

``KubeAPIServer(auth='token')`` secures it like a real cluster instead:
bearer tokens and RBAC (``MAGNUM_KUBE_AUTH=token``, see the script).
``admin_token`` may do anything (``configuration()`` and ``client()`` use
it); ``magnum_token`` is the user ``magnum``, allowed only what Magnum
needs; ``magnum_kubeconfig(path)`` writes a kubeconfig for Magnum's
``[kubernetes] kubeconfig`` option with it.

``KubeAPIServer(auth='token', port=P, tls_dir=T)`` serves the certificate
and key in ``T`` (``server.crt``, ``server.key``) on 127.0.0.1:P and trusts
client certificates of ``T/ca.crt`` (``--client-ca-file``): e.g. a static
bay's files in Magnum's ``[static] certificate_dir``. ``restart()`` makes
kube-apiserver read them again (same port, same etcd and objects).

A test module shares one server with::

    from magnum.tests.functional import kube_apiserver as kube_mod

    kube_apiserver = pytest.fixture(scope='module')(kube_mod.kube_apiserver)
"""

import os
import shutil
import subprocess
import tempfile

import fixtures
import kubernetes.client

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))
SCRIPT = os.path.join(REPO, 'tools', 'kube-apiserver.sh')
# A cold build (apt installs, `apt-get source`, go build) takes ~6 min on
# 2 CPUs; a start ~5 s, bounded by the script at 60 s.
BUILD_TIMEOUT = 3600
START_TIMEOUT = 300
STOP_TIMEOUT = 120


class KubeAPIServerError(Exception):
    pass


def _run(args, timeout, auth='anonymous', port=None, tls_dir=None):
    command = [SCRIPT] + list(args)
    env = dict(os.environ, MAGNUM_KUBE_AUTH=auth)
    for name in ('MAGNUM_KUBE_PORT', 'MAGNUM_KUBE_TLS_DIR'):
        env.pop(name, None)
    if port is not None:
        env['MAGNUM_KUBE_PORT'] = str(port)
    if tls_dir is not None:
        env['MAGNUM_KUBE_TLS_DIR'] = tls_dir
    try:
        result = subprocess.run(command, stdin=subprocess.DEVNULL,
                                capture_output=True, text=True,
                                timeout=timeout, env=env)
    except subprocess.TimeoutExpired as e:
        raise KubeAPIServerError('%s took more than %ss:\n%s'
                                 % (' '.join(command), timeout,
                                    e.stderr or ''))
    if result.returncode:
        raise KubeAPIServerError('%s failed (%d):\n%s%s'
                                 % (' '.join(command), result.returncode,
                                    result.stdout, result.stderr))
    return result.stdout


def build():
    """Build (once) and return the directory with the binaries."""
    lines = _run(['build'], BUILD_TIMEOUT).splitlines()
    if not lines:
        raise KubeAPIServerError('%s build printed nothing' % SCRIPT)
    return lines[-1].strip()


class KubeAPIServer(fixtures.Fixture):
    """etcd + kube-apiserver (+ controller-manager); ``url`` is https."""

    def __init__(self, auth='anonymous', port=None, tls_dir=None):
        super().__init__()
        self.auth = auth
        self.port = port
        self.tls_dir = tls_dir
        self.url = None
        self.directory = None
        self.bin_dir = None

    def _setUp(self):
        self.bin_dir = build()
        self.directory = tempfile.mkdtemp(prefix='mgk8s-', dir='/tmp')
        self.addCleanup(shutil.rmtree, self.directory, ignore_errors=True)
        # Stop even when start failed half-way (etcd may be up).
        self.addCleanup(_run, ['stop', self.directory], STOP_TIMEOUT)
        self.url = self._url(_run(['start', self.directory], START_TIMEOUT,
                                  auth=self.auth, port=self.port,
                                  tls_dir=self.tls_dir))

    @staticmethod
    def _url(output):
        lines = output.splitlines()
        if not lines or not lines[-1].startswith('https://'):
            raise KubeAPIServerError('%s printed no API URL: %r'
                                     % (SCRIPT, lines))
        return lines[-1].strip()

    def restart(self):
        """kube-apiserver again on the same port and etcd: it reads its
        certificate files anew (e.g. after a CA rotation).
        """
        url = self._url(_run(['restart', self.directory], START_TIMEOUT))
        assert url == self.url, (url, self.url)

    @property
    def ca_file(self):
        """The CA of the serving certificate: the self-signed certificate
        itself, or ``tls_dir``'s ``ca.crt``.
        """
        if self.tls_dir:
            return os.path.join(self.tls_dir, 'ca.crt')
        return os.path.join(self.directory, 'ca.crt')

    @property
    def kubeconfig(self):
        return os.path.join(self.directory, 'kubeconfig')

    def _token(self, user):
        if self.auth != 'token':
            return None
        with open(os.path.join(self.directory, '%s.token' % user)) as f:
            return f.read().strip()

    @property
    def admin_token(self):
        return self._token('admin')

    @property
    def magnum_token(self):
        return self._token('magnum')

    def configuration(self, token=None):
        config = kubernetes.client.Configuration()
        config.host = self.url
        config.ssl_ca_cert = self.ca_file
        config.verify_ssl = True
        token = token or self.admin_token
        if token:
            config.api_key['BearerToken'] = 'Bearer %s' % token
        return config

    def magnum_kubeconfig(self, path, server=None):
        """Write a kubeconfig with Magnum's credentials (the ``magnum``
        user's token file) for ``server`` (default: this API); return path.
        """
        token_file = os.path.join(self.directory, 'magnum.token')
        with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC,
                          0o600), 'w') as f:
            f.write('apiVersion: v1\nkind: Config\n'
                    'clusters:\n- name: bay\n  cluster:\n'
                    '    server: %s\n    certificate-authority: %s\n'
                    'contexts:\n- name: bay\n'
                    '  context: {cluster: bay, user: magnum}\n'
                    'current-context: bay\n'
                    'users:\n- name: magnum\n  user: {tokenFile: %s}\n'
                    % (server or self.url, self.ca_file, token_file))
        return path

    def client(self):
        """A ``kubernetes.client.ApiClient`` on this API; close it when done.
        """
        return kubernetes.client.ApiClient(self.configuration())


def kube_apiserver():
    """A generator for a pytest fixture: one ``KubeAPIServer`` per scope."""
    with KubeAPIServer() as server:
        yield server


def secured_kube_apiserver():
    """The same, with tokens and RBAC (``auth='token'``)."""
    with KubeAPIServer(auth='token') as server:
        yield server
