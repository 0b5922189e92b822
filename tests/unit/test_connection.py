"""The typed state of the live connection: pure transitions and what they decide."""

from __future__ import annotations

from core.models import Call, CallStatus, Connection, EndingKind, Message, Persona, PostCallStatus
from tests.conftest import make_call


def test_an_ending_waits_for_its_announcement_and_starts_once() -> None:
    connection = Connection()
    assert connection.request_ending(EndingKind.HANGUP, "turn:t1:2")
    assert not connection.request_ending(EndingKind.TRANSFER, "turn:t2:0")  # one ending at a time
    assert connection.start_pending() is None  # not played yet
    connection.mark_played("turn:t1:1")
    assert connection.start_pending() is None  # an earlier sentence is not the announcement
    connection.mark_played("turn:t1:2")
    started = connection.start_pending()
    assert started is not None and started.kind is EndingKind.HANGUP
    assert connection.start_pending() is None  # exactly once
    connection.retry_pending("turn:t1:2")  # the hang-up request failed: a redelivery may run it
    assert connection.start_pending() is not None


def test_a_silent_ending_counts_as_played_and_played_memory_is_bounded() -> None:
    connection = Connection()
    for index in range(20):
        connection.mark_played(f"turn:t:{index}")
    assert len(connection.played) == 8 and connection.played[-1] == "turn:t:19"
    assert connection.request_ending(EndingKind.TRANSFER, "turn:t:none", silent=True)
    started = connection.start_pending()
    assert started is not None and started.kind is EndingKind.TRANSFER


def test_a_declined_transfer_lets_the_conversation_go_on() -> None:
    connection = Connection()
    connection.request_ending(EndingKind.TRANSFER, "turn:t:0")
    connection.cancel_ending()
    assert connection.accepts_speech and connection.pending is None
    assert connection.accept_transfer() and not connection.accept_transfer()


def test_finalize_enqueues_post_call_once_per_connection_and_resume_resets_the_connection() -> None:
    call = make_call()
    call.attach("conn-1")
    call.connection.greet("conn-1", "server-1")
    call.begin_turn("t1", Message(persona=Persona.HUMAN, content="hello", source_id="t1:caller"))
    call.begin_turn("t1", Message(persona=Persona.HUMAN, content="hello", source_id="t1:caller"))
    assert call.counters.turns == 1 and call.connection.is_open("t1")
    assert call.finalize("conn-1", "ev-1") and not call.finalize("conn-1", "ev-1")
    assert call.status is CallStatus.ENDED and call.post_call.status is PostCallStatus.ENQUEUED
    call.resume()
    assert call.resumed and call.connection == Connection() and call.status is CallStatus.CREATED
    assert call.is_old_connection("conn-1") and call.connection_id is None
    call.attach("conn-2")
    assert call.finalize("conn-2", "ev-2")  # the second connection gets its own post-call job


def test_documents_written_with_flags_still_load() -> None:
    """Call documents stored before the typed connection state kept it in a free-form dict."""
    document = make_call().model_dump(mode="json")
    for name in ("connection", "end_reason", "language_chosen", "resumed_count", "old_connections"):
        del document[name]  # written by this version only
    document["flags"] = {
        "greeted": "conn-1",
        "open_turn": "t9",
        "ending": True,
        "pending_action": {"kind": "transfer", "context": "turn:t9:1", "started": False},
        "played": ["turn:t9:0"],
        "transferred": False,
        "language_chosen": True,
        "resumed": True,
        "old_connections": ["conn-0"],
        "post_call_for": "conn-0",
        "error": "ConnectFailed (0)",
        "post_call_lease": {"owner": "m1", "until": "2026-01-01T00:00:00+00:00"},
    }
    call = Call.model_validate(document)
    assert call.connection.greeted == "conn-1" and call.connection.is_open("t9")
    assert call.connection.pending is not None and call.connection.pending.kind is EndingKind.TRANSFER
    assert call.language_chosen and call.resumed and call.old_connections == ["conn-0"]
    assert call.post_call.for_connection == "conn-0" and call.end_reason == "ConnectFailed (0)"
    assert "flags" not in call.model_dump()
