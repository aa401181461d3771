#!/usr/bin/env python3
"""Many clients writing at once to magnum-all on its default SQLite.

A real ``magnum-all`` with no configuration file (noauth, SQLite under a
fresh temporary home, the conductor inside), on a free port of 127.0.0.1.
``--clients`` threads, each in a project of its own, repeat for
``--duration`` seconds: create a BayModel and delete it; create a bay on
the client's own BayModel (the static provisioner, on a Docker socket that
does not exist: the conductor fails the create at once) and delete it;
create a quota of a project and delete it (as admin). Every answer is
counted by request and status; a 409 (a bay still held by the conductor
when its delete comes) is tried again after 50 ms, and counted.

At the end, once the conductor has deleted the bays (bounded wait), the
rows left are checked: no bay, each client's own BayModel only.

Prints requests, answers by status, throughput and latency, and the
messages of the 5xx answers; exits 0 whatever they are.

    .venv/bin/python benchmarks/sqlite_writers.py [--clients 20]
        [--duration 60] [--source DIR]

``--source DIR`` runs magnum-all from another copy of the tree (its
``magnum`` and ``etc`` directories, through ``PYTHONPATH``), to compare
two versions of the code on the same machine: for instance a copy with
the change under test undone.
"""

import argparse
import collections
import os
import signal
import sys
import threading
import time
import warnings

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))))
warnings.simplefilter('ignore')

import requests  # noqa: E402

from magnum.tests.functional import processes  # noqa: E402

MISSING_SOCKET = 'unix:///nonexistent/docker.sock'
REQUEST_TIMEOUT = 30
DRAIN_TIMEOUT = 60
CONFLICT_TRIES = 20


class Timeout(Exception):
    pass


class Tally:
    """Answers by (request, status), latencies by request, 5xx messages."""

    def __init__(self):
        self.lock = threading.Lock()
        self.statuses = collections.Counter()
        self.latencies = collections.defaultdict(list)
        self.faults = collections.Counter()

    def add(self, kind, status, seconds, fault=None):
        with self.lock:
            self.statuses[kind, status] += 1
            self.latencies[kind].append(seconds)
            if fault is not None:
                self.faults[status, fault] += 1


def _fault(response):
    try:
        return processes.faultstring(response)
    except Exception:
        return response.text[:200]


class Client(threading.Thread):

    def __init__(self, number, url, deadline, tally):
        super().__init__(name='client-%d' % number, daemon=True)
        self.number = number
        self.url = url
        self.deadline = deadline
        self.tally = tally
        self.project = 'bench-%02d' % number
        self.session = requests.Session()
        self.session.headers.update({'X-Project-Id': self.project,
                                     'X-User-Id': 'user-%02d' % number,
                                     'X-Roles': 'member'})
        self.error = None

    def call(self, kind, method, path, ok, admin=False, **kwargs):
        headers = {'X-Roles': 'admin'} if admin else {}
        for _ in range(CONFLICT_TRIES):
            started = time.monotonic()
            try:
                response = self.session.request(
                    method, self.url + path, headers=headers,
                    timeout=REQUEST_TIMEOUT, **kwargs)
            except requests.RequestException as e:
                self.tally.add(kind, type(e).__name__,
                               time.monotonic() - started)
                return None
            status = response.status_code
            self.tally.add(kind, status, time.monotonic() - started,
                           _fault(response) if status >= 500 else None)
            if status != 409:
                break
            time.sleep(0.05)
        return response.json() if status == ok and ok != 204 else None

    def own_baymodel(self):
        return self.call('setup', 'POST', '/v1/baymodels', 201, json={
            'name': 'own-%s' % self.project, 'coe': 'docker',
            'labels': {'docker_url': MISSING_SOCKET}})

    def run(self):
        try:
            self.loop()
        except Exception as e:
            self.error = e

    def loop(self):
        own = self.own_baymodel()
        if own is None:
            raise RuntimeError('%s could not create its BayModel'
                               % self.project)
        self.own_uuid = own['uuid']
        round_ = 0
        while time.monotonic() < self.deadline:
            round_ += 1
            name = '%s-%d' % (self.project, round_)
            made = self.call('POST baymodel', 'POST', '/v1/baymodels', 201,
                             json={'name': name, 'coe': 'docker',
                                   'labels': {'docker_url': MISSING_SOCKET}})
            if made is not None:
                self.call('DELETE baymodel', 'DELETE',
                          '/v1/baymodels/%s' % made['uuid'], 204)
            bay = self.call('POST bay', 'POST', '/v1/bays', 201, json={
                'name': name, 'baymodel_id': own['uuid'], 'node_count': 1})
            if bay is not None:
                self.call('DELETE bay', 'DELETE', '/v1/bays/%s' % bay['uuid'],
                          204)
            project = '%s-quota' % self.project
            self.call('POST quota', 'POST', '/v1/quotas', 201, admin=True,
                      json={'project_id': project, 'resource': 'Cluster',
                            'hard_limit': 10})
            self.call('DELETE quota', 'DELETE',
                      '/v1/quotas/%s/Cluster' % project, 204, admin=True)

    def leftovers(self):
        """(bays, BayModels other than its own) the project still has."""
        bays = self.session.get(self.url + '/v1/bays',
                                timeout=REQUEST_TIMEOUT).json()['bays']
        models = self.session.get(self.url + '/v1/baymodels',
                                  timeout=REQUEST_TIMEOUT).json()['baymodels']
        return bays, [m for m in models if m['uuid'] != self.own_uuid]


