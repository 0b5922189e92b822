"""Fixtures of the host adapter tests: Azurite (from the shared ``local_stack`` fixture) and a host."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from local.functions_host import FunctionsHost, HostConfig

from . import sample_app

REPO_ROOT = Path(__file__).resolve().parents[2]
TEST_FUNCTION_KEY = "test-function-key"
MAX_DEQUEUE_COUNT = 3


@pytest.fixture(scope="session")
def azurite_connection_string(local_stack: None) -> str:
    """Azurite from the shared local stack (started once per session, or reused when running)."""
    return "UseDevelopmentStorage=true"


@pytest.fixture(scope="session")
def queue_names() -> Iterator[dict[str, str]]:
    """Fresh queue names per session (an already-running Azurite may hold queues of earlier runs)."""
    suffix = uuid.uuid4().hex[:8]
    names = {"HOST_TEST_QUEUE_OK": f"host-ok-{suffix}", "HOST_TEST_QUEUE_FAILING": f"host-failing-{suffix}"}
    previous = {name: os.environ.get(name) for name in names}
    os.environ.update(names)
    yield names
    for name, value in previous.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


@pytest.fixture(scope="session")
def host_json(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("host") / "host.json"
    path.write_text(
        json.dumps(
            {
                "version": "2.0",
                "extensions": {
                    "http": {"routePrefix": "api"},
                    "queues": {
                        "batchSize": 8,
                        "maxDequeueCount": MAX_DEQUEUE_COUNT,
                        "visibilityTimeout": "00:00:00",
                        "maxPollingInterval": "00:00:01",
                    },
                },
                "functionTimeout": "00:00:30",
            }
        )
    )
    return path


@pytest.fixture(scope="session")
async def functions_host(
    azurite_connection_string: str, queue_names: dict[str, str], host_json: Path
) -> AsyncIterator[FunctionsHost]:
    assert HostConfig.load(host_json).route_prefix == "api"
    host = FunctionsHost(
        sample_app.app,
        host_json_path=str(host_json),
        function_key=TEST_FUNCTION_KEY,
        storage_connection_string=azurite_connection_string,
    )
    await host.start()
    try:
        yield host
    finally:
        await host.stop()
