"""The small JSON bodies of the HTTP API besides the call request and the public call."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field, RootModel


class ErrorDetail(BaseModel):
    message: str = Field(description="What is wrong, for a person to read.")
    problems: list[str] | None = Field(
        default=None, description="Every problem found in the input, each naming its field."
    )


class ErrorBody(BaseModel):
    """The body of every 4xx answer of the JSON API (and of a 502 from POST /call)."""

    error: ErrorDetail


class Readiness(BaseModel):
    status: Literal["ok", "fail"] = Field(description='"ok" when every dependency answers, else "fail".')
    checks: dict[str, str] = Field(description='Each dependency: "ok" or why it failed.')


class CloudEvent(BaseModel):
    """One mid-call event of Azure Communication Services, CloudEvents 1.0 JSON."""

    id: str
    type: str = Field(description="e.g. Microsoft.Communication.CallConnected")
    source: str | None = None
    time: str | None = None
    specversion: str | None = None
    data: dict[str, Any] | None = None


class CallbackEvents(RootModel[list[CloudEvent]]):
    """A batch of mid-call events, as ACS posts them."""


class CallbackAck(BaseModel):
    handled: int = Field(ge=0, description="How many events were handled (duplicates excluded).")
