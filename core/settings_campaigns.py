"""The ``CAMPAIGNS__*`` settings: outbound campaigns (core.campaigns), paced under a concurrency cap.

Kept beside core/settings.py (which includes this section) so the settings tree stays one object.
"""

from __future__ import annotations

from datetime import time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, Field, field_validator


class CampaignSettings(BaseModel):
    # Cosmos DB container (in COSMOS__DATABASE) of campaign and number documents, partitioned by
    # /campaign_id.
    container: str = "campaigns"
    # Storage queue whose messages wake a campaign up to place its next calls.
    queue: str = "campaign-calls"
    # Calls of one campaign live at once when the request does not say.
    max_concurrent_calls: int = Field(default=5, ge=1, le=100)
    # The most a request may ask for.
    max_concurrent_calls_limit: int = Field(default=20, ge=1, le=1000)
    max_numbers: int = Field(default=1000, ge=1, le=10000)
    # Calling hours when the request does not say: local time, in the time zone below.
    calling_hours_start: time = time(9, 0)
    calling_hours_end: time = time(20, 0)
    time_zone: str = "UTC"
    # While calls are live, the campaign looks at them again this often: a call whose end was never
    # delivered frees its slot then.
    watch_interval_s: float = Field(default=300.0, gt=0, le=86400)
    # A slot claimed this long ago whose call was never created (a worker died in between) is
    # placed again.
    orphan_after_s: float = Field(default=120.0, gt=0, le=86400)

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"'{value[:60]}' is not an IANA time zone (e.g. Europe/Paris)") from None
        return value
