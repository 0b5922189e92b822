"""GET /report/campaign/{campaign_id}: a campaign's progress and each number's result, as HTML
(escaped by the template; every row links to its call's report page)."""

from __future__ import annotations

from dataclasses import dataclass

from core.api.campaign_view import CampaignNumberView, CampaignView
from core.reports.render import render
from core.reports.views import Links, _when


@dataclass(frozen=True)
class NumberLine:
    row: int
    phone_number: str
    state: str
    call_url: str | None
    outcome: str
    not_before: str
    fields: str


def _outcome(number: CampaignNumberView) -> str:
    result = number.result
    if result is None:
        return ""
    if result.connected:
        filled = len([v for v in result.claim.values() if v not in (None, "")])
        return f"connected, {filled} claim field(s) filled"
    return result.end_reason or result.call_status


def report_campaign_page(view: CampaignView, *, code: str | None) -> str:
    links = Links(code)
    lines = [
        NumberLine(
            row=n.row,
            phone_number=n.phone_number,
            state=n.state.value,
            call_url=links.call(n.call_id) if n.call_id else None,
            outcome=_outcome(n),
            not_before=_when(n.not_before),
            fields="; ".join(f"{k}: {v}" for k, v in n.fields.items()),
        )
        for n in view.numbers
    ]
    hours = view.calling_hours
    return render(
        "campaign.html",
        title=f"Campaign {view.name or view.campaign_id}",
        campaign=view,
        created_at=_when(view.created_at),
        ended_at=_when(view.cancelled_at or view.completed_at),
        hours=f"{hours.start:%H:%M}-{hours.end:%H:%M} {hours.time_zone}, days {','.join(map(str, hours.days))}",
        counts=[(state.value, count) for state, count in view.counts.items()],
        lines=lines,
        home_url=links.url("/report"),
    )
