"""How soon a bay shows its stack's status: Heat and Magnum's API watched
side by side (test_heat_bays.py and benchmarks/heat_status.py).

``deployment`` runs a Magnum (API and one conductor, on a database of its
own) on the real Heat of ``heat.Heat``, hearing Heat's notifications or
not; ``follow`` creates bays there and times, for each, the moment Heat
shows its stack CREATE_COMPLETE against the moment the API shows the bay
so.
"""

from concurrent import futures
import contextlib
import threading
import time

from heatclient import exc as heat_exc
from keystoneauth1 import exceptions as ks_exc

from magnum.tests.functional import db_servers
from magnum.tests.functional import heat as heat_mod
from magnum.tests.functional import keystone as keystone_mod
from magnum.tests.functional import processes

# How often both sides are looked at (seconds).
STEP = 0.1
FINAL = ('CREATE_COMPLETE', 'CREATE_FAILED')


@contextlib.contextmanager
def deployment(keystone, orchestration, periodic_interval, hear=True):
    """A Magnum on ``orchestration`` (a ``heat.Heat``) whose conductor
    passes every ``periodic_interval`` seconds and listens for Heat's
    notifications on Heat's exchange (``hear``) or on an exchange nobody
    sends to (a notification that never arrives)."""
    extra = heat_mod.provisioner_config(keystone,
                                        orchestration=orchestration)
    del extra['conductor']['periodic_interval']
    if not hear:
        extra['heat']['notification_exchange'] = 'nobody-sends-here'
    extra['quotas'] = {'max_clusters_per_project': 1000}
    with processes.running(db_servers.PostgresDatabase(
            prefix='magnum_heat_status')) as database, \
            processes.running(keystone_mod.MagnumServices(
                keystone, database.url, extra=extra,
                periodic_interval=periodic_interval,
                # NOTE: a conductor heartbeats once a periodic_interval;
                # a shorter service_down_time leaves it off its own ring,
                # and its watch then owns no bay.
                service_down_time=max(10, 3 * periodic_interval))) \
                as magnum:
        yield magnum


def baymodel(api, flavor='m1.small'):
    """A docker BayModel whose servers the tests' Heat makes at once."""
    response = api.post('/v1/baymodels', json=dict(
        name=processes.unique_name('bm-status'), coe='docker',
        image_id='fedora-40', flavor_id=flavor,
        external_network_id='public', keypair_id='default',
        cluster_distro='fedora', docker_volume_size=5))
    assert response.status_code == 201, response.text
    return response.json()


def create(api, model, count=1):
    """Create ``count`` docker bays of one node; their uuids."""
    uuids = []
    for _ in range(count):
        response = api.post('/v1/bays', json=dict(
            name=processes.unique_name('bay-status'),
            baymodel_id=model['uuid'], node_count=1))
        assert response.status_code == 201, response.text
        uuids.append(response.json()['uuid'])
    return uuids


def follow(api, magnum, heat_client, uuids, timeout):
    """{bay uuid: (when Heat showed its stack CREATE_COMPLETE, when the
    API showed the bay CREATE_COMPLETE)}, ``time.monotonic()`` seconds,
    both looked at every ``STEP``; an AssertionError if a bay fails or
    ``timeout`` passes first.

    NOTE: Heat is read with one list of every project's stacks a step
    (``heat_client`` must be an admin's), the API a thread a bay: a GET of
    each stack every step (two requests each, Heat redirects a stack's id
    to its name) was a hundred requests a second on Heat's one API worker
    with ten bays, and the conductor's own reads waited behind them.
    """
    deadline = time.monotonic() + timeout
    heat_done = {}
    stop = threading.Event()
    watcher = threading.Thread(target=_follow_heat, args=(
        heat_client, set(uuids), heat_done, stop, deadline), daemon=True)
    watcher.start()
    try:
        with futures.ThreadPoolExecutor(max(1, len(uuids))) as pool:
            api_done = dict(zip(uuids, pool.map(lambda uuid: _follow_api(
                api, magnum, uuid, deadline), uuids)))
        while set(heat_done) != set(uuids) and watcher.is_alive():
            time.sleep(STEP)
    finally:
        stop.set()
        watcher.join()
    failed = heat_done.pop('failed', None)
    assert failed is None, failed
    assert set(heat_done) == set(uuids), (
        'Heat never showed these bays\' stacks complete: %s'
        % sorted(set(uuids) - set(heat_done)))
    return {uuid: (heat_done[uuid], api_done[uuid]) for uuid in uuids}


def _follow_heat(heat_client, uuids, done, stop, deadline):
    """Fill ``done`` {bay uuid: when its stack was first seen complete}
    (or 'failed': why) from Heat's list of stacks, every STEP."""
    while not stop.is_set() and set(done) != uuids:
        if time.monotonic() > deadline:
            return
        try:
            stacks = heat_client.stacks.list(global_tenant=True)
        except (heat_exc.HTTPException, ks_exc.ConnectFailure):
            stacks = ()   # Heat's API resets a connection now and then
        now = time.monotonic()
        for stack in stacks:
            for uuid in uuids - set(done):
                if not stack.stack_name.endswith(uuid):
                    continue
                if stack.stack_status == 'CREATE_FAILED':
                    done['failed'] = '%s: %s' % (stack.stack_name,
                                                 stack.stack_status_reason)
                    return
                if stack.stack_status == 'CREATE_COMPLETE':
                    done[uuid] = now
        time.sleep(STEP)


def _follow_api(api, magnum, uuid, deadline):
    while True:
        assert time.monotonic() < deadline, (
            'bay %s: the API never showed it complete\n%s'
            % (uuid, magnum.logs()))
        response = api.get('/v1/bays/%s' % uuid)
        assert response.status_code == 200, response.text
        bay = response.json()
        assert bay['status'] != 'CREATE_FAILED', bay['status_reason']
        if bay['status'] == 'CREATE_COMPLETE':
            return time.monotonic()
        time.sleep(STEP)


def lags(times):
    """The seconds from Heat's CREATE_COMPLETE to the API's, a bay each.

    NOTE: a bay the API showed complete before this side saw Heat's (the
    two are read one after the other) counts 0."""
    return [max(0.0, api - heat) for heat, api in times.values()]
