"""The default document search of a deployment without a document index: it says so, and the tool
tells the model. The port (DocumentSearch, DocumentHit) lives in core.ports."""

from __future__ import annotations

from core.ports import DocumentHit, DocumentSearch

__all__ = ["DocumentHit", "DocumentSearch", "DocumentSearchNotConfiguredError", "NoDocumentSearch"]


class DocumentSearchNotConfiguredError(RuntimeError):
    """No document index is configured for this deployment."""


class NoDocumentSearch:
    async def search(self, query: str, top: int) -> list[DocumentHit]:
        raise DocumentSearchNotConfiguredError("no documents are configured")
