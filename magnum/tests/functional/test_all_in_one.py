"""The README's all-in-one, and its client command lines, as written.

``tools/all-in-one.sh --detach`` runs (state in a temporary directory,
magnum and Keystone on free ports, ``MAGNUM_SKIP_INSTALL=1`` since the suite
installed Magnum already), then each command line of the README's blocks
marked ``.. all-in-one: magnumclient-<version> <noauth|keystone>``, with that
release's real CLI; then ``--keystone --detach`` and the Keystone blocks;
then ``stop``. The lines change only where the test's port and state
directory differ from the README's (``9511``, ``~/.magnum``); ``. FILE``
takes the ``OS_*`` variables FILE exports, as the shell would.
"""

import os
import re
import shlex
import signal
import stat
import subprocess
import time

import pytest

from magnum.tests.functional import keystone
from magnum.tests.functional import magnumclient
from magnum.tests.functional import processes

pytestmark = [pytest.mark.cli, pytest.mark.docker, pytest.mark.keystone]

README = os.path.join(keystone.REPO, 'README.rst')
SCRIPT = os.path.join(keystone.REPO, 'tools', 'all-in-one.sh')
MARKER = re.compile(r'^\.\. all-in-one: magnumclient-(\S+) (noauth|keystone)$')
# Seconds: a cold first run builds Keystone's and the clients' virtualenvs.
SCRIPT_TIMEOUT = 1200
LOGS_TIMEOUT = 15


def readme_blocks():
    """``[(client version, mode, [command line, ...])]`` in README order."""
    with open(README) as f:
        lines = f.read().splitlines()
    blocks = []
    for number, line in enumerate(lines):
        found = MARKER.match(line)
        if not found:
            continue
        following = iter(lines[number + 1:])
        for text in following:
            if text.strip():
                assert text.strip() == '::', (
                    'README line %d: a marker, then "::"' % (number + 1))
                break
        commands = []
        for text in following:
            if text.startswith('    '):
                commands.append(text.strip())
            elif text.strip() and commands:
                break
        assert commands, 'README line %d: a marker with no commands' % (
            number + 1)
        blocks.append((found.group(1), found.group(2), commands))
    return blocks


def test_the_readme_marks_a_block_for_each_client_and_mode():
    versions = {(version, mode) for version, mode, _ in readme_blocks()}
    assert versions >= {('3.7.0', 'noauth'), ('4.11.0', 'noauth'),
                        ('2.1.0', 'keystone'), ('4.11.0', 'keystone'),
                        ('3.7.0', 'keystone')}


class AllInOne:
    """tools/all-in-one.sh with its state in ``state``, on free ports."""

    def __init__(self, state):
        self.state = state
        self.port = processes.free_port()
        self.keystone_port = processes.free_port()
        self.env = processes._child_environment({
            'MAGNUM_STATE': state, 'MAGNUM_PORT': str(self.port),
            'MAGNUM_KEYSTONE_PORT': str(self.keystone_port),
            'MAGNUM_SKIP_INSTALL': '1'})

    def run(self, *args):
        done = subprocess.run(
            [SCRIPT] + list(args), stdin=subprocess.DEVNULL,
            capture_output=True, text=True, timeout=SCRIPT_TIMEOUT,
            env=self.env, cwd=keystone.REPO)
        assert done.returncode == 0, (
            'all-in-one.sh %s: %d\n%s\n%s\n%s' % (
                ' '.join(args), done.returncode, done.stdout[-4000:],
                done.stderr[-4000:], self.logs()))
        return done.stdout

    def logs(self):
        texts = []
        for name in ('magnum-all.log', 'keystone-holder.log'):
            path = os.path.join(self.state, name)
            if os.path.exists(path):
                with open(path, errors='replace') as f:
                    texts.append('--- %s\n%s' % (name, f.read()[-3000:]))
        return '\n'.join(texts)

    def pids(self):
        found = []
        for name in ('magnum-all.pid', 'keystone.pid'):
            path = os.path.join(self.state, name)
            if os.path.exists(path):
                with open(path) as f:
                    found.append(int(f.read()))
        return found

    def sourced(self, path):
        """The OS_* variables ``path`` exports, read by a shell."""
        done = subprocess.run(['bash', '-c', '. "$1" && env -0', '-', path],
                              capture_output=True, text=True, check=True,
                              env={'PATH': os.environ['PATH']})
        pairs = (item.split('=', 1) for item in done.stdout.split('\0')
                 if '=' in item)
        return {key: value for key, value in pairs if key.startswith('OS_')}

    def run_block(self, version, commands):
        """Each line of a README block as written; ``{line: Result}``."""
        bin_dir = os.path.join(magnumclient.ClientVenv(version).path, 'bin')
        env = magnumclient.environment()
        results = {}
        for line in commands:
            words = shlex.split(
                line.replace('~/.magnum', self.state).replace(
                    '127.0.0.1:9511/', '127.0.0.1:%d/' % self.port))
            if words[0] == '.':
                env.update(self.sourced(words[1]))
                continue
            assert words[0] in ('magnum', 'openstack'), line
            argv = [os.path.join(bin_dir, words[0])] + words[1:]
            result = magnumclient.run(argv, env)
            if words[1:2] == ['container-logs']:
                # NOTE: the only line that may need a moment: the output
                # of a container started the line before.
                deadline = time.monotonic() + LOGS_TIMEOUT
                while ('hello' not in result.stdout
                       and time.monotonic() < deadline):
                    time.sleep(0.5)
                    result = magnumclient.run(argv, env)
            assert result.returncode == 0 and 'ERROR' not in (
                result.output), '%s\n%s' % (line, result)
            results[line] = result
        return results


