"""Ingestion into the emulator through the real SDK: the index is created when missing, a re-run changes
nothing, an edit changes only its chunks, a deleted file leaves the index, bad files are skipped."""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
from pathlib import Path

import pytest

from core.adapters.ai_search import AiSearch
from core.ingest import ingest
from core.ingest.readers import UnreadableDocument, read_document
from core.settings_search import SearchSettings
from local.embeddings import EmbeddingsServer
from local.search_emulator import SearchEmulator
from local.search_emulator.sample import SAMPLE_CORPUS

REPO_ROOT = Path(__file__).resolve().parents[2]

# A one-page PDF whose page says "Hail damage is covered under comprehensive." (built by hand: the
# text operator in a content stream, with the Helvetica base font).
_STREAM = b"BT /F1 12 Tf 72 720 Td (Hail damage is covered under comprehensive.) Tj ET"


def tiny_pdf() -> bytes:
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(_STREAM) + _STREAM + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    docs = tmp_path / "docs"
    (docs / "auto").mkdir(parents=True)
    (docs / "auto" / "rental.md").write_text(
        "# Rental car\n\nWe pay up to 40 dollars per day for a rental car.\n\n## Limits\n\nAt most 30 days per claim.\n"
    )
    (docs / "glass.txt").write_text("Windshield chips are repaired with no deductible.\n")
    (docs / "faq.html").write_text(
        "<html><head><title>VPN FAQ</title><script>var x = 'hidden';</script></head>"
        "<body><h1>VPN</h1><p>The VPN disconnects after 12 hours.</p></body></html>"
    )
    (docs / "hail.pdf").write_bytes(tiny_pdf())
    return docs


async def test_the_first_run_creates_the_index_and_indexes_every_readable_file(
    folder: Path, search: AiSearch, emulator: SearchEmulator, search_settings: SearchSettings
) -> None:
    lines: list[str] = []
    report = await ingest(folder, search, search.embeddings, progress=lines.append)  # type: ignore[arg-type]
    assert report.index_created and report.files == 4 and not report.skipped
    assert report.chunks_added == report.chunks_total == len(await search.existing_chunks())
    assert sorted(set((await search.existing_chunks()).values())) == [
        "auto/rental.md",
        "faq.html",
        "glass.txt",
        "hail.pdf",
    ]
    assert lines[0] == "created the index" and any(
        line.startswith("[1/4] auto/rental.md: ") for line in lines
    )
    hits = await search.search("hail damage", 1)
    assert hits[0].source == "hail.pdf" and "Hail damage is covered" in hits[0].content
    html = await search.search("VPN disconnects", 1)
    assert html[0].title.startswith("VPN FAQ") and "hidden" not in html[0].content
    assert "vectors-vectorizer" in str(emulator.indexes[search_settings.index].definition["vectorSearch"])


async def test_a_second_run_changes_nothing_and_embeds_nothing(
    folder: Path, search: AiSearch, embeddings_server: EmbeddingsServer
) -> None:
    first = await ingest(folder, search, search.embeddings)  # type: ignore[arg-type]
    before = dict(await search.existing_chunks())
    requests = embeddings_server.requests
    again = await ingest(folder, search, search.embeddings)  # type: ignore[arg-type]
    assert not again.index_created and again.unchanged_files == again.files == 4
    assert again.chunks_added == again.chunks_removed == 0 and again.chunks_total == first.chunks_total
    assert await search.existing_chunks() == before
    assert embeddings_server.requests == requests


async def test_an_edited_file_replaces_only_its_own_changed_chunks(folder: Path, search: AiSearch) -> None:
    await ingest(folder, search, search.embeddings)  # type: ignore[arg-type]
    before = await search.existing_chunks()
    (folder / "glass.txt").write_text("Windshield chips are repaired for free, any day of the week.\n")
    report = await ingest(folder, search, search.embeddings)  # type: ignore[arg-type]
    after = await search.existing_chunks()
    assert report.chunks_added == 1 and report.chunks_removed == 1 and report.unchanged_files == 3
    assert {k for k, s in before.items() if s != "glass.txt"} == {
        k for k, s in after.items() if s != "glass.txt"
    }
    assert "any day of the week" in (await search.search("windshield chips", 1))[0].content


