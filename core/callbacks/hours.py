"""Calling hours in the called person's time zone.

The zone comes from the number's region (phonenumbers' ``region_code_for_number``). Per-number zones
(``phonenumbers.timezone``) need the library's time-zone data, which phonenumberslite, the package
this product installs, leaves out; so a region maps to the zones CALLBACKS__REGION_TIMEZONES lists,
and the time must be within hours in every one of them (a US number may be in any of its zones).
A region not listed uses CONVERSATION__TIMEZONE.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import phonenumbers

from core.settings_callbacks import CallbacksSettings

# How far ahead the next window is looked for (a week covers every combination of calling days).
LOOKAHEAD_DAYS = 8


def zones_for(phone_number: str, settings: CallbacksSettings, default_zone: str) -> tuple[str, ...]:
    try:
        region = phonenumbers.region_code_for_number(phonenumbers.parse(phone_number, None))
    except phonenumbers.NumberParseException:
        region = None
    return settings.zones.get(region or "", ()) or (default_zone,)


def within_hours(moment: datetime, zones: tuple[str, ...], settings: CallbacksSettings) -> bool:
    start, end = settings.window
    days = settings.days
    for name in zones:
        local = moment.astimezone(ZoneInfo(name))
        clock = local.time().replace(tzinfo=None)
        if local.weekday() not in days or clock < start or (end is not None and clock >= end):
            return False
    return True


def next_window(moment: datetime, zones: tuple[str, ...], settings: CallbacksSettings) -> datetime | None:
    """The earliest time from ``moment`` on that is within hours in every zone; None when the zones'
    windows never overlap (hours too narrow for the region)."""
    if within_hours(moment, zones, settings):
        return moment
    start, _ = settings.window
    # Where the windows overlap, the overlap starts when the last zone's window opens: some zone's
    # window start is the answer, if there is one.
    candidates = []
    for name in zones:
        zone = ZoneInfo(name)
        today = moment.astimezone(zone).date()
        for offset in range(LOOKAHEAD_DAYS):
            opening = datetime.combine(today + timedelta(days=offset), start, tzinfo=zone)
            if opening > moment:
                candidates.append(opening)
    for candidate in sorted(candidates):
        if within_hours(candidate, zones, settings):
            return candidate
    return None
