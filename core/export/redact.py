"""PII redaction of a call's text for export: what a caller said must not identify them.

Replaced, in this order, by a placeholder naming what was there:
- email addresses (``[EMAIL]``);
- the claim's text values (``[CALLER_NAME]``, ``[POLICY_NUMBER]``, ...; each word of a name field too, since
  a caller says "Jane" as well as "Jane Doe") and the call's own phone numbers;
- phone numbers in any format of the allowed regions (phonenumbers' matcher, ``[PHONE]``), and any
  longer run of digits and separators that looks like one;
- identifiers: a token mixing letters and at least three digits (``B-12345``), or five digits or more
  (``[NUMBER]``).

core.observability.redact fingerprints whole values for logs; a transcript needs words kept around
the PII, hence this.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

import phonenumbers

from core.models import Call

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# A phone-like run: optional +, then 7 or more digits with spaces, dots, dashes or parentheses between.
PHONE_LIKE = re.compile(r"(?<![\w])\+?\(?\d(?:[\s().-]*\d){6,}(?![\w])")
IDENTIFIER = re.compile(r"\b(?=[\w-]*\d)(?:(?=[\w-]*[A-Za-z])[\w]+(?:[-/][\w]+)*(?<=\w)|\d{5,})\b")
MIN_LITERAL = 3


def _digits(value: str) -> int:
    return sum(c.isdigit() for c in value)


def _literals(call: Call) -> list[tuple[str, str]]:
    """(text, placeholder) for every claim value and phone number of the call, longest first."""
    found: dict[str, str] = {}
    for name, value in call.claim.items():
        if not isinstance(value, str):  # amounts, booleans: not what identifies a caller
            continue
        text = value.strip()
        placeholder = f"[{name.upper()}]"
        if len(text) >= MIN_LITERAL:
            found.setdefault(text, placeholder)
        if "name" in name and isinstance(value, str):
            for word in re.findall(r"[^\W\d_]{3,}", text):
                found.setdefault(word, placeholder)
    for number in (call.initiate.phone_number, call.initiate.agent_phone_number):
        found.setdefault(number, "[PHONE]")
        if number.startswith("+1"):
            found.setdefault(number[2:], "[PHONE]")
    return sorted(found.items(), key=lambda item: -len(item[0]))


def _phone_spans(text: str, regions: Iterable[str]) -> list[tuple[int, int]]:
    spans = []
    for region in regions:
        for match in phonenumbers.PhoneNumberMatcher(text, region):
            spans.append((match.start, match.end))
    spans += [(m.start(), m.end()) for m in PHONE_LIKE.finditer(text)]
    return spans


def _replace_spans(text: str, spans: list[tuple[int, int]], placeholder: str) -> str:
    merged: list[list[int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    for start, end in reversed(merged):
        text = text[:start] + placeholder + text[end:]
    return text


def redactor(call: Call, regions: Iterable[str] = ("US",)) -> Callable[[str], str]:
    """A function redacting the PII of ``call`` (and any email, phone number, identifier) in a text."""
    literals = [(re.compile(rf"(?<!\w){re.escape(t)}(?!\w)", re.IGNORECASE), p) for t, p in _literals(call)]
    region_list = list(dict.fromkeys(regions)) or ["US"]

    def redact(text: str) -> str:
        if not text:
            return text
        text = EMAIL.sub("[EMAIL]", text)
        for pattern, placeholder in literals:
            text = pattern.sub(placeholder, text)
        text = _replace_spans(text, _phone_spans(text, region_list), "[PHONE]")
        return IDENTIFIER.sub(lambda m: m.group() if _digits(m.group()) < 3 else "[NUMBER]", text)

    return redact
