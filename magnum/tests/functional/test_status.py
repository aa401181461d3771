"""magnum-status upgrade check, run as an operator runs it, on SQLite.

No server: the database is a SQLite file, the transport ``fake://``.
"""

import json
import subprocess

from alembic import command as alembic_command
from alembic import script as alembic_script
import sqlalchemy as sa

from magnum.db import migration
from magnum.tests.functional import processes


def _run(name, config_file, *args):
    return subprocess.run(
        [processes.script(name), '--config-file', config_file] + list(args),
        capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)


def test_status_fails_before_the_upgrade_and_passes_after(tmp_path):
    config_file = str(tmp_path / 'magnum.conf')
    with open(config_file, 'w') as f:
        f.write('[DEFAULT]\ntransport_url = fake://\nstate_path = %s\n'
                '[database]\nconnection = sqlite:///%s\n'
                '[certificates]\nencryption_key = %s\n'
                % (tmp_path, tmp_path / 'magnum.sqlite', 'k' * 32))
    scripts = alembic_script.ScriptDirectory.from_config(migration._config())
    head = scripts.get_current_head()
    previous = scripts.get_revision(head).down_revision

    # The database of the release before, one migration behind (made here:
    # a process fewer).
    engine = sa.create_engine('sqlite:///%s' % (tmp_path / 'magnum.sqlite'))
    with engine.begin() as connection:
        alembic_command.upgrade(migration._config(connection), previous)
    engine.dispose()
    result = _run('magnum-status', config_file, 'upgrade', 'check')
    assert result.returncode == 2, result.stdout + result.stderr
    table = ' '.join(result.stdout.replace('|', ' ').split())
    assert ('is at revision %s; this Magnum needs revision %s. Run '
            '`magnum-db-manage upgrade`' % (previous, head)) in table, table

    result = _run('magnum-db-manage', config_file, 'upgrade')
    assert result.returncode == 0, result.stderr
    result = _run('magnum-status', config_file, 'upgrade', 'check', '--json')
    # A warning: no conductor has started yet; everything else passes.
    assert result.returncode == 1, result.stdout + result.stderr
    codes = {check['check']: check['result']
             for check in json.loads(result.stdout)['checks']}
    assert codes == {'Database schema': 0, 'Certificate encryption key': 0,
                     'Policy file': 0, 'RPC transport': 0,
                     'Conductors': 1}, result.stdout
