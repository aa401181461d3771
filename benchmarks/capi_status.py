#!/usr/bin/env python3
"""How soon a capi bay's CREATE_COMPLETE shows in Magnum's API once its
Cluster is Available: with the watch, and with the reconcile pass alone.

Real processes: a kube-apiserver with tokens and RBAC as the Cluster API
management cluster (kube_apiserver.py, the CRDs of capi/crds.yaml; a
fresh one per mode), the stand-in of the Cluster API controllers
(capi/standin.py), a Keystone on a PostgreSQL database of its own (the
capi create makes an application credential with the caller's token), and
per mode a fresh magnum-api and
``--conductors`` magnum-conductor(s) on PostgreSQL and RabbitMQ, configured
as in production (``[conductor] periodic_interval`` 10 s, ``[capi]
delete_timeout`` 600 s, ``[conductor] service_down_time`` 60 s), with
``[capi] watch = true`` (mode ``watch``) or ``false`` (mode ``reconcile``).

A round, for N bays (1, then ``--bays``), in each mode:

1. a member of a fresh project POSTs N bays of a capi template (1 master,
   1 worker) through the REST API, at once (4 client threads);
2. the script waits until every bay's create has been handed over (its
   ``stack_id`` shows: the create action is IN_PROGRESS), with no stand-in
   running, so no Cluster can become Available before Magnum follows it;
3. only then it starts the stand-in (``--delay-one``, 2 s, or
   ``--delay-many``, 10 s, until its Machines run) and polls ``GET
   /v1/clusters`` every ``--poll`` seconds, noting for each bay the first
   answer that shows CREATE_COMPLETE;
4. the latency of a bay: that answer's arrival minus the time in the
   stand-in's events file when it set the bay's Cluster Available
   (``stack_id`` = "<namespace>/<cluster name>" matches them);
5. the bays are deleted, and the round ends once they are gone; except
   after a mode's last round (the big one), whose bays go with that mode's
   Magnum and kube-apiserver (deleting 100 bays took 150-170 s here).

Why the stand-in starts after the hand-over: a create does its work
(a CA, Secrets, a Keystone application credential, the Cluster) before
its action is IN_PROGRESS, and 100 of them at once on one conductor took
15-50 s to be handed over here; a Cluster Available before that would
time the create, not the status. The stand-in then plays all the
Clusters in one thread, a step of each in turn, so with 100 bays it takes
it 40-120 s (more than ``--delay-many``) to bring their Machines up, and
the Clusters turn Available in a burst at its pace, 20-70 s from the
first to the last here.

The 1-bay round is repeated ``--single-rounds`` times (3) and its samples
pooled. The conductors log with thread names, so the script also splits
each latency at the conductor's write (the ``Bay <uuid> is
CREATE_COMPLETE`` line) and says which thread wrote it: a watch worker
(``magnum-watch_*``) or the reconcile pass (``magnum-periodic``).

It prints p50, p90, p99 and max per round, the ratios reconcile alone /
watch, and the issue's target (p99 under 1 s with the watch). It measures;
it is not a test, and exits 0 once it ran.

    .venv/bin/python benchmarks/capi_status.py [--bays 100]
        [--conductors 1] [--periodic-interval 10] [--watch-workers N]
        [--modes watch,reconcile] [--keep-logs] [--timeout 900]

PostgreSQL and RabbitMQ on 127.0.0.1 (``tools/services.sh``); the
kube-apiserver binaries and Keystone's virtualenv are built once and cached
under ~/.cache/magnum-tests. Everything listens on 127.0.0.1 and stops at
the end, on an error, Ctrl-C, SIGTERM or ``--timeout``. Progress goes to
stderr.
"""

import argparse
import collections
from concurrent import futures
import contextlib
import datetime
import os
import re
import shutil
import signal
import sys
import tempfile
import time
import warnings

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))))
warnings.simplefilter('ignore')

