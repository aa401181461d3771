"""Requests generated from ``/v1/openapi.json`` (schemathesis), against real
Magnums: no 5xx, every refusal in the API's error form naming the problem,
and a refused request changes nothing.

Two deployments, each fuzzed with the same budget:

- ``magnum-all`` with no configuration (SQLite, the in-process transport,
  no authentication), here;
- magnum-api and a conductor on PostgreSQL and RabbitMQ behind a real
  Keystone, every request with a member's token: the Magnum of
  test_keystone_auth.py (``behind_keystone``), which runs there.

Each operation of the description gets requests that fit it (valid
bodies, queries and headers, within what the description says) and
requests that do not (a field of the wrong type, out of range, unknown,
missing); path parameters name a BayModel, a bay and a node group the test
made first, then random ones. Each case is sent twice: asking for the
latest microversion, and without the header (1.1). Around every change (a
request other than GET) the database is read: an answer of 4xx must find
it as it was before the request (what a client set: the rows of
BayModels, bays, node groups, quotas, nodes, containers, actions and the
conductors' disabled flags; not what the conductors write as they work,
such as a bay's status). Every 2xx must match its operation's response in the
description.

``FUZZ_EXAMPLES`` (environment) sets the examples per operation and mode;
``benchmarks/fuzz.py`` runs the same for longer.
"""

import json
import os

import hypothesis
import pytest
import requests
import schemathesis
from schemathesis import checks as st_checks
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi import checks as openapi_checks
import sqlalchemy as sa

from magnum.tests.functional import keystone as keystone_mod
from magnum.tests.functional import processes

EXAMPLES = int(os.environ.get('FUZZ_EXAMPLES', '4'))
# What every answer is checked with, besides ours.
CHECKS = [st_checks.not_a_server_error,
          openapi_checks.status_code_conformance,
          openapi_checks.content_type_conformance,
          openapi_checks.response_schema_conformance]
LEAKS = ('<class ', 'Traceback', 'object at 0x', "'NoneType'",
         'sqlalchemy', 'psycopg2', 'sqlite3')
VERSION = {'OpenStack-API-Version': 'container-infra latest'}


# -- what a refused request must leave as it was -----------------------------

# {table: the columns a client sets}; rows of bays being deleted (and what
# hangs from them) are left out: their conductor removes them when it
# will.
_CLIENT_COLUMNS = {
    'baymodel': None,   # every column but updated_at
    'bay': ('uuid', 'name', 'baymodel_id', 'node_count', 'master_count',
            'bay_create_timeout', 'discovery_url', 'keypair', 'labels',
            'docker_volume_size', 'master_flavor_id', 'flavor_id',
            'fixed_network', 'fixed_subnet', 'floating_ip_enabled',
            'master_lb_enabled', 'health_status', 'health_status_reason'),
    'nodegroup': ('uuid', 'name', 'cluster_id', 'node_count',
                  'min_node_count', 'max_node_count', 'flavor_id',
                  'image_id', 'labels', 'node_labels', 'node_taints',
                  'role'),
    'quota': ('project_id', 'resource', 'hard_limit'),
    'node': ('uuid', 'name', 'type', 'image_id', 'bay_uuid'),
    'container': ('uuid', 'name', 'image', 'command', 'bay_uuid', 'memory',
                  'environment', 'labels'),
    'action': ('uuid', 'bay_uuid', 'kind', 'params'),
    'magnum_service': ('host', 'binary', 'disabled', 'disabled_reason'),
}


class Database:
    """Reads what clients set, from Magnum's own database."""

    def __init__(self, url):
        self.engine = sa.create_engine(url)
        self.tables = sa.MetaData()
        self.tables.reflect(self.engine, only=list(_CLIENT_COLUMNS))

    def snapshot(self):
        state = {}
        with self.engine.connect() as connection:
            bays = self.tables.tables['bay']
            deleting = {row.uuid for row in connection.execute(
                sa.select(bays.c.uuid).where(bays.c.status.like('DELETE%')))}
            for name, wanted in _CLIENT_COLUMNS.items():
                table = self.tables.tables[name]
                columns = [c for c in table.columns
                           if (wanted is None and c.name != 'updated_at')
                           or (wanted is not None and c.name in wanted)]
                rows = set()
                for row in connection.execute(sa.select(*columns)):
                    values = row._mapping
                    owner = (values.get('uuid') if name == 'bay'
                             else values.get('cluster_id')
                             or values.get('bay_uuid'))
                    if owner in deleting:
                        continue
                    rows.add(tuple(str(v) for v in row))
                state[name] = rows
        return state

    def close(self):
        self.engine.dispose()


def _difference(before, after):
    lines = []
    for name in before:
        for row in sorted(before[name] - after[name]):
            lines.append('- %s %s' % (name, row))
        for row in sorted(after[name] - before[name]):
            lines.append('+ %s %s' % (name, row))
    return '\n'.join(lines[:20])


# -- the deployments ---------------------------------------------------------

