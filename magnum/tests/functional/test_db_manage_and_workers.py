"""magnum-db-manage's commands, and magnum-api with several workers."""

import os
import subprocess
import tempfile

from alembic import script as alembic_script
import psutil
import pytest

from magnum.db import migration
from magnum.tests.functional import db_servers
from magnum.tests.functional import processes


def _db_manage(config_file, *args):
    result = subprocess.run(
        [processes.script('magnum-db-manage'), '--config-file', config_file]
        + list(args), capture_output=True, text=True, timeout=120,
        stdin=subprocess.DEVNULL)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


@pytest.fixture
def config_file():
    """A configuration naming a fresh SQLite database."""
    with tempfile.TemporaryDirectory() as work:
        path = os.path.join(work, 'magnum.conf')
        with open(path, 'w') as f:
            f.write('[database]\nconnection = sqlite:///%s/m.sqlite\n'
                    % work)
        yield path


def test_db_manage_upgrade_version_downgrade_stamp_on_sqlite(config_file):
    assert 'None' in _db_manage(config_file, 'version')
    _db_manage(config_file, 'upgrade')
    head = _db_manage(config_file, 'version')
    assert head == alembic_script.ScriptDirectory.from_config(
        migration._config()).get_current_head()
    _db_manage(config_file, 'downgrade', 'base')
    assert 'None' in _db_manage(config_file, 'version')
    # stamp marks a revision without touching the schema.
    _db_manage(config_file, 'stamp', 'head')
    assert _db_manage(config_file, 'version') == head


def test_db_manage_reports_a_bad_revision_and_fails(config_file):
    result = subprocess.run(
        [processes.script('magnum-db-manage'), '--config-file',
         config_file, 'upgrade', 'nosuchrevision'],
        capture_output=True, text=True, timeout=120,
        stdin=subprocess.DEVNULL)
    assert result.returncode != 0
    assert 'nosuchrevision' in result.stderr


@pytest.mark.postgresql
@pytest.mark.rabbitmq
def test_api_serves_with_several_worker_processes():
    with processes.running(db_servers.PostgresDatabase()) as database:
        services = processes.MagnumServices(
            database.url, extra={'api': {'workers': 3}})
        with processes.running(services) as magnum:
            master = psutil.Process(magnum.api.popen.pid)
            assert len(master.children()) == 3, master.children()
            client = processes.Client(magnum)
            try:
                made = {client.post('/v1/baymodels', json={
                    'coe': 'docker', 'name': 'w%d' % i}).json()['uuid']
                    for i in range(12)}
                listed = {m['uuid'] for m in
                          client.get('/v1/baymodels').json()['baymodels']}
                assert made <= listed
            finally:
                client.close()
