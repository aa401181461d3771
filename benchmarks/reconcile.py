#!/usr/bin/env python3
"""The cost of one reconcile pass over many Heat bays, and how it grows.

For 1,000 and 10,000 bays in CREATE_IN_PROGRESS (a fresh SQLite database
in a temporary directory, or PostgreSQL with --db postgresql), one pass of
the conductor's reconciler (``BayHandler.reconcile_bays``: list the bays in
progress, one ``poll`` per provisioner, write what changed under each bay's
lock) runs against a recorded Heat answer: a local HTTP server answers
``GET /stacks`` with one stack per bay, shaped as Heat's stack list is, and
``GET /stacks/<id>`` with one stack. The real python-heatclient talks to it
over HTTP. Two rounds per size:

1. nothing changed (every stack still CREATE_IN_PROGRESS; after a warm-up
   pass, the best of three);
2. 10% of the stacks are CREATE_COMPLETE (their outputs are read and their
   rows written, with their Node rows).

In the same run, the baseline: what a per-bay design costs, one
``stacks.get`` per bay (the calls the one list replaces).

It prints, per size, the time of a pass, the Heat calls it made, and the
ratios: 10,000 over 1,000 (how the cost grows) and per-bay over the one
list. It measures; it is not a test, and exits 0 once it ran.

    .venv/bin/python benchmarks/reconcile.py
    .venv/bin/python benchmarks/reconcile.py --sizes 1000 --db postgresql
"""

import argparse
import http.server
import json
import os
import shutil
import sys
import tempfile
import threading
import time
from unittest import mock
import uuid
import warnings

warnings.filterwarnings('ignore', message=r'\s*Eventlet is deprecated')

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))))


class RecordedHeat(http.server.ThreadingHTTPServer):
    """Heat's answers, recorded shapes: a stack list and single stacks."""

    daemon_threads = True

    def __init__(self):
        super().__init__(('127.0.0.1', 0), _Handler)
        self.stacks = {}
        self.calls = {'list': 0, 'get': 0}
        self.lock = threading.Lock()

    def add(self, stack_id, name, status):
        self.stacks[stack_id] = {
            'id': stack_id, 'stack_name': name,
            'description': 'A Magnum bay.',
            'stack_status': status,
            'stack_status_reason': 'Stack %s' % status.replace('_', ' '),
            'creation_time': '2026-11-25T12:00:00Z', 'updated_time': None,
            'deletion_time': None, 'stack_owner': None, 'parent': None,
            'stack_user_project_id': uuid.uuid4().hex,
            'project': uuid.uuid4().hex, 'tags': ['magnum'],
            'links': [{'href': 'http://heat/v1/p/stacks/%s/%s'
                       % (name, stack_id), 'rel': 'self'}]}

    @property
    def url(self):
        return 'http://127.0.0.1:%d/v1/p' % self.server_address[1]


def _outputs(stack):
    server = {'id': uuid.uuid4().hex, 'name': stack['stack_name'] + '-0',
              'role': 'master', 'image': 'fedora-40',
              'private_ip': '10.0.0.5', 'public_ip': '172.24.4.5'}
    return [{'output_key': 'api_ip', 'output_value': '172.24.4.5'},
            {'output_key': 'master_addresses',
             'output_value': ['172.24.4.5']},
            {'output_key': 'node_addresses', 'output_value': []},
            {'output_key': 'master_servers', 'output_value': [server]},
            {'output_key': 'node_servers', 'output_value': []}]


class _Handler(http.server.BaseHTTPRequestHandler):

    def log_message(self, *args):
        pass

    def do_GET(self):
        heat = self.server
        path = self.path.split('?', 1)[0]
        if path.endswith('/stacks'):
            with heat.lock:
                heat.calls['list'] += 1
            body = {'stacks': list(heat.stacks.values())}
        else:
            stack_id = path.rstrip('/').split('/')[-1]
            with heat.lock:
                heat.calls['get'] += 1
            stack = heat.stacks.get(stack_id)
            if stack is None:
                self.send_response(404)
                self.end_headers()
                return
            body = {'stack': dict(stack, outputs=_outputs(stack),
                                  parameters={})}
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def _setup_database(kind, work_dir):
    from magnum.db import api as db_api
    from magnum.db import migration
    from oslo_config import cfg
    if kind == 'postgresql':
        from magnum.tests.functional import db_servers
        database = db_servers.PostgresDatabase(prefix='magnum_bench')
        database.setUp()
        url = database.url
    else:
        database = None
        url = 'sqlite:///%s' % os.path.join(work_dir, 'bench.db')
    cfg.CONF.set_override('connection', url, 'database')
    db_api.reset()
    migration.upgrade('head')
    return database


