#!/usr/bin/env python3
"""How Magnum scales out: bay creates per second with 1, 2 and 3
conductors, and API reads per second with 1 and 2 API workers.

Real processes: magnum-api and magnum-conductor(s) on the machine's
PostgreSQL (a fresh database per deployment) and RabbitMQ, no auth.

1. **Bay creates per second.** The bays use an *instant* provisioner (made
   for this run: a provisioner entry point in a temporary directory on
   ``PYTHONPATH``, whose create answers CREATE_COMPLETE at once), so what is
   measured is Magnum's own work per bay: the conductor takes the bay's
   lock, reads its BayModel, asks the provisioner, writes the result and
   gives the lock back, one RPC message per bay. To time the conductors and
   not the API, the conductors are paused (SIGSTOP) while N bays are
   created through the API (each message goes to its owner's queue on the
   hash ring and waits there); then they are resumed (SIGCONT) and the
   clock runs until every bay is CREATE_COMPLETE. The baseline is one
   conductor, in the same run.
2. **API reads per second**: ``GET /v1/bays?limit=50`` from 8 client
   threads for a few seconds, against ``[api] workers`` = 1 and 2; the
   baseline is one worker.

It prints each rate and the ratios to the baseline. It measures; it is not
a test, and exits 0 once it ran. See README.rst here for what the numbers
mean on a two-core machine.

    .venv/bin/python benchmarks/conductors.py [--bays 400] [--seconds 5]
"""

import argparse
import concurrent.futures
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
import warnings

import requests

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))))
warnings.simplefilter('ignore')

from magnum.tests.functional import db_servers  # noqa: E402
from magnum.tests.functional import processes  # noqa: E402

_PROVISIONER = '''\
"""An instant provisioner, for benchmarks/conductors.py only."""
from magnum.drivers import base
from magnum.objects import bay as bay_obj


class InstantProvisioner(base.Provisioner):
    def create(self, context, bay, baymodel):
        return base.BayState(status=bay_obj.CREATE_COMPLETE,
                             api_address='tcp://192.0.2.1:2375')

    def update(self, context, bay, baymodel):
        return base.BayState(status=bay_obj.UPDATE_COMPLETE)

    def delete(self, context, bay, baymodel):
        return base.BayState(status=bay_obj.DELETE_COMPLETE)

    def poll(self, context, bays):
        return {}
'''


def install_instant_provisioner(directory):
    """``instant`` in the ``magnum.provisioners`` namespace, for every
    process started with ``directory`` on its PYTHONPATH.
    """
    with open(os.path.join(directory, 'magnum_bench_instant.py'), 'w') as f:
        f.write(_PROVISIONER)
    info = os.path.join(directory, 'magnum_bench_instant-0.0.dist-info')
    os.mkdir(info)
    with open(os.path.join(info, 'METADATA'), 'w') as f:
        f.write('Metadata-Version: 2.1\nName: magnum-bench-instant\n'
                'Version: 0.0\n')
    with open(os.path.join(info, 'entry_points.txt'), 'w') as f:
        f.write('[magnum.provisioners]\n'
                'instant = magnum_bench_instant:InstantProvisioner\n')
    os.environ['PYTHONPATH'] = os.pathsep.join(
        p for p in (directory, os.environ.get('PYTHONPATH')) if p)


def _deployment(conductors, workers=1):
    database = processes.running(db_servers.PostgresDatabase())
    db = database.__enter__()
    services = processes.running(processes.MagnumServices(
        db.url, conductors=conductors, periodic_interval=2,
        # NOTE: paused conductors must stay on the ring, and nothing
        # may be redone behind the measured messages.
        service_down_time=600,
        extra={'conductor': {'redo_after': 600,
                             'hash_ring_reset_interval': 0},
               'api': {'workers': workers, 'threads': 4},
               'quotas': {'max_clusters_per_project': 100000},
               # NOTE: the machine's PostgreSQL allows 100 connections in
               # all; a conductor's 64 RPC threads would take up to 55.
               'database': {'max_pool_size': 4, 'max_overflow': 4}}))
    try:
        magnum = services.__enter__()
    except BaseException:
        database.__exit__(None, None, None)
        raise
    return magnum, (services, database)


