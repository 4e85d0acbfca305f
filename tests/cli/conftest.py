"""A real server process for command-line tests that talk to one."""

from collections.abc import Iterator

import pytest

from tests.conftest import Env
from tests.server.test_lifecycle import free_port


@pytest.fixture
def running(initialised: Env) -> Iterator[Env]:
    initialised.set(server_port=str(free_port()))
    initialised.vars["PIXELVAULT_ROOT_PASSWORD"] = "root-secret-1"
    initialised.cli("admin", "start", check=True)
    yield initialised
    initialised.cli("admin", "stop")
