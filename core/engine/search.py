"""Document search (RAG) interface. The AI Search adapter implements DocumentSearch; until it exists the
default reports that no documents are configured, and the tool says so to the model."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class DocumentHit:
    title: str
    content: str
    source: str = ""
    score: float = 0.0


class DocumentSearchNotConfiguredError(RuntimeError):
    """No document index is configured for this deployment."""


class DocumentSearch(Protocol):
    async def search(self, query: str, top: int) -> list[DocumentHit]: ...


class NoDocumentSearch:
    async def search(self, query: str, top: int) -> list[DocumentHit]:
        raise DocumentSearchNotConfiguredError("no documents are configured")
