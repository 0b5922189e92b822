"""The process entry point: ``python -m local.functions_host``."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import aiohttp

from .conftest import REPO_ROOT, TEST_FUNCTION_KEY


async def test_process_entry_serves_an_app(
    azurite_connection_string: str, queue_names: dict[str, str], host_json: Path, tmp_path: Path
) -> None:
    settings = tmp_path / "local.settings.json"
    settings.write_text(
        f'{{"IsEncrypted": false, "Values": {{"HTTP__FUNCTION_KEY": "{TEST_FUNCTION_KEY}"}}}}'
    )
    env = {**os.environ, **queue_names, "AzureWebJobsStorage": azurite_connection_string}
    env.pop("HTTP__FUNCTION_KEY", None)
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "local.functions_host",
        "--app",
        "tests.host.sample_app:app",
        "--port",
        "0",
        "--host-json",
        str(host_json),
        "--settings",
        str(settings),
        cwd=REPO_ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        assert process.stdout is not None
        async with asyncio.timeout(20):
            line = (await process.stdout.readline()).decode()
        assert "listening on " in line, line
        base_url = line.rsplit(" ", 1)[-1].strip()
        async with (
            aiohttp.ClientSession(base_url=base_url) as session,
            session.get("/api/keyed", params={"code": TEST_FUNCTION_KEY}) as response,
        ):
            assert response.status == 200  # the key came from local.settings.json
    finally:
        process.send_signal(signal.SIGTERM)
        async with asyncio.timeout(20):
            assert await process.wait() == 0
