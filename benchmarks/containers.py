#!/usr/bin/env python3
"""What Magnum adds to a Docker Engine: containers through magnum-api next
to the Docker SDK on the same engine, in one run.

On a private Docker Engine (tools/docker-engine.sh, a local busybox image,
nothing pulled) under a static docker bay of real magnum-api and
magnum-conductor processes on PostgreSQL and RabbitMQ, it times

1. **create+start** of one container, N times in turn:
   a. the Docker SDK (``APIClient.create_container`` + ``start``, the
      calls the conductor makes, on one client);
   b. Magnum: ``POST /v1/containers`` then ``PUT .../start`` (HTTP to the
      API, RPC to the conductor, the engine, the database);
2. **list of 200 containers** (the bay has 200 Magnum containers):
   a. the Docker SDK's one list call filtered by the bay's label (what the
      reconciler asks the engine);
   b. ``GET /v1/containers?bay_ident=<bay>&limit=200`` (a database read).

and prints medians and the ratios Magnum / SDK. It measures; it is not a
test and always exits 0 once the measurements ran. See README.rst here.

    .venv/bin/python benchmarks/containers.py [--runs 50] [--list-runs 30]

Everything it starts (the engine, a database ``magnum_test_<random>``, the
services) is stopped or removed at the end, also on an error or Ctrl-C.
"""

import argparse
import os
import statistics
import sys
import time
import warnings

warnings.filterwarnings('ignore', message=r'\s*Eventlet is deprecated')

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))))

from magnum.tests.functional import db_servers  # noqa: E402
from magnum.tests.functional import docker_engine  # noqa: E402
from magnum.tests.functional import processes  # noqa: E402

IMAGE = 'busybox:latest'
COMMAND = ['sleep', '3600']
HEADERS = {'X-Project-Id': 'bench', 'X-User-Id': 'bench',
           'X-Roles': 'member'}


def _timed(fn):
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def _ms(seconds):
    return '%8.2f ms' % (seconds * 1000)


def _static_bay(api, magnum, url):
    baymodel = api.post('/v1/baymodels', json={
        'name': 'bench-bm', 'coe': 'docker', 'labels': {'docker_url': url}})
    assert baymodel.status_code == 201, baymodel.text
    bay = api.post('/v1/bays', json={'name': 'bench-bay',
                                     'baymodel_id': baymodel.json()['uuid']})
    assert bay.status_code == 201, bay.text
    done = processes.wait_for_bay(api, magnum, bay.json()['uuid'],
                                  ('CREATE_COMPLETE', 'CREATE_FAILED'))
    assert done['status'] == 'CREATE_COMPLETE', done
    return done


def measure(args):
    with processes.running(docker_engine.DockerEngine()) as engine, \
            processes.running(db_servers.PostgresDatabase()) as database, \
            processes.running(processes.MagnumServices(
                database.url,
                periodic_interval=args.periodic_interval)) as magnum:
        api = processes.Client(magnum, headers=HEADERS)
        client = engine.client().api
        bay = _static_bay(api, magnum, engine.url)
        # NOTE: not the bay's label, so the list below is Magnum's 200.
        labels = {'bench': 'sdk'}

        def sdk_create_start():
            created = client.create_container(IMAGE, command=COMMAND,
                                              labels=labels)
            client.start(created['Id'])

        def magnum_create_start():
            response = api.post('/v1/containers', json={
                'image': IMAGE, 'command': ' '.join(COMMAND),
                'bay_uuid': bay['uuid']})
            assert response.status_code == 201, response.text
            response = api.request('PUT', '/v1/containers/%s/start'
                                   % response.json()['uuid'])
            assert response.status_code == 200, response.text

        # Warm both paths once, then alternate so drift hits both alike.
        sdk_create_start()
        magnum_create_start()
        sdk, mag = [], []
        for _ in range(args.runs):
            sdk.append(_timed(sdk_create_start))
            mag.append(_timed(magnum_create_start))

        # Fill the bay with Magnum containers up to 200 (created only).
        count = len(api.get('/v1/containers?bay_ident=%s&limit=1000'
                            % bay['uuid']).json()['containers'])
        for _ in range(count, 200):
            response = api.post('/v1/containers', json={
                'image': IMAGE, 'command': ' '.join(COMMAND),
                'bay_uuid': bay['uuid']})
            assert response.status_code == 201, response.text
        filters = {'label': 'magnum.bay_uuid=%s' % bay['uuid']}
        listed = len(api.get('/v1/containers?bay_ident=%s&limit=200'
                             % bay['uuid']).json()['containers'])

        def sdk_list():
            client.containers(all=True, filters=filters)

        def magnum_list():
            response = api.get('/v1/containers?bay_ident=%s&limit=200'
                               % bay['uuid'])
            assert len(response.json()['containers']) == 200

        sdk_list()
        magnum_list()
        sdk_l, mag_l = [], []
        for _ in range(args.list_runs):
            sdk_l.append(_timed(sdk_list))
            mag_l.append(_timed(magnum_list))
        engine_count = len(client.containers(all=True, filters=filters))
        api.close()
        client.close()
    return {'create+start': (sdk, mag), 'list-200': (sdk_l, mag_l),
            'listed': listed, 'engine_count': engine_count}


def report(results, args):
    print('containers.py: Magnum over the Docker SDK, one run')
    print('  load average before: %.2f' % results['load'])
    print('%-14s %12s %12s %8s' % ('', 'SDK p50', 'Magnum p50', 'ratio'))
    for name in ('create+start', 'list-200'):
        sdk, mag = results[name]
        s, m = statistics.median(sdk), statistics.median(mag)
        print('%-14s %12s %12s %7.1fx   (n=%d; SDK min %s, Magnum min %s)'
              % (name, _ms(s), _ms(m), m / s, len(sdk), _ms(min(sdk)),
                 _ms(min(mag))))
    print('  the list had %d containers on the engine, %d in the answer'
          % (results['engine_count'], results['listed']))
    print('  load average after: %.2f' % os.getloadavg()[0])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--runs', type=int, default=50,
                        help='create+start pairs timed (default 50)')
    parser.add_argument('--list-runs', type=int, default=30,
                        help='list calls timed each way (default 30)')
    parser.add_argument('--periodic-interval', type=int, default=10,
                        help='the conductor\'s reconciler interval in '
                             'seconds (default 10, as deployed)')
    args = parser.parse_args()
    load = os.getloadavg()[0]
    results = measure(args)
    results['load'] = load
    report(results, args)


if __name__ == '__main__':
    main()
