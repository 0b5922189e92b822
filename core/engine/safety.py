"""Safety rules shared by the engine: content-filter detection and caller-text hygiene.

What the caller says can never change the task, the claim schema, the SMS recipient or the transfer
number: those live in ``call.initiate`` and the tools (see tools.py) read them from there only, whatever
arguments the model passes. This module holds the other guards.
"""

from __future__ import annotations

import re
import unicodedata

MAX_CALLER_TEXT = 2000
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class ContentFilteredError(Exception):
    """The provider's content filter refused the prompt or the answer."""


def is_content_filter_error(exc: BaseException) -> bool:
    """True for an Azure OpenAI 400 with code "content_filter" (or an OpenAI-style equivalent)."""
    code = getattr(exc, "code", None)
    if code == "content_filter":
        return True
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        if body.get("code") == "content_filter":
            return True
        inner = body.get("innererror")
        if isinstance(inner, dict) and inner.get("code") == "ResponsibleAIPolicyViolation":
            return True
    return False


def clean_caller_text(text: str) -> str:
    """Normalize recognized or typed caller text: no control characters, bounded length."""
    text = unicodedata.normalize("NFC", _CONTROL.sub(" ", text)).strip()
    return text[:MAX_CALLER_TEXT]
