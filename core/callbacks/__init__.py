"""Call-backs: the assistant calls people back when a reminder it owns is due.

- ``scheduler``: what the timer does each run (find the due call-backs, claim each one atomically on
  the call document, check opt-outs and calling hours, place the call, read the outcome of the calls
  it placed and schedule a retry when nobody answered or an answering machine did).
- ``placing``: the call-back call itself (its task is the reminder; it names the original call).
- ``hours``: calling hours in the person's time zone(s).
- ``optouts``: the numbers never to call (``POST /optout``, ``GET /optout``).

The answering machine on a call-back call is the call flow's (``core.callflow.voicemail``): a short
message is left, the bot hangs up, and the scheduler retries later.
"""