def _make_bays(heat, count):
    from magnum.common import context as magnum_context
    from magnum.db import baymodels as db_baymodels
    from magnum.db import bays as db_bays
    from magnum.drivers.heat import definition
    context = magnum_context.RequestContext(project_id='p', user_id='u')
    model = db_baymodels.create_baymodel(context, {
        'name': 'bm', 'coe': 'kubernetes', 'image_id': 'fedora-40',
        'flavor_id': 'm1', 'external_network_id': 'public',
        'cluster_distro': 'fedora', 'labels': {'provisioner': 'heat'}})
    uuids = []
    for i in range(count):
        stack_id = str(uuid.uuid4())
        row = db_bays.create_bay(context, {
            'name': 'bay%d' % i, 'baymodel_id': model.uuid,
            'provisioner': 'heat', 'status': 'CREATE_IN_PROGRESS',
            'node_count': 1, 'master_count': 1, 'bay_create_timeout': 60,
            'stack_id': stack_id}, action={
            # NOTE: the bay's create, handed to Heat: the reconciler follows
            # unfinished actions.
            'uuid': str(uuid.uuid4()), 'kind': 'create', 'params': {},
            'status': 'IN_PROGRESS', 'project_id': 'p', 'user_id': 'u'})
        heat.add(stack_id, definition.stack_name(row), 'CREATE_IN_PROGRESS')
        uuids.append(row.uuid)
    return uuids


def _pass(handler, heat):
    heat.calls = {'list': 0, 'get': 0}
    start = time.perf_counter()
    handler.reconcile_bays()
    return time.perf_counter() - start, dict(heat.calls)


def _per_bay(client, heat):
    heat.calls = {'list': 0, 'get': 0}
    start = time.perf_counter()
    for stack_id in list(heat.stacks):
        client.stacks.get(stack_id)
    return time.perf_counter() - start, dict(heat.calls)


def measure(size, kind):
    from heatclient import client as heat_client
    from magnum.conductor.handlers import bay as bay_handler
    from magnum.db import bays as db_bays
    from magnum.drivers.heat import clients as heat_clients

    work_dir = tempfile.mkdtemp(prefix='magnum-bench-')
    heat = RecordedHeat()
    thread = threading.Thread(target=heat.serve_forever, daemon=True)
    thread.start()
    database = None
    try:
        database = _setup_database(kind, work_dir)
        _make_bays(heat, size)
        client = heat_client.Client('1', endpoint=heat.url, token='bench')
        handler = bay_handler.BayHandler('bench-host')
        with mock.patch.object(heat_clients, 'service_client',
                               return_value=client):
            # NOTE: the first pass pays for imports, connections and
            # statement caches; the best of three after it is measured.
            _pass(handler, heat)
            unchanged = min((_pass(handler, heat) for _ in range(3)),
                            key=lambda result: result[0])
            for stack in list(heat.stacks.values())[::10]:
                stack['stack_status'] = 'CREATE_COMPLETE'
            changed = _pass(handler, heat)
        per_bay = _per_bay(client, heat)
        done = len(db_bays.list_bays_by_status(['CREATE_COMPLETE']))
        return {'size': size, 'unchanged': unchanged, 'changed': changed,
                'per_bay': per_bay, 'completed': done}
    finally:
        heat.shutdown()
        heat.server_close()
        if database is not None:
            database.cleanUp()
        shutil.rmtree(work_dir, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--sizes', default='1000,10000')
    parser.add_argument('--db', choices=['sqlite', 'postgresql'],
                        default='sqlite')
    args = parser.parse_args()

    from magnum.conductor import rpc
    from magnum import conf  # noqa: F401  (registers the options)
    from oslo_config import cfg
    cfg.CONF([], project='magnum')
    rpc.set_default_url('fake://')
    # NOTE: one project holds every bay here; the default quota is 20.
    if 'quotas' in cfg.CONF:
        cfg.CONF.set_override('max_clusters_per_project', 10 ** 6, 'quotas')

    results = [measure(int(size), args.db)
               for size in args.sizes.split(',')]
    print('%-7s %-26s %-26s %-26s' % (
        'bays', 'pass, nothing changed', 'pass, 10% complete',
        'baseline: one get per bay'))
    for r in results:
        cells = []
        for key in ('unchanged', 'changed', 'per_bay'):
            seconds, calls = r[key]
            cells.append('%7.3f s %4d list %5d get' % (
                seconds, calls['list'], calls['get']))
        print('%-7d %-26s %-26s %-26s' % (r['size'], *cells))
        print('        per-bay baseline / one-list pass: %.1fx; bays '
              'completed by the second pass: %d'
              % (r['per_bay'][0] / r['unchanged'][0], r['completed']))
    if len(results) > 1:
        first, last = results[0], results[-1]
        growth = last['size'] / first['size']
        print('growth %dx bays: pass nothing changed %.1fx, pass 10%% '
              'complete %.1fx, per-bay baseline %.1fx' % (
                  growth,
                  last['unchanged'][0] / first['unchanged'][0],
                  last['changed'][0] / first['changed'][0],
                  last['per_bay'][0] / first['per_bay'][0]))


if __name__ == '__main__':
    main()
