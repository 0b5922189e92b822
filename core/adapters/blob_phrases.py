"""core.ports.PhraseCache on a blob container: one JSON blob per translated phrase set
(``<language>/<digest>.json``), written once and read by every worker."""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import TYPE_CHECKING

from core.adapters.azure_errors import unavailable_as
from core.adapters.identity import CredentialSource, require

if TYPE_CHECKING:
    from azure.storage.blob.aio import ContainerClient

    from core.settings import StorageSettings


class BlobPhraseCache:
    def __init__(
        self, storage: StorageSettings, container: str, credential: CredentialSource | None = None
    ) -> None:
        self._storage = storage
        self._name = container
        self._credential_source = credential
        self._container: ContainerClient | None = None
        self._lock = asyncio.Lock()

    async def _get_container(self) -> ContainerClient:
        if self._container is None:
            async with self._lock:
                if self._container is None:
                    from azure.core.exceptions import ResourceExistsError
                    from azure.storage.blob.aio import ContainerClient

                    if self._storage.uses_identity:
                        container = ContainerClient(
                            self._storage.service_url("blob"),
                            self._name,
                            credential=require(
                                self._credential_source, "Blob storage", "STORAGE__CONNECTION_STRING"
                            ),
                        )
                    else:
                        container = ContainerClient.from_connection_string(
                            self._storage.connection_string, self._name
                        )
                    async with unavailable_as("the phrases container"):
                        with contextlib.suppress(ResourceExistsError):
                            await container.create_container()
                    self._container = container
        return self._container

    async def get(self, key: str) -> dict[str, list[str]] | None:
        from azure.core.exceptions import ResourceNotFoundError

        container = await self._get_container()
        async with unavailable_as("the phrases container"):
            try:
                downloader = await container.get_blob_client(f"{key}.json").download_blob()
                data = json.loads(await downloader.readall())
            except ResourceNotFoundError:
                return None
        if not isinstance(data, dict):
            return None
        return {str(k): [str(v) for v in vs] for k, vs in data.items() if isinstance(vs, list)}

    async def put(self, key: str, phrases: dict[str, list[str]]) -> None:
        from azure.storage.blob import ContentSettings

        container = await self._get_container()
        async with unavailable_as("the phrases container"):
            await container.get_blob_client(f"{key}.json").upload_blob(
                json.dumps(phrases, ensure_ascii=False).encode(),
                overwrite=True,
                content_settings=ContentSettings(content_type="application/json"),
            )

    async def close(self) -> None:
        if self._container is not None:
            await self._container.close()
        self._container = None
