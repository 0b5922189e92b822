"""Documents cut into passages a search can return and a model can read: by section (Markdown
headings), then paragraphs packed up to a token budget, with a little overlap between neighbours so a
fact split across a boundary is still found whole in one of them."""

from __future__ import annotations

import re
from dataclasses import dataclass

from core.engine.tokens import estimate_tokens

_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")


@dataclass(frozen=True)
class Chunk:
    title: str
    content: str


def _sections(text: str) -> list[tuple[str, list[str]]]:
    """(heading, paragraphs) in order; text before the first heading has an empty heading."""
    sections: list[tuple[str, list[str]]] = [("", [])]
    paragraph: list[str] = []

    def flush() -> None:
        if paragraph:
            sections[-1][1].append(" ".join(paragraph).strip())
            paragraph.clear()

    for line in text.splitlines():
        heading = _HEADING.match(line)
        if heading:
            flush()
            sections.append((heading.group(2).strip(), []))
        elif line.strip():
            paragraph.append(line.strip())
        else:
            flush()
    flush()
    return [(h, [p for p in ps if p]) for h, ps in sections if any(ps)]


def _split_long(paragraph: str, budget: int) -> list[str]:
    if estimate_tokens(paragraph) <= budget:
        return [paragraph]
    pieces: list[str] = []
    current: list[str] = []
    for sentence in re.split(r"(?<=[.!?])\s+", paragraph):
        words = sentence.split()
        while words:
            current.append(words.pop(0))
            if estimate_tokens(" ".join(current)) >= budget:
                pieces.append(" ".join(current))
                current = []
    if current:
        pieces.append(" ".join(current))
    return pieces


def chunk_document(title: str, text: str, budget: int = 350, overlap: int = 50) -> list[Chunk]:
    """Passages of at most about ``budget`` tokens, titled "<document> — <section>"."""
    chunks: list[Chunk] = []
    for heading, paragraphs in _sections(text):
        if heading and heading == title and not chunks and not paragraphs:
            continue
        label = title if not heading or heading == title else f"{title} — {heading}"
        pieces = [piece for p in paragraphs for piece in _split_long(p, budget)]
        current: list[str] = []
        for piece in pieces:
            if current and estimate_tokens(" ".join([*current, piece])) > budget:
                chunks.append(Chunk(label, "\n\n".join(current)))
                tail = current[-1] if estimate_tokens(current[-1]) <= overlap else ""
                current = [tail] if tail else []
            current.append(piece)
        if current:
            chunks.append(Chunk(label, "\n\n".join(current)))
    return chunks
