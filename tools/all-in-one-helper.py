"""What tools/all-in-one.sh does in Python (run with .venv/bin/python).

    all-in-one-helper.py clients
        Builds the client releases the README's all-in-one section shows
        (python-magnumclient 2.1.0, 3.7.0, and 4.11.0 with
        python-openstackclient), each in its virtualenv under
        ~/.cache/magnum-tests/magnumclient-<version>, the same ones the
        functional tests use; prints ``<version> <bin directory>`` lines.

    all-in-one-helper.py keystone STATE PORT MAGNUM_URL
        Runs a Keystone for the all-in-one until SIGTERM or SIGINT: its
        state (SQLite, keys, admin password) kept in STATE/keystone, on
        127.0.0.1:PORT, magnum registered at MAGNUM_URL. Writes
        STATE/keystone-mode.conf (Keystone auth, the certificate key; not
        magnum.conf, which oslo.config would find in ~/.magnum/ by itself
        and every later no-auth run would read),
        STATE/openrc (user ``demo``, a member of project ``demo``) and
        STATE/admin-openrc (``admin``), each readable by its owner only,
        then STATE/keystone.ready. Passwords are new at each start.

The Keystone is the functional tests' (magnum/tests/functional/keystone.py,
its virtualenv built by tools/keystone.sh), kept in one directory and on one
port instead of a temporary directory and a free port.
"""

import concurrent.futures
import os
import secrets
import signal
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

from magnum.common import keystore  # noqa: E402
from magnum.tests.functional import keystone  # noqa: E402
from magnum.tests.functional import magnumclient  # noqa: E402
from magnum.tests.functional import processes  # noqa: E402

CLIENTS = (('2.1.0', ()), ('3.7.0', ()),
           ('4.11.0', ('python-openstackclient',)))


def clients():
    venvs = [magnumclient.ClientVenv(version, extra=('six',) + extra)
             for version, extra in CLIENTS]
    with concurrent.futures.ThreadPoolExecutor(len(venvs)) as pool:
        for venv in pool.map(lambda v: v.ensure(), venvs):
            print(venv.version, os.path.join(venv.path, 'bin'))


def _private(path, text):
    """Write ``path`` readable by its owner only (never for a moment by
    anyone else)."""
    fd = os.open(path + '.new', os.O_WRONLY | os.O_CREAT | os.O_TRUNC,
                 0o600)
    with os.fdopen(fd, 'w') as f:
        f.write(text)
    os.replace(path + '.new', path)


def _openrc(ks, user, password, project):
    return ''.join('export %s=%s\n' % item for item in (
        ('OS_AUTH_TYPE', 'password'),
        ('OS_AUTH_URL', ks.url),
        ('OS_IDENTITY_API_VERSION', '3'),
        ('OS_USERNAME', user),
        ('OS_PASSWORD', password),
        ('OS_PROJECT_NAME', project),
        # NOTE: the 2.x magnum CLI reads the project as a tenant.
        ('OS_TENANT_NAME', project),
        ('OS_USER_DOMAIN_NAME', keystone.DOMAIN),
        ('OS_PROJECT_DOMAIN_NAME', keystone.DOMAIN),
        ('OS_REGION_NAME', keystone.REGION)))


def _certificate_key(state):
    """The key of the all-in-one's no-auth runs, so their bays' keys still
    decrypt (made here when there is none yet)."""
    path = os.path.join(state, keystore.KEY_FILE)
    if not os.path.exists(path):
        _private(path, secrets.token_urlsafe(32) + '\n')
    with open(path) as f:
        return f.read().strip()


def _write_magnum_conf(ks, state, magnum_url):
    sections = keystone.magnum_auth_config(ks)
    sections['DEFAULT']['state_path'] = state
    sections['certificates'] = {'encryption_key': _certificate_key(state)}
    sections['api'] = {'port': magnum_url.rsplit(':', 1)[1].split('/')[0]}
    path = os.path.join(state, 'keystone-mode.conf')
    _private(path, '')
    processes._write_config(path, sections)


def serve_keystone(state, port, magnum_url):
    ready = os.path.join(state, 'keystone.ready')
    if os.path.exists(ready):
        os.unlink(ready)
    # NOTE: blocked before anything starts, so a stop during set-up still
    # ends in the clean-up below.
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGINT})
    with processes.running(keystone.Keystone(
            work_dir=os.path.join(state, 'keystone'), port=int(port),
            workers=1)) as ks:
        ks.register_magnum(magnum_url)
        demo = secrets.token_urlsafe(16)
        ks.ensure_user('demo', demo, ks.ensure_project('demo'), ['member'])
        _write_magnum_conf(ks, state, magnum_url)
        _private(os.path.join(state, 'openrc'),
                 _openrc(ks, 'demo', demo, 'demo'))
        _private(os.path.join(state, 'admin-openrc'),
                 _openrc(ks, 'admin', ks.admin_password, 'admin'))
        with open(ready, 'w') as f:
            f.write(ks.url + '\n')
        print('keystone on %s' % ks.url, flush=True)
        signal.sigwait({signal.SIGTERM, signal.SIGINT})
        os.unlink(ready)


def main(argv):
    if argv[1:] == ['clients']:
        clients()
    elif len(argv) == 5 and argv[1] == 'keystone':
        serve_keystone(*argv[2:])
    else:
        sys.exit(__doc__)


if __name__ == '__main__':
    main(sys.argv)
