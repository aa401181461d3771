"""Several conductors at once, and what survives when processes die.

Real processes throughout: Keystone, heat-engine and heat-api (on the
machine's broker), and Magnum's API and conductors on a RabbitMQ broker of
the test's own (``own_servers.RabbitMQ``), so that restarting it disturbs
nobody else. Bays are docker bays with one node whose servers take 3 s each
to create in Heat (``m1.slow`` in ``heat_env/server.yaml``), so work is in
flight when a process dies; Heat itself is the witness that no bay's stack
was ever created twice (``_stacks_by_bay``).

The database restart runs on a PostgreSQL cluster of the test's own
(``own_servers.PostgresCluster``), with no Heat: it is about reads.
"""

import concurrent.futures
import os
import re
import threading
import time

import pytest
import sqlalchemy as sa

from magnum.conductor import hash_ring
from magnum.tests.functional import db_servers
from magnum.tests.functional import heat as heat_mod
from magnum.tests.functional import keystone as keystone_mod
from magnum.tests.functional import own_servers
from magnum.tests.functional import processes

pytestmark = [pytest.mark.postgresql, pytest.mark.rabbitmq,
              pytest.mark.keystone, pytest.mark.heat, pytest.mark.faults]

# How many bays: the first batch, and each batch around the broker restart.
# NOTE: the sizes (60 at once; 30 when a conductor dies or the
# broker restarts) take Heat's one engine many minutes on two shared cores;
# MAGNUM_TEST_FAULT_BAYS=60 runs them.
BAYS = int(os.environ.get('MAGNUM_TEST_FAULT_BAYS', '24'))
BROKER_BAYS = max(BAYS // 6, 2)
INTERVAL = 1          # [conductor] periodic_interval
DOWN_TIME = 10        # [conductor] service_down_time
# NOTE: longer than Heat may take to store a stack that a conductor killed
# mid-request asked for, on two busy cores; the new owner adopts it by name
# rather than making a second.
REDO_AFTER = 30       # [conductor] redo_after
# Seconds for a batch of bays to settle: Heat's one engine on two busy
# cores builds each docker bay's dozen nested stacks one after another.
SETTLE = 420
FINAL = ('CREATE_COMPLETE', 'CREATE_FAILED')
_CREATED = re.compile(r'Bay ([0-9a-f-]{36}): stack ([0-9a-f-]{36}) created')


@pytest.fixture(scope='module')
def broker():
    with processes.running(own_servers.RabbitMQ()) as rabbit:
        yield rabbit


class _BusyHeat(heat_mod.Heat):
    """Heat sized for dozens of bays at once.

    NOTE: one engine worker answers its own nested-stack calls; with the
    default pool of 64 RPC threads, 60 bays at once fill it with calls that
    wait on each other and nothing moves until they time out. Two workers
    use both cores.
    """

    def _write_config(self):
        super()._write_config()
        with open(self.config_file) as f:
            text = f.read()
        text = text.replace('[DEFAULT]\n', '[DEFAULT]\n'
                            'executor_thread_pool_size = 1000\n'
                            'max_stacks_per_tenant = 1000\n', 1)
        text = text.replace('num_engine_workers = 1',
                            'num_engine_workers = 2')
        with open(self.config_file, 'w') as f:
            f.write(text)


@pytest.fixture(scope='module')
def heat(keystone):
    """Heat on a broker of its own.

    NOTE: not the machine's broker: RabbitMQ queue names are the topics
    (``engine``...) whatever the ``control_exchange``, so Heats of other
    test runs on that broker take this one's messages. Nor Magnum's broker,
    which the test restarts: Heat's own messages in flight would be lost.
    """
    with processes.running(own_servers.RabbitMQ()) as heat_broker:
        with processes.running(_BusyHeat(
                keystone, transport_url=heat_broker.transport_url)) as h:
            yield h


def _heat_extra(keystone):
    username, password = keystone.service_user('magnum')
    return {
        'bay': {'default_provisioner': 'heat'},
        'conductor': {'redo_after': REDO_AFTER,
                      'hash_ring_reset_interval': 1},
        'quotas': {'max_clusters_per_project': 1000},
        # NOTE: conductors behind Keystone refuse to start without it.
        'certificates': {'encryption_key': 'conductors-test-key-' * 3},
        'heat': {
            'environment_files': heat_mod.ENVIRONMENT,
            'auth_type': 'password',
            'auth_url': keystone.url,
            'username': username,
            'password': password,
            'project_name': 'service',
            'user_domain_name': keystone_mod.DOMAIN,
            'project_domain_name': keystone_mod.DOMAIN,
            'region_name': keystone_mod.REGION,
        },
    }


class _Deployment:
    def __init__(self, keystone, broker, conductors):
        self.keystone = keystone
        self.broker = broker
        self.conductors = conductors

    def __enter__(self):
        self._db = processes.running(db_servers.PostgresDatabase())
        database = self._db.__enter__()
        self.database_url = database.url
        self._magnum = processes.running(keystone_mod.MagnumServices(
            self.keystone, database.url, extra=_heat_extra(self.keystone),
            conductors=self.conductors,
            transport_url=self.broker.transport_url,
            periodic_interval=INTERVAL, service_down_time=DOWN_TIME))
        try:
            self.magnum = self._magnum.__enter__()
        except BaseException:
            self._db.__exit__(None, None, None)
            raise
        self.keystone.register_magnum(self.magnum.endpoint)
        return self

    def __exit__(self, *exc):
        try:
            self._magnum.__exit__(*exc)
        finally:
            self._db.__exit__(*exc)


@pytest.fixture(scope='module')
def member(keystone):
    project = processes.unique_name('ring-project')
    project_id = keystone.create_project(project)
    name = processes.unique_name('ring-member')
    password = processes.unique_name('pw')
    keystone.create_user(name, password, project_id, ['member'])
    return name, password, project


def _client(keystone, magnum, member):
    name, password, project = member
    token = keystone.token_for(name, password, project)
    return processes.Client(magnum, headers={'X-Auth-Token': token})


@pytest.fixture(scope='module')
def heat_client(keystone, heat):
    from heatclient import client as heat_client
    from keystoneauth1.identity import v3
    from keystoneauth1 import session as ks_session
    session = ks_session.Session(auth=v3.Password(
        auth_url=keystone.url, username='admin',
        password=keystone.admin_password,
        user_domain_name=keystone_mod.DOMAIN, project_name='admin',
        project_domain_name=keystone_mod.DOMAIN))
    return heat_client.Client('1', session=session)


def _stacks_by_bay(heat_client, bay_uuids):
    """{bay uuid: [stack ids]}: every top-level stack Heat ever made for
    each bay, deleted ones included.
    """
    found = {uuid: [] for uuid in bay_uuids}
    for stack in heat_client.stacks.list(global_tenant=True,
                                         show_deleted=True):
        for uuid in bay_uuids:
            if stack.stack_name.endswith(uuid):
                found[uuid].append(stack.id)
    return found


def _baymodel(api):
    response = api.post('/v1/baymodels', json=dict(
        name=processes.unique_name('bm-ring'), coe='docker',
        image_id='fedora-40', flavor_id='m1.slow',
        master_flavor_id='m1.slow', external_network_id='public',
        keypair_id='default', cluster_distro='fedora', tls_disabled=True))
    assert response.status_code == 201, response.text
    return response.json()


def _create_bays(api, baymodel, count, workers=10):
    """``count`` bays created concurrently; their uuids."""
    def create(_):
        response = api.post('/v1/bays', json=dict(
            name=processes.unique_name('ring'),
            baymodel_id=baymodel['uuid'], node_count=1))
        assert response.status_code == 201, response.text
        return response.json()['uuid']
    with concurrent.futures.ThreadPoolExecutor(workers) as pool:
        return list(pool.map(create, range(count)))


def _wait_all(api, magnum, uuids, timeout=SETTLE, statuses=FINAL):
    deadline = time.monotonic() + timeout
    while True:
        bays = {b['uuid']: b for b in api.get(
            '/v1/bays/detail?limit=1000').json()['bays']}
        waiting = [u for u in uuids if bays[u]['status'] not in statuses]
        if not waiting:
            return bays
        if time.monotonic() > deadline:
            raise AssertionError('%d bay(s) still not in %s after %ds, e.g. '
                                 '%s\n%s' % (len(waiting), statuses, timeout,
                                             bays[waiting[0]],
                                             magnum.logs(60)))
        time.sleep(0.5)


def _created_by(magnum, extra=()):
    """{bay uuid: [conductor hosts that created a stack for it]}."""
    created = {}
    for process in list(magnum.processes) + list(extra):
        if process.name.startswith('conductor-'):
            with open(process.log_path, encoding='utf-8',
                      errors='replace') as log:
                for match in _CREATED.finditer(log.read()):
                    created.setdefault(match.group(1), []).append(
                        process.name)
    return created


def _assert_each_stack_once(heat_client, uuids):
    stacks = _stacks_by_bay(heat_client, uuids)
    twice = {uuid: ids for uuid, ids in stacks.items() if len(ids) != 1}
    assert not twice, 'bays without exactly one stack: %s' % twice


def _reservations(database_url, host):
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as connection:
            return connection.execute(sa.text(
                'SELECT uuid FROM bay WHERE reservation = :host'),
                {'host': host}).scalars().all()
    finally:
        engine.dispose()


# -- the tests ---------------------------------------------------------------

def test_conductors_share_bays_and_survive_kill_broker_restart_and_join(
        keystone, broker, heat, heat_client, member):
    """One deployment, every fault in turn while Heat works on the bays:

    1. BAYS bays created at once over three conductors, each owning some;
    2. ``kill -9`` of one conductor while they are in progress: within
       ``service_down_time`` plus one interval its reservations are cleared
       and ``/v1/mservices`` shows it down;
    3. the broker restarted while more bays are created: their rows are
       written and answered at once; their lost casts are finished by the
       reconciler;
    4. a new conductor joins: the ring rebalances onto it and it finishes
       bays it did not start;

    and every bay reaches CREATE_COMPLETE with exactly one stack in Heat,
    made by one conductor.
    """
    with _Deployment(keystone, broker, 3) as deployment:
        magnum = deployment.magnum
        api = _client(keystone, magnum, member)
        admin = processes.Client(magnum, headers=magnum._auth_headers())
        baymodel = _baymodel(api)
        first_hosts = list(magnum.conductor_hosts)
        ring = hash_ring.Ring(first_hosts)

        # 1. BAYS at once: the ring gives each conductor a share.
        started = time.monotonic()
        uuids = _create_bays(api, baymodel, BAYS)
        owners = [ring.owner(u) for u in uuids]
        assert all(owners.count(h) for h in first_hosts), owners

        # 2. kill -9 of the busiest conductor once it made some stacks.
        victim = max(magnum.conductors, key=lambda p: owners.count(p.name))
        theirs = {u for u in uuids if ring.owner(u) == victim.name}
        processes.wait_for(
            lambda: len(_created_by(magnum).keys() & theirs) >= 2,
            'two stacks made by %s' % victim.name, magnum.processes,
            timeout=120)
        magnum.kill_conductor(victim)
        killed = time.monotonic()
        limit = DOWN_TIME + 2 * INTERVAL + 5
        processes.wait_for(
            lambda: not _reservations(deployment.database_url, victim.name),
            'the reservations of %s cleared' % victim.name,
            magnum.processes, timeout=limit)
        states = {s['host']: s['state'] for s in admin.get(
            '/v1/mservices').json()['mservices']}
        assert states == {h: 'up' if h != victim.name else 'down'
                          for h in first_hosts}, states
        took_over = time.monotonic() - killed

        # 3. The broker restarts while bays are created.
        broker.stop()
        try:
            before = time.monotonic()
            lost = _create_bays(api, baymodel, BROKER_BAYS)
            assert time.monotonic() - before < 60
        finally:
            broker.start()
        uuids += lost + _create_bays(api, baymodel, BROKER_BAYS)

        # 4. A new conductor joins and takes its share.
        joiner = magnum.add_conductor().name
        survivors = [h for h in first_hosts if h != victim.name]
        new_ring = hash_ring.Ring(survivors + [joiner])
        moved = [u for u in uuids if new_ring.owner(u) == joiner]
        assert moved

        bays = _wait_all(api, magnum, uuids, timeout=SETTLE)
        failed = {u: bays[u]['status_reason'] for u in uuids
                  if bays[u]['status'] != 'CREATE_COMPLETE'}
        assert not failed, failed
        _assert_each_stack_once(heat_client, uuids)
        created = _created_by(magnum, extra=[victim])
        assert not {u: h for u, h in created.items() if len(h) > 1}, created
        # The casts that RabbitMQ never carried were done by the reconciler.
        assert all(bays[u]['status'] == 'CREATE_COMPLETE' for u in lost)
        with open(magnum.conductors[-1].log_path) as log:
            text = log.read()
        finished = [u for u in moved if 'Bay %s is CREATE_COMPLETE' % u
                    in text]
        assert finished, 'the new conductor finished none of %s' % moved
        print('%d bays; taken over %.1f s after kill -9; all done in %.0f s'
              % (len(uuids), took_over, time.monotonic() - started))


# -- the database restarted under reads ---------------------------------------

@pytest.fixture(scope='module')
def own_database():
    with processes.running(own_servers.PostgresCluster()) as cluster:
        yield cluster


def test_database_restart_is_503_then_200_never_500(broker, own_database):
    url = own_database.create_database('magnum_faults')
    with processes.running(processes.MagnumServices(
            url, transport_url=broker.transport_url, conductors=2,
            periodic_interval=INTERVAL,
            service_down_time=DOWN_TIME)) as magnum:
        api = processes.Client(magnum)
        response = api.post('/v1/baymodels', json={
            'name': 'bm-db', 'coe': 'docker'})
        assert response.status_code == 201, response.text
        seen = []
        stop = threading.Event()
        phase = ['before']

        def read():
            while not stop.is_set():
                for path in ('/v1/baymodels', '/v1/bays', '/v1/mservices'):
                    try:
                        r = api.get(path, timeout=15)
                        seen.append((phase[0], path, r.status_code,
                                     r.text if r.status_code >= 500 else ''))
                    except Exception as e:  # noqa: BLE001 - recorded
                        seen.append((phase[0], path, type(e).__name__, ''))
                time.sleep(0.05)

        reader = threading.Thread(target=read)
        reader.start()
        try:
            time.sleep(1)
            phase[0] = 'down'
            own_database.stop()
            time.sleep(3)
            phase[0] = 'restarting'
            own_database.start()
            time.sleep(3)
            phase[0] = 'after'
            time.sleep(2)
        finally:
            stop.set()
            reader.join(30)
        codes = {(p, c) for p, _, c, _ in seen}
        assert not [s for s in seen if s[2] == 500 or not isinstance(
            s[2], int)], seen
        assert ('down', 503) in codes, codes
        assert {c for p, _, c, _ in seen if p == 'after'} == {200}, seen
        down = [t for p, _, c, t in seen if c == 503]
        assert all('database' in t.lower() for t in down), down[:3]
        # The conductors lived through it and report again.
        processes.wait_for(
            lambda: processes._conductors_up(magnum.endpoint,
                                              magnum.conductor_hosts),
            'the conductors up again', magnum.processes, timeout=30)
