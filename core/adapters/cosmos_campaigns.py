"""Campaign store on Cosmos DB: a campaign document and one document per number, all in the
campaign's partition (/campaign_id), told apart by ``kind``; ETag-conditional writes."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from core.adapters.azure_errors import unavailable_as
from core.adapters.identity import CredentialSource, require
from core.errors import ConcurrencyError, NotFoundError
from core.models import utcnow
from core.models.campaign import Campaign, CampaignNumber
from core.observability import logger

if TYPE_CHECKING:
    from azure.cosmos.aio import ContainerProxy, CosmosClient

    from core.settings import CosmosSettings

T = TypeVar("T")
M = TypeVar("M", Campaign, CampaignNumber)
MAX_WRITE_ATTEMPTS = 60
CAMPAIGN_ID = "campaign"  # the id of the campaign document within its partition
CREATE_CONCURRENCY = 16
# Numbers are read whole (GET /campaign/{id}); the campaign document holds what queries would need.
# Keep in step with infra/modules/cosmos.bicep (the container is created there in Azure).
INDEXING_POLICY: dict[str, Any] = {
    "indexingMode": "consistent",
    "includedPaths": [{"path": "/campaign_id/?"}, {"path": "/kind/?"}, {"path": "/row/?"}],
    "excludedPaths": [{"path": "/*"}],
}


def _number_id(row: int) -> str:
    return f"number-{row:06d}"


def _document(model: Campaign | CampaignNumber) -> dict[str, Any]:
    document = model.model_dump(mode="json")
    if isinstance(model, Campaign):
        document.update(id=CAMPAIGN_ID, kind="campaign")
    else:
        document.update(id=_number_id(model.row), kind="number")
    return document


def _model(kind: type[M], document: dict[str, Any]) -> M:
    fields = {k: v for k, v in document.items() if not k.startswith("_") and k not in ("id", "kind")}
    return kind.model_validate(fields).with_etag(document.get("_etag"))


def _etag_of(written: Any) -> str | None:
    return written.get("_etag") if isinstance(written, dict) else None


async def _exists(container: ContainerProxy) -> bool:
    from azure.cosmos.exceptions import CosmosResourceNotFoundError

    try:
        await container.read()
    except CosmosResourceNotFoundError:
        return False
    return True


class CosmosCampaignStore:
    """core.ports.CampaignStore on Cosmos DB (azure-cosmos aio SDK)."""

    def __init__(
        self, settings: CosmosSettings, container: str, credential: CredentialSource | None = None
    ) -> None:
        self._settings = settings
        self._container_name = container
        self._credential_source = credential
        self._client: CosmosClient | None = None
        self._container: ContainerProxy | None = None
        self._lock = asyncio.Lock()

    async def _get_container(self) -> ContainerProxy:
        if self._container is not None:
            return self._container
        async with self._lock:
            if self._container is None:
                from azure.cosmos import PartitionKey
                from azure.cosmos.aio import CosmosClient

                if self._client is None:
                    key = self._settings.key or require(self._credential_source, "Cosmos DB", "COSMOS__KEY")
                    self._client = CosmosClient(
                        self._settings.endpoint,
                        credential=key,
                        enable_endpoint_discovery=self._settings.endpoint_discovery,
                    )
                database = await self._client.create_database_if_not_exists(self._settings.database)
                self._container = await database.create_container_if_not_exists(
                    id=self._container_name,
                    partition_key=PartitionKey(path="/campaign_id"),
                    indexing_policy=INDEXING_POLICY,
                )
        return self._container

    async def _on_container(self, operation: Callable[[ContainerProxy], Awaitable[T]]) -> T:
        """As the call store: a container gone (emulator restarted, deleted) is created again, once."""
        from azure.cosmos.exceptions import CosmosResourceNotFoundError

        container = await self._get_container()
        try:
            return await operation(container)
        except CosmosResourceNotFoundError:
            if await _exists(container):
                raise  # the item is what is missing
        logger().warning("the Cosmos DB container %s is gone: creating it again", self._container_name)
        async with self._lock:
            if self._container is container:
                self._container = None
        return await operation(await self._get_container())

    async def close(self) -> None:
        if self._client is not None:
            await self._client.close()
        self._client = None
        self._container = None

    async def ready(self) -> None:
        await self._on_container(lambda c: c.read())

    async def create(self, campaign: Campaign, numbers: Sequence[CampaignNumber]) -> Campaign:
        gate = asyncio.Semaphore(CREATE_CONCURRENCY)

        async def create_number(number: CampaignNumber) -> None:
            document = _document(number)
            async with gate:
                await self._on_container(lambda c: c.create_item(document))

        async with unavailable_as("the campaign store"):
            await asyncio.gather(*(create_number(n) for n in numbers))
            document = _document(campaign)
            written = await self._on_container(lambda c: c.create_item(document))
        return campaign.with_etag(_etag_of(written))

    async def _read(self, kind: type[M], campaign_id: str, item: str) -> M | None:
        from azure.cosmos.exceptions import CosmosResourceNotFoundError

        async with unavailable_as("the campaign store"):
            try:
                document = await self._on_container(
                    lambda c: c.read_item(item=item, partition_key=campaign_id)
                )
            except CosmosResourceNotFoundError:
                return None
        return _model(kind, document)

    async def get(self, campaign_id: str) -> Campaign | None:
        return await self._read(Campaign, campaign_id, CAMPAIGN_ID)

    async def number(self, campaign_id: str, row: int) -> CampaignNumber | None:
        return await self._read(CampaignNumber, campaign_id, _number_id(row))

    async def update(
        self,
        campaign_id: str,
        mutation: Callable[[Campaign], bool | None],
        *,
        current: Campaign | None = None,
    ) -> Campaign:
        return await self._update(Campaign, campaign_id, CAMPAIGN_ID, mutation, current)

    async def update_number(
        self, campaign_id: str, row: int, mutation: Callable[[CampaignNumber], bool | None]
    ) -> CampaignNumber:
        return await self._update(CampaignNumber, campaign_id, _number_id(row), mutation, None)

    async def _update(
        self,
        kind: type[M],
        campaign_id: str,
        item: str,
        mutation: Callable[[M], bool | None],
        current: M | None,
    ) -> M:
        from azure.core import MatchConditions
        from azure.cosmos.exceptions import CosmosAccessConditionFailedError

        for attempt in range(MAX_WRITE_ATTEMPTS):
            if attempt == 0 and current is not None and current.etag:
                model = current.model_copy(deep=True)
            else:
                found = await self._read(kind, campaign_id, item)
                if found is None:
                    raise NotFoundError(f"campaign {campaign_id} has no {item}")
                model = found
            etag = model.etag
            if mutation(model) is False:
                return model
            model.updated_at = utcnow()
            document = _document(model)
            try:
                async with unavailable_as("the campaign store"):
                    written = await self._on_container(
                        lambda c: c.replace_item(
                            item=item,
                            body=document,  # noqa: B023 - awaited within this iteration
                            etag=etag,  # noqa: B023
                            match_condition=MatchConditions.IfNotModified,
                        )
                    )
                return model.with_etag(_etag_of(written))
            except CosmosAccessConditionFailedError:
                # Another instance wrote first: back off a little (jittered), re-apply on fresh state.
                await asyncio.sleep(random.uniform(0, 0.002 * min(attempt + 1, 10)))
        raise ConcurrencyError(
            f"campaign {campaign_id} kept changing; gave up after {MAX_WRITE_ATTEMPTS} attempts"
        )

    async def numbers(self, campaign_id: str) -> list[CampaignNumber]:
        async def run(container: ContainerProxy) -> list[dict[str, Any]]:
            query = container.query_items(
                # The partition key in the query too: the local server reads it there, not from the header.
                query="SELECT * FROM c WHERE c.campaign_id = @id AND c.kind = 'number'",
                parameters=[{"name": "@id", "value": campaign_id}],
                partition_key=campaign_id,
            )
            return [item async for item in query]

        async with unavailable_as("the campaign store"):
            documents = await self._on_container(run)
        return sorted((_model(CampaignNumber, d) for d in documents), key=lambda n: n.row)
