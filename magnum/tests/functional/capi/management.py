"""A kube-apiserver made into a Cluster API management cluster, for tests.

What is real: the kube-apiserver 1.20 (kube_apiserver.py; the session's
``kube`` fixture), which stores, validates (the schemas of crds.yaml) and
watches the Cluster API objects, and its kube-controller-manager, whose
garbage collector deletes what a deleted Cluster owned. What is not: the
Cluster API controllers; standin.py plays them, in a process of its own
(``Standin``), through that same API.

One stand-in a kube-apiserver: two would both make every Cluster's
Machines. conftest.py's session fixture ``capi`` is it, for every module
on the session's ``kube``::

    @pytest.fixture(scope='session')
    def capi(kube, tmp_path_factory):
        with management.standin_running(
                kube, str(tmp_path_factory.mktemp('capi')),
                delay=0.3, delete_delay=0.5) as standin:
            yield standin

then ``[capi] kubeconfig = management.admin_kubeconfig(kube)`` for
Magnum, and ``standin.read_events()`` (its ``--events`` file) for when
the Clusters became available.

NOTE: kube-controller-manager's garbage collector learns of new resources
by discovery every 30 s: in the first half minute or so after
``install_crds`` on a fresh API, what a deleted Cluster owned may wait
that long to be collected; later, about a second.
"""

import contextlib
import json
import os
import sys
import time

import kubernetes.client
from kubernetes.client import exceptions as kube_exc
import yaml

from magnum.tests.functional import processes
from magnum.tests.functional.capi import standin as standin_mod

CRDS = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'crds.yaml')
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.dirname(os.path.abspath(__file__))))))
ESTABLISH_TIMEOUT = 30
START_TIMEOUT = 30


def wait_for(predicate, timeout, what, interval=0.05):
    """``predicate()``'s first truthy value within ``timeout`` seconds;
    an AssertionError naming ``what`` (and the last value) otherwise."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError('%s: not within %ss (last: %r)'
                                 % (what, timeout, value))
        time.sleep(interval)


def crds():
    """The CustomResourceDefinitions of crds.yaml, as dicts."""
    with open(CRDS) as f:
        return [doc for doc in yaml.safe_load_all(f) if doc]


def _established(crd):
    return any(c.type == 'Established' and c.status == 'True'
               for c in (crd.status.conditions or ()))


def install_crds(kube, timeout=ESTABLISH_TIMEOUT):
    """Create (or replace) the CRDs on ``kube``; wait until every one is
    Established (served)."""
    with kube.client() as client:
        api = kubernetes.client.ApiextensionsV1Api(client)
        names = []
        for body in crds():
            name = body['metadata']['name']
            names.append(name)
            try:
                api.create_custom_resource_definition(body)
            except kube_exc.ApiException as e:
                if e.status != 409:
                    raise
                current = api.read_custom_resource_definition(name)
                body['metadata']['resourceVersion'] = (
                    current.metadata.resource_version)
                api.replace_custom_resource_definition(name, body)
        wait_for(lambda: all(
            _established(api.read_custom_resource_definition(name))
            for name in names), timeout, 'the Cluster API CRDs established')


def admin_kubeconfig(kube):
    """A kubeconfig with the API's admin token (inline) and its CA (an
    absolute path): what ``[capi] kubeconfig`` may name while ``kube``
    runs."""
    return kube.kubeconfig


class Standin:
    """standin.py as a process: its output in ``log_path``; ``stop()``
    sends SIGTERM, then SIGKILL after a grace period, and returns its exit
    status."""

    def __init__(self, kubeconfig, log_path, delay=1.0, delete_delay=2.0,
                 events=None):
        self.kubeconfig = kubeconfig
        self.log_path = log_path
        self.delay = delay
        self.delete_delay = delete_delay
        self.events = events
        self.process = None

    def argv(self):
        argv = [sys.executable, '-m', standin_mod.__name__,
                '--kubeconfig', self.kubeconfig,
                '--delay', str(self.delay),
                '--delete-delay', str(self.delete_delay)]
        if self.events:
            argv += ['--events', self.events]
        return argv

    def start(self, timeout=START_TIMEOUT):
        """Start it; return once its watches have listed everything."""
        self.process = processes.Process(
            'capi-standin', self.argv(), self.log_path, cwd=REPO).start()
        try:
            wait_for(self._ready, timeout, 'the stand-in watching')
        except AssertionError:
            self.stop()
            raise AssertionError('the stand-in did not start:\n%s'
                                 % self.process.describe())
        return self

    def _ready(self):
        if self.process.exited() is not None:
            raise AssertionError('the stand-in exited:\n%s'
                                 % self.process.describe())
        return standin_mod.READY_LINE in self.process.tail(lines=1000)

    @property
    def pid(self):
        return self.process.pid

    def stop(self, grace=processes.STOP_GRACE):
        if self.process is None:
            return None
        self.process.stop(grace)
        return self.process.popen.returncode

    def tail(self, lines=40):
        return self.process.tail(lines)

    def read_events(self):
        """The events file's lines, as dicts."""
        if not self.events or not os.path.exists(self.events):
            return []
        with open(self.events) as f:
            return [json.loads(line) for line in f if line.strip()]


@contextlib.contextmanager
def standin_running(kube, directory, **options):
    """``kube`` as a management cluster: the CRDs installed and a
    ``Standin`` running (log ``capi-standin.log``, events
    ``capi-events.jsonl`` in ``directory``); it is stopped on exit, and an
    exit status other than 0 is an AssertionError."""
    install_crds(kube)
    standin = Standin(admin_kubeconfig(kube),
                      os.path.join(directory, 'capi-standin.log'),
                      events=os.path.join(directory, 'capi-events.jsonl'),
                      **options).start()
    try:
        yield standin
    finally:
        status = standin.stop()
        assert status == 0, 'the stand-in ended with %s:\n%s' % (
            status, standin.tail())


def magnum_config(keystone, kube, delete_timeout=3600):
    """magnum.conf's [capi] for Magnum behind ``keystone`` (a
    ``keystone.Keystone``): the management cluster ``kube`` and Magnum's
    service user, which deletes the bays' application credentials."""
    from magnum.tests.functional import keystone as keystone_mod
    username, password = keystone.service_user('magnum')
    return {'capi': {
        'kubeconfig': admin_kubeconfig(kube),
        'delete_timeout': delete_timeout,
        'auth_type': 'password', 'auth_url': keystone.url,
        'username': username, 'password': password,
        'project_name': 'service',
        'user_domain_name': keystone_mod.DOMAIN,
        'project_domain_name': keystone_mod.DOMAIN,
        'region_name': keystone_mod.REGION}}
