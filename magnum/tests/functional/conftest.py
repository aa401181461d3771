"""pytest fixtures shared by the functional tests.

Keystone and Heat are started once per test session (per pytest-xdist
worker, when run with ``-n``) and shared by every module that asks for
them: each test works in projects, users and names of its own
(``processes.unique_name``), so modules never see each other's work. A
module's own Magnum registers itself in Keystone's catalog when it starts
(``keystone.register_magnum`` updates the endpoint in place), so the
catalog names the module's Magnum while that module runs.
"""

import pytest

from magnum.tests.functional import db_servers
from magnum.tests.functional import docker_engine as docker_engine_mod
from magnum.tests.functional import heat as heat_mod
from magnum.tests.functional import keystone as keystone_mod
from magnum.tests.functional.capi import management as capi_management
from magnum.tests.functional import kube_apiserver as kube_mod
from magnum.tests.functional import processes


# -- Docker Engine -----------------------------------------------------------

@pytest.fixture(scope='module')
def docker_engine():
    """A private Docker Engine (``.url``, ``.client()``), one per module."""
    with docker_engine_mod.DockerEngine() as engine:
        yield engine


# -- Magnum processes ---------------------------------------------------------

@pytest.fixture
def api(magnum):
    """An HTTP client of the module's ``magnum`` fixture."""
    client = processes.Client(magnum)
    yield client
    client.close()


# -- Keystone ---------------------------------------------------------------

@pytest.fixture(scope='session')
def keystone():
    """A real Keystone (its own cached virtualenv), one per test session,
    on a PostgreSQL database of its own.

    NOTE: on SQLite, its two workers' writes wait for each other's file
    lock; Heat bays built at once create and delete their servers' agent
    users together, and one such delete came back 500 from Heat.
    """
    with processes.running(db_servers.PostgresDatabase(
            prefix='keystone_test')) as database:
        with processes.running(keystone_mod.Keystone(
                database_url=database.url)) as ks:
            yield ks


# -- Heat -------------------------------------------------------------------

@pytest.fixture(scope='session')
def heat(keystone):
    """A real Heat engine and API behind the session's Keystone, one per
    test session (the fault test's dozen bays at once included), on Heat's
    default convergence engine.

    NOTE: the legacy engine (``convergence_engine = false``) built the
    fault test's bays faster here (the first dozen in 134 s against 185 s)
    but, with 16 RPC threads a worker, left every stack update of the Heat
    bay and node-group tests UPDATE_IN_PROGRESS for good; it is not used.
    """
    with processes.running(heat_mod.Heat(keystone)) as orchestration:
        yield orchestration


# -- Kubernetes --------------------------------------------------------------

@pytest.fixture(scope='session')
def kube():
    """A kube-apiserver with tokens and RBAC, one per test session; each
    module's bays are in projects, and so namespaces, of their own."""
    yield from kube_mod.secured_kube_apiserver()


@pytest.fixture(scope='session')
def capi(kube, tmp_path_factory):
    """The session's kube-apiserver as a Cluster API management cluster:
    the CRDs installed and the stand-in of the Cluster API controllers
    running (machines ready after 0.3 s, finalizers let go after 0.5 s;
    capi/standin.py). Each module's bays are in namespaces of their own
    projects."""
    with capi_management.standin_running(
            kube, str(tmp_path_factory.mktemp('capi')), delay=0.3,
            delete_delay=0.5) as standin:
        yield standin


# -- Glance, Nova, Neutron --------------------------------------------------

@pytest.fixture(scope='session')
def cloud(keystone):
    """A real Glance, Nova API and neutron-server behind the session's
    Keystone, in its catalog, one of each per test session, started side
    by side (``cloud.cloud``): ``.glance``, ``.nova``, ``.neutron``."""
    from magnum.tests.functional import cloud as cloud_mod
    with cloud_mod.cloud(keystone) as services:
        yield services
