"""The report pages in headless Chromium (Debian's chromium, driven by Playwright): hostile content from
a caller or the model never executes and is shown as text. Screenshots go to artifacts/screenshots/."""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.post_call.harness import FUNCTION_KEY, REPO_ROOT, app_stack
from tests.reports.hostile import MARKDOWN, RTL, SCRIPT, hostile_call

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("local_stack")]

CHROMIUM = shutil.which("chromium")  # Debian's package (apt-get install chromium)
SCREENSHOTS = REPO_ROOT / "artifacts" / "screenshots"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture
async def browser() -> Any:
    if CHROMIUM is None or not Path(CHROMIUM).exists():
        pytest.fail("chromium is not installed: run ./dev install (it installs Debian's chromium)")
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            yield launched
        finally:
            await launched.close()


async def test_report_pages_show_hostile_content_as_text(
    monkeypatch: pytest.MonkeyPatch, browser: Any
) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    number = f"+1415557{uuid.uuid4().int % 10000:04d}"
    async with app_stack(monkeypatch) as stack:
        call = await stack.container.calls.create(hostile_call(number))
        # A phone-sized viewport: the pages must be readable there.
        context = await browser.new_context(viewport={"width": 390, "height": 844}, java_script_enabled=True)
        page = await context.new_page()
        dialogs: list[str] = []
        page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
        outside: list[str] = []
        base = stack.base_url

        def watch(request: Any) -> None:
            if not request.url.startswith(base):
                outside.append(request.url)

        page.on("request", watch)

        # The list, opened with the key in the query string.
        response = await page.goto(stack.url("/report", phone_number=number, code=FUNCTION_KEY))
        assert response is not None and response.status == 200
        list_shot = SCREENSHOTS / "report-list.png"
        await page.screenshot(path=str(list_shot), full_page=True)
        print(f"\nscreenshot: {list_shot}")
        assert await page.evaluate("typeof window.pwned") == "undefined"
        summary = page.locator("table.calls td[data-label=Summary] .text")
        assert SCRIPT[:60] in (await summary.first.inner_text())

        # Follow the link to the call: the key is carried forward.
        await page.locator(f"a[href*='{call.call_id}']").first.click()
        await page.wait_for_load_state("load")
        assert f"/report/{call.call_id}" in page.url and f"code={FUNCTION_KEY}" in page.url
        call_shot = SCREENSHOTS / "report-call.png"
        await page.screenshot(path=str(call_shot), full_page=True)
        print(f"screenshot: {call_shot}")

        assert await page.evaluate("typeof window.pwned") == "undefined"
        assert await page.evaluate("document.querySelectorAll('script, img, svg, iframe').length") == 0
        transcript = await page.locator(".msg .text").all_inner_texts()
        assert SCRIPT in transcript
        assert MARKDOWN in transcript
        assert any(RTL.strip() in t for t in transcript)
        # Markdown links stay text: no anchor points anywhere but the reports.
        hrefs = await page.evaluate("[...document.querySelectorAll('a')].map(a => a.getAttribute('href'))")
        assert all(h.startswith("/report") for h in hrefs), hrefs
        # Very long text wraps instead of widening the page past the phone's viewport.
        assert await page.evaluate("document.documentElement.scrollWidth") <= 390 + 1
        assert dialogs == []
        assert outside == []
        await context.close()
