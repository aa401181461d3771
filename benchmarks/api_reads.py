#!/usr/bin/env python3
"""How fast magnum-api serves BayModel and cluster reads, next to two
baselines, and how much memory its worker holds afterwards.

With 1,000 BayModels and 1,000 clusters (each on a BayModel of its own) in
a fresh database, measures requests per second and the median latency of

1. ``GET /v1/baymodels/<uuid>``            (GET one)
2. ``GET /v1/baymodels?limit=20``          (list-20)
3. ``GET /v1/baymodels/detail?limit=1000`` (detail-1000)
4. ``GET /v1/clusters/<uuid>``             (cluster GET one, one client,
   next to ``GET /v1/clustertemplates/<uuid>`` at one client)
5. ``GET /v1/clusters?limit=20``           (clusters list-20)
6. ``GET /v1/clusters/detail?limit=1000``  (clusters detail-1000)

under the production server (magnum-api: gunicorn, one sync worker, as
``magnum.cmd.api.server_options(workers=1, threads=1)`` configures it), and
in the same run two baselines:

a. a trivial WSGI app returning a small JSON dict, served by the same
   gunicorn with the same options (at the same number of clients);
b. a raw SQLAlchemy Core select of the same 1,000 rows (a cluster's with
   its template's labels, which its detail compares), rows to dicts and
   ``json.dumps``, timed in-process (best and median of N).

Then the resident memory (VmRSS) of the API's gunicorn worker. It prints
the ratios with their targets (PASS/MISS) and always exits 0 once the
measurements ran: it measures, it is not a test. See README.rst here.

    .venv/bin/python benchmarks/api_reads.py                 # PostgreSQL
    .venv/bin/python benchmarks/api_reads.py --db mysql      # MariaDB
    .venv/bin/python benchmarks/api_reads.py --db sqlite

Everything it starts (two gunicorn servers, the load generator, a database
``magnum_bench_<random>`` or a temporary SQLite file) is stopped or removed
at the end, also on Ctrl-C, on an error or when --timeout expires.
"""

import argparse
import datetime
import http.client
import json
import os
import platform
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import warnings

# NOTE: oslo.messaging imports oslo.service, whose eventlet backend warns on
# import; it says nothing about this benchmark.
warnings.filterwarnings('ignore', message=r'\s*Eventlet is deprecated')

THIS = os.path.abspath(__file__)

TARGET_ONE = 20.0      # GET one req/s, % of the trivial app's req/s (>=)
TARGET_LIST = 10.0     # list-20 req/s, % of the trivial app's req/s (>=)
TARGET_DETAIL = 3.0    # detail-1000 time, multiple of raw select+dumps (<=)
TARGET_CLUSTER_ONE = 1.2   # cluster GET one time, multiple of its template's
TARGET_RSS_MIB = 100.0     # the API worker's VmRSS after the runs (<=)

TRIVIAL_BODY = json.dumps({'name': 'trivial', 'status': 'ok',
                           'version': '1.0'}).encode()


class Timeout(Exception):
    pass


# -- child process: a server ------------------------------------------------

def trivial_app(environ, start_response):
    """Baseline (a): the least a WSGI app can do and still answer JSON."""
    start_response('200 OK', [('Content-Type', 'application/json'),
                              ('Content-Length', str(len(TRIVIAL_BODY)))])
    return [TRIVIAL_BODY]


def serve(kind, config_file):
    """Run gunicorn in the foreground; the parent stops us with SIGINT."""
    from magnum.cmd import api as api_cmd
    if kind == 'magnum':
        # Exactly what the magnum-api console script does; the config file
        # sets [api] workers = 1 and threads = 1.
        sys.argv = ['magnum-api', '--config-file', config_file]
        api_cmd.main()
        return
    from magnum.cmd import service

    class TrivialServer(api_cmd.WSGIServer):
        def load(self):
            return trivial_app

    service.prepare(['--config-file', config_file])
    TrivialServer(api_cmd.server_options(workers=1, threads=1)).run()


# -- child process: the Python load generator (when wrk is missing) --------

