"""The AI Search emulator and the local embeddings endpoint, in this process, driven by the real SDK."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest

from core.adapters.ai_search import AiSearch
from core.adapters.openai_embeddings import OpenAIEmbeddings
from core.settings_search import EmbeddingsSettings, SearchSettings
from local.embeddings import EmbeddingsServer
from local.search_emulator import SearchEmulator


@pytest.fixture(scope="session")
async def emulator() -> AsyncIterator[SearchEmulator]:
    started = await SearchEmulator().start()
    yield started
    await started.stop()


@pytest.fixture(scope="session")
async def embeddings_server() -> AsyncIterator[EmbeddingsServer]:
    started = await EmbeddingsServer(backend="hashing").start()
    yield started
    await started.stop()


@pytest.fixture
def search_settings(emulator: SearchEmulator, embeddings_server: EmbeddingsServer) -> SearchSettings:
    """Settings for a fresh index of this test (the emulator is shared by the session)."""
    emulator.faults.clear()
    return SearchSettings(
        endpoint=emulator.endpoint,
        api_key=emulator.admin_key,
        index=f"test-{uuid.uuid4().hex[:10]}",
        timeout_s=2.0,
        embeddings=EmbeddingsSettings(
            provider="azure_openai",
            endpoint=embeddings_server.root_url,
            api_key="local",
            dimensions=384,
        ),
    )


@pytest.fixture
async def search(search_settings: SearchSettings) -> AsyncIterator[AiSearch]:
    adapter = AiSearch(search_settings, OpenAIEmbeddings(search_settings.embeddings))
    yield adapter
    await adapter.close()
