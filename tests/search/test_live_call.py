"""Document search in live calls (ACS emulator, function app, scripted LLM, AI Search emulator, real
SDKs): an answer from the documents with its citation in the report, and a search that fails or hangs
without holding up the call beyond the time limit."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from core.adapters.ai_search import AiSearch
from core.ingest import ingest
from core.reports.views import report_call_page
from core.settings_search import SearchSettings
from local.search_emulator import SearchEmulator, SearchFault
from local.search_emulator.sample import SAMPLE_CORPUS
from tests.e2e.harness import CallStack, call_stack, random_number

RULES: list[dict[str, Any]] = [
    {
        "tool_name": "search_documents",
        "tool": "40 dollars per day",
        "say": "Rental cars are paid up to 40 dollars a day.",
    },
    {
        "tool_name": "search_documents",
        "tool": "unavailable",
        "say": "I cannot check the documents right now, sorry.",
    },
    {"tool": ".", "say": "Noted."},
    {
        "user": "(?i)rental car",
        "tool_calls": [{"name": "search_documents", "arguments": {"query": "rental car coverage"}}],
    },
    {"user": "(?i)bye", "say": "Goodbye!", "tool_calls": [{"name": "end_call", "arguments": {}}]},
    {"say": "How can I help?"},
]
SCRIPT = [{"say": "English"}, {"say": "Is a rental car covered?"}, {"say": "Thanks, bye."}]


def env(settings: SearchSettings, timeout_s: float) -> dict[str, str]:
    return {
        "CONVERSATION__LANGUAGES": "en-US:English:en-US-AvaMultilingualNeural",
        "SEARCH__ENDPOINT": settings.endpoint,
        "SEARCH__API_KEY": settings.api_key,
        "SEARCH__INDEX": settings.index,
        "SEARCH__TIMEOUT_S": str(timeout_s),
        "SEARCH__EMBEDDINGS__PROVIDER": "azure_openai",
        "SEARCH__EMBEDDINGS__ENDPOINT": settings.embeddings.endpoint,
        "SEARCH__EMBEDDINGS__API_KEY": "local",
        "SEARCH__EMBEDDINGS__DIMENSIONS": "384",
    }


@pytest.fixture
async def indexed(search: AiSearch, local_stack: None) -> AsyncIterator[SearchSettings]:
    await ingest(SAMPLE_CORPUS, search, search.embeddings)  # type: ignore[arg-type]
    yield search.settings


async def _call(stack: CallStack) -> tuple[list[str], Any]:
    stack.set_rules(RULES)
    number = random_number()
    emulated = await stack.run_inbound(number, SCRIPT)
    said = [e["text"] for e in stack.bot_said(emulated)]
    return said, await stack.call_by_number(number)


async def test_a_caller_is_answered_from_the_documents_and_the_report_cites_them(
    indexed: SearchSettings,
) -> None:
    async with call_stack(env_overrides=env(indexed, 3.0)) as stack:
        said, call = await _call(stack)
        assert "Rental cars are paid up to 40 dollars a day." in said and said[-1] == "Goodbye!"
        searches = [t for m in call.messages for t in m.tool_calls if t.name == "search_documents"]
        assert len(searches) == 1
        passages = json.loads(searches[0].result or "{}")["passages"]
        assert passages[0]["source"] == "insurance/03-rental-car-and-roadside.md"
        html = await report_call_page(stack.container.calls, call.call_id, code="k")
    assert "sources: <cite>Auto insurance: rental car and roadside assistance" in html
    assert "<code>insurance/03-rental-car-and-roadside.md</code>" in html


async def test_a_hanging_search_is_cut_at_the_time_limit_and_the_call_goes_on(
    indexed: SearchSettings, emulator: SearchEmulator
) -> None:
    emulator.faults.append(SearchFault(status=200, delay_s=10.0))
    async with call_stack(env_overrides=env(indexed, 0.5)) as stack:
        started = time.perf_counter()
        said, call = await _call(stack)
        elapsed = time.perf_counter() - started
    assert "I cannot check the documents right now, sorry." in said and said[-1] == "Goodbye!"
    result = next(t.result for m in call.messages for t in m.tool_calls if t.name == "search_documents")
    assert result is not None and result.startswith("Document search is unavailable")
    assert elapsed < 8.0  # the 10 s hang did not hold the call


async def test_a_failing_search_service_is_told_to_the_model(
    indexed: SearchSettings, emulator: SearchEmulator
) -> None:
    emulator.faults.append(SearchFault(status=503, times=3))
    async with call_stack(env_overrides=env(indexed, 2.0)) as stack:
        said, _ = await _call(stack)
    assert "I cannot check the documents right now, sorry." in said
