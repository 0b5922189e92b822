"""The ``CALLBACKS__*`` settings: the assistant calling people back when a reminder it owns is due,
within calling hours, and what it does on an answering machine (core.callbacks).

Kept beside core/settings.py (which includes this section) so the settings tree stays one object.
"""

from __future__ import annotations

import re
from datetime import time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, Field, field_validator

_HOURS = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# Regions whose numbers span several time zones: a call-back goes out only when the time is within
# calling hours in every zone listed (the number alone does not say which, without the full
# phonenumbers time-zone data that phonenumberslite leaves out).
DEFAULT_REGION_TIMEZONES = (
    "US:America/New_York America/Chicago America/Denver America/Los_Angeles,"
    "CA:America/Halifax America/Toronto America/Winnipeg America/Edmonton America/Vancouver,"
    "FR:Europe/Paris,ES:Europe/Madrid,GB:Europe/London,DE:Europe/Berlin"
)


def _zone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r} (IANA names, e.g. Europe/Paris)") from None
    return name


class CallbacksSettings(BaseModel):
    enabled: bool = Field(
        default=True, description="The timer calls people back when a reminder the assistant owns is due"
    )
    schedule: str = Field(
        default="0 */1 * * * *",
        description="NCRONTAB schedule (6 fields, seconds first) of the call-back timer (`callbacks_timer`)",
    )
    calling_hours: str = Field(
        default="09:00-20:00",
        description="Local time window of the person called back, `HH:MM-HH:MM` (end excluded; `00:00-24:00` = always)",
    )
    calling_days: str = Field(
        default="mon,tue,wed,thu,fri,sat",
        description="Days call-backs may be placed on, in the person's time zone, comma-separated (`mon`..`sun`)",
    )
    region_timezones: str = Field(
        default=DEFAULT_REGION_TIMEZONES,
        description="Time zones of the numbers' regions, `REGION:Zone Zone,...`: the time must be within hours in "
        "every zone listed (phonenumberslite has no per-number zones); other regions use CONVERSATION__TIMEZONE",
    )
    max_attempts: int = Field(
        default=3,
        ge=1,
        le=10,
        description="Calls placed for one reminder at most (the first and its retries)",
    )
    retry_delay_minutes: float = Field(
        default=60.0, ge=0, le=7 * 24 * 60,
        description="Wait before the next attempt after no answer or an answering machine (minutes)",
    )  # fmt: skip
    lease_s: float = Field(
        default=300.0, gt=0, le=3600,
        description="How long an instance placing a call-back holds it (s); a lost one is taken over after",
    )  # fmt: skip
    optout_table: str = Field(
        default="optouts",
        description="Table (in the STORAGE__* account) of the numbers that opted out of calls",
    )
    batch_size: int = Field(
        default=50, ge=1, le=1000, description="Calls with a due call-back read per timer run"
    )
    task: str = Field(
        default="Call {name} back as promised: {title}. {description} This call follows an earlier call "
        "({when}) about: {task}",
        max_length=4000,
        description="Task of a call-back call; `{title}`, `{description}`, `{when}` (the earlier call's date), "
        "`{task}` (the earlier call's task) and `{name}` are filled in",
    )
    voicemail_message: str = Field(
        default="Hello, this is {bot_name} from {bot_company}, calling you back about {title}. "
        "We will try again later. Goodbye.",
        max_length=1000,
        description="Message left on an answering machine, then the bot hangs up; `{bot_name}`, `{bot_company}`, "
        "`{title}` are filled in",
    )
    voicemail_min_words: int = Field(
        default=30, ge=5, le=500,
        description="A first utterance this long (words) right after connecting is taken for a voicemail greeting",
    )  # fmt: skip

    @field_validator("calling_hours")
    @classmethod
    def _hours(cls, value: str) -> str:
        window(value)
        return value.strip()

    @field_validator("calling_days")
    @classmethod
    def _days(cls, value: str) -> str:
        days = [d.strip().lower()[:3] for d in value.split(",") if d.strip()]
        unknown = [d for d in days if d not in DAYS]
        if unknown or not days:
            raise ValueError(f"calling days must be among {', '.join(DAYS)}; got {value!r}")
        return ",".join(days)

    @field_validator("region_timezones")
    @classmethod
    def _regions(cls, value: str) -> str:
        region_zones(value)
        return value

    @property
    def days(self) -> frozenset[int]:
        """The calling days as ``datetime.weekday()`` numbers."""
        return frozenset(DAYS.index(d) for d in self.calling_days.split(","))

    @property
    def window(self) -> tuple[time, time | None]:
        return window(self.calling_hours)

    @property
    def zones(self) -> dict[str, tuple[str, ...]]:
        return region_zones(self.region_timezones)


def window(text: str) -> tuple[time, time | None]:
    """``HH:MM-HH:MM`` as (start, end); end None means midnight (24:00). Start must be before end."""
    match = _HOURS.match(text)
    if match is None:
        raise ValueError(f"calling hours must look like 09:00-20:00; got {text!r}")
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    if h1 > 23 or m1 > 59 or m2 > 59 or h2 > 24 or (h2 == 24 and m2):
        raise ValueError(f"calling hours {text!r}: hours 0-24, minutes 0-59")
    start, end = time(h1, m1), (None if h2 == 24 else time(h2, m2))
    if end is not None and end <= start:
        raise ValueError(f"calling hours {text!r}: the start must be before the end (same day)")
    return start, end


def region_zones(text: str) -> dict[str, tuple[str, ...]]:
    found: dict[str, tuple[str, ...]] = {}
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        region, sep, zones = item.partition(":")
        if not sep or not re.fullmatch(r"[A-Za-z]{2}", region.strip()) or not zones.strip():
            raise ValueError(
                f"region time zones must look like US:America/New_York America/Chicago; got {item!r}"
            )
        found[region.strip().upper()] = tuple(_zone(z) for z in zones.split())
    return found
