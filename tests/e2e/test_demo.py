"""The README's demo commands, run as a person would run them."""

from __future__ import annotations

import asyncio
import os
import sys

from tests.e2e.harness import REPO_ROOT, random_number
from tests.waiting import wait_until, within


async def run_demo(*args: str, env: dict[str, str] | None = None, stdin: bytes = b"") -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "local.demo",
        *args,
        cwd=REPO_ROOT,
        env={**os.environ, **(env or {})},
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        output, _ = await within(
            process.communicate(stdin), timeout=120, what=f"`python -m local.demo {' '.join(args)}` to exit"
        )
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    return process.returncode or 0, output.decode()


async def test_canned_demo_shows_the_whole_call_offline(local_stack: None) -> None:
    code, output = await run_demo("--canned", "--speed", "0", "--mute", "--port", "0")
    assert code == 0, output
    assert "CANNED DEMO" in output
    assert "CALLER: My name is Jane Doe." in output and "BOT (en-US): Goodbye and take care!" in output
    assert "call ended by bot" in output and "claim.caller_name = Jane Doe" in output
    # The rental-car question is answered from the sample documents, which the call cites.
    assert "we pay up to 40 dollars a day" in output
    assert "source cited: Auto insurance: rental car and roadside assistance" in output


async def test_interactive_demo_without_a_model_names_the_settings(local_stack: None) -> None:
    unset = {"LLM__PRIMARY__ENDPOINT": "", "LLM__PRIMARY__MODEL": "", "LLM__PRIMARY__API_KEY": ""}
    code, output = await run_demo("--mute", env=unset)
    assert code == 2
    assert "LLM__PRIMARY__ENDPOINT" in output and "LLM__PRIMARY__MODEL" in output
    assert "--canned" in output


async def test_interactive_demo_a_person_typing(local_stack: None) -> None:
    from local.scripted_llm import ScriptedLlm, load_rules_file
    from tests.e2e.harness import DEMO_RULES

    llm = await ScriptedLlm(load_rules_file(str(DEMO_RULES))).start()
    env = {
        "LLM__PRIMARY__ENDPOINT": llm.base_url,
        "LLM__PRIMARY__MODEL": "scripted",
        "LLM__PRIMARY__API_KEY": "scripted",
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "local.demo",
        "--mute",
        "--port",
        "0",
        "--from",
        random_number(),  # a new caller: no earlier call to resume
        cwd=REPO_ROOT,
        env={**os.environ, **env},
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    assert process.stdin is not None and process.stdout is not None
    seen: list[str] = []

    async def read_line() -> None:
        assert process.stdout is not None
        line = (await process.stdout.readline()).decode()
        assert line, "the demo closed its output early:\n" + "".join(seen)
        seen.append(line)

    async def until(text: str) -> None:
        await wait_until(
            lambda: any(text in line for line in seen),
            timeout=60,
            what=f"the demo to print {text!r}",
            wake=read_line,
            seen=lambda: "".join(seen[-20:]),
        )

    try:
        await until("Which language")
        process.stdin.write(b"English\n")
        process.stdin.write(b"Hello, I need to report a car accident.\n")
        await process.stdin.drain()
        await until("full name")
        process.stdin.write(b"/hangup\n")
        await process.stdin.drain()
        await until("call ended by caller")
        await within(process.wait(), timeout=30, what="the demo to exit once the call ended")
    finally:
        if process.returncode is None:
            process.kill()
        await llm.stop()
    assert process.returncode == 0
    assert any("CALLER: Hello, I need to report a car accident." in line for line in seen)
