"""pytest fixtures shared by the functional tests."""

import pytest

from magnum.tests.functional import docker_engine as docker_engine_mod


# -- Docker Engine -----------------------------------------------------------

@pytest.fixture(scope='module')
def docker_engine():
    """A private Docker Engine (``.url``, ``.client()``), one per module."""
    with docker_engine_mod.DockerEngine() as engine:
        yield engine