from magnum.tests.functional import db_servers  # noqa: E402
from magnum.tests.functional import keystone as keystone_mod  # noqa: E402
from magnum.tests.functional import kube_apiserver as kube_mod  # noqa: E402
from magnum.tests.functional import processes  # noqa: E402
from magnum.tests.functional.capi import management  # noqa: E402

API_VERSION = {'OpenStack-API-Version': 'container-infra latest'}
# The conductors' log lines with their thread's name (oslo.log's default
# formats otherwise).
LOG_FORMAT = ('%(asctime)s.%(msecs)03d %(process)d %(threadName)s '
              '%(levelname)s %(name)s [-] %(message)s')
_COMPLETE = re.compile(
    r'^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}) \d+ (.+?) INFO '
    r'magnum\.lifecycle\.actions \[-\] Bay ([0-9a-f-]{36}) is '
    r'CREATE_COMPLETE')
_TROUBLE = re.compile(r' (ERROR|WARNING) ')
POST_THREADS = 4
DELETE_DELAY = 0.5
HANDOVER_TIMEOUT = 300
GONE_TIMEOUT = 240

_START = time.monotonic()


class Timeout(Exception):
    pass


def progress(text):
    sys.stderr.write('[%6.1f s] %s\n' % (time.monotonic() - _START, text))
    sys.stderr.flush()


