"""The search adapter over the emulator and the real SDK: hybrid results on the sample corpus, each mode,
an index without a vectorizer, the threshold, the token bound, and failures within the time limit."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import pytest

from core.adapters.ai_search import AiSearch
from core.adapters.openai_embeddings import OpenAIEmbeddings
from core.bootstrap import Services
from core.engine.search import DocumentSearchUnavailable, NoDocumentSearch
from core.engine.tokens import estimate_tokens
from core.ingest import ingest
from core.settings import Settings
from core.settings_search import SearchSettings
from local.search_emulator import SearchEmulator, SearchFault
from local.search_emulator.sample import SAMPLE_CORPUS


@pytest.fixture
async def corpus(search: AiSearch) -> AsyncIterator[SearchSettings]:
    report = await ingest(SAMPLE_CORPUS, search, search.embeddings)  # type: ignore[arg-type]
    assert report.files >= 15 and not report.skipped
    yield search.settings


def adapter(settings: SearchSettings, **changes: object) -> AiSearch:
    changed = settings.model_copy(update=changes)
    return AiSearch(changed, OpenAIEmbeddings(changed.embeddings))


@pytest.mark.parametrize("mode", ["hybrid", "text", "vector"])
async def test_each_mode_finds_the_rental_car_page(corpus: SearchSettings, mode: str) -> None:
    search = adapter(corpus, mode=mode)
    try:
        hits = await search.search("Will you pay for a rental car while my car is being repaired?", 3)
    finally:
        await search.close()
    assert hits[0].source == "insurance/03-rental-car-and-roadside.md", hits
    assert "40 dollars per day" in hits[0].content and "Rental car" in hits[0].title
    assert len(hits) == 3 and hits[0].score >= hits[1].score >= hits[2].score


async def test_an_index_without_a_vectorizer_is_searched_with_the_embeddings(
    search_settings: SearchSettings, emulator: SearchEmulator
) -> None:
    plain = search_settings.model_copy(update={"integrated_vectorizer": False})
    search = adapter(plain)
    try:
        await ingest(SAMPLE_CORPUS, search, search.embeddings)  # type: ignore[arg-type]
        assert "vectorizers" not in str(emulator.indexes[plain.index].definition["vectorSearch"]) or not (
            emulator.indexes[plain.index].definition["vectorSearch"].get("vectorizers")
        )
        hits = await search.search("my account is locked after wrong passwords", 2)
    finally:
        await search.close()
    assert hits[0].source == "it-support/accounts-and-passwords.md"


async def test_the_semantic_ranker_and_threshold_drop_weak_hits(corpus: SearchSettings) -> None:
    search = adapter(corpus, semantic_ranker=True, threshold=3.0)
    try:
        hits = await search.search("windshield repair deductible", 5)
    finally:
        await search.close()
    assert hits and all(h.score >= 3.0 for h in hits)
    assert hits[0].source == "insurance/04-comprehensive-and-glass.md"


async def test_results_are_bounded_in_tokens(corpus: SearchSettings) -> None:
    search = adapter(corpus, result_token_budget=150)
    try:
        hits = await search.search("what does home insurance cover", 5)
    finally:
        await search.close()
    assert 1 <= len(hits) < 5
    assert sum(estimate_tokens(h.title) + estimate_tokens(h.content) for h in hits) <= 150


async def test_a_slow_search_gives_up_at_the_time_limit(
    corpus: SearchSettings, emulator: SearchEmulator
) -> None:
    search = adapter(corpus, timeout_s=0.3)
    emulator.faults.append(SearchFault(status=200, delay_s=5.0))
    started = time.perf_counter()
    try:
        with pytest.raises(DocumentSearchUnavailable, match=r"longer than 0\.3s"):
            await search.search("rental car", 3)
    finally:
        await search.close()
    assert time.perf_counter() - started < 1.5


async def test_a_failing_or_unreachable_service_is_unavailable(
    corpus: SearchSettings, emulator: SearchEmulator
) -> None:
    search = adapter(corpus)
    emulator.faults.append(SearchFault(status=503, times=5))
    try:
        with pytest.raises(DocumentSearchUnavailable, match="HTTP 503"):
            await search.search("rental car", 3)
    finally:
        await search.close()
        emulator.faults.clear()
    gone = adapter(corpus, endpoint="http://127.0.0.1:9", timeout_s=1.0)
    try:
        with pytest.raises(DocumentSearchUnavailable):
            await gone.search("rental car", 3)
    finally:
        await gone.close()


async def test_the_composition_root_builds_the_search_the_settings_ask_for(
    search_settings: SearchSettings,
) -> None:
    none = Services(Settings(search=SearchSettings()))
    assert isinstance(none.search, NoDocumentSearch)
    configured = Services(Settings(search=search_settings))
    try:
        assert isinstance(configured.search, AiSearch) and configured.search.embeddings is not None
    finally:
        await configured.close()
