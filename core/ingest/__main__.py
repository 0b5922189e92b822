"""``python -m core.ingest <folder>``: put a folder of documents (Markdown, text, HTML, PDF) into the
search index the settings name (SEARCH__ENDPOINT, SEARCH__INDEX, SEARCH__EMBEDDINGS__*). Creates the
index when missing; a re-run changes only what changed; files deleted from the folder leave the index.
Exit status: 0 done, 1 the index or embeddings failed, 2 bad usage or settings, 3 done but files skipped.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from core.errors import DependencyError
from core.ingest.pipeline import IngestReport, ingest
from core.settings import ConfigurationError, load_settings


async def run(folder: Path) -> IngestReport:
    from core.bootstrap import Services

    services = Services(load_settings())
    try:
        settings = services.settings.search
        return await ingest(
            folder,
            services.document_index,
            services.embeddings,
            chunk_tokens=settings.chunk_tokens,
            overlap_tokens=settings.chunk_overlap_tokens,
            progress=lambda line: print(line, flush=True),
        )
    finally:
        await services.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m core.ingest", description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, help="folder of documents to index (searched recursively)")
    args = parser.parse_args(argv)
    try:
        report = asyncio.run(run(args.folder))
    except (ConfigurationError, NotADirectoryError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except DependencyError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    for source, reason in report.skipped:
        print(f"skipped {source}: {reason}", file=sys.stderr)
    print(report.summary())
    return 3 if report.skipped else 0


if __name__ == "__main__":
    sys.exit(main())
