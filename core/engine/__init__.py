"""The conversation engine: the bot's brain, driven without telephony.

Light on import: submodules load on first attribute access (the openai SDK only on the first request).

    engine = TurnEngine(settings, chat_model, sms=..., search=...)   # chat_model: core.ports.ChatModel
    turn = engine.run(call, None, turn_id=event_id, stop=handle.stop, extra_messages=[caller])
    async for speech in turn:        # Speech(text, style): play each as it comes
        ...
    await store.update(call.call_id, turn.outcome.mutation)
    for action in turn.outcome.actions: ...   # TransferToAgent | EndCall | ChangeLanguage
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from core.engine.outcome import ChangeLanguage, EndCall, Speech, TransferToAgent, TurnAction, TurnOutcome
    from core.engine.phrases import phrase
    from core.engine.search import DocumentHit, DocumentSearch, NoDocumentSearch
    from core.engine.toolbox import ToolError
    from core.engine.turn import Turn, TurnEngine

_EXPORTS = {
    "ChangeLanguage": "core.engine.outcome",
    "EndCall": "core.engine.outcome",
    "Speech": "core.engine.outcome",
    "TransferToAgent": "core.engine.outcome",
    "TurnAction": "core.engine.outcome",
    "TurnOutcome": "core.engine.outcome",
    "phrase": "core.engine.phrases",
    "DocumentHit": "core.engine.search",
    "DocumentSearch": "core.engine.search",
    "NoDocumentSearch": "core.engine.search",
    "ToolError": "core.engine.toolbox",
    "Turn": "core.engine.turn",
    "TurnEngine": "core.engine.turn",
}

__all__ = [
    "ChangeLanguage",
    "DocumentHit",
    "DocumentSearch",
    "EndCall",
    "NoDocumentSearch",
    "Speech",
    "ToolError",
    "TransferToAgent",
    "Turn",
    "TurnAction",
    "TurnEngine",
    "TurnOutcome",
    "phrase",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'core.engine' has no attribute '{name}'")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
