"""pytest fixtures shared by the functional tests."""

import pytest

from magnum.tests.functional import docker_engine as docker_engine_mod
from magnum.tests.functional import heat as heat_mod
from magnum.tests.functional import keystone as keystone_mod
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

@pytest.fixture(scope='module')
def keystone():
    """A real Keystone (its own cached virtualenv), one per module."""
    with processes.running(keystone_mod.Keystone()) as ks:
        yield ks


# -- Heat -------------------------------------------------------------------

@pytest.fixture(scope='module')
def heat(keystone):
    """A real Heat engine and API behind the module's Keystone."""
    with processes.running(heat_mod.Heat(keystone)) as orchestration:
        yield orchestration
