"""core.ports.SmsSender on Azure Communication Services SMS (azure-communication-sms, aio client).

The client is built with an explicit endpoint (a connection string would silently switch a local
``http://`` emulator to https) and created once per worker, on first use (by core.bootstrap).
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from core.adapters import azure_http
from core.adapters.identity import CredentialSource, require
from core.observability import logger, redact

if TYPE_CHECKING:
    from azure.communication.sms.aio import SmsClient

    from core.settings import AcsSettings


class AcsSmsSender:
    """Sends one SMS from the product's ACS number. Never raises for a provider failure: the caller
    gets False and decides (a tool answers the model, the post-call job retries)."""

    def __init__(self, settings: AcsSettings, credential: CredentialSource | None = None) -> None:
        self._settings = settings
        self._credential_source = credential
        self._client: SmsClient | None = None
        self._lock = asyncio.Lock()

    async def _get_client(self) -> SmsClient:
        if self._client is not None:
            return self._client
        async with self._lock:
            if self._client is None:
                from azure.communication.sms.aio import SmsClient
                from azure.core.credentials import AzureKeyCredential

                key = self._settings.access_key
                self._client = SmsClient(
                    self._settings.endpoint,
                    AzureKeyCredential(key)
                    if key
                    else require(self._credential_source, "ACS SMS", "ACS__ACCESS_KEY"),
                    **azure_http.client_options(),
                )
        return self._client

    async def send(self, to: str, message: str) -> bool:
        from azure.core.exceptions import AzureError

        client = await self._get_client()
        try:
            results = await client.send(from_=self._settings.phone_number, to=[to], message=message)
        except (AzureError, OSError) as exc:
            logger().warning("SMS to %s failed: %s", redact(to), type(exc).__name__)
            return False
        accepted = bool(results) and all(result.successful for result in results)
        if not accepted:
            statuses = [result.http_status_code for result in results]
            logger().warning("SMS to %s refused by the provider (statuses %s)", redact(to), statuses)
        return accepted

    async def close(self) -> None:
        if self._client is not None:
            await self._client.close()
        self._client = None
