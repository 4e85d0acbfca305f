"""A real server process for command-line tests that talk to one.

The commands speak to a server (its routes are tested on both catalogs in
tests/server) or to the services (tested on both in tests/services), and every
other server test starts its catalog through `pixelvault admin init`; what is
tested here is the command line itself, on the embedded default catalog.
"""

from collections.abc import Iterator

import pytest

from tests.conftest import Env
from tests.server.test_lifecycle import free_port


@pytest.fixture
def env(sqlite_env: Env) -> Env:
    return sqlite_env


@pytest.fixture
def running(initialised: Env) -> Iterator[Env]:
    initialised.set(server_port=str(free_port()))
    initialised.vars["PIXELVAULT_ROOT_PASSWORD"] = "root-secret-1"
    initialised.cli("admin", "start", check=True)
    yield initialised
    initialised.cli("admin", "stop")
