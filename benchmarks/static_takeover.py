#!/usr/bin/env python3
"""How long a surviving conductor takes to finish a dead one's static bays.

The scenario of the actions issue: static bays on an endpoint that takes a
few seconds to answer, created at once over two conductors; the owner of
the most is killed (``kill -9``) while it hands its creates to the
endpoint. The survivor takes the bays over once the dead one's heartbeat is
``service_down_time`` old and hands each unfinished action over again on
its redo pool (``[conductor] redo_workers``), once per action, only after
``redo_after``.

Real processes: magnum-api and two magnum-conductors on the machine's
PostgreSQL and RabbitMQ, and a private Docker Engine behind the counting
proxy of ``magnum/tests/functional/test_actions.py`` (it holds each
``/info`` for ``--hold`` seconds and counts them).

Prints: the bays the dead conductor held, the seconds from the kill to the
last of them CREATE_COMPLETE, and the endpoint calls (each bay's create
must reach the endpoint once on the survivor: calls = bays + the dead
conductor's calls in flight). Compare ``--redo-workers 1`` with the
default to see the pool at work.

    .venv/bin/python benchmarks/static_takeover.py [--bays 12] [--hold 3]
        [--redo-workers 4]
"""

import argparse
import os
import sys
import time
import warnings

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))))
warnings.simplefilter('ignore')

import sqlalchemy as sa  # noqa: E402

from magnum.tests.functional import db_servers  # noqa: E402
from magnum.tests.functional import docker_engine  # noqa: E402
from magnum.tests.functional import processes  # noqa: E402
from magnum.tests.functional import test_actions  # noqa: E402

LATEST = {'OpenStack-API-Version': 'container-infra latest'}


def _holders(database):
    engine = sa.create_engine(database.url)
    try:
        with engine.connect() as connection:
            return dict(connection.execute(sa.text(
                'SELECT uuid, reservation FROM bay')).all())
    finally:
        engine.dispose()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--bays', type=int, default=12)
    parser.add_argument('--hold', type=float, default=3,
                        help='seconds the endpoint takes to answer')
    parser.add_argument('--redo-workers', type=int, default=4)
    args = parser.parse_args()

    with processes.running(docker_engine.DockerEngine()) as engine, \
            processes.running(db_servers.PostgresDatabase()) as database:
        proxy = test_actions.CountingProxy(engine.socket_path, args.hold)
        services = processes.MagnumServices(
            database.url, conductors=2, service_down_time=10,
            extra={'conductor': {'redo_after': 2,
                                 'redo_workers': args.redo_workers}})
        with processes.running(services) as magnum:
            api = processes.Client(magnum)
            template = api.post('/v1/clustertemplates', headers=LATEST,
                                json={'name': 'slow', 'coe': 'docker',
                                      'labels': {'docker_url': proxy.url}})
            assert template.status_code == 201, template.text
            uuids = []
            for n in range(args.bays):
                created = api.post('/v1/clusters', headers=LATEST, json={
                    'name': 'b%d' % n,
                    'cluster_template_id': template.json()['uuid']})
                assert created.status_code == 202, created.text
                uuids.append(created.json()['uuid'])
            # A conductor inside a create (it holds that bay's lock).
            proxy.seen.wait(30)
            time.sleep(args.hold / 2)
            hosts = [h for h in _holders(database).values() if h]
            victim_host = max(set(hosts), key=hosts.count)
            [victim] = [c for c in magnum.conductors
                        if c.name == victim_host]
            left = [u for u in uuids if api.get(
                '/v1/clusters/%s' % u, headers=LATEST).json()['status']
                != 'CREATE_COMPLETE']
            calls_before = proxy.infos
            killed = time.monotonic()
            magnum.kill_conductor(victim)
            # NOTE: its reservations stay until the survivor takes them
            # over: exactly the bays it was inside of.
            held = list(_holders(database).values()).count(victim_host)
            deadline = killed + 300
            while True:
                statuses = [api.get('/v1/clusters/%s' % u,
                                    headers=LATEST).json()['status']
                            for u in uuids]
                if all(s == 'CREATE_COMPLETE' for s in statuses):
                    break
                assert time.monotonic() < deadline, statuses
                time.sleep(0.2)
            took = time.monotonic() - killed
            time.sleep(3)
            print('bays %d, not yet CREATE_COMPLETE at the kill: %d'
                  % (len(uuids), len(left)))
            print('endpoint hold %.1f s, redo_workers %d: all '
                  'CREATE_COMPLETE %.1f s after the kill '
                  '(service_down_time 10 s, redo_after 2 s)'
                  % (args.hold, args.redo_workers, took))
            after = proxy.infos - calls_before
            print('the killed conductor held %d bays inside their create; '
                  'endpoint calls after the kill: %d (%s), %d in all'
                  % (held, after, 'once each' if after == held
                     else 'NOT once each', proxy.infos))
            assert after == held, (after, held)
        proxy.close()


if __name__ == '__main__':
    main()
