"""Ingestion: a folder of documents made into the search index, changing only what changed.

Each chunk's id is a hash of its file path, title and text, so a re-run knows what is already there
without storing anything else: chunks whose id is in the index are left alone (not embedded again),
new ones are embedded and uploaded, and the index's chunks of a file that no longer produces them
(edited or deleted files) are removed. The folder is the source of truth for the index. A file that
cannot be read is reported and skipped, and its chunks already in the index are kept.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from core.ingest.chunking import Chunk, chunk_document
from core.ingest.readers import SUFFIXES, UnreadableDocument, read_document
from core.ports import DocumentIndex, Embeddings, IndexedChunk

EMBED_BATCH = 64


@dataclass
class IngestReport:
    index_created: bool = False
    files: int = 0
    unchanged_files: int = 0
    chunks_added: int = 0
    chunks_removed: int = 0
    chunks_total: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)

    def summary(self) -> str:
        text = (
            f"{self.files} files ({self.unchanged_files} unchanged): {self.chunks_added} chunks added,"
            f" {self.chunks_removed} removed, {self.chunks_total} in the index"
        )
        if self.skipped:
            text += f"; {len(self.skipped)} skipped"
        return text


def chunk_id(source: str, chunk: Chunk) -> str:
    digest = hashlib.sha256("\x00".join((source, chunk.title, chunk.content)).encode()).hexdigest()
    return digest[:48]


def document_files(folder: Path) -> list[Path]:
    """Every file under ``folder`` (hidden ones excepted), sorted; unsupported types are reported later."""
    return sorted(
        p
        for p in folder.rglob("*")
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(folder).parts)
    )


async def ingest(
    folder: Path,
    index: DocumentIndex,
    embeddings: Embeddings,
    *,
    chunk_tokens: int = 350,
    overlap_tokens: int = 50,
    progress: Callable[[str], None] = lambda _line: None,
) -> IngestReport:
    if not await asyncio.to_thread(folder.is_dir):
        raise NotADirectoryError(f"{folder} is not a folder")
    report = IngestReport(index_created=await index.ensure_index())
    if report.index_created:
        progress("created the index")
    existing = await index.existing_chunks()
    by_source: dict[str, set[str]] = {}
    for key, source in existing.items():
        by_source.setdefault(source, set()).add(key)
    files = await asyncio.to_thread(document_files, folder)
    kept_sources: set[str] = set()
    for number, path in enumerate(files, start=1):
        source = path.relative_to(folder).as_posix()
        prefix = f"[{number}/{len(files)}] {source}"
        if path.suffix.lower() not in SUFFIXES:
            report.skipped.append((source, f"unsupported file type '{path.suffix or path.name}'"))
            progress(f"{prefix}: skipped (unsupported file type)")
            kept_sources.add(source)
            continue
        try:
            document = await asyncio.to_thread(read_document, path)
        except (UnreadableDocument, OSError) as exc:
            report.skipped.append((source, str(exc)))
            progress(f"{prefix}: skipped ({exc})")
            kept_sources.add(source)  # keep what the index had for it
            continue
        report.files += 1
        kept_sources.add(source)
        chunks = {
            chunk_id(source, c): c
            for c in chunk_document(document.title, document.text, chunk_tokens, overlap_tokens)
        }
        old = by_source.get(source, set())
        new_ids = [key for key in chunks if key not in existing]
        stale = sorted(old - chunks.keys())
        if not new_ids and not stale:
            report.unchanged_files += 1
            progress(f"{prefix}: unchanged ({len(chunks)} chunks)")
            continue
        await _upload(index, embeddings, source, [(key, chunks[key]) for key in new_ids])
        if stale:
            await index.delete(stale)
        report.chunks_added += len(new_ids)
        report.chunks_removed += len(stale)
        progress(f"{prefix}: {len(chunks)} chunks ({len(new_ids)} new, {len(stale)} removed)")
    gone = sorted(key for key, source in existing.items() if source not in kept_sources)
    if gone:
        await index.delete(gone)
        report.chunks_removed += len(gone)
        progress(f"removed {len(gone)} chunks of {len({existing[k] for k in gone})} deleted files")
    report.chunks_total = len(existing) - report.chunks_removed + report.chunks_added
    return report


async def _upload(
    index: DocumentIndex, embeddings: Embeddings, source: str, chunks: list[tuple[str, Chunk]]
) -> None:
    for start in range(0, len(chunks), EMBED_BATCH):
        batch = chunks[start : start + EMBED_BATCH]
        # The title goes into the vector too: a passage is often only findable by its section's name.
        vectors = await embeddings.embed([f"{c.title}\n{c.content}" for _key, c in batch])
        await index.upsert(
            [
                IndexedChunk(id=key, title=c.title, content=c.content, source=source, vector=vector)
                for (key, c), vector in zip(batch, vectors, strict=True)
            ]
        )
