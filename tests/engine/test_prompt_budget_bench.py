"""bench/prompt_budget.py keeps running against the engine it measures (a bench nobody runs rots)."""

from __future__ import annotations

import importlib

from local.scripted_llm import ScriptedLlm


async def test_both_designs_run_and_are_counted_exactly(scripted: ScriptedLlm) -> None:
    bench = importlib.import_module("bench.prompt_budget")
    encoding = bench.o200k()
    assert encoding.encode("Hello, I need to report a car accident.") == [
        13225,
        11,
        357,
        1309,
        316,
        3019,
        261,
        1669,
        15176,
        13,
    ]
    new = bench.figures(encoding, await bench.run_conversation(scripted, "new", 4))
    legacy = bench.figures(encoding, await bench.run_conversation(scripted, "legacy", 4))
    assert len(new.per_turn) == len(legacy.per_turn) == 4
    assert new.tools < legacy.tools and new.at(1) < legacy.at(1)
    assert new.line().startswith("prompt_tokens turn1=")
