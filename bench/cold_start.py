"""Cold start of the Function App: import ``function_app`` and index its functions in fresh processes.

Each run spawns a new Python process that imports the app module and indexes it the way the worker
does at start-up (``app.get_functions()``, then each function's name, trigger, bindings and callable),
timing that inside the process. The floor, ``import azure.functions`` alone, is measured in the same
run, alternating with the app runs so that both see the same machine state. One discarded warm-up of
each comes first (it writes the bytecode caches, as a deployed app has them).

Run from the repository root with the project's interpreter:

    .venv/bin/python bench/cold_start.py [--runs 7] [--app function_app:app]

The last line is machine-readable: ``cold_start_ms median=<n> floor_ms=<n>``.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

# A child that takes longer is hung (an import waiting on the network, say), not slow.
CHILD_TIMEOUT_S = 120.0

FLOOR_CODE = """
import time
started = time.perf_counter()
import azure.functions
print(f"{(time.perf_counter() - started) * 1000:.3f} 0")
"""

APP_CODE = """
import time
started = time.perf_counter()
import importlib
app = getattr(importlib.import_module({module!r}), {attribute!r})
count = 0
for function in app.get_functions():
    function.get_function_name()
    function.get_trigger().get_dict_repr()
    [binding.get_dict_repr() for binding in function.get_bindings()]
    function.get_user_function()
    count += 1
print(f"{{(time.perf_counter() - started) * 1000:.3f}} {{count}}")
"""


def run_child(code: str, cwd: Path) -> tuple[float, int, float]:
    """(in-process ms, functions indexed, whole-process wall ms) of one fresh interpreter."""
    started = time.perf_counter()
    try:
        completed = subprocess.run(
            [sys.executable, "-c", code],
            cwd=cwd,
            capture_output=True,
            text=True,
            check=False,
            timeout=CHILD_TIMEOUT_S,
        )
    except subprocess.TimeoutExpired:
        raise SystemExit(
            f"child process did not import and index the app within {CHILD_TIMEOUT_S:g}s"
        ) from None
    wall_ms = (time.perf_counter() - started) * 1000
    if completed.returncode != 0:
        raise SystemExit(f"child process failed:\n{completed.stderr}")
    measured, count = completed.stdout.strip().splitlines()[-1].split()
    return float(measured), int(count), wall_ms


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--app", default="function_app:app", help="module:attribute of the FunctionApp")
    args = parser.parse_args(argv)
    module, _, attribute = args.app.partition(":")
    app_code = APP_CODE.format(module=module, attribute=attribute or "app")
    cwd = Path.cwd()

    run_child(FLOOR_CODE, cwd)  # warm-up: bytecode caches, file system cache
    _, functions, _ = run_child(app_code, cwd)
    floors: list[float] = []
    apps: list[float] = []
    floor_walls: list[float] = []
    app_walls: list[float] = []
    for _ in range(args.runs):
        floor_ms, _, floor_wall = run_child(FLOOR_CODE, cwd)
        app_ms, _, app_wall = run_child(app_code, cwd)
        floors.append(floor_ms)
        apps.append(app_ms)
        floor_walls.append(floor_wall)
        app_walls.append(app_wall)

    median, floor = statistics.median(apps), statistics.median(floors)
    print(f"app: {args.app} ({functions} functions), {args.runs} runs each, python {sys.version.split()[0]}")
    print(f"import + index  ms: {', '.join(f'{v:.1f}' for v in apps)}")
    print(f"floor (azure.functions) ms: {', '.join(f'{v:.1f}' for v in floors)}")
    print(
        f"whole process (interpreter start to exit) median ms: app {statistics.median(app_walls):.1f}, "
        f"floor {statistics.median(floor_walls):.1f}"
    )
    print(f"app cost above the floor: {median - floor:.1f} ms")
    print(f"cold_start_ms median={median:.0f} floor_ms={floor:.0f}")


if __name__ == "__main__":
    main()
