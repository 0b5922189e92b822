"""Document search as the engine sees it: the default of a deployment without an index (it says so,
and the tool tells the model), the error of an index that cannot answer, how hits are bounded before
they reach the model, and the citations a report shows. The port (DocumentSearch, DocumentHit) lives
in core.ports; the Azure AI Search adapter in core.adapters.ai_search."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace

from core.engine.tokens import estimate_tokens
from core.errors import DependencyError
from core.ports import DocumentHit, DocumentSearch

__all__ = [
    "Citation",
    "DocumentHit",
    "DocumentSearch",
    "DocumentSearchNotConfiguredError",
    "DocumentSearchUnavailable",
    "NoDocumentSearch",
    "bound_hits",
    "citations_from_result",
    "hits_as_tool_result",
]

SEARCH_TOOL = "search_documents"


class DocumentSearchNotConfiguredError(RuntimeError):
    """No document index is configured for this deployment."""


class DocumentSearchUnavailable(DependencyError):
    """The document index (or the embeddings it needs) failed or did not answer in time."""


class NoDocumentSearch:
    async def search(self, query: str, top: int) -> list[DocumentHit]:
        raise DocumentSearchNotConfiguredError("no documents are configured")


def bound_hits(hits: list[DocumentHit], token_budget: int) -> list[DocumentHit]:
    """The hits, best first, cut to ``token_budget`` estimated tokens of content in all; the hit that
    crosses the budget is shortened (at a word) rather than dropped, the ones after it are dropped."""
    kept: list[DocumentHit] = []
    left = token_budget
    for hit in hits:
        cost = estimate_tokens(hit.title) + estimate_tokens(hit.content) + 8
        if cost <= left:
            kept.append(hit)
            left -= cost
            continue
        room = left - estimate_tokens(hit.title) - 8
        if room >= 20:
            words = hit.content.split()
            while words and estimate_tokens(" ".join(words)) > room:
                words = words[: max(len(words) * 3 // 4, len(words) - 50)]
            if words:
                kept.append(replace(hit, content=" ".join(words) + " …"))
        break
    return kept


def hits_as_tool_result(hits: list[DocumentHit]) -> str:
    """What the model reads: the passages with their title and source, so it can cite them."""
    return json.dumps(
        {"passages": [{"title": h.title, "source": h.source, "content": h.content} for h in hits]},
        ensure_ascii=False,
    )


@dataclass(frozen=True)
class Citation:
    title: str
    source: str


def citations_from_result(tool_name: str, result: str | None) -> list[Citation]:
    """The documents a search_documents call gave the model (stored with the call on its message)."""
    if tool_name != SEARCH_TOOL or not result:
        return []
    try:
        payload = json.loads(result)
    except ValueError:
        return []
    passages = payload.get("passages") if isinstance(payload, dict) else None
    if not isinstance(passages, list):
        return []
    seen: list[Citation] = []
    for passage in passages:
        if not isinstance(passage, dict):
            continue
        citation = Citation(title=str(passage.get("title") or ""), source=str(passage.get("source") or ""))
        if (citation.title or citation.source) and citation not in seen:
            seen.append(citation)
    return seen
