"""Several conductors at once, and what survives when processes die.

The fault scenario (``faults.run``: bays created at once over three
conductors, ``kill -9`` of one with its bays in progress, the broker
restarted in the middle of creates, a conductor joining) runs here at a
size that fits the suite: nine bays at once (a few more when a conductor
owns none of them) and four around the broker's restart, on the session's
Keystone and Heat and a RabbitMQ of the test's own, which it restarts.
``benchmarks/faults.py`` runs the same scenario at the issue's size (60 and
30) and prints the same figures. ``MAGNUM_TEST_FAULT_BAYS`` and
``MAGNUM_TEST_BROKER_BAYS`` change the sizes here.

The database restart runs on a PostgreSQL cluster of the test's own
(``own_servers.PostgresCluster``), with no Heat: it is about reads.
"""

import os
import threading
import time

import pytest

from magnum.tests.functional import faults
from magnum.tests.functional import heat as heat_mod
from magnum.tests.functional import own_servers
from magnum.tests.functional import processes

pytestmark = [pytest.mark.postgresql, pytest.mark.rabbitmq,
              pytest.mark.keystone, pytest.mark.heat, pytest.mark.faults]

# How many bays: created at once over three conductors, of which half at
# least are still in progress when one conductor is killed; and how many
# are created around the broker's restart.
BAYS = int(os.environ.get('MAGNUM_TEST_FAULT_BAYS', '9'))
BROKER_BAYS = int(os.environ.get('MAGNUM_TEST_BROKER_BAYS', '4'))
INTERVAL = faults.INTERVAL
DOWN_TIME = faults.DOWN_TIME


@pytest.fixture(scope='module')
def broker():
    with processes.running(own_servers.RabbitMQ()) as rabbit:
        yield rabbit


# -- the tests ---------------------------------------------------------------

def test_conductors_share_bays_and_survive_kill_broker_restart_and_join(
        keystone, broker, heat):
    """``faults.run`` at the suite's size: every fault in turn while Heat
    works on the bays, and every bay CREATE_COMPLETE with one live stack.
    """
    figures = faults.run(keystone, heat_mod.client(keystone), broker,
                         faults.member(keystone), BAYS, BROKER_BAYS)
    print(faults.report(figures))


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
