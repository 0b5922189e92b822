"""The port of signed webhooks (re-exported by core.ports, which is at its size limit)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class WebhookResponse:
    status_code: int | None  # None: no answer (refused, timed out)
    error: str | None = None


class WebhookPoster(Protocol):
    """HTTP POST of a signed webhook event to a company's URL."""

    async def post(
        self, url: str, body: bytes, headers: dict[str, str], *, timeout_s: float
    ) -> WebhookResponse:
        """The receiver's status; never raises for the receiver's failures (the worker retries)."""
        ...

    async def close(self) -> None: ...
