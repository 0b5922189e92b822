from __future__ import annotations

import pytest

from core import observability


@pytest.fixture(autouse=True)
def _restore() -> object:
    before = observability._content_logging[0]
    yield
    observability._content_logging[0] = before


def test_personal_data_is_fingerprinted_unless_content_logging_is_on() -> None:
    observability._content_logging[0] = False
    redacted = observability.redact("+33612345678 my car was stolen")
    assert "+33612345678" not in redacted and "stolen" not in redacted
    assert redacted == observability.redact("+33612345678 my car was stolen")  # stable, so correlatable

    observability._content_logging[0] = True
    assert observability.redact("+33612345678") == "+33612345678"


def test_without_a_connection_string_no_telemetry_leaves_the_process() -> None:
    from opentelemetry import trace

    from core.settings import Settings

    observability._configured = False
    observability.configure(Settings(applicationinsights_connection_string=""))
    # No SDK provider was installed, so spans go nowhere (the API's no-op proxy stays in place).
    assert type(trace.get_tracer_provider()).__name__ == "ProxyTracerProvider"


def test_the_demo_says_where_telemetry_goes() -> None:
    from core.observability import destination
    from core.settings import Settings

    assert destination(Settings()).startswith("nowhere: APPLICATIONINSIGHTS_CONNECTION_STRING is empty")
    exported = Settings(
        applicationinsights_connection_string="InstrumentationKey=00000000-0000-0000-0000-000000000001;"
        "IngestionEndpoint=https://westeurope-5.in.applicationinsights.azure.com/"
    )
    said = destination(exported)
    assert "https://westeurope-5.in.applicationinsights.azure.com/" in said
    assert "00000000-0000-0000-0000-000000000001" not in said
