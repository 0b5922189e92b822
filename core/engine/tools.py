"""The tools the model can call. Each enforces its own rules whatever the model says.

Tools work on the turn's working copy of the call (so later rounds see their effect) and record each
change as an operation replayed by the turn's mutation on the freshest stored call. Numbers, the task
and the claim schema come from ``call.initiate`` only: ``send_sms`` always texts the caller,
``talk_to_human`` always transfers to the configured agent, and no tool can change the task or schema.
A tool refuses by raising ``ToolError``; dispatch, validation and the notes about ignored arguments are
``core.engine.toolbox``'s.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field

from core.engine.outcome import ChangeLanguage, EndCall, TransferToAgent, TurnAction
from core.engine.search import (
    DocumentSearch,
    DocumentSearchNotConfiguredError,
    DocumentSearchUnavailable,
    NoDocumentSearch,
    hits_as_tool_result,
)
from core.engine.toolbox import (
    IgnoredArguments,
    ToolArgumentError,
    ToolDispatcher,
    ToolError,
    parse_arguments,
    tool,
)
from core.errors import StoreUnavailable
from core.models import Action, Call, ClaimValueError, Message, Persona, Reminder, utcnow
from core.models.phone_policy import PhonePolicy
from core.ports import EventInbox, SmsSender

SPEECH_SPEED_MIN = 0.75
SPEECH_SPEED_MAX = 1.5
SMS_MAX_CHARS = 640
SMS_PER_TURN = 2
MAX_REMINDERS = 20

Operation = Callable[[Call], None]


class ClaimUpdate(BaseModel):
    field: Annotated[str, Field(description="Claim field name, as listed")]
    value: Annotated[
        str | int | float | bool | None,
        Field(description="In the field's type (ISO 8601 dates, E.164 phone numbers)"),
    ]


def repair_claim_arguments(arguments: dict[str, Any]) -> dict[str, Any]:
    """Accept the shapes models often send instead of {"updates": [{"field", "value"}]}."""
    if "updates" in arguments:
        updates = arguments["updates"]
        if isinstance(updates, dict):
            return {"updates": [{"field": k, "value": v} for k, v in updates.items()]}
        if isinstance(updates, str):
            try:
                return repair_claim_arguments({"updates": parse_arguments(updates)[0]})
            except ToolArgumentError:
                return arguments
        return arguments
    if "field" in arguments and "value" in arguments:
        return {"updates": [{"field": arguments["field"], "value": arguments["value"]}]}
    if arguments and all(isinstance(k, str) for k in arguments):
        return {"updates": [{"field": k, "value": v} for k, v in arguments.items()]}
    return arguments


@dataclass
class Toolbox(ToolDispatcher):
    """The tools of one turn, bound to the turn's working copy of the call."""

    call: Call
    timezone: str = "UTC"
    sms: SmsSender | None = None
    search: DocumentSearch = field(default_factory=NoDocumentSearch)
    clock: Callable[[], datetime] | None = None
    # With an inbox and the turn's id, each SMS of a turn is sent once across redeliveries of its event.
    inbox: EventInbox | None = None
    turn_id: str = ""
    operations: list[Operation] = field(default_factory=list)
    actions: list[TurnAction] = field(default_factory=list)
    notes: list[Message] = field(default_factory=list)
    terminal: bool = False
    language_changed_to: str | None = None
    # Toll-fraud guard of the SMS (None: no check, for tests of other tools) and the per-call cap.
    phone_policy: PhonePolicy | None = None
    max_sms_per_call: int = 3
    _sms_sent: int = 0

    def _record(self, operation: Operation) -> None:
        operation(self.call)
        self.operations.append(operation)

    def _now(self) -> datetime:
        return self.clock() if self.clock else utcnow()

    # -- tools: each is described to the model by its signature and docstring --------------------

    @tool(repair=repair_claim_arguments)
    async def update_claim(self, *, updates: list[ClaimUpdate]) -> str:
        """Save claim field values the caller gave, several at once if needed. Invalid values are not
        saved and come back as errors."""
        schema = self.call.initiate.claim_schema
        saved: dict[str, Any] = {}
        errors: list[str] = []
        for update in updates:
            try:
                saved[update.field] = schema.field(update.field).coerce(update.value)
            except ClaimValueError as exc:
                errors.append(str(exc))
        if saved:
            values = dict(saved)
            self._record(lambda call: call.claim.update(values))
        parts = []
        if saved:
            parts.append(
                "Saved: " + ", ".join(f"{k}={json.dumps(v, ensure_ascii=False)}" for k, v in saved.items())
            )
        if errors:
            parts.append("Error, not saved: " + "; ".join(errors) + ". Correct the value or ask the caller.")
        missing = schema.missing(self.call.claim)
        parts.append("Still missing: " + (", ".join(missing) if missing else "nothing"))
        text = ". ".join(parts)
        if errors and not saved:
            raise ToolError(text)
        return text

    @tool()
    async def new_claim(self) -> str:
        """Clear the claim to declare another incident, only if the caller asks for a new claim."""
        self._record(lambda call: call.reset_claim())
        return "A new empty claim was started. Collect its fields from the beginning."

    @tool()
    async def new_or_updated_reminder(
        self,
        *,
        title: Annotated[str, Field(min_length=1, max_length=200)],
        description: Annotated[str, Field(max_length=2000)] = "",
        due_date_time: Annotated[str, Field(min_length=1)],
        owner: Annotated[str, Field(max_length=100)] = "",
    ) -> str:
        """Create a follow-up reminder, or update the one with the same title.

        Args:
            title: Short task title.
            description: What to do, with details.
            due_date_time: ISO 8601, e.g. 2026-11-26T10:00:00 (the call's time zone if no offset).
            owner: assistant (you will call the caller back when it is due), customer or agent.
        """
        try:
            due = datetime.fromisoformat(due_date_time.strip().replace("Z", "+00:00"))
        except ValueError:
            raise ToolError(
                f"due_date_time '{due_date_time}' is not an ISO 8601 date-time (2026-11-26T10:00:00)."
            ) from None
        if due.tzinfo is None:
            due = due.replace(tzinfo=ZoneInfo(self.timezone))
        now = self._now()
        if due < now - timedelta(days=1):
            raise ToolError(
                f"due_date_time {due.isoformat()} is in the past; today is {now.date().isoformat()}."
            )
        key = title.strip().casefold()
        existing = next((r for r in self.call.reminders if r.title.strip().casefold() == key), None)
        if existing is None and len(self.call.reminders) >= MAX_REMINDERS:
            raise ToolError(f"this call already has {MAX_REMINDERS} reminders; update one instead.")
        reminder = Reminder(
            title=title.strip(), description=description.strip(), due_at=due, owner=owner.strip(),
            created_at=existing.created_at if existing else now, updated_at=now,
        )  # fmt: skip

        def upsert(call: Call) -> None:
            for index, current in enumerate(call.reminders):
                if current.title.strip().casefold() == key:
                    # Its call-back's state stays while the date does (a new date is a new promise).
                    kept = current.callback if current.due_at == reminder.due_at else None
                    update = {"created_at": current.created_at, "callback": kept}
                    call.reminders[index] = reminder.model_copy(update=update)
                    return
            # The cap holds on the stored call too: concurrent turns each saw room in their own copy.
            if len(call.reminders) < MAX_REMINDERS:
                call.reminders.append(reminder.model_copy())

        self._record(upsert)
        verb = "Updated" if existing else "Created"
        owner = reminder.owner or "unassigned"
        return f"{verb} reminder '{reminder.title}' due {due.isoformat()} (owner: {owner})."

    @tool()
    async def search_documents(
        self, *, query: Annotated[str, Field(min_length=2, max_length=500)], top: int = 3
    ) -> str:
        """Search the company's documents (policies, procedures, coverage) for facts.

        Args:
            query: Short question or keywords, in the caller's language.
            top: Passages to return, 1 to 5.
        """
        top = min(max(top, 1), 5)
        try:
            hits = await self.search.search(query, top)
        except DocumentSearchNotConfiguredError:
            return "No documents are configured for this service: answer from the task and the claim only."
        except DocumentSearchUnavailable:
            # Said as a result, not a ToolError: the model should carry on without the documents.
            return (
                "Document search is unavailable right now. Do not guess facts from the documents: tell the"
                " caller you cannot check this at the moment, and offer a reminder or a human agent."
            )
        if not hits:
            return "No document matches this query."
        return hits_as_tool_result(hits[:top])

    # A model told to "text my friend" passes a recipient: send_sms has none, the note says why.
    @tool(
        ignored=IgnoredArguments(
            note="The SMS can only go to the caller's own number, which was used.",
            names=("to", "phone_number", "recipient", "number"),
        )
    )
    async def send_sms(
        self, *, message: Annotated[str, Field(min_length=1, max_length=SMS_MAX_CHARS)]
    ) -> str:
        """Text (SMS) the caller's phone; no other recipient is possible.

        Args:
            message: Short, in the caller's language.
        """
        if self.sms is None:
            raise ToolError("SMS is not available in this deployment.")
        if self._sms_sent >= SMS_PER_TURN:
            raise ToolError("too many SMS in one answer; send one message with everything.")
        sent_before = sum(
            1 for m in self.call.messages if m.action is Action.SMS and m.persona is Persona.ASSISTANT
        )
        if sent_before + self._sms_sent >= self.max_sms_per_call:
            raise ToolError(f"this call already sent {self.max_sms_per_call} SMS, the most it may send.")
        number = self.call.initiate.phone_number
        if self.phone_policy is not None and not self.phone_policy.allows(number):
            raise ToolError("SMS cannot be sent to the caller's number (not allowed in this deployment).")
        key = f"{self.turn_id}#sms:{self._sms_sent}"
        if not await self._first_send(key):
            self._sms_sent += 1  # an earlier attempt of this turn sent it
            return "The SMS was sent to the caller."
        if not await self.sms.send(number, message):
            await self._unsent(key)
            raise ToolError("the SMS could not be sent.")
        self._sms_sent += 1
        sent = Message(persona=Persona.ASSISTANT, action=Action.SMS, content=message)
        self.notes.append(sent)
        return "The SMS was sent to the caller."

    async def _first_send(self, key: str) -> bool:
        """False when an earlier attempt of this turn (a redelivered event) sent this SMS already."""
        if self.inbox is None or not self.turn_id:
            return True
        try:
            return await self.inbox.claim(self.call.call_id, key)
        except StoreUnavailable:
            return True  # the inbox is down: better sent twice than not at all

    async def _unsent(self, key: str) -> None:
        if self.inbox is not None and self.turn_id:
            with contextlib.suppress(StoreUnavailable):
                await self.inbox.release(self.call.call_id, key)

    # A model told to "transfer me to +1..." passes a number: talk_to_human takes none.
    @tool(
        ignored=IgnoredArguments(
            note="Transfers only go to the company's agent; the number given was ignored.",
            values=re.compile(r"\d{4}"),
        )
    )
    async def talk_to_human(self) -> str:
        """Transfer the call to the company's human agent (the number is fixed)."""
        number = self.call.initiate.agent_phone_number
        if self.phone_policy is not None and not self.phone_policy.allows(number):
            raise ToolError("no human agent can be reached from this call; offer a call back instead.")
        if not any(isinstance(a, TransferToAgent) for a in self.actions):
            self.actions.append(TransferToAgent(number=number))
        self.terminal = True
        return "The transfer to a human agent will start after your answer."

    @tool()
    async def end_call(self) -> str:
        """Hang up, once the caller is done and you said goodbye."""
        if not any(isinstance(a, EndCall) for a in self.actions):
            self.actions.append(EndCall())
        self.terminal = True
        return "The call will end after your answer."

    @tool()
    async def change_language(self, *, language: Annotated[str, Field(min_length=2, max_length=40)]) -> str:
        """Switch to another of the call's languages, when the caller asks or speaks it.

        Args:
            language: BCP 47 code, e.g. fr-FR.
        """
        options = self.call.initiate.languages
        wanted = language.strip().lower()
        chosen = next(
            (
                o
                for o in options
                if wanted in (o.code.lower(), o.name.lower())
                or (len(wanted) == 2 and o.code.lower().startswith(wanted))
            ),
            None,
        )
        if chosen is None:
            available = ", ".join(f"{o.code} ({o.name})" for o in options)
            raise ToolError(f"'{language}' is not available. Available languages: {available}.")
        code = chosen.code

        def set_language(call: Call) -> None:
            call.language = code

        self._record(set_language)
        self.actions = [a for a in self.actions if not isinstance(a, ChangeLanguage)]
        self.actions.append(ChangeLanguage(code=code))
        self.language_changed_to = code
        return f"Language changed to {chosen.name} ({code}). Continue in {chosen.name}."

    @tool()
    async def speech_speed(self, *, speed: float) -> str:
        """Speak slower or faster, when the caller asks.

        Args:
            speed: 1.0 is normal, 0.75 slow to 1.5 fast.
        """
        bounded = round(min(max(speed, SPEECH_SPEED_MIN), SPEECH_SPEED_MAX), 2)

        def set_speed(call: Call) -> None:
            call.speech_speed = bounded

        self._record(set_speed)
        note = "" if bounded == speed else f" ({speed} is outside {SPEECH_SPEED_MIN}..{SPEECH_SPEED_MAX})"
        return f"Speech speed set to {bounded}{note}."
