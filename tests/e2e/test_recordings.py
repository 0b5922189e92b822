"""Recordings that are kept, end to end: ACS records into the project's container (Azurite), announces
the file on Event Grid (RecordingFileStatusUpdated), the call keeps where it is, and the report plays
and downloads it behind the function key."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator

import pytest
from azure.storage.blob.aio import BlobServiceClient

from core.models import Call
from tests.e2e.harness import FUNCTION_KEY, CallStack, call_stack, random_number
from tests.waiting import wait_until

AZURITE_BLOBS = "http://127.0.0.1:10000/devstoreaccount1"


@pytest.fixture
async def container_name(local_stack: None) -> AsyncIterator[str]:
    """The recordings container, created as infra/ creates it (ACS writes into it, never creates it)."""
    name = f"recordings-e2e-{uuid.uuid4().hex[:8]}"
    async with BlobServiceClient.from_connection_string("UseDevelopmentStorage=true") as service:
        await service.create_container(name)
        yield name
        await service.delete_container(name)


@pytest.fixture
async def recording_stack(container_name: str) -> AsyncIterator[CallStack]:
    env = {"ACS__RECORDING_ENABLED": "true", "RECORDINGS__CONTAINER_URL": f"{AZURITE_BLOBS}/{container_name}"}
    async with call_stack(env_overrides=env) as stack:
        stack.acs.config.recording_eventgrid_endpoint = (
            f"{stack.host.base_url}/runtime/webhooks/EventGrid"
            f"?functionName=recording_file_status&code={FUNCTION_KEY}"
        )
        yield stack
        assert not stack.failed_callbacks(), stack.failed_callbacks()[:3]


async def kept(stack: CallStack, call_id: str) -> Call:
    async def recorded() -> Call | None:
        call = await stack.container.calls.get(call_id)
        return call if call is not None and call.recordings else None

    return await wait_until(recorded, timeout=30, what=f"call {call_id} to keep its recording")


async def test_recording_is_stored_and_played_from_the_report(
    recording_stack: CallStack, container_name: str
) -> None:
    stack = recording_stack
    stack.use_demo_rules()
    number = random_number()
    await stack.run_inbound(number, [{"say": "English"}, {"say": "Hello, I need help."}, {"hangup": True}])
    call = await kept(stack, (await stack.call_by_number(number)).call_id)

    [recording] = call.recordings
    assert recording.content_type == "audio/wav"
    assert recording.server_call_id in call.server_call_ids
    # ACS was asked for an audio WAV in our container (bring-your-own-storage).
    [start] = [x for x in stack.acs.exchanges if x.path == "/calling/recordings" and x.method == "POST"]
    assert start.request_body["externalStorage"] == {
        "recordingStorageKind": "azureBlobStorage",
        "recordingDestinationContainerUrl": f"{AZURITE_BLOBS}/{container_name}",
    }
    assert start.request_body["recordingFormatType"] == "wav"
    async with BlobServiceClient.from_connection_string("UseDevelopmentStorage=true") as service:
        stored = await (
            await service.get_blob_client(container_name, recording.blob_name).download_blob()
        ).readall()
    assert stored.startswith(b"RIFF") and b"WAVE" in stored[:12]

    # The public view lists it, without saying where it is stored.
    async with stack.session.get(stack.url(f"/call/{call.call_id}"), headers=stack.headers) as response:
        public = await response.json()
    assert [r["content_type"] for r in public["recordings"]] == ["audio/wav"]
    assert "blob_name" not in public["recordings"][0]

    # The report page plays it and links the download, keeping the key (?code=).
    async with stack.session.get(
        stack.url(f"/report/{call.call_id}"), params={"code": FUNCTION_KEY}
    ) as response:
        page = await response.text()
        assert "media-src 'self'" in response.headers["Content-Security-Policy"]
    play = f"/report/{call.call_id}/recordings/0?code={FUNCTION_KEY}"
    assert re.search(rf'<audio controls preload="none" src="{re.escape(play)}">', page), page
    assert f"/report/{call.call_id}/recordings/0?download=1&amp;code={FUNCTION_KEY}" in page

    async with stack.session.get(stack.url(play)) as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("audio/wav")
        assert response.headers["Content-Disposition"].startswith("inline")
        assert await response.read() == stored
    download = f"/report/{call.call_id}/recordings/0?download=1&code={FUNCTION_KEY}"
    async with stack.session.get(stack.url(download)) as response:
        assert response.status == 200 and response.headers["Content-Disposition"].startswith("attachment")


async def test_recording_route_needs_the_key_and_an_existing_recording(recording_stack: CallStack) -> None:
    stack = recording_stack
    stack.use_demo_rules()
    number = random_number()
    await stack.run_inbound(number, [{"say": "English"}, {"say": "Hello, I need help."}, {"hangup": True}])
    call = await kept(stack, (await stack.call_by_number(number)).call_id)
    async with stack.session.get(stack.url(f"/report/{call.call_id}/recordings/0")) as response:
        assert response.status == 401
    async with stack.session.get(
        stack.url(f"/report/{call.call_id}/recordings/1"), headers=stack.headers
    ) as r:
        assert r.status == 404
    async with stack.session.get(
        stack.url(f"/report/{call.call_id}/recordings/x"), headers=stack.headers
    ) as r:
        assert r.status == 400


async def test_redelivered_file_event_keeps_one_recording(container_name: str) -> None:
    env = {"ACS__RECORDING_ENABLED": "true", "RECORDINGS__CONTAINER_URL": f"{AZURITE_BLOBS}/{container_name}"}
    async with call_stack(env_overrides=env, duplicate_callbacks=True) as stack:
        stack.acs.config.recording_eventgrid_endpoint = (
            f"{stack.host.base_url}/runtime/webhooks/EventGrid"
            f"?functionName=recording_file_status&code={FUNCTION_KEY}"
        )
        stack.use_demo_rules()
        number = random_number()
        await stack.run_inbound(
            number, [{"say": "English"}, {"say": "Hello, I need help."}, {"hangup": True}]
        )
        call = await kept(stack, (await stack.call_by_number(number)).call_id)
        await stack.acs.drain_callbacks(timeout=30)
        again = await stack.container.calls.get(call.call_id)
        assert again is not None and len(again.recordings) == 1