@pytest.fixture(scope='module')
def all_in_one(tmp_path_factory):
    aio = AllInOne(str(tmp_path_factory.mktemp('all-in-one')))
    try:
        yield aio
    finally:
        pids = aio.pids()
        subprocess.run([SCRIPT, 'stop'], stdin=subprocess.DEVNULL,
                       capture_output=True, timeout=120, env=aio.env,
                       cwd=keystone.REPO)
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                continue
            pytest.fail('all-in-one.sh stop left pid %d running' % pid)


def _blocks(mode):
    return [(version, commands) for version, block_mode, commands
            in readme_blocks() if block_mode == mode]


def _output(results, needle):
    (found,) = [r for line, r in results.items() if needle in line]
    return found.stdout


def test_the_readme_lines_work_without_keystone(all_in_one):
    printed = all_in_one.run('--detach')
    assert 'CREATE_COMPLETE' in printed, printed
    assert 'Left running' in printed
    for version, commands in _blocks('noauth'):
        results = all_in_one.run_block(version, commands)
        if version == '3.7.0':
            listed = _output(results, 'bay-list')
            assert 'local' in listed and 'CREATE_COMPLETE' in listed
        else:
            assert 'local-docker' in _output(results, 'template show')


def test_the_readme_lines_work_behind_keystone(all_in_one):
    printed = all_in_one.run('--keystone', '--detach')
    assert '(keystone)' in printed and 'CREATE_COMPLETE' in printed, printed
    # NOTE: not magnum.conf: oslo.config finds ~/.magnum/magnum.conf by
    # itself, and a later run without Keystone would read it.
    assert not os.path.exists(os.path.join(all_in_one.state, 'magnum.conf'))
    for name in ('openrc', 'admin-openrc', 'keystone-mode.conf'):
        mode = os.stat(os.path.join(all_in_one.state, name)).st_mode
        assert stat.S_IMODE(mode) == 0o600, name
    for version, commands in _blocks('keystone'):
        results = all_in_one.run_block(version, commands)
        if version == '2.1.0':
            assert 'hello from the bay' in _output(results, 'container-logs')
            assert 'CREATE_COMPLETE' in _output(results, 'bay-list')
        elif version == '4.11.0':
            listed = _output(results, 'service list')
            assert 'magnum-conductor' in listed and ' up ' in listed
    # No password of the openrc files in any log.
    secrets = [all_in_one.sourced(os.path.join(all_in_one.state, name))[
        'OS_PASSWORD'] for name in ('openrc', 'admin-openrc')]
    for directory, _, files in os.walk(all_in_one.state):
        for name in files:
            if name.endswith('.log'):
                with open(os.path.join(directory, name), 'rb') as f:
                    text = f.read()
                for secret in secrets:
                    assert secret.encode() not in text, name
