"""The call-back rules without I/O: calling hours and zones, voicemail wording, the new call's task."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core.callbacks.hours import next_window, within_hours, zones_for
from core.callbacks.placing import callback_call, callback_call_id
from core.callflow.voicemail import looks_like_machine
from core.models import CallStatus, Reminder
from core.models.reminder import CallbackStatus, ReminderCallback
from core.settings import Settings
from core.settings_callbacks import CallbacksSettings
from tests.conftest import make_call

PARIS = CallbacksSettings(calling_hours="09:00-20:00", calling_days="mon,tue,wed,thu,fri,sat")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def test_zones_come_from_the_number_region() -> None:
    assert zones_for("+33612345678", PARIS, "UTC") == ("Europe/Paris",)
    assert "America/Los_Angeles" in zones_for("+14155550100", PARIS, "UTC")
    assert zones_for("+81312345678", PARIS, "Asia/Tokyo") == ("Asia/Tokyo",)  # region not listed


def test_hours_in_the_person_zone() -> None:
    zones = ("Europe/Paris",)
    assert within_hours(at("2026-03-02T08:30:00+00:00"), zones, PARIS)  # Monday 9:30 in Paris
    assert not within_hours(at("2026-03-02T19:30:00+00:00"), zones, PARIS)  # 20:30 in Paris
    assert not within_hours(at("2026-03-08T10:00:00+00:00"), zones, PARIS)  # a Sunday
    # Saturday 20:30 in Paris: the next window is Monday 9:00 Paris time.
    assert next_window(at("2026-03-07T19:30:00+00:00"), zones, PARIS) == at("2026-03-09T09:00:00+01:00")


def test_a_number_of_several_zones_waits_for_all_of_them() -> None:
    us = ("America/New_York", "America/Los_Angeles")
    # 9:00 in New York is 6:00 in Los Angeles: the call waits for 9:00 there.
    opening = next_window(at("2026-03-03T14:00:00+00:00"), us, PARIS)
    assert opening == at("2026-03-03T09:00:00-08:00")
    narrow = CallbacksSettings(calling_hours="09:00-10:00")
    assert next_window(at("2026-03-03T14:00:00+00:00"), us, narrow) is None


@pytest.mark.parametrize(
    ("text", "languages"),
    [
        ("Hi, you've reached Jane. Please leave a message after the tone.", ["en-US"]),
        ("Bonjour, vous êtes bien sur la messagerie de Paul, laissez un message après le bip.", ["fr-FR"]),
        ("Hola, no estoy disponible, deje su mensaje después de la señal.", ["es-ES"]),
        (
            "Guten Tag, leider nicht erreichbar. Hinterlassen Sie eine Nachricht nach dem Signalton.",
            ["de-DE"],
        ),
        ("Le numéro que vous avez demandé... messagerie", ["en-US"]),  # other languages are tried too
        (" ".join(["word"] * 40), ["en-US"]),  # a long monologue right after connecting
    ],
)
def test_voicemail_greetings_are_recognized(text: str, languages: list[str]) -> None:
    assert looks_like_machine(text, languages, min_words=30)


@pytest.mark.parametrize("text", ["Hello?", "Yes, speaking.", "Allô, oui ?", "Jane Doe, who is this?"])
def test_people_answering_are_not_machines(text: str) -> None:
    assert not looks_like_machine(text, ["en-US", "fr-FR"], min_words=30)


def test_the_callback_call_carries_the_reminder_and_the_case() -> None:
    settings = Settings()
    original = make_call("+14155550100", task="Help with the car claim.")
    original.claim = {"caller_name": "Jane Doe"}
    original.language = "en-US"
    reminder = Reminder(
        title="Quote ready", description="Say the quote is 2000 EUR.", due_at=datetime.now(UTC)
    )
    call = callback_call(settings, original, reminder, attempt=2)
    assert (
        call.call_id
        == callback_call_id(original.call_id, reminder, 2)
        != callback_call_id(original.call_id, reminder, 1)
    )
    assert "Quote ready" in call.initiate.task and "2000 EUR" in call.initiate.task
    assert "Jane Doe" in call.initiate.task and "car claim" in call.initiate.task
    assert call.callback_of is not None and call.callback_of.call_id == original.call_id
    assert call.callback_of.attempt == 2 and call.language_chosen


def test_only_ended_calls_with_an_assistant_reminder_are_due() -> None:
    call = make_call()
    due = datetime(2026, 3, 2, 10, tzinfo=UTC)
    call.reminders = [Reminder(title="a", due_at=due, owner="customer")]
    call.status = CallStatus.ENDED
    assert call.callback_due is None
    call.reminders.append(Reminder(title="b", due_at=due, owner="Amélie"))  # the bot's own name
    assert call.callback_due == "2026-03-02T10:00:00.000000Z"
    call.reminders[1].callback = ReminderCallback(not_before=due + timedelta(hours=1))
    assert call.callback_due == "2026-03-02T11:00:00.000000Z"
    call.reminders[1].callback = ReminderCallback(status=CallbackStatus.DONE)
    assert call.callback_due is None
    call.status = CallStatus.CONNECTED
    call.reminders[1].callback = None
    assert call.callback_due is None  # never during the person's own call
