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
    watched side by side every ``STEP``, a thread a bay (one loop over
    many bays would read each only once a round of all); an
    AssertionError if a bay fails or ``timeout`` passes first."""
    deadline = time.monotonic() + timeout
    with futures.ThreadPoolExecutor(max(1, len(uuids))) as pool:
        found = pool.map(lambda uuid: _follow_one(
            api, magnum, heat_client, uuid, deadline), uuids)
        return dict(zip(uuids, found))


def _follow_one(api, magnum, heat_client, uuid, deadline):
    stack_id = heat_done = api_done = None
    while heat_done is None or api_done is None:
        assert time.monotonic() < deadline, (
            'bay %s: Heat done: %s, the API: %s\n%s' % (
                uuid, heat_done is not None, api_done is not None,
                magnum.logs()))
        if heat_done is None and stack_id:
            try:
                stack = heat_client.stacks.get(stack_id,
                                               resolve_outputs=False)
            except (heat_exc.HTTPNotFound, ks_exc.ConnectFailure):
                # NOTE: Heat's API (one worker) resets a connection now
                # and then under many readers: read again next step.
                stack = None
            if stack is not None:
                assert stack.stack_status != 'CREATE_FAILED', (
                    stack.stack_status_reason)
                if stack.stack_status == 'CREATE_COMPLETE':
                    heat_done = time.monotonic()
        if api_done is None:
            response = api.get('/v1/bays/%s' % uuid)
            assert response.status_code == 200, response.text
            bay = response.json()
            stack_id = bay.get('stack_id')
            assert bay['status'] != 'CREATE_FAILED', bay['status_reason']
            if bay['status'] == 'CREATE_COMPLETE':
                api_done = time.monotonic()
        time.sleep(STEP)
    return heat_done, api_done


def lags(times):
    """The seconds from Heat's CREATE_COMPLETE to the API's, a bay each.

    NOTE: a bay the API showed complete before this side saw Heat's (the
    two are read one after the other) counts 0."""
    return [max(0.0, api - heat) for heat, api in times.values()]
