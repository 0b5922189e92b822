"""Safety rules shared by the engine: content-filter detection and caller-text hygiene.

What the caller says can never change the task, the claim schema, the SMS recipient or the transfer
number: those live in ``call.initiate`` and the tools (see tools.py) read them from there only, whatever
arguments the model passes. This module holds the other guards.
"""

from __future__ import annotations

import re
import unicodedata

from core.errors import ContentFilteredError

__all__ = ["ContentFilteredError", "clean_caller_text"]

MAX_CALLER_TEXT = 2000
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def clean_caller_text(text: str) -> str:
    """Normalize recognized or typed caller text: no control characters, bounded length."""
    text = unicodedata.normalize("NFC", _CONTROL.sub(" ", text)).strip()
    return text[:MAX_CALLER_TEXT]
