"""OpenTelemetry, set up once per worker.

With APPLICATIONINSIGHTS_CONNECTION_STRING set, traces, metrics and logs go to Azure Monitor; without
it nothing leaves the process. Phone numbers and conversation text never go into logs or spans unless
MONITORING__CONTENT_LOGGING is true: use `redact()` for anything a caller or the model said.
"""

from __future__ import annotations

import functools
import hashlib
import logging
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from opentelemetry.metrics import Meter
    from opentelemetry.trace import Tracer

    from core.settings import Settings

LOGGER_NAME = "callcenter"
_configured = False


def configure(settings: Settings) -> bool:
    """Idempotent: the first call in a worker wins (and returns True). The exporter, an SDK adapter,
    is installed by core.bootstrap after that first call when a connection string is set."""
    global _configured
    if _configured:
        return False
    _configured = True
    logging.getLogger(LOGGER_NAME).setLevel(settings.monitoring.log_level)
    _content_logging[0] = settings.monitoring.content_logging
    return True


_content_logging = [False]


def destination(settings: Settings) -> str:
    """Where traces, metrics and logs go, in words (the connection string's key is not shown)."""
    connection = settings.applicationinsights_connection_string
    if not connection:
        return "nowhere: APPLICATIONINSIGHTS_CONNECTION_STRING is empty (set it to export to Application Insights)"
    parts = dict(p.split("=", 1) for p in connection.split(";") if "=" in p)
    where = parts.get("IngestionEndpoint", "the default ingestion endpoint")
    content = "with" if settings.monitoring.content_logging else "without"
    return f"Application Insights through {where} ({content} conversation content)"


def content_logging() -> bool:
    """Whether conversation text and phone numbers may go into logs, spans and metrics."""
    return _content_logging[0]


def redact(value: str | None) -> str:
    """The value itself when content logging is on; otherwise a short stable fingerprint."""
    if value is None:
        return ""
    if _content_logging[0]:
        return value
    digest = hashlib.sha256(value.encode()).hexdigest()[:10]
    return f"<redacted:{len(value)}:{digest}>"


def logger() -> logging.Logger:
    return logging.getLogger(LOGGER_NAME)


@functools.cache
def tracer() -> Tracer:
    from opentelemetry import trace

    return trace.get_tracer(LOGGER_NAME)


@functools.cache
def meter() -> Meter:
    from opentelemetry import metrics

    return metrics.get_meter(LOGGER_NAME)
