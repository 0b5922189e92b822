"""Shared fixtures: the real local services (Azurite, Cosmos DB server) started once per session."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator

import pytest

from core.bootstrap import Services, reset_services
from core.models import Call, CallDirection, InitiateRequest, LanguageOption
from core.settings import Settings
from local.stack import LocalStack

# Throwaway names per test session, so a developer's running stack (or another session sharing the
# same Azurite) never sees this session's documents, events or queue messages.
_SESSION = uuid.uuid4().hex[:8]
os.environ.setdefault("COSMOS__DATABASE", f"test-{_SESSION}")
os.environ.setdefault("STORAGE__POST_CALL_QUEUE", f"post-call-{_SESSION}")
os.environ.setdefault("STORAGE__INBOX_TABLE", f"inbox{_SESSION}")
os.environ.setdefault("CAMPAIGNS__QUEUE", f"campaign-calls-{_SESSION}")
os.environ.setdefault("WEBHOOKS__QUEUE", f"webhooks-{_SESSION}")


@pytest.fixture(scope="session")
def local_stack() -> Iterator[None]:
    stack = LocalStack().start()
    yield
    stack.stop()


@pytest.fixture
def settings(local_stack: None) -> Settings:
    reset_services()
    return Settings()


@pytest.fixture
async def container(settings: Settings) -> AsyncIterator[Services]:
    built = Services(settings)
    yield built
    await built.close()


def make_call(phone_number: str = "+14155550100", **initiate: object) -> Call:
    request = {
        "phone_number": phone_number,
        "bot_name": "Amélie",
        "bot_company": "Contoso Insurance",
        "task": "Help with the claim.",
        "agent_phone_number": "+14155550199",
        "languages": [LanguageOption(code="en-US", name="English", voice="en-US-AvaMultilingualNeural")],
        "default_language": "en-US",
        **initiate,
    }
    return Call(direction=CallDirection.INBOUND, initiate=InitiateRequest.model_validate(request))
