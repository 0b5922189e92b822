"""Fixed phrases in the settings' voice: the phrase book (:mod:`core.phrasebook`) with the configured
overrides and bot identity applied."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from core.phrasebook import (
    ANY_LANGUAGE,
    DEFAULT_LANGUAGE,
    OVERRIDE_NAMES,
    PHRASE_NAMES,
    PHRASES,
    SYSTEM,
    PhraseTable,
    override_for,
    parse_overrides,
    render_phrase,
    variants,
)

if TYPE_CHECKING:
    from core.models import Call
    from core.settings import Settings

__all__ = [
    "ANY_LANGUAGE",
    "DEFAULT_LANGUAGE",
    "OVERRIDE_NAMES",
    "PHRASES",
    "PHRASE_NAMES",
    "SYSTEM",
    "PhraseTable",
    "override_for",
    "parse_overrides",
    "phrase",
    "render_phrase",
    "variants",
]


def _settings() -> Settings | None:
    from core.settings import ConfigurationError, get_settings

    try:
        return get_settings()
    except ConfigurationError:
        return None


def phrase(name: str, language: str, call: Call | None = None, **fmt: Any) -> str:
    """A fixed phrase in `language`, with overrides from the settings applied.

    With a call, the variant is chosen deterministically from the call id and the number of its
    messages (stable across retries of the same step, varied along the call); without one, randomly.
    Pass ``seed=...`` to choose the variant yourself.
    """
    settings = _settings()
    overrides = settings.conversation.prompt_overrides if settings else {}
    seed = fmt.pop("seed", None)
    if seed is None and call is not None:
        seed = f"{call.call_id}:{len(call.messages)}"
    return render_phrase(
        name,
        language,
        call=call,
        bot_name=settings.conversation.bot_name if settings else "",
        bot_company=settings.conversation.bot_company if settings else "",
        overrides=overrides,
        seed=seed,
        **fmt,
    )
