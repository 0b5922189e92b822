"""Fixtures of the host adapter tests: Azurite (reused when already running) and a started host.

When the shared local-stack fixture exists, ``azurite_connection_string`` can defer to it; until then
it starts Azurite from node_modules unless something already answers on the queue port.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from local.functions_host import FunctionsHost, HostConfig

from . import sample_app

REPO_ROOT = Path(__file__).resolve().parents[2]
AZURITE_QUEUE_PORT = 10001
TEST_FUNCTION_KEY = "test-function-key"
MAX_DEQUEUE_COUNT = 3


def _port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture(scope="session")
def azurite_connection_string(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if _port_open(AZURITE_QUEUE_PORT):
        yield "UseDevelopmentStorage=true"
        return
    executable = REPO_ROOT / "node_modules" / ".bin" / "azurite"
    if not executable.exists():
        pytest.skip("Azurite is not installed (npm install) and not running")
    workdir = tmp_path_factory.mktemp("azurite")
    process = subprocess.Popen(
        [
            str(executable),
            "--silent",
            "--inMemoryPersistence",
            "--skipApiVersionCheck",
            "--loose",
            "--disableTelemetry",
            "--blobHost",
            "127.0.0.1",
            "--queueHost",
            "127.0.0.1",
            "--tableHost",
            "127.0.0.1",
        ],
        cwd=workdir,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 20
        while not _port_open(AZURITE_QUEUE_PORT):
            if process.poll() is not None:
                raise RuntimeError(f"Azurite exited with code {process.returncode}")
            if time.monotonic() > deadline:
                raise RuntimeError("Azurite did not open its queue port within 20 s")
            time.sleep(0.05)
        yield "UseDevelopmentStorage=true"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


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
