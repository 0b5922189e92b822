"""GET /report and GET /report/{call_id} through the host adapter: auth, paging, search, escaping."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from html.parser import HTMLParser

import aiohttp
import pytest

from core.models import utcnow
from tests.conftest import make_call
from tests.post_call.harness import FUNCTION_KEY, AppStack, app_stack
from tests.reports.hostile import HOSTILE, SCRIPT, hostile_call
from tests.waiting import at_most

pytestmark = pytest.mark.usefixtures("local_stack")


def random_number() -> str:
    return f"+1415556{uuid.uuid4().int % 10000:04d}"


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []
        self.tags: set[str] = set()
        self.handlers: list[str] = []
        self.hidden: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        values = dict(attrs)
        self.handlers += [name for name, _ in attrs if name.startswith("on")]
        if tag == "a" and values.get("href"):
            self.hrefs.append(values["href"] or "")
        if tag == "input" and values.get("type") == "hidden":
            self.hidden[values.get("name") or ""] = values.get("value") or ""


def parse(html: str) -> _Links:
    parser = _Links()
    parser.feed(html)
    return parser


async def get(stack: AppStack, path: str, **params: str) -> tuple[int, str, dict[str, str]]:
    async with aiohttp.ClientSession() as session, session.get(stack.url(path, **params)) as response:
        return response.status, await response.text(), dict(response.headers)


async def get_with_header(stack: AppStack, path: str, **params: str) -> tuple[int, str, dict[str, str]]:
    async with (
        aiohttp.ClientSession() as session,
        session.get(stack.url(path, **params), headers={"x-functions-key": FUNCTION_KEY}) as response,
    ):
        return response.status, await response.text(), dict(response.headers)


async def test_list_pages_newest_first_and_keeps_the_key_in_links(monkeypatch: pytest.MonkeyPatch) -> None:
    number = random_number()
    async with app_stack(monkeypatch) as stack:
        ids = []
        for age in range(5):
            call = make_call(number)
            call.created_at = utcnow() - timedelta(minutes=age)
            await stack.container.calls.create(call)
            ids.append(call.call_id)

        seen: list[str] = []
        params = {"phone_number": number, "limit": "2", "code": FUNCTION_KEY}
        pages = 0
        for _ in at_most(10, "the last page of GET /report (a page without a continuation link)"):
            status, html, headers = await get(stack, "/report", **params)
            assert status == 200
            assert headers["Content-Type"].startswith("text/html")
            page = parse(html)
            seen += [h.split("/report/")[1].split("?")[0] for h in page.hrefs if "/report/" in h]
            assert all(f"code={FUNCTION_KEY}" in h for h in page.hrefs), page.hrefs
            assert page.hidden.get("code") == FUNCTION_KEY
            pages += 1
            nexts = [h for h in page.hrefs if "continuation=" in h]
            if not nexts:
                break
            query = dict(part.split("=", 1) for part in nexts[0].split("?", 1)[1].split("&"))
            from urllib.parse import unquote_plus

            params = {k: unquote_plus(v) for k, v in query.items()}
        assert pages == 3
        assert seen == ids  # newest first, each once

        # With the key in a header, links do not grow a ?code=.
        status, html, _ = await get_with_header(stack, "/report", phone_number=number)
        assert status == 200
        assert not any("code=" in h for h in parse(html).hrefs)


async def test_report_needs_the_key_and_maps_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    async with app_stack(monkeypatch) as stack:
        assert (await get(stack, "/report"))[0] == 401
        assert (await get(stack, f"/report/{uuid.uuid4()}"))[0] == 401
        assert (await get(stack, "/report", code="wrong"))[0] == 401
        status, html, _ = await get(stack, "/report", code=FUNCTION_KEY, phone_number="not-a-number")
        assert status == 400 and "phone_number" in html
        status, html, _ = await get(stack, "/report", code=FUNCTION_KEY, continuation="%%%")
        assert status == 400
        status, _, _ = await get(stack, "/report", code=FUNCTION_KEY, limit="0")
        assert status == 400
        status, html, _ = await get(stack, "/report/not-a-uuid", code=FUNCTION_KEY)
        assert status == 400
        status, html, _ = await get(stack, f"/report/{uuid.uuid4()}", code=FUNCTION_KEY)
        assert status == 404 and "not found" in html
        status, html, _ = await get(stack, "/report", code=FUNCTION_KEY, phone_number=random_number())
        assert status == 200 and "No call found" in html


async def test_call_page_escapes_everything_and_is_self_contained(monkeypatch: pytest.MonkeyPatch) -> None:
    async with app_stack(monkeypatch) as stack:
        call = await stack.container.calls.create(hostile_call(random_number()))
        status, html, headers = await get_with_header(stack, f"/report/{call.call_id}")
        assert status == 200
        page = parse(html)
        assert page.tags.isdisjoint({"script", "img", "svg", "iframe", "link", "object", "embed"})
        assert page.handlers == []
        for text in HOSTILE:
            if "<" in text:
                assert text not in html  # markup arrives escaped
            else:
                assert text in html  # markdown, right-to-left and template syntax: shown as they are
        assert "&lt;script&gt;window.pwned = 1;" in html
        assert "javascript:" not in "".join(page.hrefs)
        assert not re.search(r"(src|href)=\"(https?:)?//", html), "no remote asset or link"
        assert '<meta name="viewport"' in html
        assert "default-src 'none'" in headers["Content-Security-Policy"]
        assert headers["Referrer-Policy"] == "no-referrer"
        assert call.callback_secret not in html
        # The figures of the call.
        for figure in ("1234", "321", "1555", "420 ms", "910 ms", "call_back", "low"):
            assert figure in html
        # The tool message stays out of the transcript.
        assert "tool result" not in html
        assert SCRIPT not in html

        status, html, _ = await get_with_header(stack, "/report", phone_number=call.phone_number)
        assert status == 200 and "&lt;script&gt;" in html and SCRIPT not in html


async def test_call_page_shows_no_internal_state(monkeypatch: pytest.MonkeyPatch) -> None:
    from core.models import Call

    document = make_call(random_number()).model_dump(mode="json")
    document.update(
        connection_id="conn-internal", current_turn_id="turn-internal", old_connections=["conn-old"]
    )
    document["connection"].update(greeted="conn-internal", server_call_id="server-internal")
    document["post_call"].update(for_connection="conn-internal", lease_owner="lease-internal")
    async with app_stack(monkeypatch) as stack:
        call = await stack.container.calls.create(Call.model_validate(document))
        status, html, _ = await get(stack, f"/report/{call.call_id}", code=FUNCTION_KEY)
    assert status == 200 and call.call_id in html
    for internal in (
        "conn-internal",
        "conn-old",
        "server-internal",
        "lease-internal",
        "turn-internal",
        call.callback_secret,
    ):
        assert internal not in html
