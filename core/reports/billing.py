"""The cost and webhook parts of the report pages (view models from the public view of a call)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from core.api.public import PublicCall
from core.models.cost import CallCost


def money(amount: float, currency: str) -> str:
    """Four decimals: a call costs fractions of a cent."""
    return f"{amount:.4f} {currency}"


def _when(value: datetime | None) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC") if value else ""


@dataclass(frozen=True)
class CostLineView:
    item: str
    quantity: str
    unit_price: str
    amount: str


@dataclass(frozen=True)
class CostView:
    total: str
    lines: list[CostLineView]
    priced_at: str


@dataclass(frozen=True)
class WebhookLine:
    type: str
    url: str
    status: str
    event_id: str
    attempts: list[str] = field(default_factory=list)


def cost_view(cost: CallCost | None) -> CostView | None:
    if cost is None:
        return None
    lines = [
        CostLineView(
            item=line.item,
            quantity=f"{line.quantity:g}"
            if line.unit.startswith("1M")
            else f"{line.quantity:.4g} {line.unit}",
            unit_price=f"{line.unit_price:g} {cost.currency} / {line.unit}",
            amount=money(line.amount, cost.currency),
        )
        for line in cost.lines
    ]
    return CostView(total=money(cost.total, cost.currency), lines=lines, priced_at=_when(cost.priced_at))


def webhook_lines(call: PublicCall) -> list[WebhookLine]:
    return [
        WebhookLine(
            type=d.type.value,
            url=d.url,
            status=d.status.value,
            event_id=d.event_id,
            attempts=[
                f"{_when(a.at)}: {a.status_code if a.status_code is not None else a.error or 'no answer'}"
                for a in d.attempts
            ],
        )
        for d in call.webhooks
    ]


def row_cost(call: PublicCall) -> str:
    return money(call.cost.total, call.cost.currency) if call.cost is not None else ""


def total_text(calls: list[PublicCall]) -> str:
    totals: dict[str, float] = {}
    for call in calls:
        if call.cost is not None:
            totals[call.cost.currency] = totals.get(call.cost.currency, 0.0) + call.cost.total
    return ", ".join(money(amount, currency) for currency, amount in sorted(totals.items()))
