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
