"""The ports of calls the product places on its own (campaigns, call-backs): re-exported by
core.ports, which is at its size limit."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

from core.models.campaign import Campaign, CampaignNumber


class CampaignStore(Protocol):
    """A campaign document and one document per number, in the campaign's partition; writes are
    conditional on the ETag. Raises NotFoundError, ConcurrencyError, StoreUnavailable."""

    async def create(self, campaign: Campaign, numbers: Sequence[CampaignNumber]) -> Campaign:
        """Store the numbers, then the campaign (a campaign is never seen without its numbers)."""
        ...

    async def get(self, campaign_id: str) -> Campaign | None: ...

    async def update(
        self,
        campaign_id: str,
        mutation: Callable[[Campaign], bool | None],
        *,
        current: Campaign | None = None,
    ) -> Campaign:
        """Like CallStore.update: re-read and re-applied on an ETag conflict."""
        ...

    async def number(self, campaign_id: str, row: int) -> CampaignNumber | None: ...

    async def update_number(
        self, campaign_id: str, row: int, mutation: Callable[[CampaignNumber], bool | None]
    ) -> CampaignNumber: ...

    async def numbers(self, campaign_id: str) -> list[CampaignNumber]:
        """Every number of the campaign, by row."""
        ...


class OptOutStore(Protocol):
    """Numbers that must never be called (E.164). Raises StoreUnavailable."""

    async def add(self, phone_number: str, source: str) -> None: ...

    async def remove(self, phone_number: str) -> bool:
        """False when the number had not opted out."""
        ...

    async def contains(self, phone_number: str) -> bool: ...
