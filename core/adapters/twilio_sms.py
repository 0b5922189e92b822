"""core.ports.SmsSender on Twilio's REST API (``POST /2010-04-01/Accounts/{AccountSid}/Messages.json``,
a form with To, From and Body, HTTP basic auth with the account SID and auth token), with aiohttp.

Twilio answers 201 with the message resource when it accepted the message (queued for delivery);
anything else is a refusal, logged with Twilio's error code."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from core.observability import logger, redact

if TYPE_CHECKING:
    import aiohttp

    from core.settings_sms import TwilioSettings


class TwilioSmsSender:
    """Never raises for a provider failure: the caller gets False and decides."""

    def __init__(self, settings: TwilioSettings, default_from: str) -> None:
        self._settings = settings
        self._from = settings.phone_number or default_from
        self._session: aiohttp.ClientSession | None = None
        self._lock = asyncio.Lock()

    async def _get_session(self) -> aiohttp.ClientSession:
        if self._session is None:
            async with self._lock:
                if self._session is None:
                    import aiohttp

                    credentials = aiohttp.encode_basic_auth(
                        self._settings.account_sid, self._settings.auth_token
                    )
                    self._session = aiohttp.ClientSession(
                        headers={"Authorization": credentials},
                        timeout=aiohttp.ClientTimeout(total=self._settings.timeout_s),
                    )
        return self._session

    @property
    def messages_url(self) -> str:
        base = self._settings.api_base_url.rstrip("/")
        return f"{base}/2010-04-01/Accounts/{self._settings.account_sid}/Messages.json"

    async def send(self, to: str, message: str) -> bool:
        import aiohttp

        session = await self._get_session()
        form = {"To": to, "From": self._from, "Body": message}
        try:
            async with session.post(self.messages_url, data=form) as response:
                if response.status == 201:
                    return True
                try:
                    error = await response.json(content_type=None)
                except ValueError:
                    error = {}
                code = error.get("code") if isinstance(error, dict) else None
                logger().warning(
                    "SMS to %s refused by Twilio (HTTP %s, code %s)", redact(to), response.status, code
                )
                return False
        except (aiohttp.ClientError, TimeoutError) as exc:
            logger().warning("SMS to %s failed: %s", redact(to), type(exc).__name__)
            return False

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
        self._session = None
