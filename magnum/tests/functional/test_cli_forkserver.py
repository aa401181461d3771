"""The CLI fork server (``cli_forkserver.py``) runs a command as a fresh
process of the console script would: the same exit code and output, the
caller's working directory, and a kill when it runs too long.

It uses python-magnumclient 3.7.0's real ``magnum`` and no Magnum: the
commands fail before or at the connection, which is output enough.
"""

import os
import socket

import pytest

from magnum.tests.functional import magnumclient

pytestmark = [pytest.mark.cli]


@pytest.fixture(scope='module')
def venv():
    return magnumclient.ClientVenv('3.7.0').ensure()


def _both(cli, monkeypatch, *args):
    forked = cli.run(*args)
    monkeypatch.setenv('MAGNUM_TEST_CLI_FORK', '0')
    plain = cli.run(*args)
    monkeypatch.delenv('MAGNUM_TEST_CLI_FORK')
    return forked, plain


def test_a_forked_command_answers_as_a_process_does(venv, monkeypatch,
                                                    tmp_path):
    cli = venv.cli('http://127.0.0.1:9/v1')
    for args in (('help', 'baymodel-create'), ('--version',),
                 ('no-such-command',), ('bay-list',)):
        forked, plain = _both(cli, monkeypatch, *args)
        assert forked.returncode == plain.returncode, (forked, plain)
        assert forked.stdout == plain.stdout, (forked, plain)
        assert forked.stderr == plain.stderr, (forked, plain)
        if args[0] == 'help':
            # The program's name is the console script's.
            assert 'usage: magnum baymodel-create' in forked.stdout, forked
        if args[0] == 'bay-list':
            assert forked.returncode == 1, forked
    # The caller's working directory: a relative file is found there.
    (tmp_path / 'csr.pem').write_text('not a CSR')
    monkeypatch.chdir(tmp_path)
    forked, plain = _both(cli, monkeypatch, 'ca-sign', '--bay', 'b',
                          '--csr', 'csr.pem')
    assert 'No such file' not in forked.output, forked
    assert (forked.returncode, forked.output) == (
        plain.returncode, plain.output)


def test_a_forked_command_that_hangs_is_killed(venv, monkeypatch):
    # NOTE: a listener that never answers: the client waits for it.
    with socket.socket() as silent:
        silent.bind(('127.0.0.1', 0))
        silent.listen()
        monkeypatch.setattr(magnumclient, 'RUN_TIMEOUT', 2)
        cli = venv.cli('http://127.0.0.1:%d/v1' % silent.getsockname()[1])
        with pytest.raises(AssertionError, match='did not finish in 2s'):
            cli.run('bay-list')
    # The server is still there for the next command.
    monkeypatch.setattr(magnumclient, 'RUN_TIMEOUT', 60)
    assert cli.run('--version').returncode == 0
    assert os.path.exists(venv.magnum)
