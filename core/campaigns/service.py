"""The campaign service: create, look at (pace), view and cancel campaigns. See core.campaigns."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Protocol

from core.api.campaign_request import parse_campaign_request
from core.api.campaign_view import CampaignView, campaign_view
from core.errors import InvalidInputError, NotFoundError, TelephonyError
from core.models import Call, CallStatus, InitiateRequest, utcnow
from core.models.campaign import Campaign, CampaignNumber, Claimed, NumberResult, NumberState
from core.observability import logger

if TYPE_CHECKING:
    from core.ports import CallStore, CampaignStore, QueueSender, RuntimeConfig
    from core.settings import Settings

ENDED = (CallStatus.ENDED, CallStatus.MISSED)


def parse_campaign_id(raw: str) -> str:
    try:
        return str(uuid.UUID(raw))
    except ValueError:
        raise InvalidInputError("campaign id must be a UUID") from None


class CallPlacer(Protocol):
    async def place_campaign_call(self, initiate: InitiateRequest, call_id: str) -> Call: ...


class CampaignServices(Protocol):
    """The part of core.bootstrap.Services campaigns use."""

    settings: Settings

    @property
    def campaign_store(self) -> CampaignStore: ...
    @property
    def calls(self) -> CallStore: ...
    @property
    def queues(self) -> QueueSender: ...
    @property
    def runtime_config(self) -> RuntimeConfig: ...
    @property
    def flow(self) -> CallPlacer: ...


def parse_message(body: bytes) -> str:
    """The campaign id of a queue message ``{"campaign_id": "<uuid>"}``, or InvalidInputError."""
    from core import json_input

    data = json_input.loads(body)
    if not isinstance(data, dict) or not isinstance(data.get("campaign_id"), str):
        raise InvalidInputError('a campaign message is {"campaign_id": "<uuid>"}')
    return parse_campaign_id(data["campaign_id"])


class CampaignService:
    def __init__(self, services: CampaignServices, clock: Callable[[], datetime] = utcnow) -> None:
        self.services = services
        self.settings = services.settings.campaigns
        # The time pacing decides with (tests move it).
        self.clock = clock

    @property
    def store(self) -> CampaignStore:
        return self.services.campaign_store

    async def _wake_soon(self, campaign_id: str, delay_s: float = 0) -> None:
        await self.services.queues.send(self.settings.queue, {"campaign_id": campaign_id}, delay_s=delay_s)

    async def create(self, body: bytes, content_type: str, params: dict[str, str]) -> CampaignView:
        """POST /campaign: validate (InvalidInputError, nothing stored), store, and wake it up."""
        snapshot = await self.services.runtime_config.snapshot()
        conversation = self.services.settings.conversation.model_copy(
            update={"default_task": snapshot.default_task}
        )
        campaign, numbers = parse_campaign_request(body, content_type, params, conversation, self.settings)
        stored = await self.store.create(campaign, numbers)
        try:
            await self._wake_soon(stored.campaign_id)
        except BaseException:
            # Never woken, it would never call: cancelled, so that a retried request is the only one.
            now = self.clock()
            await self.store.update(stored.campaign_id, lambda c: c.cancel(now), current=stored)
            raise
        logger().info("campaign %s created: %d numbers", stored.campaign_id, stored.total)
        return campaign_view(stored, numbers)

    async def _load(self, raw_campaign_id: str) -> Campaign:
        campaign_id = parse_campaign_id(raw_campaign_id)
        campaign = await self.store.get(campaign_id)
        if campaign is None:
            raise NotFoundError(f"campaign {campaign_id} does not exist")
        return campaign

    async def view(self, raw_campaign_id: str) -> CampaignView:
        campaign = await self._load(raw_campaign_id)
        return campaign_view(campaign, await self.store.numbers(campaign.campaign_id))

    async def cancel(self, raw_campaign_id: str) -> CampaignView:
        """No new call is placed; calls in flight finish. Cancelling again changes nothing."""
        campaign = await self._load(raw_campaign_id)
        now = self.clock()
        campaign = await self.store.update(campaign.campaign_id, lambda c: c.cancel(now), current=campaign)
        return campaign_view(campaign, await self.store.numbers(campaign.campaign_id))

    async def wake(self, campaign_id: str) -> None:
        """The queue trigger: free the slots of ended calls, give free slots to the next rows, place
        their calls, and ask to be woken when deferred rows' windows open. Safe to run twice at once
        and to repeat."""
        campaign = await self.store.get(campaign_id)
        if campaign is None:
            logger().warning("campaign %s does not exist: message dropped", campaign_id)
            return
        now = self.clock()
        slots = list(campaign.live.items())
        calls = await asyncio.gather(*(self.services.calls.get(slot.call_id) for _, slot in slots))
        orphan_after = timedelta(seconds=self.settings.orphan_after_s)
        orphans = [
            Claimed(row=int(row), call_id=slot.call_id)
            for (row, slot), call in zip(slots, calls, strict=True)
            if call is None and now - slot.claimed_at > orphan_after
        ]
        ended = [
            (int(row), call)
            for (row, _), call in zip(slots, calls, strict=True)
            if call and call.status in ENDED
        ]
        # Results first, then the slots (a look that dies in between does both again).
        await asyncio.gather(*(self._record(campaign_id, row, call) for row, call in ended))
        claimed: list[Claimed] = []
        wake_at: list[datetime | None] = [None]

        def fill(c: Campaign) -> bool:
            before = c.model_dump()
            for row, call in ended:
                c.release(row, call.call_id, now)
            claimed[:] = c.fill(now)
            wake_at[0] = c.wake_up(now, timedelta(seconds=self.settings.watch_interval_s))
            return c.model_dump() != before

        campaign = await self.store.update(campaign_id, fill, current=campaign)
        if wake_at[0] is not None:
            await self._schedule(campaign_id, wake_at[0], now)
        if claimed:
            logger().info("campaign %s: placing rows %s", campaign_id, [c.row for c in claimed])
        outcomes = await asyncio.gather(
            *(self._dial(campaign, c) for c in [*orphans, *claimed]), return_exceptions=True
        )
        failures = [o for o in outcomes if isinstance(o, BaseException)]
        if failures:
            raise failures[0]  # the message comes again; the slots it holds are found then

    async def _schedule(self, campaign_id: str, when: datetime, now: datetime) -> None:
        try:
            await self._wake_soon(campaign_id, delay_s=max((when - now).total_seconds(), 0))
        except BaseException:
            # Not sent: the next look must send it again.
            def forget(c: Campaign) -> bool:
                changed = c.wake_at == when
                c.wake_at = None if changed else c.wake_at
                return changed

            await self.store.update(campaign_id, forget)
            raise

    async def _dial(self, campaign: Campaign, claimed: Claimed) -> None:
        """Place the row's call with the id its slot names; a call already created with it is not
        placed again (a redelivered or concurrent look)."""
        row, call_id = claimed.row, claimed.call_id

        def calling(n: CampaignNumber) -> bool:
            if n.call_id == call_id and n.state is NumberState.CALLING:
                return False
            n.state, n.call_id = NumberState.CALLING, call_id
            return True

        number = await self.store.update_number(campaign.campaign_id, row, calling)
        if await self.services.calls.get(call_id) is not None:
            return
        initiate = number.initiate(campaign.template, campaign.campaign_id)
        try:
            await self.services.flow.place_campaign_call(initiate, call_id)
        except TelephonyError as exc:
            logger().warning(
                "campaign %s row %d: the call could not be placed: %s", campaign.campaign_id, row, exc
            )
            # Stored as ended: the next look records it and frees the slot.
            await self._wake_soon(campaign.campaign_id)

    async def _record(self, campaign_id: str, row: int, call: Call) -> None:
        """The ended call's result, on its number."""
        connected = bool(call.server_call_ids)
        result = NumberResult(
            call_status=call.status.value,
            end_reason=call.end_reason,
            connected=connected,
            claim=call.claim,
            ended_at=call.ended_at,
        )

        def done(n: CampaignNumber) -> bool:
            if n.result == result and n.call_id == call.call_id:
                return False
            n.state = NumberState.DONE if connected else NumberState.FAILED
            n.call_id, n.result = call.call_id, result
            return True

        await self.store.update_number(campaign_id, row, done)
