"""Document ingestion, the command a company runs on its documents: ``python -m core.ingest <folder>``."""

from core.ingest.pipeline import IngestReport, ingest

__all__ = ["IngestReport", "ingest"]
