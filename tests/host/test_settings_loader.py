from __future__ import annotations

import json
from pathlib import Path

import pytest

from local.functions_host import load_local_settings


def test_values_go_to_the_environment_but_the_environment_wins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "local.settings.json"
    path.write_text(
        json.dumps(
            {
                "IsEncrypted": False,
                "Values": {"HOST_TEST_A": "from-file", "HOST_TEST_B": "from-file"},
                "Host": {"LocalHttpPort": 7072},
            }
        )
    )
    monkeypatch.delenv("HOST_TEST_A", raising=False)
    monkeypatch.setenv("HOST_TEST_B", "from-env")
    settings = load_local_settings(path)
    import os

    assert os.environ["HOST_TEST_A"] == "from-file"
    assert os.environ["HOST_TEST_B"] == "from-env"
    assert settings.skipped == ["HOST_TEST_B"]
    assert settings.local_http_port == 7072
    monkeypatch.delenv("HOST_TEST_A")


def test_missing_file_is_fine(tmp_path: Path) -> None:
    assert load_local_settings(tmp_path / "absent.json").values == {}