def python_client(url, duration, connections):
    """GET ``url`` from ``connections`` threads for ``duration`` seconds.

    http.client keeps the connection open when the server allows it and
    reconnects when the server closes it (gunicorn's sync worker does after
    every response). Prints one JSON line with the results.
    """
    from urllib.parse import urlsplit
    parts = urlsplit(url)
    path = parts.path + ('?' + parts.query if parts.query else '')
    latencies = [[] for _ in range(connections)]
    errors = [0] * connections
    start = time.perf_counter()
    deadline = start + duration

    def run(i):
        conn = http.client.HTTPConnection(parts.hostname, parts.port,
                                          timeout=10)
        mine = latencies[i]
        while True:
            t0 = time.perf_counter()
            if t0 >= deadline:
                break
            try:
                conn.request('GET', path)
                resp = conn.getresponse()
                resp.read()
                if resp.status != 200:
                    errors[i] += 1
            except (OSError, http.client.HTTPException):
                errors[i] += 1
                conn.close()
                continue
            mine.append(time.perf_counter() - t0)
        conn.close()

    threads = [threading.Thread(target=run, args=(i,))
               for i in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    every = sorted(x for one in latencies for x in one)
    print(json.dumps({
        'requests': len(every), 'errors': sum(errors), 'seconds': elapsed,
        'rps': len(every) / elapsed,
        'p50_ms': _percentile(every, 50) * 1000.0,
        'p99_ms': _percentile(every, 99) * 1000.0}))


def _percentile(values, pct):
    if not values:
        return float('nan')
    index = min(len(values) - 1, max(0, round(pct / 100.0 * len(values)) - 1))
    return values[index]


# -- the parent: set-up ------------------------------------------------------

class Runner:
    """Owns everything started; ``close`` undoes it, whatever happened."""

    def __init__(self, args):
        self.args = args
        self.tmp = tempfile.mkdtemp(prefix='magnum-bench-')
        self.procs = []
        self.db_name = None
        self.admin_url = None
        self.url = None
        self.engine = None

    # database

    def create_database(self):
        import sqlalchemy as sa
        if self.args.db == 'sqlite':
            self.url = 'sqlite:///%s' % os.path.join(self.tmp, 'bench.sqlite')
            return
        self.db_name = 'magnum_bench_%s' % uuid.uuid4().hex[:10]
        if self.args.db == 'mysql':
            server = self.args.mysql_url.rstrip('/')
            self.admin_url = server + '/?charset=utf8mb4'
            create = 'CREATE DATABASE %s CHARACTER SET utf8mb4'
            self.url = '%s/%s?charset=utf8mb4' % (server, self.db_name)
        else:
            server = self.args.pg_url.rstrip('/')
            self.admin_url = server + '/postgres'
            create = 'CREATE DATABASE %s'
            self.url = server + '/' + self.db_name
        admin = sa.create_engine(self.admin_url, isolation_level='AUTOCOMMIT')
        try:
            with admin.connect() as conn:
                conn.execute(sa.text(create % self.db_name))
        finally:
            admin.dispose()

    def drop_database(self):
        if self.db_name is None:
            return
        import sqlalchemy as sa
        # NOTE: the servers are stopped by now; FORCE (PostgreSQL) ends
        # whatever connection is left all the same.
        drop = 'DROP DATABASE IF EXISTS %s' + (
            ' WITH (FORCE)' if self.args.db == 'postgresql' else '')
        admin = sa.create_engine(self.admin_url, isolation_level='AUTOCOMMIT')
        try:
            with admin.connect() as conn:
                conn.execute(sa.text(drop % self.db_name))
            self.db_name = None
        finally:
            admin.dispose()

    def write_config(self, name, port):
        path = os.path.join(self.tmp, name + '.conf')
        with open(path, 'w') as f:
            f.write('[DEFAULT]\n'
                    'auth_strategy = noauth\n'
                    'transport_url = fake:///\n'
                    'state_path = %s\n'
                    'use_stderr = true\n'
                    '\n[database]\nconnection = %s\n'
                    '\n[api]\nhost = 127.0.0.1\nport = %d\n'
                    'workers = 1\nthreads = 1\n'
                    % (self.tmp, self.url, port))
        return path

    def migrate_and_load(self, rows):
        """The schema by the migrations, then ``rows`` BayModels and
        ``rows`` clusters, the i-th on the i-th BayModel, in bulk. Returns
        (BayModels, clusters), their values."""
        from oslo_config import cfg
        from magnum import conf  # noqa: F401  (registers the options)
        from magnum.db import api as db_api
        from magnum.db import migration
        cfg.CONF(['--config-file', self.write_config('setup', 1)],
                 project='magnum')
        migration.upgrade()
        db_api.reset()
        import sqlalchemy as sa
        from magnum.db.sqlalchemy import models
        self.engine = sa.create_engine(self.url)
        baymodels = [_baymodel(i) for i in range(rows)]
        clusters = [_cluster(i, baymodel)
                    for i, baymodel in enumerate(baymodels)]
        with self.engine.begin() as conn:
            conn.execute(sa.insert(models.BayModel.__table__), baymodels)
            conn.execute(sa.insert(models.Bay.__table__), clusters)
        return baymodels, clusters

    # processes

    def start(self, argv, log_name):
        log = open(os.path.join(self.tmp, log_name), 'wb')
        proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL,
                                start_new_session=True, cwd=self.tmp)
        log.close()
        proc.log_path = os.path.join(self.tmp, log_name)
        self.procs.append(proc)
        return proc

    def start_server(self, kind):
        port = free_port()
        config = self.write_config(kind, port)
        proc = self.start([sys.executable, THIS, '_serve', kind, config],
                          kind + '.log')
        base = 'http://127.0.0.1:%d' % port
        probe = '/v1/baymodels?limit=1' if kind == 'magnum' else '/'
        deadline = time.monotonic() + 60
        while True:
            if _exited(proc):
                raise RuntimeError('the %s server exited:\n%s'
                                   % (kind, tail(proc)))
            try:
                status, _ = get(base + probe)
                if status == 200:
                    return proc, base
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError('the %s server did not answer:\n%s'
                                   % (kind, tail(proc)))
            time.sleep(0.2)

    def stop(self, proc):
        """SIGINT (gunicorn's quick shutdown) to its group, then SIGKILL.

        The group is signalled only while its leader is not reaped yet
        (alive, or a zombie), so its id cannot belong to anyone else.
        """
        if proc.returncode is not None:
            return
        _signal_group(proc, signal.SIGINT)
        deadline = time.monotonic() + 10
        while not _exited(proc) and time.monotonic() < deadline:
            time.sleep(0.05)
        # Whatever is left of the group, the worker included.
        _signal_group(proc, signal.SIGKILL)
        proc.wait(10)

    def close(self):
        problems = []
        for proc in reversed(self.procs):
            try:
                self.stop(proc)
            except Exception as e:  # keep cleaning up
                problems.append('stopping pid %d: %s' % (proc.pid, e))
        self.procs = []
        if self.engine is not None:
            self.engine.dispose()
            self.engine = None
        try:
            from magnum.db import api as db_api
            db_api.reset()
        except Exception:
            pass
        try:
            self.drop_database()
        except Exception as e:
            problems.append('dropping database %s: %s' % (self.db_name, e))
        shutil.rmtree(self.tmp, ignore_errors=True)
        for problem in problems:
            print('cleanup: %s' % problem, file=sys.stderr)