class Target:
    """A running Magnum to fuzz: its URL, the headers of every request, its
    database, and the names of what the test made there first."""

    def __init__(self, url, headers, database_url):
        self.url = url
        self.headers = dict(VERSION, **headers)
        self.database = Database(database_url)
        self.session = requests.Session()
        self.session.headers.update(self.headers)
        # The same without a microversion: 1.1.
        self.plain = requests.Session()
        self.plain.headers.update(headers)
        # {path parameter: what the test made}
        self.known = {}

    def seed(self):
        """A BayModel, a bay of it (failed: its endpoint refuses
        connections) and its node groups, a quota: what path parameters
        may name."""
        api = self.session
        name = processes.unique_name('fuzz')
        # NOTE: a static template needs its endpoint label for a bay to be
        # accepted at all.
        response = api.post(self.url + '/v1/baymodels', json={
            'name': name, 'coe': 'kubernetes', 'image_id': 'fuzz-image',
            'labels': {'kube_api_url': 'http://127.0.0.1:1'}})
        assert response.status_code == 201, response.text
        response = api.post(self.url + '/v1/clusters', json={
            'name': name, 'cluster_template_id': name, 'node_count': 1})
        assert response.status_code == 202, response.text
        # NOTE: the BayModel and the cluster share the name, so each
        # {ident} finds a row.
        self.known = {'ident': name, 'nodegroup': 'default-worker',
                      'project_id': 'fuzz-project', 'resource': 'Cluster',
                      'id': '1', 'bay_ident': name}

    def close(self):
        self.session.close()
        self.plain.close()
        self.database.close()


@pytest.fixture(scope='module')
def magnum_all():
    with processes.running(processes.MagnumAll()) as magnum:
        target = magnum_all_target(magnum)
        yield target
        target.close()


def magnum_all_target(magnum):
    """A Target of a running ``processes.MagnumAll``, seeded."""
    target = Target(magnum.url, {}, 'sqlite:///%s' % os.path.join(
        magnum.home, '.magnum', 'magnum.sqlite'))
    target.seed()
    return target


def behind_keystone(keystone, magnum):
    """The run behind Keystone, as a member of a project of its own
    (test_keystone_auth.py calls it with its Magnum on PostgreSQL)."""
    person = keystone_mod.Person(keystone, magnum, 'fuzz', ['member'])
    target = Target(magnum.url, {
        'X-Auth-Token': person.api.session.headers['X-Auth-Token']},
        magnum.database_url)
    try:
        target.seed()
        _fuzz(target)
    finally:
        target.close()
        person.close()


# -- the run ---------------------------------------------------------------

def _fault(response):
    try:
        body = response.json()
        fault = json.loads(body['error_message'])
        return fault['faultstring']
    except (ValueError, KeyError, TypeError):
        return None


class Run:
    """Counts and failures of one fuzzing run."""

    def __init__(self, target, examples=None):
        self.target = target
        self.examples = examples or EXAMPLES
        self.requests = 0
        self.by_status = {}
        self.failures = []

    def check(self, case):
        """Send ``case`` twice: asking for the latest microversion, and
        without the header (1.1, what the oldest clients get)."""
        for session in (self.target.session, self.target.plain):
            self._send(case, session)

    def _send(self, case, session):
        target = self.target
        reads = case.method.upper() in ('GET', 'HEAD')
        before = None if reads else target.database.snapshot()
        response = case.call(base_url=target.url, session=session,
                             timeout=30)
        self.requests += 1
        status = response.status_code
        self.by_status[status] = self.by_status.get(status, 0) + 1
        where = '%s %s -> %d' % (case.method, response.request.path_url,
                                 status)
        problems = []
        try:
            case.validate_response(response, checks=CHECKS)
        except AssertionError as e:
            problems.append(str(e).strip().splitlines()[0][:300])
        # NOTE: schemathesis's response: lower-case names, lists of values.
        request_id = response.headers.get('x-openstack-request-id', [''])
        if not request_id[0].startswith('req-'):
            problems.append('no request id')
        if status >= 400:
            fault = _fault(response)
            if not fault:
                problems.append('not in the error form: %r'
                                % response.text[:200])
            elif any(leak in fault for leak in LEAKS):
                problems.append('the message leaks: %r' % fault)
            if 400 <= status < 500 and not reads:
                after = target.database.snapshot()
                if after != before:
                    problems.append('refused, yet changed:\n'
                                    + _difference(before, after))
        if problems:
            self.failures.append('%s (body %r): %s' % (
                where, getattr(case, 'body', None), '; '.join(problems)))

    def fuzz(self):
        document = self.target.session.get(
            self.target.url + '/v1/openapi.json').json()
        schema = schemathesis.openapi.from_dict(document)
        schema.config.base_url = self.target.url
        for result in schema.get_all_operations():
            operation = result.ok()
            names = [p.name for p in operation.path_parameters]
            known = {name: self.target.known[name] for name in names
                     if name in self.target.known}
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                self._fuzz_one(operation, mode)
                if known:
                    # The same again on what the test made: past the
                    # lookups, into the checks of a real row.
                    self._fuzz_one(operation, mode, known)

    def _fuzz_one(self, operation, mode, path_parameters=None):
        strategy = operation.as_strategy(generation_mode=mode,
                                         path_parameters=path_parameters)

        @hypothesis.settings(
            max_examples=self.examples, deadline=None, database=None,
            derandomize=True, phases=[hypothesis.Phase.generate],
            suppress_health_check=list(hypothesis.HealthCheck))
        @hypothesis.given(case=strategy)
        def run(case):
            self.check(case)

        try:
            run()
        except hypothesis.errors.Unsatisfiable:
            pass   # a negative mode with nothing to negate

    def report(self):
        answers = sorted(self.by_status.items())
        return '%d requests, answers %s' % (
            self.requests, ', '.join('%d: %d' % item for item in answers))


def _fuzz(target):
    run = Run(target)
    run.fuzz()
    print(run.report())
    assert run.requests >= 2500, run.report()
    assert not run.failures, '%d failures of %s:\n%s' % (
        len(run.failures), run.report(), '\n'.join(run.failures[:30]))
    assert run.by_status.get(200, 0) + run.by_status.get(201, 0) > 0, (
        run.report())


def test_magnum_all_without_configuration(magnum_all):
    _fuzz(magnum_all)
