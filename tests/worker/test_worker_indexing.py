"""The Python worker's own loader indexes function_app.py, and the host adapter serves exactly that.

The worker (``azure-functions-runtime``, Python 3.13+) runs in a fresh process (``worker_index.py``),
as it does on Azure; its function metadata is read the way the Functions host reads it (route prefix
from host.json, a missing route is the function's name, a missing ``authLevel`` is ``function``,
``%NAME%`` app-setting expressions in queue names and schedules, a missing ``connection`` is
``AzureWebJobsStorage``, a missing ``runOnStartup`` is false)
and held against what ``local.functions_host`` serves: every function, trigger, route, method, key
level, queue, connection setting, schedule and binding. On Python 3.11 the worker runs from ``.venv313``
(``./dev install`` makes it); on 3.13 it runs in the test's own interpreter.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from local.functions_host import FunctionsHost, ServedFunction, served_functions
from local.functions_host.host import resolve_app_setting_expressions

REPO_ROOT = Path(__file__).resolve().parents[2]
WORKER_VENV = REPO_ROOT / ".venv313"
# Importing the app and indexing it takes about a second; a child still running after this is hung.
WORKER_TIMEOUT_S = 120.0
# The host reads these binding properties as enums, by name and case-insensitively.
DIRECTIONS = {0: "in", 1: "out", 2: "inout"}


def worker_python() -> str:
    if sys.version_info >= (3, 13):
        return sys.executable
    python = WORKER_VENV / "bin" / "python"
    if not python.exists():
        pytest.fail(f"{python} is missing: ./dev install makes the Python 3.13 venv of the worker")
    return str(python)


def index_with_worker(app_directory: Path) -> dict[str, Any]:
    completed = subprocess.run(
        [worker_python(), "-m", "tests.worker.worker_index", str(app_directory)],
        cwd=REPO_ROOT,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
        capture_output=True,
        text=True,
        timeout=WORKER_TIMEOUT_S,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-4000:]
    answer: dict[str, Any] = json.loads(completed.stdout.strip().splitlines()[-1])
    return answer


def enum_name(value: object) -> str:
    return DIRECTIONS.get(value, str(value)) if isinstance(value, int) else str(value).lower()


def normalized(binding: dict[str, Any]) -> dict[str, Any]:
    """A binding as the host reads it: enum-valued properties by lower-case name."""
    return {
        key: enum_name(value) if key in {"direction", "authLevel", "dataType"} else value
        for key, value in binding.items()
    }


def as_the_host_reads_it(function: dict[str, Any], route_prefix: str) -> ServedFunction:
    """What the Functions host serves for one function of the worker's metadata."""
    bindings = function["raw_bindings"]
    (trigger,) = [b for b in bindings if str(b["type"]).endswith("Trigger")]
    name, kind = function["name"], str(trigger["type"])
    row: dict[str, Any] = {}
    if kind == "httpTrigger":
        route = "/".join(p.strip("/") for p in (route_prefix, trigger.get("route") or name) if p.strip("/"))
        row = {
            "route": route,
            "methods": tuple(sorted(str(m).upper() for m in trigger.get("methods") or [])),
            "auth_level": str(trigger.get("authLevel") or "function").lower(),
        }
    elif kind == "queueTrigger":
        row = {
            "queue_name": resolve_app_setting_expressions(str(trigger["queueName"])).lower(),
            "connection": str(trigger.get("connection") or "AzureWebJobsStorage"),
        }
    elif kind == "eventGridTrigger":
        row = {"webhook": f"/runtime/webhooks/eventgrid?functionName={name}"}
    elif kind == "timerTrigger":
        row = {
            "schedule": resolve_app_setting_expressions(str(trigger["schedule"])),
            "run_on_startup": bool(trigger.get("runOnStartup")),
        }
    return ServedFunction(
        name=name,
        trigger=kind,
        is_async=function["is_async"],
        wants_context=function["requires_context"],
        bindings=tuple(normalized(b) for b in bindings),
        **row,
    )


def host_route_prefix(host_json: Path) -> str:
    http = json.loads(host_json.read_text(encoding="utf-8-sig")).get("extensions", {}).get("http", {})
    return str(http.get("routePrefix", "api"))


@pytest.fixture(scope="module")
def worker_index() -> dict[str, Any]:
    return index_with_worker(REPO_ROOT)


@pytest.fixture(scope="module")
def adapter_listing() -> list[ServedFunction]:
    import function_app

    host = FunctionsHost(function_app.app, host_json_path=REPO_ROOT / "host.json")
    return [
        ServedFunction(**{**row.__dict__, "bindings": tuple(normalized(b) for b in row.bindings)})
        for row in served_functions(host)
    ]


def test_the_worker_indexes_the_app_with_its_own_loader(worker_index: dict[str, Any]) -> None:
    kinds = {b["type"] for f in worker_index["functions"] for b in f["raw_bindings"]}
    assert {"httpTrigger", "queueTrigger", "eventGridTrigger", "timerTrigger"} <= kinds
    assert worker_index["status"] == "Success", worker_index["error"]
    assert worker_index["runtime_version"].split(".") >= ["3", "13"]
    functions = worker_index["functions"]
    assert functions, "the worker indexed no function"
    for function in functions:
        assert function["script_file"] == "function_app.py"
        assert function["entry_point"] == function["name"]
        assert function["properties"] == {"worker_indexed": "True"}
        assert function["is_http_func"] == any(b["type"] == "httpTrigger" for b in function["raw_bindings"])


def test_the_adapter_serves_every_function_the_worker_indexed(
    worker_index: dict[str, Any], adapter_listing: list[ServedFunction]
) -> None:
    prefix = host_route_prefix(REPO_ROOT / "host.json")
    expected = {f["name"]: as_the_host_reads_it(f, prefix) for f in worker_index["functions"]}
    served = {row.name: row for row in adapter_listing}
    assert sorted(served) == sorted(expected)
    for name, row in expected.items():
        assert served[name] == row, name


def test_every_trigger_the_worker_indexed_is_one_the_adapter_runs(worker_index: dict[str, Any]) -> None:
    from local.functions_host.invocation import SUPPORTED_TRIGGERS

    triggers = {
        b["type"]
        for f in worker_index["functions"]
        for b in f["raw_bindings"]
        if b["type"].endswith("Trigger")
    }
    assert triggers <= SUPPORTED_TRIGGERS
    # Any other binding (an input or output binding) would be one the adapter does not serve.
    others = {
        b["type"]
        for f in worker_index["functions"]
        for b in f["raw_bindings"]
        if not b["type"].endswith("Trigger") and b["type"] != "http"
    }
    assert not others