def _close(handles):
    services, database = handles
    try:
        services.__exit__(None, None, None)
    finally:
        database.__exit__(None, None, None)


def creates_per_second(conductors, bays):
    magnum, handles = _deployment(conductors)
    try:
        api = processes.Client(magnum)
        response = api.post('/v1/baymodels', json={
            'name': 'bench', 'coe': 'docker',
            'labels': {'provisioner': 'instant'}})
        assert response.status_code == 201, response.text
        baymodel = response.json()['uuid']
        for process in magnum.conductors:
            os.kill(process.pid, signal.SIGSTOP)
        try:
            def create(n):
                r = api.post('/v1/bays', json={'baymodel_id': baymodel,
                                               'name': 'b%d' % n})
                assert r.status_code == 201, r.text
            with concurrent.futures.ThreadPoolExecutor(8) as pool:
                list(pool.map(create, range(bays)))
        finally:
            started = time.monotonic()
            for process in magnum.conductors:
                os.kill(process.pid, signal.SIGCONT)
        done, last_change, ended = -1, time.monotonic(), None
        while True:
            listed = api.get('/v1/bays/detail?limit=%d' % (bays + 1)).json()
            statuses = [b['status'] for b in listed['bays']]
            now_done = statuses.count('CREATE_COMPLETE')
            if now_done != done:
                done, last_change = now_done, time.monotonic()
            if now_done == bays:
                ended = time.monotonic()
                break
            if time.monotonic() - last_change > 20:
                # NOTE: a bay whose message failed (its conductor could not
                # reach the database) waits for redo_after; not timed here.
                ended = last_change
                print('    (%d of %d bays not done: %s)' % (
                    bays - now_done, bays, sorted(set(statuses))),
                    flush=True)
                break
            time.sleep(0.05)
        return done / (ended - started)
    finally:
        _close(handles)


def reads_per_second(workers, seconds, clients=8):
    magnum, handles = _deployment(1, workers=workers)
    try:
        api = processes.Client(magnum)
        response = api.post('/v1/baymodels', json={
            'name': 'bench', 'coe': 'docker',
            'labels': {'provisioner': 'instant'}})
        baymodel = response.json()['uuid']
        for n in range(50):
            api.post('/v1/bays', json={'baymodel_id': baymodel,
                                       'name': 'b%d' % n})
        url = magnum.url + '/v1/bays?limit=50'
        stop = threading.Event()
        done = [0]
        lock = threading.Lock()

        def client():
            session = requests.Session()
            while not stop.is_set():
                r = session.get(url, timeout=30)
                assert r.status_code == 200, r.text
                with lock:
                    done[0] += 1

        threads = [threading.Thread(target=client) for _ in range(clients)]
        for thread in threads:
            thread.start()
        time.sleep(1)  # warm-up: every worker has loaded the app
        first, started = done[0], time.monotonic()
        time.sleep(seconds)
        last, ended = done[0], time.monotonic()
        stop.set()
        for thread in threads:
            thread.join()
        return (last - first) / (ended - started)
    finally:
        _close(handles)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--bays', type=int, default=400)
    parser.add_argument('--seconds', type=float, default=5)
    args = parser.parse_args()
    plugin_dir = tempfile.mkdtemp(prefix='magnum-bench-')
    try:
        install_instant_provisioner(plugin_dir)
        print('bay creates per second, instant provisioner, %d bays '
              '(%d cores)' % (args.bays, os.cpu_count()), flush=True)
        rates = {}
        for n in (1, 2, 3):
            rates[n] = creates_per_second(n, args.bays)
            print('  %d conductor(s): %7.1f bays/s   x%.2f of 1' % (
                n, rates[n], rates[n] / rates[1]), flush=True)
        print('API reads per second, GET /v1/bays?limit=50, 8 clients')
        reads = {}
        for workers in (1, 2):
            reads[workers] = reads_per_second(workers, args.seconds)
            print('  %d worker(s):    %7.1f req/s    x%.2f of 1' % (
                workers, reads[workers], reads[workers] / reads[1]),
                flush=True)
    finally:
        shutil.rmtree(plugin_dir, ignore_errors=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())
