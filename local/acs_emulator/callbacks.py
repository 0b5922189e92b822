"""Delivery of mid-call events (CloudEvents, JWT-signed) and Event Grid events, with retries.

Each call has its own ordered channel: events of a call are POSTed one after the other, in the order
they were raised. A failing POST (non-2xx or connection error) is retried after each of
``config.retry_delays_s`` before the channel moves on. Test switches: ``duplicate_callbacks`` sends
every event twice; ``out_of_order_callbacks`` swaps adjacent events of a channel;
``concurrent_callbacks`` starts each delivery of a channel at once, after a random jitter of up to
``CONCURRENT_JITTER_S``, without waiting for the ones before it (unordered, overlapping).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import aiohttp

from local.acs_emulator.config import EmulatorConfig
from local.acs_emulator.jwks import CallbackSigner
from local.acs_emulator.transcript import Transcript

log = logging.getLogger(__name__)

# How long a channel holds an event back, waiting for the next one to swap with (out-of-order mode).
SWAP_WINDOW_S = 0.05
# How far apart concurrent deliveries of one channel may start (concurrent mode).
CONCURRENT_JITTER_S = 0.02


# The API version the callbacks say they follow (``data.version``), as the service sends it.
EVENT_VERSION = "2025-06-15"


def iso_now() -> str:
    """A timestamp as ACS writes it: seven fractional digits and ``+00:00``
    (``2024-04-10T19:10:42.4046861+00:00`` in the recorded callbacks)."""
    now = datetime.now(UTC)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond:06d}0+00:00"


def cloud_event(
    event_name: str, call_connection_id: str, data: dict[str, Any], source: str | None = None
) -> dict[str, Any]:
    """A Call Automation callback event as ACS sends it (CloudEvents 1.0); ``data`` gains the
    ``version`` and ``publicEventType`` every recorded callback carries."""
    event_type = f"Microsoft.Communication.{event_name}"
    where = source or f"calling/callConnections/{call_connection_id}"
    return {
        "id": str(uuid.uuid4()),
        "source": where,
        "type": event_type,
        "data": {**data, "version": EVENT_VERSION, "publicEventType": event_type},
        "time": iso_now(),
        "specversion": "1.0",
        "datacontenttype": "application/json",
        "subject": where,
    }


@dataclass
class Delivery:
    uri: str
    body: list[dict[str, Any]]
    kind: str  # "callback" or "eventgrid"
    transcript: Transcript | None = None
    label: str = ""
    attempts: int = field(default=0)


@dataclass
class DeliveryRecord:
    uri: str
    kind: str
    label: str
    status: int | None
    attempt: int
    error: str | None = None


class Dispatcher:
    def __init__(
        self,
        config: EmulatorConfig,
        signer: CallbackSigner,
        on_record: Callable[[DeliveryRecord], None] | None = None,
    ) -> None:
        self._config = config
        self._signer = signer
        self._on_record = on_record
        self._session: aiohttp.ClientSession | None = None
        self._channels: dict[str, asyncio.Queue[Delivery]] = {}
        self._workers: dict[str, asyncio.Task[None]] = {}
        self._concurrent: set[asyncio.Task[None]] = set()
        self._pending = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self.records: list[DeliveryRecord] = []

    async def start(self) -> None:
        self._session = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=self._config.callback_timeout_s),
            connector=aiohttp.TCPConnector(limit=200),
        )

    async def stop(self) -> None:
        tasks = [*self._workers.values(), *self._concurrent]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._workers.clear()
        self._concurrent.clear()
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def drain(self, timeout: float = 10.0) -> None:  # noqa: ASYNC109 (documented helper signature)
        """Wait until every queued delivery has been attempted to the end."""
        async with asyncio.timeout(timeout):
            await self._idle.wait()

    def send_callback(
        self, channel: str, uri: str, event: dict[str, Any], transcript: Transcript | None
    ) -> None:
        self._enqueue(channel, Delivery(uri, [event], "callback", transcript, event["type"]))

    def send_eventgrid(
        self, channel: str, uri: str, event: dict[str, Any], transcript: Transcript | None
    ) -> None:
        self._enqueue(channel, Delivery(uri, [event], "eventgrid", transcript, event["eventType"]))

    def _enqueue(self, channel: str, delivery: Delivery) -> None:
        queue = self._channels.get(channel)
        if queue is None:
            queue = self._channels[channel] = asyncio.Queue()
            self._workers[channel] = asyncio.get_running_loop().create_task(self._run(queue))
        self._pending += 1
        self._idle.clear()
        queue.put_nowait(delivery)

    def _done(self, count: int = 1) -> None:
        self._pending -= count
        if self._pending <= 0:
            self._pending = 0
            self._idle.set()

    async def _run(self, queue: asyncio.Queue[Delivery]) -> None:
        while True:
            first = await queue.get()
            if self._config.concurrent_callbacks:
                task = asyncio.get_running_loop().create_task(self._deliver_later(first))
                self._concurrent.add(task)
                task.add_done_callback(self._concurrent.discard)
                continue
            batch = [first]
            if self._config.out_of_order_callbacks:
                try:
                    second = queue.get_nowait() if not queue.empty() else None
                    if second is None:
                        second = await asyncio.wait_for(queue.get(), SWAP_WINDOW_S)
                    batch = [second, first]
                except TimeoutError:
                    pass
            for delivery in batch:
                try:
                    await self._deliver(delivery)
                    if self._config.duplicate_callbacks:
                        await self._deliver(delivery)
                except Exception:  # a bug here must not kill the channel
                    log.exception("delivery to %s failed", delivery.uri)
                finally:
                    self._done()

    async def _deliver_later(self, delivery: Delivery) -> None:
        try:
            await asyncio.sleep(random.uniform(0, CONCURRENT_JITTER_S))
            await self._deliver(delivery)
            if self._config.duplicate_callbacks:
                await self._deliver(delivery)
        except Exception:  # a bug here must not kill the channel
            log.exception("delivery to %s failed", delivery.uri)
        finally:
            self._done()

    def _headers(self, delivery: Delivery) -> dict[str, str]:
        headers = {"Content-Type": "application/json; charset=utf-8"}
        if delivery.kind == "callback":
            headers["Authorization"] = f"Bearer {self._signer.token()}"
        else:
            headers.update(
                {
                    "aeg-event-type": "Notification",
                    "aeg-subscription-name": "ACS-EMULATOR-INCOMINGCALL",
                    "aeg-delivery-count": str(delivery.attempts - 1),
                    "aeg-data-version": "1.0",
                    "aeg-metadata-version": "1",
                }
            )
        return headers

    async def _deliver(self, delivery: Delivery) -> bool:
        assert self._session is not None, "dispatcher not started"
        payload = json.dumps(delivery.body).encode()
        delays = list(self._config.retry_delays_s)
        attempt = 0
        while True:
            attempt += 1
            delivery.attempts = attempt
            status: int | None = None
            error: str | None = None
            try:
                async with self._session.post(
                    delivery.uri, data=payload, headers=self._headers(delivery)
                ) as resp:
                    status = resp.status
                    await resp.read()
            except (aiohttp.ClientError, TimeoutError, OSError) as exc:
                error = f"{type(exc).__name__}: {exc}"
            ok = status is not None and 200 <= status < 300
            self._record(delivery, status, attempt, error)
            if ok:
                return True
            if not delays:
                return False
            await asyncio.sleep(delays.pop(0))

    def _record(self, delivery: Delivery, status: int | None, attempt: int, error: str | None) -> None:
        record = DeliveryRecord(delivery.uri, delivery.kind, delivery.label, status, attempt, error)
        self.records.append(record)
        if delivery.transcript is not None:
            delivery.transcript.add(
                "callback" if delivery.kind == "callback" else "eventgrid_delivery",
                event=delivery.label,
                event_id=delivery.body[0].get("id"),
                uri=delivery.uri,
                status=status,
                attempt=attempt,
                error=error,
            )
        if self._on_record is not None:
            self._on_record(record)
