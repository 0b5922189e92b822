"""Queue sender on Azure Storage queues. Messages are small JSON with ids, base64-encoded as the
Functions host expects by default."""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
from typing import TYPE_CHECKING, Any

from core.adapters import azure_http
from core.adapters.azure_errors import unavailable_as
from core.adapters.identity import CredentialSource, require

if TYPE_CHECKING:
    from azure.storage.queue.aio import QueueClient, QueueServiceClient

    from core.settings import StorageSettings

MAX_VISIBILITY_S = 7 * 24 * 3600


class StorageQueueSender:
    """core.ports.QueueSender on Azure Storage queues (Azurite locally)."""

    def __init__(self, settings: StorageSettings, credential: CredentialSource | None = None) -> None:
        self._settings = settings
        self._credential_source = credential
        self._service: QueueServiceClient | None = None
        self._queues: dict[str, QueueClient] = {}
        self._lock = asyncio.Lock()

    def _make_service(self) -> QueueServiceClient:
        from azure.storage.queue.aio import QueueServiceClient

        if self._settings.uses_identity:
            return QueueServiceClient(
                self._settings.service_url("queue"),
                credential=require(self._credential_source, "Queue storage", "STORAGE__CONNECTION_STRING"),
                **azure_http.client_options(),
            )
        return QueueServiceClient.from_connection_string(
            self._settings.connection_string, **azure_http.client_options()
        )

    async def _queue(self, name: str) -> QueueClient:
        if name in self._queues:
            return self._queues[name]
        async with self._lock:
            if name not in self._queues:
                from azure.core.exceptions import ResourceExistsError
                from azure.storage.queue import BinaryBase64EncodePolicy

                if self._service is None:
                    self._service = self._make_service()
                client = self._service.get_queue_client(
                    name, message_encode_policy=BinaryBase64EncodePolicy()
                )
                with contextlib.suppress(ResourceExistsError):
                    await client.create_queue()
                self._queues[name] = client
        return self._queues[name]

    async def send(self, queue: str, payload: dict[str, Any], *, delay_s: float = 0) -> None:
        async with unavailable_as(f"queue {queue}"):
            client = await self._queue(queue)
            await client.send_message(
                json.dumps(payload, separators=(",", ":")).encode(),
                # Whole seconds, at most the 7 days Storage allows; rounded up so it is never early.
                visibility_timeout=min(math.ceil(delay_s), MAX_VISIBILITY_S) if delay_s > 0 else None,
            )

    async def ready(self) -> None:
        client = await self._queue(self._settings.post_call_queue)
        await client.get_queue_properties()

    async def close(self) -> None:
        for client in self._queues.values():
            await client.close()
        if self._service is not None:
            await self._service.close()
        self._queues.clear()
        self._service = None