def _exited(proc):
    """Whether ``proc`` has ended, without reaping it."""
    try:
        return os.waitid(os.P_PID, proc.pid,
                         os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
    except ChildProcessError:
        return True


def _signal_group(proc, signum):
    try:
        os.killpg(proc.pid, signum)
    except (ProcessLookupError, PermissionError):
        pass


def _baymodel(i):
    """One BayModel row with values like a real deployment's."""
    rnd = random.Random(i)
    coe = ('kubernetes', 'kubernetes', 'kubernetes', 'swarm', 'docker')[i % 5]
    distro = rnd.choice(('fedora-coreos', 'fedora-atomic', 'ubuntu'))
    version = rnd.choice(('35', '36', '37', '38'))
    now = datetime.datetime(2024, 1, 1) + datetime.timedelta(minutes=7 * i)
    labels = {
        'kube_tag': rnd.choice(('v1.25.9', 'v1.26.8', 'v1.27.4')),
        'etcd_volume_size': str(rnd.choice((10, 20, 50))),
        'flannel_backend': 'vxlan',
        'cgroup_driver': rnd.choice(('cgroupfs', 'systemd')),
        'kube_dashboard_enabled': rnd.choice(('true', 'false')),
        'availability_zone': 'nova',
        'docker_url': 'tcp://10.0.%d.%d:2376' % (i // 250, i % 250),
    }
    if coe == 'kubernetes':
        labels.update(ingress_controller='octavia',
                      cloud_provider_enabled='true',
                      auto_healing_enabled=rnd.choice(('true', 'false')))
    proxy = i % 4 == 0
    return {
        'uuid': str(uuid.UUID(int=rnd.getrandbits(128), version=4)),
        # Most in the caller's (noauth's 'default') project; the others are
        # public BayModels of an admin project, which the caller sees too.
        'project_id': 'default' if i % 10 else 'admin-project',
        'user_id': 'default' if i % 10 else 'cloud-admin',
        'name': '%s-%s-%s-%04d' % (coe[:3], distro, version, i),
        'coe': coe,
        'image_id': '%s-%s-x86_64' % (distro, version),
        'flavor_id': rnd.choice(('m1.small', 'm1.medium', 'ds2G')),
        'master_flavor_id': rnd.choice(('m1.medium', 'm1.large')),
        'keypair_id': 'kp-%03d' % (i % 37),
        'external_network_id': 'public',
        'fixed_network': 'private-net-%d' % (i % 3),
        'fixed_subnet': 'private-subnet-%d' % (i % 3),
        'network_driver': 'flannel' if coe == 'kubernetes' else 'docker',
        'volume_driver': 'cinder',
        'dns_nameserver': '8.8.8.8',
        'apiserver_port': 6443 if coe == 'kubernetes' else 2376,
        'docker_volume_size': rnd.choice((None, 10, 20, 50)),
        'docker_storage_driver': 'overlay2',
        'cluster_distro': distro,
        'http_proxy': 'http://proxy.example.com:3128' if proxy else None,
        'https_proxy': 'http://proxy.example.com:3128' if proxy else None,
        'no_proxy': ('localhost,127.0.0.1,10.0.0.0/8,.svc,.cluster.local'
                     if proxy else None),
        'registry_enabled': i % 7 == 0,
        'labels': labels,
        'tls_disabled': False,
        'public': i % 10 == 0 or i % 3 == 0,
        'server_type': 'vm' if i % 20 else 'bm',
        'insecure_registry': 'registry.example.com:5000' if i % 7 == 0
        else None,
        'master_lb_enabled': i % 2 == 0,
        'floating_ip_enabled': i % 5 != 0,
        'hidden': i % 50 == 0,
        'tags': 'team-%d,env-%s' % (i % 12, rnd.choice(('dev', 'prod'))),
        'created_at': now,
        'updated_at': now + datetime.timedelta(days=1) if i % 3 else None,
    }


def _cluster(i, baymodel):
    """The i-th cluster, on ``baymodel``, in the caller's project: its own
    values over some of the template's, as clusters made by
    python-magnumclient are."""
    rnd = random.Random(10_000 + i)
    now = baymodel['created_at'] + datetime.timedelta(hours=1)
    labels = dict(baymodel['labels'])
    # A few labels of its own (labels_added), one changed
    # (labels_overridden), one left out (labels_skipped).
    labels.update(kube_tag='v1.28.2', monitoring_enabled='true',
                  region='region-%d' % (i % 3))
    labels.pop('flannel_backend', None)
    workers = rnd.choice((1, 2, 3, 5, 10))
    masters = rnd.choice((1, 3))
    net = '10.%d.%d' % (i // 250, i % 250)
    failed = i % 25 == 0
    return {
        'uuid': str(uuid.UUID(int=rnd.getrandbits(128), version=4)),
        'project_id': 'default',
        'user_id': 'default',
        'name': 'cluster-%04d' % i,
        'baymodel_id': baymodel['uuid'],
        'provisioner': 'heat',
        'node_count': workers,
        'master_count': masters,
        'bay_create_timeout': 60,
        'discovery_url': 'https://discovery.etcd.io/%032x'
                         % rnd.getrandbits(128),
        'status': 'CREATE_FAILED' if failed else 'CREATE_COMPLETE',
        'status_reason': ('Resource CREATE failed: timed out'
                          if failed else 'Stack CREATE completed'),
        'api_address': 'https://%s.1:6443' % net,
        'node_addresses': ['%s.%d' % (net, 10 + n) for n in range(workers)],
        'master_addresses': ['%s.%d' % (net, 2 + n) for n in range(masters)],
        'stack_id': str(uuid.UUID(int=rnd.getrandbits(128), version=4)),
        'keypair': 'kp-%03d' % (i % 37),
        'docker_volume_size': baymodel['docker_volume_size'],
        'labels': labels,
        'master_flavor_id': baymodel['master_flavor_id'],
        'flavor_id': rnd.choice(('m1.medium', 'm1.large')),
        'fixed_network': baymodel['fixed_network'],
        'fixed_subnet': baymodel['fixed_subnet'],
        'floating_ip_enabled': baymodel['floating_ip_enabled'],
        'master_lb_enabled': baymodel['master_lb_enabled'],
        'health_status': 'UNKNOWN' if failed else 'HEALTHY',
        'health_status_reason': {} if failed else {'api': 'ok'},
        'coe_version': 'v1.28.2',
        'container_version': '1.12.6',
        'created_at': now,
        'updated_at': now + datetime.timedelta(minutes=12),
    }


def free_port():
    """A port nobody listens on now (gunicorn cannot bind port 0)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def get(url):
    from urllib.parse import urlsplit
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        conn.request('GET', parts.path + ('?' + parts.query
                                          if parts.query else ''))
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def tail(proc, lines=30):
    try:
        with open(proc.log_path, errors='replace') as f:
            return ''.join(f.readlines()[-lines:])
    except OSError:
        return ''


# -- the parent: measuring ----------------------------------------------------

_UNITS = {'us': 1e-3, 'ms': 1.0, 's': 1e3, 'm': 60e3}


def _ms(text):
    m = re.match(r'([\d.]+)(us|ms|s|m)$', text)
    return float(m.group(1)) * _UNITS[m.group(2)]


class Load:
    """The load generator, run as a separate process for every measurement."""

    def __init__(self, runner, args):
        self.runner = runner
        self.args = args
        self.wrk = shutil.which('wrk') if args.client in ('auto', 'wrk') \
            else None
        if args.client == 'wrk' and not self.wrk:
            raise RuntimeError('--client wrk: wrk is not installed '
                               '(apt-get install -y wrk)')

    def describe(self):
        c, d = self.args.connections, self.args.duration
        if self.wrk:
            out = subprocess.run([self.wrk, '--version'], capture_output=True,
                                 text=True, timeout=10).stdout
            version = (out.split('[')[0].strip() or 'wrk')
            return ('%s, one thread a connection up to %d, %d connections '
                    '(or 1 where the row says), %g s per measurement'
                    % (version, self.threads(c), c, d))
        why = ('wrk not found' if self.args.client == 'auto'
               else '--client python')
        return ('Python http.client (%s), one process, %d threads of one '
                'connection each (or 1 where the row says), %g s per '
                'measurement' % (why, c, d))

    @staticmethod
    def threads(connections):
        return max(1, min(connections, os.cpu_count() or 1))

    def run(self, url, connections):
        d, c = self.args.duration, connections
        if self.wrk:
            argv = [self.wrk, '-t%d' % self.threads(c), '-c%d' % c,
                    '-d%ds' % max(1, round(d)), '--latency',
                    '--timeout', '10s', url]
        else:
            argv = [sys.executable, THIS, '_client', url, str(d), str(c)]
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL,
                                start_new_session=True, text=True)
        proc.log_path = None
        self.runner.procs.append(proc)
        try:
            out, _ = proc.communicate(timeout=d + 60)
        finally:
            self.runner.procs.remove(proc)
            if proc.returncode is None:
                _signal_group(proc, signal.SIGKILL)
                proc.wait()
        if proc.returncode != 0:
            raise RuntimeError('the load generator failed:\n%s' % out)
        return self.parse_wrk(out) if self.wrk else json.loads(
            out.strip().splitlines()[-1])

    @staticmethod
    def parse_wrk(out):
        rps = float(re.search(r'Requests/sec:\s+([\d.]+)', out).group(1))
        p50 = _ms(re.search(r'^\s+50%\s+(\S+)', out, re.M).group(1))
        p99 = _ms(re.search(r'^\s+99%\s+(\S+)', out, re.M).group(1))
        requests = int(re.search(r'(\d+) requests in', out).group(1))
        errors = 0
        m = re.search(r'Non-2xx or 3xx responses: (\d+)', out)
        if m:
            errors += int(m.group(1))
        m = re.search(r'Socket errors: connect (\d+), read (\d+), '
                      r'write (\d+), timeout (\d+)', out)
        if m:
            # NOTE: "read" errors count the server closing a connection; a
            # sync gunicorn worker does after every response, which wrk
            # handles by reconnecting, so they are not failed requests.
            errors += int(m.group(1)) + int(m.group(3)) + int(m.group(4))
        return {'requests': requests, 'errors': errors, 'rps': rps,
                'p50_ms': p50, 'p99_ms': p99}


def warm(url, seconds=1.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        status, _ = get(url)
        if status != 200:
            raise RuntimeError('GET %s answered %s' % (url, status))


def raw_statements(limit):
    """Baseline (b)'s two SELECTs: {collection: statement}. A cluster's
    row comes with its template's labels, which its detail compares."""
    import sqlalchemy as sa
    from magnum.db.sqlalchemy import models
    baymodel = models.BayModel.__table__
    bay = models.Bay.__table__
    return {
        'baymodels': sa.select(baymodel).order_by(baymodel.c.id).limit(limit),
        'clusters': sa.select(bay, baymodel.c.labels.label('template_labels'))
        .select_from(bay.outerjoin(baymodel,
                                   baymodel.c.uuid == bay.c.baymodel_id))
        .order_by(bay.c.id).limit(limit),
    }


def raw_select_dumps(engine, runs, name, stmt):
    """Baseline (b): select the rows, make dicts, json.dumps; in-process."""

    def default(value):
        if isinstance(value, datetime.datetime):
            return value.isoformat() + '+00:00'
        raise TypeError(repr(value))

    def once():
        with engine.connect() as conn:
            rows = conn.execute(stmt).all()
        body = json.dumps({name: [dict(row._mapping) for row in rows]},
                          default=default)
        return len(rows), len(body)

    once()  # warm: pool, statement cache
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        count, size = once()
        times.append((time.perf_counter() - t0) * 1000.0)
    return {'best_ms': min(times), 'median_ms': statistics.median(times),
            'rows': count, 'bytes': size}


def worker_memory(server_proc):
    """VmRSS and VmHWM (the peak), in KiB, of the gunicorn worker of
    ``server_proc`` (its arbiter: the worker is its one child)."""
    workers = []
    for entry in os.listdir('/proc'):
        if not entry.isdigit():
            continue
        try:
            with open('/proc/%s/stat' % entry) as f:
                # NOTE: the process name may hold spaces; the parent's pid
                # is the second field after its closing parenthesis.
                ppid = int(f.read().rsplit(')', 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        if ppid == server_proc.pid:
            workers.append(int(entry))
    check(len(workers) == 1, 'the API server has %d workers, not 1: %s'
          % (len(workers), workers))
    found = {'pid': workers[0]}
    with open('/proc/%d/status' % workers[0]) as f:
        for line in f:
            name, _, value = line.partition(':')
            if name in ('VmRSS', 'VmHWM'):
                found[name] = int(value.split()[0])
    return found


def check(cond, message):
    if not cond:
        raise RuntimeError(message)


class Case:
    """One row of the table: a URL, loaded with ``connections`` clients,
    and what its answer must hold (``expect(doc)``, checked once)."""

    def __init__(self, key, label, url, connections, expect=None):
        self.key = key
        self.label = label
        self.url = url
        self.connections = connections
        self.expect = expect
        self.size = None
        self.rounds = []

    @property
    def best(self):
        return max(self.rounds, key=lambda r: r['rps'])

    def check_answer(self):
        status, body = get(self.url)
        check(status == 200, '%s answered %s: %s'
              % (self.url, status, body[:300]))
        self.size = len(body)
        if self.expect is not None:
            problem = self.expect(json.loads(body))
            check(problem is None, '%s: %s' % (self.label, problem))


def _page_of(name, count, more=None):
    def expect(doc):
        if len(doc.get(name, ())) != count:
            return '%d %s, not %d' % (len(doc.get(name, ())), name, count)
        if more is not None and ('next' in doc) != more:
            return 'a next link expected' if more else 'no next link expected'
        return None
    return expect


def _one(uuid_):
    def expect(doc):
        return None if doc.get('uuid') == uuid_ else 'wrong row %r' % (
            doc.get('uuid'),)
    return expect


def _clusters_detail(count):
    page = _page_of('clusters', count)

    def expect(doc):
        problem = page(doc)
        if problem is None:
            # Each cluster's labels compared with its own template's.
            first = doc['clusters'][0]
            if first.get('labels_skipped') != {'flannel_backend': 'vxlan'}:
                return 'labels_skipped %r' % (first.get('labels_skipped'),)
        return problem
    return expect


def measure(runner, args):
    out = []
    say = out.append
    started = time.monotonic()

    runner.create_database()
    baymodels, clusters = runner.migrate_and_load(args.rows)
    one_baymodel = baymodels[len(baymodels) // 2]['uuid']
    one_cluster = clusters[len(clusters) // 2]['uuid']
    load = Load(runner, args)

    from magnum.cmd import api as api_cmd
    import gunicorn
    import sqlalchemy as sa
    options = api_cmd.server_options(workers=1, threads=1)
    magnum_proc, magnum = runner.start_server('magnum')
    trivial_proc, trivial = runner.start_server('trivial')

    c, n = args.connections, args.rows
    cases = [
        Case('trivial', 'trivial JSON app (baseline a)', trivial + '/', c),
        Case('trivial-1', 'trivial JSON app (baseline a)', trivial + '/', 1),
        Case('one', 'GET /v1/baymodels/<uuid>',
             magnum + '/v1/baymodels/' + one_baymodel, c,
             _one(one_baymodel)),
        Case('list', 'GET /v1/baymodels?limit=20',
             magnum + '/v1/baymodels?limit=20', c,
             _page_of('baymodels', 20, more=True)),
        Case('detail', 'GET /v1/baymodels/detail?limit=%d' % n,
             magnum + '/v1/baymodels/detail?limit=%d' % n, c,
             _page_of('baymodels', n)),
        # NOTE: a cluster's GET one next to its template's, both in the
        # cluster era's names (and policy rules).
        Case('one-1', 'GET /v1/clustertemplates/<uuid>',
             magnum + '/v1/clustertemplates/' + one_baymodel, 1,
             _one(one_baymodel)),
        Case('c-one-1', 'GET /v1/clusters/<uuid>',
             magnum + '/v1/clusters/' + one_cluster, 1, _one(one_cluster)),
        Case('c-list', 'GET /v1/clusters?limit=20',
             magnum + '/v1/clusters?limit=20', c,
             _page_of('clusters', 20, more=True)),
        Case('c-detail', 'GET /v1/clusters/detail?limit=%d' % n,
             magnum + '/v1/clusters/detail?limit=%d' % n, c,
             _clusters_detail(n)),
    ]
    by_key = {case.key: case for case in cases}
    # What each answers, checked once, so that a fast error is not measured.
    for case in cases:
        case.check_answer()

    # Every round measures every row in turn; a row keeps its best round
    # (the least disturbed by whatever else runs on the machine), and the
    # spread of its rounds is shown next to it.
    raw_stmts = raw_statements(n)
    load_before = os.getloadavg()
    raw_rounds = {name: [] for name in raw_stmts}
    for _ in range(args.rounds):
        for case in cases:
            warm(case.url, args.warmup)
            case.rounds.append(load.run(case.url, case.connections))
            check(not _exited(magnum_proc) and not _exited(trivial_proc),
                  'a server died during the measurements')
        for name, stmt in raw_stmts.items():
            raw_rounds[name].append(raw_select_dumps(
                runner.engine, args.raw_runs, name, stmt))
    raw = {name: min(mine, key=lambda r: r['median_ms'])
           for name, mine in raw_rounds.items()}
    load_after = os.getloadavg()
    memory = worker_memory(magnum_proc)
    trivial_memory = worker_memory(trivial_proc)

    with runner.engine.connect() as conn:
        dialect = runner.engine.dialect.name
        if dialect == 'postgresql':
            db_version = conn.execute(sa.text('SHOW server_version')).scalar()
            db_desc = 'PostgreSQL %s, database %s (dropped at the end)' % (
                db_version, runner.db_name)
        elif dialect == 'mysql':
            db_version = conn.execute(sa.text('SELECT VERSION()')).scalar()
            db_desc = 'MySQL/MariaDB %s, database %s (dropped at the end)' % (
                db_version, runner.db_name)
        else:
            db_version = conn.execute(sa.text('select sqlite_version()')
                                      ).scalar()
            db_desc = 'SQLite %s, temporary file' % db_version

    # -- the report --------------------------------------------------------
    say('Magnum API reads: %d BayModels, %d clusters (each on a BayModel of '
        'its own)' % (n, n))
    say('  database  %s' % db_desc)
    say('  server    gunicorn %s, magnum.cmd.api.server_options(workers=1, '
        'threads=1): workers=%d, worker_class=%s, threads=%d, '
        'preload_app=%s; both servers the same way'
        % (gunicorn.__version__, options['workers'], options['worker_class'],
           options['threads'], options['preload_app']))
    say('  client    %s' % load.describe())
    say('            (same client for every row; a sync worker closes the '
        'connection after each response, so each request connects anew)')
    say('  machine   %d cores, Python %s, %s'
        % (os.cpu_count() or 0, platform.python_version(),
           platform.platform(terse=True)))
    say('  load      1-min load average %.2f before the measurements, %.2f '
        'after (%d cores: the higher, the noisier)'
        % (load_before[0], load_after[0], os.cpu_count() or 0))
    say('')
    say('best of %d round(s) of %g s each; "rounds" is the req/s of every '
        'round' % (args.rounds, args.duration))
    say('%-38s %5s %8s %8s %7s %7s %6s  %s' % (
        'request', 'conns', 'bytes', 'req/s', 'p50 ms', 'p99 ms', 'errors',
        'rounds'))
    for case in cases:
        r = case.best
        say('%-38s %5d %8d %8.1f %7.2f %7.2f %6d  %s'
            % (case.label, case.connections, case.size, r['rps'],
               r['p50_ms'], r['p99_ms'],
               sum(x['errors'] for x in case.rounds),
               ' '.join('%.0f' % x['rps'] for x in case.rounds)))
    say('')
    say('raw select + json.dumps of %d rows (baseline b, in-process, %d '
        'runs after each round; the round with the lowest median):'
        % (n, args.raw_runs))
    for name, r in raw.items():
        say('  %-9s best %.2f ms, median %.2f ms, %d bytes of JSON; medians '
            'of the rounds: %s' % (
                name, r['best_ms'], r['median_ms'], r['bytes'],
                ' '.join('%.2f' % x['median_ms'] for x in raw_rounds[name])))
    say('')

    def rps(key):
        return by_key[key].best['rps']

    def pct(key, of):
        return 100.0 * rps(key) / rps(of)

    def verdict(ok):
        return 'PASS' if ok else 'MISS'

    # One sync worker serves one request at a time, so 1 / (req/s) is the
    # worker's time per request (the p50 under load adds queueing).
    detail_ms = {key: 1000.0 / rps(key) for key in ('detail', 'c-detail')}
    detail_x = {'detail': detail_ms['detail'] / raw['baymodels']['median_ms'],
                'c-detail': detail_ms['c-detail']
                / raw['clusters']['median_ms']}
    cluster_x = rps('one-1') / rps('c-one-1')
    rss_mib = memory['VmRSS'] / 1024.0
    lines = [
        ('GET one req/s, % of trivial req/s', pct('one', 'trivial'),
         '%', '>=', TARGET_ONE),
        ('list-20 req/s, % of trivial req/s', pct('list', 'trivial'), '%',
         '>=', TARGET_LIST),
        ('detail-%d time / raw select+dumps' % n, detail_x['detail'], 'x',
         '<=', TARGET_DETAIL),
        ('cluster GET one (1 client), % of trivial', pct('c-one-1',
                                                          'trivial-1'),
         '%', '>=', TARGET_ONE),
        ('cluster GET one time / its template\'s', cluster_x, 'x', '<=',
         TARGET_CLUSTER_ONE),
        ('clusters list-20 req/s, % of trivial', pct('c-list', 'trivial'),
         '%', '>=', TARGET_LIST),
        ('clusters detail-%d time / raw select' % n, detail_x['c-detail'],
         'x', '<=', TARGET_DETAIL),
        ('API worker VmRSS after the runs, MiB', rss_mib, '', '<=',
         TARGET_RSS_MIB),
    ]
    say('ratios                                        value      target')
    for label, value, unit, op, target in lines:
        ok = value >= target if op == '>=' else value <= target
        say('  %-40s %8.2f %-2s %s %g %-2s %s' % (
            label, value, unit, op, target, unit, verdict(ok)))
    for key, name in (('detail', 'baymodels'), ('c-detail', 'clusters')):
        say('    (%s detail time = 1 / req/s = %.2f ms per request of the '
            'one worker; raw = median %.2f ms; vs raw best: %.2f x)'
            % (name, detail_ms[key], raw[name]['median_ms'],
               detail_ms[key] / raw[name]['best_ms']))
    say('    (GET one at 1 client: cluster template %.2f ms, cluster %.2f ms '
        'a request)' % (1000.0 / rps('one-1'), 1000.0 / rps('c-one-1')))
    say('    (API worker pid %d: VmRSS %.1f MiB, peak VmHWM %.1f MiB; the '
        'trivial app\'s worker, started the same way but without the API: '
        'VmRSS %.1f MiB)'
        % (memory['pid'], rss_mib, memory['VmHWM'] / 1024.0,
           trivial_memory['VmRSS'] / 1024.0))
    errors = sum(x['errors'] for case in cases for x in case.rounds)
    if errors:
        say('  WARNING: %d failed requests; the numbers are suspect' % errors)
    say('')
    say('elapsed %.1f s; these are measurements, not a test: exit 0 either '
        'way' % (time.monotonic() - started))
    return out


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ['_serve']:
        return serve(argv[1], argv[2])
    if argv[:1] == ['_client']:
        return python_client(argv[1], float(argv[2]), int(argv[3]))

    parser = argparse.ArgumentParser(
        description=__doc__.split('\n\n')[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument('--db', choices=('postgresql', 'mysql', 'sqlite'),
                        default='postgresql',
                        help='postgresql, mysql: a fresh database on '
                             '--pg-url or --mysql-url, dropped at the end; '
                             'sqlite: a temporary file')
    parser.add_argument('--pg-url',
                        default='postgresql+psycopg2://postgres@127.0.0.1:5432',
                        help='the PostgreSQL server, without a database name')
    parser.add_argument('--mysql-url',
                        default='mysql+pymysql://root@127.0.0.1:3306',
                        help='the MySQL or MariaDB server, without a '
                             'database name')
    parser.add_argument('--rows', type=int, default=1000,
                        help='how many BayModels to load, and as many '
                             'clusters')
    parser.add_argument('--duration', type=float, default=5.0,
                        help='seconds of load per measurement')
    parser.add_argument('--rounds', type=int, default=2,
                        help='times every request is measured; each row '
                             'keeps its best round')
    parser.add_argument('--warmup', type=float, default=1.0,
                        help='seconds of sequential requests before each '
                             'measurement')
    parser.add_argument('--connections', type=int, default=4,
                        help='concurrent connections of the load generator')
    parser.add_argument('--client', choices=('auto', 'wrk', 'python'),
                        default='auto',
                        help='auto: wrk if installed, else the Python client')
    parser.add_argument('--raw-runs', type=int, default=30,
                        help='timed runs of the raw select + json.dumps '
                             'after each round')
    parser.add_argument('--timeout', type=int, default=600,
                        help='hard limit in seconds for the whole run')
    args = parser.parse_args(argv)
    if not 21 <= args.rows <= 1000:
        parser.error('--rows: from 21 (a list-20 page and more) to 1000 '
                     '([api] max_limit)')
    if args.rounds < 1 or args.duration < 1 or args.connections < 1 \
            or args.raw_runs < 1:
        parser.error('--rounds, --duration, --connections and --raw-runs '
                     'must be at least 1')

    def on_alarm(signum, frame):
        raise Timeout('--timeout %d s expired' % args.timeout)

    def on_term(signum, frame):
        raise KeyboardInterrupt()

    signal.signal(signal.SIGALRM, on_alarm)
    signal.signal(signal.SIGTERM, on_term)
    signal.alarm(args.timeout)
    runner = Runner(args)
    try:
        lines = measure(runner, args)
    except KeyboardInterrupt:
        print('interrupted; stopping what was started', file=sys.stderr)
        return 130
    except Timeout as e:
        print('api_reads: %s; stopping what was started' % e,
              file=sys.stderr)
        return 2
    except Exception as e:
        print('api_reads: %s: %s' % (type(e).__name__, e), file=sys.stderr)
        return 1
    finally:
        signal.alarm(0)
        # Ignore a second Ctrl-C while cleaning up.
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            runner.close()
        finally:
            signal.signal(signal.SIGINT, previous)
    print('\n'.join(lines))
    return 0


if __name__ == '__main__':
    sys.exit(main())
