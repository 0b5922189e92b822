"""The local stack's document search: settings pointing at the emulator and the local embeddings, and
the sample corpus (docs/sample-corpus/) ingested with the product's own command."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from core.ingest import IngestReport
from local.search_emulator.server import DEFAULT_ADMIN_KEY

ROOT = Path(__file__).resolve().parents[2]
SAMPLE_CORPUS = ROOT / "docs" / "sample-corpus"


def local_search_env(
    search_port: int = 8083, embeddings_port: int = 8084, index: str = "sample-documents"
) -> dict[str, str]:
    """SEARCH__* settings for the emulator and the local embeddings endpoint (384 dimensions)."""
    return {
        "SEARCH__ENDPOINT": f"http://127.0.0.1:{search_port}",
        "SEARCH__API_KEY": DEFAULT_ADMIN_KEY,
        "SEARCH__INDEX": index,
        "SEARCH__EMBEDDINGS__PROVIDER": "azure_openai",
        "SEARCH__EMBEDDINGS__ENDPOINT": f"http://127.0.0.1:{embeddings_port}",
        "SEARCH__EMBEDDINGS__MODEL": "text-embedding-3-small",
        "SEARCH__EMBEDDINGS__API_KEY": "local",
        "SEARCH__EMBEDDINGS__DIMENSIONS": "384",
    }


async def index_sample_corpus(progress: Callable[[str], None] = lambda _line: None) -> IngestReport:
    """Point this process at the local search (unless SEARCH__ENDPOINT is already set) and ingest the
    sample corpus into it."""
    from core.bootstrap import Services
    from core.ingest import ingest
    from core.settings import load_settings

    if not os.environ.get("SEARCH__ENDPOINT"):
        os.environ.update(local_search_env())
    services = Services(load_settings())
    try:
        return await ingest(SAMPLE_CORPUS, services.document_index, services.embeddings, progress=progress)
    finally:
        await services.close()