def percentile(values, fraction):
    """Nearest rank."""
    ordered = sorted(values)
    if not ordered:
        return None
    rank = max(1, int(-(-fraction * len(ordered) // 1)))
    return ordered[min(rank, len(ordered)) - 1]


def summary(values):
    return {'n': len(values), 'p50': percentile(values, 0.50),
            'p90': percentile(values, 0.90), 'p99': percentile(values, 0.99),
            'max': max(values) if values else None}


# -- Magnum ------------------------------------------------------------------

def _capi_section(keystone, kube, delete_timeout):
    """[capi]: the management cluster and Magnum's service user, as the
    functional tests configure it."""
    return management.magnum_config(keystone, kube, delete_timeout)


def _template(api):
    """A capi ClusterTemplate (as test_capi_bays.py makes them)."""
    response = api.post('/v1/clustertemplates', json={
        'name': processes.unique_name('bench-ct'), 'coe': 'kubernetes',
        'image_id': 'ubuntu-2404-kube', 'flavor_id': 'm1.small',
        'master_flavor_id': 'm1.medium', 'external_network_id': 'public',
        'labels': {'provisioner': 'capi', 'kube_tag': 'v1.33.4'}})
    assert response.status_code == 201, response.text
    return response.json()


def magnum_config(keystone, kube, mode, args):
    # NOTE: not the tests' 8 s delete_timeout, which would fail deletes
    # of many bays at once.
    extra = _capi_section(keystone, kube, 600)
    extra['capi']['watch'] = 'true' if mode == 'watch' else 'false'
    extra['DEFAULT'] = {'logging_default_format_string': LOG_FORMAT,
                        'logging_context_format_string': LOG_FORMAT}
    extra['quotas'] = {'max_clusters_per_project': 10 * args.bays + 10}
    # NOTE: the machine's PostgreSQL allows 100 connections, shared with
    # Keystone and magnum-api; a conductor's 64 RPC threads would take up
    # to 55 with the default overflow. The measured part uses ~10.
    extra['database'] = {'max_overflow': 20}
    if args.watch_workers:
        extra['conductor'] = {'watch_workers': args.watch_workers}
    return extra


def _client(magnum, headers):
    return processes.Client(magnum, headers=dict(headers))


def _post_bays(magnum, headers, template, count):
    def post(index):
        client = _client(magnum, headers)
        try:
            response = client.post('/v1/clusters', json={
                'name': processes.unique_name('bench%d' % index),
                'master_count': 1, 'node_count': 1,
                'cluster_template_id': template['uuid']})
            assert response.status_code == 202, response.text
            return response.json()['uuid']
        finally:
            client.close()

    with futures.ThreadPoolExecutor(POST_THREADS) as pool:
        return list(pool.map(post, range(count)))


def _list(api):
    response = api.get('/v1/clusters')
    assert response.status_code == 200, response.text
    return {bay['uuid']: bay for bay in response.json()['clusters']}


def _wait_handed_over(api, uuids, magnum):
    """Every bay's create handed to the provisioner (its stack_id set,
    written with the action's IN_PROGRESS)."""
    deadline = time.monotonic() + HANDOVER_TIMEOUT
    while True:
        bays = _list(api)
        failed = [bays[u] for u in uuids
                  if u in bays and bays[u]['status'] == 'CREATE_FAILED']
        if failed:
            detail = api.get('/v1/clusters/%s' % failed[0]['uuid']).json()
            raise AssertionError('bay %s CREATE_FAILED: %s\n%s' % (
                failed[0]['uuid'], detail.get('status_reason'),
                magnum.logs()))
        ready = [u for u in uuids if bays.get(u, {}).get('stack_id')]
        if len(ready) == len(uuids):
            return bays
        if time.monotonic() > deadline:
            raise AssertionError('%d of %d creates handed over after %ds\n%s'
                                 % (len(ready), len(uuids), HANDOVER_TIMEOUT,
                                    magnum.logs()))
        time.sleep(0.2)


def _watch_completion(api, uuids, poll, timeout):
    """{uuid: time.time() of the first answer showing CREATE_COMPLETE},
    and the poll's request times."""
    seen = {}
    took = []
    deadline = time.monotonic() + timeout
    while len(seen) < len(uuids):
        started = time.perf_counter()
        bays = _list(api)
        arrived = time.time()
        took.append(time.perf_counter() - started)
        for uuid in uuids:
            status = bays.get(uuid, {}).get('status')
            if uuid not in seen and status == 'CREATE_COMPLETE':
                seen[uuid] = arrived
            elif status == 'CREATE_FAILED':
                raise AssertionError('bay %s CREATE_FAILED' % uuid)
        if time.monotonic() > deadline:
            progress('  %d of %d bays not CREATE_COMPLETE after %ds'
                     % (len(uuids) - len(seen), len(uuids), timeout))
            break
        time.sleep(max(0.0, poll - (time.perf_counter() - started)))
    return seen, took


def _delete_and_wait(api, uuids):
    for uuid in uuids:
        response = api.delete('/v1/clusters/%s' % uuid)
        assert response.status_code in (202, 204), response.text
    started = time.monotonic()
    deadline = started + GONE_TIMEOUT
    while True:
        bays = _list(api)
        left = [u for u in uuids if u in bays]
        failed = [u for u in left if bays[u]['status'] == 'DELETE_FAILED']
        if failed:
            raise AssertionError('bay %s DELETE_FAILED' % failed[0])
        if not left:
            return time.monotonic() - started
        if time.monotonic() > deadline:
            raise AssertionError('%d bays not deleted after %ds'
                                 % (len(left), GONE_TIMEOUT))
        time.sleep(0.5)


def _log_sizes(magnum):
    sizes = {}
    for process in magnum.conductors:
        try:
            sizes[process.log_path] = os.path.getsize(process.log_path)
        except OSError:
            sizes[process.log_path] = 0
    return sizes


def _conductor_writes(magnum, since):
    """{bay uuid: (epoch, thread name)} of the CREATE_COMPLETE lines, and
    the conductors' WARNING/ERROR lines, written after ``since`` (the
    logs' sizes)."""
    writes, trouble = {}, []
    for process in magnum.conductors:
        try:
            with open(process.log_path, errors='replace') as f:
                f.seek(since.get(process.log_path, 0))
                lines = f.readlines()
        except OSError:
            continue
        for line in lines:
            found = _COMPLETE.match(line)
            if found:
                stamp = datetime.datetime.strptime(
                    found.group(1), '%Y-%m-%d %H:%M:%S.%f').timestamp()
                writes.setdefault(found.group(3), (stamp, found.group(2)))
            elif _TROUBLE.search(line):
                trouble.append(line.rstrip())
    return writes, trouble


def _writer(thread):
    if thread.startswith('magnum-watch'):
        return 'watch'
    if thread.startswith('magnum-periodic'):
        return 'pass'
    return 'other'


# -- a round -----------------------------------------------------------------

def run_round(mode, magnum, headers, template, kube, count, delay, args,
              directory, delete=True):
    api = _client(magnum, headers)
    try:
        progress('%s: creating %d bay(s)' % (mode, count))
        sizes = _log_sizes(magnum)
        started = time.monotonic()
        uuids = _post_bays(magnum, headers, template, count)
        posted = time.monotonic() - started
        bays = _wait_handed_over(api, uuids, magnum)
        handed = time.monotonic() - started
        progress('  posted in %.1f s, all handed over after %.1f s; '
                 'starting the stand-in (delay %.1f s)'
                 % (posted, handed, delay))
        where = {bays[u]['stack_id']: u for u in uuids}
        handed_at = time.time()
        os.makedirs(directory)
        with management.standin_running(
                kube, directory, delay=delay,
                delete_delay=DELETE_DELAY) as standin:
            timeout = (delay + 3 * args.periodic_interval + 60
                       + 0.5 * count)
            seen, took = _watch_completion(api, uuids, args.poll, timeout)
            events = standin.read_events()
            progress('  %d of %d CREATE_COMPLETE%s' % (
                len(seen), count, '; deleting' if delete else ''))
            if delete:
                gone = _delete_and_wait(api, uuids)
                progress('  deleted in %.1f s' % gone)
    finally:
        api.close()
    available = {}
    for event in events:
        if event['event'] == 'available' and event['cluster'] in where:
            available.setdefault(where[event['cluster']], event['time'])
    writes, trouble = _conductor_writes(magnum, sizes)
    latencies, written, after_write, by = [], [], [], collections.Counter()
    early = 0
    for uuid in uuids:
        if uuid not in available or uuid not in seen:
            continue
        if available[uuid] < handed_at:
            early += 1  # cannot happen: the stand-in starts after
            continue
        latencies.append(seen[uuid] - available[uuid])
        if uuid in writes:
            stamp, thread = writes[uuid]
            written.append(stamp - available[uuid])
            after_write.append(seen[uuid] - stamp)
            by[_writer(thread)] += 1
    times = sorted(available.values())
    return {'mode': mode, 'bays': count, 'latencies': latencies,
            'written': written, 'after_write': after_write, 'by': by,
            'missing': count - len(latencies) - early, 'early': early,
            'spread': (times[-1] - times[0]) if times else 0.0,
            'took': took,
            'trouble': trouble}


def run_mode(mode, keystone, args, work_dir):
    """The rounds of one mode, on a kube-apiserver and a Magnum of its
    own: the big round's bays (the last round) need no deleting."""
    results = []
    with contextlib.ExitStack() as stack:
        progress('%s: starting a kube-apiserver' % mode)
        kube = stack.enter_context(processes.running(
            kube_mod.KubeAPIServer(auth='token')))
        management.install_crds(kube)
        extra = magnum_config(keystone, kube, mode, args)
        progress('%s: starting Magnum (%d conductor(s), [capi] watch = %s)'
                 % (mode, args.conductors, extra['capi']['watch']))
        database = stack.enter_context(processes.running(
            db_servers.PostgresDatabase(prefix='magnum_bench')))
        magnum = stack.enter_context(processes.running(
            keystone_mod.MagnumServices(
                keystone, database.url, conductors=args.conductors,
                periodic_interval=args.periodic_interval,
                service_down_time=60, extra=extra)))
        keystone.register_magnum(magnum.endpoint)
        person = keystone_mod.Person(keystone, magnum, 'bench', ['member'])
        stack.callback(person.close)
        person.api.session.headers.update(API_VERSION)
        headers = dict(person.api.session.headers)
        template = _template(person.api)
        rounds = [(1, args.delay_one)] * args.single_rounds
        rounds.append((args.bays, args.delay_many))
        pooled = None
        for index, (count, delay) in enumerate(rounds):
            result = run_round(
                mode, magnum, headers, template, kube, count, delay, args,
                os.path.join(work_dir, '%s-%d' % (mode, index)),
                delete=index < len(rounds) - 1)
            if count == 1:
                if pooled is None:
                    pooled = result
                else:
                    for key in ('latencies', 'written', 'after_write',
                                'trouble', 'took'):
                        pooled[key] += result[key]
                    pooled['by'] += result['by']
                    pooled['missing'] += result['missing']
                    pooled['early'] += result['early']
            else:
                results.append(result)
            progress('  latencies (ms): %s' % ', '.join(
                '%.0f' % (v * 1000) for v in sorted(
                    result['latencies'])[:3] + sorted(
                        result['latencies'])[-3:]))
        if pooled is not None:
            results.insert(0, pooled)
        progress('%s: stopping Magnum and the kube-apiserver' % mode)
    return results


# -- output ------------------------------------------------------------------

def _ms(value, width=7):
    return ('%*.0f' % (width, value * 1000) if value is not None
            else ' ' * (width - 1) + '-')


def report(results, args):
    print('capi bays: Cluster Available (stand-in) -> CREATE_COMPLETE in '
          'GET /v1/clusters (polled every %d ms)' % (args.poll * 1000))
    print('%d conductor(s), [conductor] periodic_interval = %d s, '
          'watch_workers = %s; stand-in delay %.0f s (1 bay), %.0f s '
          '(%d bays); load %.2f %.2f %.2f'
          % ((args.conductors, args.periodic_interval,
              args.watch_workers or 'default (8)', args.delay_one,
              args.delay_many, args.bays) + os.getloadavg()))
    print()
    print('%-25s %4s %7s %7s %7s %7s   %-17s %-17s %-10s %-7s %s' % (
        'round', 'n', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms',
        'to write p50/p99', 'to API p50/p99', 'written by', 'spread',
        'GET'))
    table = {}
    for r in results:
        s = summary(r['latencies'])
        w, a = summary(r['written']), summary(r['after_write'])
        table[(r['mode'], r['bays'])] = s
        name = '%s, %d bay%s' % ('watch' if r['mode'] == 'watch'
                                 else 'reconcile alone', r['bays'],
                                 '' if r['bays'] == 1 else 's')
        by = ' '.join('%s %d' % item for item in sorted(r['by'].items()))
        took = sorted(r['took'])
        pair = '%s/%s'
        print('%-25s %4d %s %s %s %s   %-17s %-17s %-10s %5.1f s %3.0f ms'
              % (name, s['n'], _ms(s['p50']), _ms(s['p90']), _ms(s['p99']),
                 _ms(s['max']),
                 pair % (_ms(w['p50'], 6), _ms(w['p99'], 0).strip()),
                 pair % (_ms(a['p50'], 6), _ms(a['p99'], 0).strip()),
                 by, r['spread'], took[len(took) // 2] * 1000 if took else 0))
        if r['missing'] or r['early']:
            print('    %d bay(s) without a measure, %d Available before '
                  'their hand-over' % (r['missing'], r['early']))
    print('(to write: Available -> the conductor\'s CREATE_COMPLETE log '
          'line; to API: that line -> the first GET showing it; written '
          'by: a watch worker or the reconcile pass; spread: first to last '
          'Available; GET: median time of one GET /v1/clusters)')
    print()
    for count in sorted({key[1] for key in table}):
        watch, alone = table.get(('watch', count)), table.get(
            ('reconcile', count))
        if not watch or not alone or not watch['p50']:
            continue
        print('reconcile alone / watch, %3d bay(s): p50 %.1fx  p90 %.1fx  '
              'p99 %.1fx  max %.1fx' % (
                  count, alone['p50'] / watch['p50'],
                  alone['p90'] / watch['p90'], alone['p99'] / watch['p99'],
                  alone['max'] / watch['max']))
    watch = table.get(('watch', args.bays))
    if watch and watch['p99'] is not None:
        print('target: p99 < 1000 ms with the watch, %d bays: %.0f ms, %s'
              % (args.bays, watch['p99'] * 1000,
                 'met' if watch['p99'] < 1 else 'NOT met'))
    for r in results:
        if r['trouble']:
            kinds = collections.Counter(_kind(line) for line in r['trouble'])
            print('\n%s, %d bay(s): %d WARNING/ERROR line(s) in the '
                  'conductors\' logs:' % (r['mode'], r['bays'],
                                          len(r['trouble'])))
            for kind, number in kinds.most_common(5):
                print('    %4d x %s' % (number, kind))


_UUID = re.compile(r'[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-'
                   r'[0-9a-f]{12}|[0-9a-f]{32}')


def _kind(line):
    """A log line without its time, process, thread and ids."""
    found = re.match(r'^\S+ \S+ \d+ .+? (ERROR|WARNING) (\S+) \[.*?\] '
                     r'(.*)$', line)
    if not found:
        return line[:160]
    text = _UUID.sub('<id>', found.group(3))
    text = re.sub(r'size: \d+', 'size: N', text)
    return ('%s %s: %s' % (found.group(1), found.group(2), text))[:160]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--bays', type=int, default=100,
                        help='bays created at once in the big round')
    parser.add_argument('--single-rounds', type=int, default=3,
                        help='1-bay rounds a mode, pooled (default 3)')
    parser.add_argument('--conductors', type=int, default=1)
    parser.add_argument('--periodic-interval', type=int, default=10,
                        help='[conductor] periodic_interval (production '
                             'default 10)')
    parser.add_argument('--watch-workers', type=int, default=None,
                        help='[conductor] watch_workers (default: the '
                             "option's own, 8)")
    parser.add_argument('--delay-one', type=float, default=2.0,
                        help="stand-in's --delay for the 1-bay rounds")
    parser.add_argument('--delay-many', type=float, default=10.0,
                        help="stand-in's --delay for the big round")
    parser.add_argument('--poll', type=float, default=0.05,
                        help='seconds between two GET /v1/clusters')
    parser.add_argument('--modes', default='watch,reconcile')
    parser.add_argument('--keep-logs', action='store_true',
                        help='keep the work directory (Magnum, stand-in '
                             'logs) and print its path')
    parser.add_argument('--timeout', type=int, default=900,
                        help='hard limit in seconds for the whole run')
    args = parser.parse_args()
    modes = [m for m in args.modes.split(',') if m]
    assert set(modes) <= {'watch', 'reconcile'}, modes

    def on_alarm(signum, frame):
        raise Timeout('--timeout %d s expired' % args.timeout)

    def on_term(signum, frame):
        raise KeyboardInterrupt()

    signal.signal(signal.SIGALRM, on_alarm)
    signal.signal(signal.SIGTERM, on_term)
    signal.alarm(args.timeout)
    if args.keep_logs:
        # NOTE: processes.py and keystone.py keep (and print) their work
        # directories then.
        os.environ['MAGNUM_TEST_KEEP_LOGS'] = '1'
    work_dir = tempfile.mkdtemp(prefix='magnum-capi-status-')
    results = []
    try:
        with contextlib.ExitStack() as stack:
            progress('starting Keystone')
            # NOTE: built (once) before the clock of any mode runs.
            kube_mod.build()
            keystone_db = stack.enter_context(processes.running(
                db_servers.PostgresDatabase(prefix='keystone_bench')))
            keystone = stack.enter_context(processes.running(
                keystone_mod.Keystone(database_url=keystone_db.url)))
            for mode in modes:
                results += run_mode(mode, keystone, args, work_dir)
            progress('stopping Keystone')
    finally:
        signal.alarm(0)
        if args.keep_logs:
            progress('work directory kept: %s' % work_dir)
        else:
            shutil.rmtree(work_dir, ignore_errors=True)
    report(results, args)
    return 0


if __name__ == '__main__':
    sys.exit(main())