async def test_a_deleted_file_leaves_the_index(folder: Path, search: AiSearch) -> None:
    await ingest(folder, search, search.embeddings)  # type: ignore[arg-type]
    shutil.rmtree(folder / "auto")
    lines: list[str] = []
    report = await ingest(folder, search, search.embeddings, progress=lines.append)  # type: ignore[arg-type]
    assert report.chunks_removed >= 1 and "auto/rental.md" not in (await search.existing_chunks()).values()
    assert any("deleted files" in line for line in lines)
    assert all(h.source != "auto/rental.md" for h in await search.search("rental car per day", 3))


async def test_bad_files_are_reported_and_skipped_and_keep_what_the_index_had(
    folder: Path, search: AiSearch
) -> None:
    await ingest(folder, search, search.embeddings)  # type: ignore[arg-type]
    (folder / "hail.pdf").write_bytes(b"%PDF-1.4 this is not really a pdf")
    (folder / "empty.md").write_text("   \n")
    (folder / "photo.jpg").write_bytes(b"\xff\xd8\xff\xe0")
    (folder / "latin1.txt").write_bytes("caf\xe9".encode("latin-1"))
    report = await ingest(folder, search, search.embeddings)  # type: ignore[arg-type]
    skipped = dict(report.skipped)
    assert set(skipped) == {"hail.pdf", "empty.md", "photo.jpg", "latin1.txt"}
    assert "PDF" in skipped["hail.pdf"] and "no text" in skipped["empty.md"]
    assert "unsupported" in skipped["photo.jpg"] and "UTF-8" in skipped["latin1.txt"]
    assert "hail.pdf" in (await search.existing_chunks()).values()  # the last good version stays


def test_reading_refuses_what_it_cannot_use(tmp_path: Path) -> None:
    binary = tmp_path / "x.md"
    binary.write_bytes(b"abc\x00def")
    with pytest.raises(UnreadableDocument, match="binary"):
        read_document(binary)
    assert read_document(SAMPLE_CORPUS / "it-support" / "service-desk-escalation.html").title == (
        "IT support FAQ: outages and escalation"
    )


async def test_the_command_ingests_a_folder_and_says_what_it_did(
    folder: Path, search_settings: SearchSettings
) -> None:
    (folder / "notes.docx").write_bytes(b"PK\x03\x04")
    env = {
        **os.environ,
        "SEARCH__ENDPOINT": search_settings.endpoint,
        "SEARCH__API_KEY": search_settings.api_key,
        "SEARCH__INDEX": search_settings.index,
        "SEARCH__EMBEDDINGS__PROVIDER": "azure_openai",
        "SEARCH__EMBEDDINGS__ENDPOINT": search_settings.embeddings.endpoint,
        "SEARCH__EMBEDDINGS__API_KEY": "local",
        "SEARCH__EMBEDDINGS__DIMENSIONS": "384",
    }

    async def run(*args: str) -> tuple[int, str, str]:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "core.ingest",
            *args,
            cwd=REPO_ROOT,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(process.communicate(), timeout=60)
        return process.returncode or 0, out.decode(), err.decode()

    code, out, err = await run(str(folder))
    assert code == 3, err  # done, with a skipped file
    assert "created the index" in out and "[5/5] notes.docx: skipped (unsupported file type)" in out
    assert "4 files (0 unchanged)" in out and "skipped notes.docx: unsupported file type" in err
    code, out, _ = await run(str(folder))
    assert "4 files (4 unchanged): 0 chunks added, 0 removed" in out
    code, _, err = await run(str(folder / "missing"))
    assert code == 2 and "is not a folder" in err