def _percentile(values, fraction):
    values = sorted(values)
    return values[min(len(values) - 1, int(fraction * len(values)))]


def report(tally, seconds, clients):
    kinds = [k for k in ('POST baymodel', 'DELETE baymodel', 'POST bay',
                         'DELETE bay', 'POST quota', 'DELETE quota')
             if k in tally.latencies]
    statuses = sorted({status for _, status in tally.statuses},
                      key=str)
    lines = ['%-17s %8s %s %8s %8s' % (
        'request', 'answers', ' '.join('%7s' % s for s in statuses),
        'p50 ms', 'p99 ms')]
    for kind in kinds:
        latencies = tally.latencies[kind]
        lines.append('%-17s %8d %s %8.1f %8.1f' % (
            kind, len(latencies),
            ' '.join('%7d' % tally.statuses[kind, s] for s in statuses),
            _percentile(latencies, 0.5) * 1000,
            _percentile(latencies, 0.99) * 1000))
    total = sum(len(tally.latencies[k]) for k in kinds)
    by_status = collections.Counter()
    for (kind, status), count in tally.statuses.items():
        if kind in kinds:
            by_status[status] += count
    errors = {s: n for s, n in by_status.items()
              if not (isinstance(s, int) and s < 300)}
    lines.append('')
    lines.append('%d requests in %.1f s from %d clients: %.1f req/s' % (
        total, seconds, clients, total / seconds))
    lines.append('errors by status: %s (%d in all; 409s are the conflicts '
                 'of a bay the conductor still held, tried again)' % (
                     ', '.join('%s: %d' % (s, n) for s, n in sorted(
                         errors.items(), key=str)) or 'none',
                     sum(errors.values())))
    server_errors = sum(n for s, n in errors.items()
                        if not isinstance(s, int) or s >= 500)
    lines.append('5xx and failed requests: %d' % server_errors)
    for (status, fault), count in tally.faults.most_common(10):
        lines.append('  %d x %s: %s' % (count, status, fault))
    return lines


def run(args):
    tally = Tally()
    with processes.running(processes.MagnumAll()) as magnum:
        print('magnum-all on %s (%s), %d clients for %d s' % (
            magnum.url, 'magnum from %s' % args.source if args.source
            else 'this checkout', args.clients, args.duration))
        sys.stdout.flush()
        started = time.monotonic()
        clients = [Client(n, magnum.url, started + args.duration, tally)
                   for n in range(args.clients)]
        for client in clients:
            client.start()
        for client in clients:
            client.join(args.duration + 2 * REQUEST_TIMEOUT)
        seconds = time.monotonic() - started
        lines = report(tally, seconds, args.clients)
        for client in clients:
            if client.error is not None:
                lines.append('%s stopped: %s' % (client.name, client.error))
        # The conductor deletes bays after the API answered; wait for it.
        deadline = time.monotonic() + DRAIN_TIMEOUT
        ready = [c for c in clients if c.error is None]
        while True:
            left = [c.leftovers() for c in ready]
            bays = sum(len(b) for b, _ in left)
            models = sum(len(m) for _, m in left)
            if (bays == 0 and models == 0) or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        lines.append('rows left once the conductor was done: %d bays, %d '
                     'BayModels besides the clients\' own (both should be '
                     '0)' % (bays, models))
    return lines


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--clients', type=int, default=20)
    parser.add_argument('--duration', type=int, default=60,
                        help='seconds of load (default 60)')
    parser.add_argument('--source', default=None,
                        help='a directory holding another magnum package '
                             'to run instead of this checkout')
    parser.add_argument('--timeout', type=int, default=None,
                        help='hard limit in seconds for the whole run '
                             '(default: duration + 300)')
    args = parser.parse_args()
    if args.clients < 1 or args.duration < 1:
        parser.error('--clients and --duration must be at least 1')
    if args.source:
        args.source = os.path.abspath(args.source)
        for needed in ('magnum', 'etc'):
            if not os.path.isdir(os.path.join(args.source, needed)):
                parser.error('--source: no %s directory in %s'
                             % (needed, args.source))
        # NOTE: ahead of the virtualenv's editable install of this tree;
        # the children inherit it.
        os.environ['PYTHONPATH'] = args.source

    def on_alarm(signum, frame):
        raise Timeout('the run took longer than its hard limit')

    def on_term(signum, frame):
        raise KeyboardInterrupt()

    signal.signal(signal.SIGALRM, on_alarm)
    signal.signal(signal.SIGTERM, on_term)
    signal.alarm(args.timeout or args.duration + 300)
    try:
        lines = run(args)
    except KeyboardInterrupt:
        print('interrupted; stopped what was started', file=sys.stderr)
        return 130
    except Timeout as e:
        print('sqlite_writers: %s; stopped what was started' % e,
              file=sys.stderr)
        return 2
    finally:
        signal.alarm(0)
    print('\n'.join(lines))
    return 0


if __name__ == '__main__':
    sys.exit(main())
