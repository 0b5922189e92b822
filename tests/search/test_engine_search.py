"""What the model and the report get from a search, without a service: the token bound, the tool's
answers, the citations."""

from __future__ import annotations

import json

from core.engine.search import DocumentHit, DocumentSearchUnavailable, bound_hits, citations_from_result
from core.engine.tokens import estimate_tokens
from core.engine.tools import Toolbox
from tests.conftest import make_call


def hit(n: int, words: int) -> DocumentHit:
    return DocumentHit(
        title=f"Doc {n}", content=" ".join(f"word{i}" for i in range(words)), source=f"d{n}.md"
    )


def test_hits_are_cut_to_the_budget_and_the_crossing_one_is_shortened() -> None:
    hits = [hit(1, 40), hit(2, 400), hit(3, 40)]
    bounded = bound_hits(hits, 200)
    assert [h.source for h in bounded] == ["d1.md", "d2.md"]
    assert bounded[1].content.endswith(" …") and len(bounded[1].content) < len(hits[1].content)
    assert sum(estimate_tokens(h.title) + estimate_tokens(h.content) + 8 for h in bounded) <= 210
    assert bound_hits(hits[:1], 10_000) == hits[:1]


class Unavailable:
    async def search(self, query: str, top: int) -> list[DocumentHit]:
        raise DocumentSearchUnavailable("document search took longer than 3.0s")


class Found:
    async def search(self, query: str, top: int) -> list[DocumentHit]:
        return [hit(1, 5), hit(1, 6), hit(2, 5)]


async def test_the_tool_says_search_is_unavailable_and_the_turn_goes_on() -> None:
    result = await Toolbox(call=make_call(), search=Unavailable()).execute(
        "search_documents", '{"query": "rental"}'
    )
    assert result.ok and result.content.startswith("Document search is unavailable right now.")


async def test_the_tool_result_carries_the_sources_the_report_cites() -> None:
    result = await Toolbox(call=make_call(), search=Found()).execute(
        "search_documents", '{"query": "rental"}'
    )
    passages = json.loads(result.content)["passages"]
    assert [p["source"] for p in passages] == ["d1.md", "d1.md", "d2.md"]
    cited = citations_from_result("search_documents", result.content)
    assert [(c.title, c.source) for c in cited] == [("Doc 1", "d1.md"), ("Doc 2", "d2.md")]
    assert citations_from_result("send_sms", result.content) == []
    assert citations_from_result("search_documents", "No document matches this query.") == []
