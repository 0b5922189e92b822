"""core.ports.WebhookPoster on aiohttp: one client session per worker."""

from __future__ import annotations

from typing import TYPE_CHECKING

from core.ports import WebhookResponse

if TYPE_CHECKING:
    import aiohttp


class AiohttpWebhookPoster:
    def __init__(self) -> None:
        self._session: aiohttp.ClientSession | None = None

    async def post(
        self, url: str, body: bytes, headers: dict[str, str], *, timeout_s: float
    ) -> WebhookResponse:
        import aiohttp

        if self._session is None:
            self._session = aiohttp.ClientSession()
        try:
            async with self._session.post(
                url,
                data=body,
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=timeout_s),
                allow_redirects=False,  # a signed event goes where it was registered, nowhere else
            ) as response:
                await response.read()
                return WebhookResponse(response.status)
        except (TimeoutError, aiohttp.ClientError) as exc:
            return WebhookResponse(None, f"{type(exc).__name__}: {exc}")

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
