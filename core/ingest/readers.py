"""The text of a document file: Markdown, plain text, HTML and PDF, with a title for citations.

A file that cannot be read as text raises UnreadableDocument with the reason, so ingestion reports it
and carries on with the others.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import ClassVar

SUFFIXES = {".md", ".markdown", ".txt", ".text", ".html", ".htm", ".pdf"}
MAX_BYTES = 20 * 1024 * 1024


class UnreadableDocument(ValueError):
    """This file has no text ingestion can use."""


@dataclass(frozen=True)
class DocumentText:
    title: str
    # Markdown-ish text: headings as "# ", paragraphs separated by blank lines.
    text: str


def read_document(path: Path) -> DocumentText:
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise UnreadableDocument(f"unsupported file type '{suffix or path.name}'")
    size = path.stat().st_size
    if size > MAX_BYTES:
        raise UnreadableDocument(f"too large ({size} bytes; at most {MAX_BYTES})")
    if suffix == ".pdf":
        document = _pdf(path)
    else:
        try:
            raw = path.read_bytes().decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise UnreadableDocument(f"not UTF-8 text (byte {exc.start})") from None
        if "\x00" in raw:
            raise UnreadableDocument("binary content, not text")
        document = _html(raw, path) if suffix in {".html", ".htm"} else _markdown(raw, path)
    if not document.text.strip():
        raise UnreadableDocument("no text in it")
    return document


def _fallback_title(path: Path) -> str:
    return re.sub(r"[-_]+", " ", path.stem).strip().capitalize() or path.name


def _markdown(raw: str, path: Path) -> DocumentText:
    heading = re.search(r"^#\s+(.+?)\s*#*\s*$", raw, re.MULTILINE)
    return DocumentText(title=heading.group(1) if heading else _fallback_title(path), text=raw)


class _HtmlText(HTMLParser):
    _SKIP: ClassVar[set[str]] = {"script", "style", "noscript", "template", "head"}
    _BLOCK: ClassVar[set[str]] = {
        "p",
        "div",
        "li",
        "tr",
        "br",
        "section",
        "article",
        "table",
        "ul",
        "ol",
        "dd",
        "dt",
        "pre",
    }

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.title = ""
        self._skipping = 0
        self._in_title = False
        self._heading: int | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "title":
            self._in_title = True
        elif tag in self._SKIP:
            self._skipping += 1
        elif re.fullmatch(r"h[1-6]", tag):
            self._heading = int(tag[1])
            self.parts.append("\n\n" + "#" * self._heading + " ")
        elif tag in self._BLOCK:
            self.parts.append("\n\n")

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False
        elif tag in self._SKIP:
            self._skipping = max(self._skipping - 1, 0)
        elif re.fullmatch(r"h[1-6]", tag):
            self._heading = None
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data
        elif not self._skipping:
            self.parts.append(re.sub(r"\s+", " ", data))


def _html(raw: str, path: Path) -> DocumentText:
    parser = _HtmlText()
    parser.feed(raw)
    parser.close()
    text = re.sub(r"\n{3,}", "\n\n", "".join(parser.parts)).strip()
    title = parser.title.strip()
    if not title:
        heading = re.search(r"^#+\s+(.+)$", text, re.MULTILINE)
        title = heading.group(1).strip() if heading else _fallback_title(path)
    return DocumentText(title=title, text=text)


def _pdf(path: Path) -> DocumentText:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(path)
        if reader.is_encrypted:
            raise UnreadableDocument("the PDF is encrypted")
        pages = [page.extract_text() or "" for page in reader.pages]
        metadata = reader.metadata
        title = str((metadata.get("/Title") if metadata is not None else None) or "").strip()
    except (PdfReadError, ValueError, KeyError, OSError) as exc:
        if isinstance(exc, UnreadableDocument):
            raise
        raise UnreadableDocument(f"not a readable PDF ({type(exc).__name__}: {exc})") from None
    text = "\n\n".join(p.strip() for p in pages if p.strip())
    return DocumentText(title=title or _fallback_title(path), text=text)
