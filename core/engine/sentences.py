"""Streaming split of model text into speakable chunks.

Text arrives in small deltas. A chunk is released as soon as it is complete: at the end of a sentence
(., !, ?, …) followed by a space, or a line break. Chunks shorter than `min_chars` are merged with the
next one so the voice does not stop after "OK."; sentences longer than `max_chars` are cut where a voice
would pause (comma, semicolon, colon, dash) so the first play is not delayed by a run-on sentence.

The model marks its tone with tags like ``[style=cheerful]``; a tag applies to the text after it until
the next tag. Markdown the model may emit (bold, headings, bullets, code ticks) is removed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from core.models import Style

_STYLE_TAG = re.compile(r"\[\s*style\s*[=:]\s*([a-zA-Z_]+)\s*\]", re.IGNORECASE)
# End of sentence: terminator (optionally closing quotes/brackets) then whitespace, or line breaks.
_BOUNDARY = re.compile(r"(?<=[.!?…。！？])[\"'»”’)\]]*\s+|\n+")
_SOFT_BREAK = re.compile(r"[,;:—–]\s+|\s-\s")
_ABBREVIATIONS = {
    "mr", "mrs", "ms", "dr", "prof", "st", "vs", "etc", "e.g", "i.e", "no", "jr", "sr", "inc", "ltd",
    "m", "mme", "mlle", "sra", "srta", "av", "ave", "approx", "dept", "n°", "p.ex", "cf", "a.m", "p.m",
}  # fmt: skip
_MARKDOWN = [
    (re.compile(r"```.*?```", re.DOTALL), " "),
    (re.compile(r"[*_]{2,}|`"), ""),
    (re.compile(r"^\s{0,3}#{1,6}\s*", re.MULTILINE), ""),
    (re.compile(r"^\s*(?:[-*•]|\d+[.)])\s+", re.MULTILINE), ""),
    (re.compile(r"\[([^\]]+)\]\((https?://[^)]+)\)"), r"\1"),
]
_SPACES = re.compile(r"[ \t]+")


def clean_for_speech(text: str) -> str:
    for pattern, replacement in _MARKDOWN:
        text = pattern.sub(replacement, text)
    return _SPACES.sub(" ", text).strip()


def parse_style(name: str) -> Style | None:
    try:
        return Style(name.lower())
    except ValueError:
        return None


@dataclass(frozen=True)
class Chunk:
    text: str
    style: Style


def _is_abbreviation(before: str) -> bool:
    """True when the period ending `before` belongs to an abbreviation or an initial."""
    if not before.endswith("."):
        return False
    word = before[:-1].rsplit(None, 1)[-1] if before[:-1].strip() else ""
    word = word.lstrip("(\"'«“")
    if not word:
        return False
    if word.lower() in _ABBREVIATIONS:
        return True
    # A single capital initial ("J. Smith") or an ordinal-like number before a name is not a sentence end.
    return len(word) == 1 and word.isupper()


class SentenceSplitter:
    def __init__(self, *, min_chars: int = 20, max_chars: int = 240, style: Style = Style.NONE) -> None:
        self.min_chars = min_chars
        self.max_chars = max_chars
        self.style = style
        self._buffer = ""
        self._pending: list[str] = []
        self._pending_style = style

    def reset(self) -> None:
        """Drop text not yet released (the stream restarts)."""
        self._buffer = ""
        self._pending = []

    def feed(self, delta: str) -> list[Chunk]:
        self._buffer += delta
        out: list[Chunk] = []
        while True:
            cut = self._next_cut()
            if cut is None:
                break
            sentence, self._buffer = self._buffer[:cut], self._buffer[cut:]
            out.extend(self._add_sentence(sentence, final=False))
        return out

    def flush(self) -> list[Chunk]:
        out: list[Chunk] = []
        if self._buffer.strip():
            out.extend(self._add_sentence(self._buffer, final=True))
        self._buffer = ""
        out.extend(self._release_pending())
        return out

    def _next_cut(self) -> int | None:
        # A style tag may be cut in the middle of a delta: wait for its closing bracket.
        for match in _BOUNDARY.finditer(self._buffer):
            if match.group().startswith("\n") or not _is_abbreviation(self._buffer[: match.start()].rstrip()):
                return match.end()
        visible = _STYLE_TAG.sub("", self._buffer)
        if len(visible) > self.max_chars:
            window = self._buffer[: self.max_chars + (len(self._buffer) - len(visible))]
            soft = [m.end() for m in _SOFT_BREAK.finditer(window) if m.end() > self.min_chars]
            if soft:
                return soft[-1]
            space = window.rfind(" ")
            if space > self.min_chars:
                return space + 1
        return None

    def _add_sentence(self, raw: str, *, final: bool) -> list[Chunk]:
        out: list[Chunk] = []
        # Split around style tags: text before a tag keeps the current style.
        position = 0
        for match in _STYLE_TAG.finditer(raw):
            out.extend(self._append_text(raw[position : match.start()]))
            style = parse_style(match.group(1))
            if style is not None and style != self.style:
                out.extend(self._release_pending())
                self.style = style
            position = match.end()
        out.extend(self._append_text(raw[position:]))
        return out

    def _append_text(self, text: str) -> list[Chunk]:
        cleaned = clean_for_speech(text)
        if not cleaned:
            return []
        if not self._pending:
            self._pending_style = self.style
        self._pending.append(cleaned)
        if len(" ".join(self._pending)) >= self.min_chars:
            return self._release_pending()
        return []

    def _release_pending(self) -> list[Chunk]:
        if not self._pending:
            return []
        text = " ".join(self._pending)
        self._pending = []
        return [Chunk(text=text, style=self._pending_style)]


def normalize_sentence(text: str) -> str:
    """Comparison key used to never speak the same sentence twice in a turn."""
    return re.sub(r"[\W_]+", " ", text.lower()).strip()
