"""The public view of a campaign (GET /campaign/{id}, the report page): its progress, counts per
state, and each number's state and result, linking to its call."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from pydantic import BaseModel, Field

from core.models.campaign import (
    CallingHours,
    Campaign,
    CampaignNumber,
    CampaignStatus,
    NumberResult,
    NumberState,
)


class CampaignNumberView(BaseModel):
    row: int = Field(description="The number's row in the request (1 is the first).")
    phone_number: str
    state: NumberState
    call_id: str | None = Field(default=None, description="Its call (GET /call/{call_id}), once placed.")
    not_before: datetime | None = Field(default=None, description="Waiting: when its calling hours open.")
    time_zone: str | None = None
    fields: dict[str, str] = Field(default_factory=dict)
    result: NumberResult | None = Field(default=None, description="Once the call has ended.")


class CampaignView(BaseModel):
    campaign_id: str
    name: str
    status: CampaignStatus
    created_at: datetime
    cancelled_at: datetime | None = None
    completed_at: datetime | None = None
    task: str
    calling_hours: CallingHours
    max_concurrent_calls: int
    total: int
    live_calls: int = Field(description="Calls of the campaign holding a slot now (being placed or live).")
    counts: dict[NumberState, int] = Field(description="Numbers per state (every state, 0 included).")
    numbers: list[CampaignNumberView]


def number_view(campaign: Campaign, number: CampaignNumber) -> CampaignNumberView:
    slot = campaign.live.get(str(number.row))
    return CampaignNumberView(
        row=number.row,
        phone_number=number.phone_number,
        state=campaign.state_of(number),
        call_id=slot.call_id if slot is not None else number.call_id,
        not_before=campaign.deferred.get(str(number.row)),
        time_zone=number.time_zone,
        fields=number.fields,
        result=number.result,
    )


def campaign_view(campaign: Campaign, numbers: list[CampaignNumber]) -> CampaignView:
    views = [number_view(campaign, n) for n in numbers]
    counted = Counter(v.state for v in views)
    return CampaignView(
        campaign_id=campaign.campaign_id,
        name=campaign.name,
        status=campaign.status,
        created_at=campaign.created_at,
        cancelled_at=campaign.cancelled_at,
        completed_at=campaign.completed_at,
        task=campaign.template.task,
        calling_hours=campaign.hours,
        max_concurrent_calls=campaign.max_concurrent_calls,
        total=campaign.total,
        live_calls=len(campaign.live),
        counts={state: counted.get(state, 0) for state in NumberState},
        numbers=views,
    )
