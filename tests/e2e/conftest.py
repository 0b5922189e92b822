"""End-to-end call fixtures: one stack per module on the shared local services."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.e2e.harness import CallStack, call_stack


@pytest.fixture
async def stack(local_stack: None) -> AsyncIterator[CallStack]:
    async with call_stack() as built:
        yield built
        failed = built.failed_callbacks()
        assert not failed, f"callbacks the app refused or failed: {failed[:3]}"
