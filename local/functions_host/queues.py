"""Queue triggers: one listener per queue-triggered function, polling Azure Storage (Azurite locally).

Reproduces the Storage Queues extension's listener:
- gets up to ``batchSize`` messages at a time, invisible for 10 minutes while they are processed, and
  runs them concurrently; gets the next batch once the in-flight count is down to ``newBatchThreshold``;
- polls again at once while messages keep coming; when the queue is empty, waits with a randomized
  exponential back-off from 100 ms up to ``maxPollingInterval``; ``nudge()`` wakes it immediately (the
  host does this for messages its own functions add);
- decodes the body from base64 (``messageEncoding: base64``, the default) or takes it as is (``none``),
  and passes ``func.QueueMessage`` with id, body, dequeue count, pop receipt and times;
- success -> delete; failure -> visible again after ``visibilityTimeout``, or, once the dequeue count has
  reached ``maxDequeueCount``, copied as is to ``<queue>-poison`` and deleted; a message seen with a
  dequeue count above ``maxDequeueCount`` goes to the poison queue without running the function;
- creates the queue (and the poison queue, when needed) if missing.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import logging
import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from azure.core.exceptions import AzureError, ResourceExistsError
from azure.functions.queue import QueueMessage as FuncQueueMessage
from azure.storage.queue import QueueMessage as StorageQueueMessage
from azure.storage.queue.aio import QueueClient

from .host_config import QueueOptions
from .invocation import FunctionInfo, InvocationError, Invoker

logger = logging.getLogger("local.functions_host")

MIN_POLLING_INTERVAL_S = 0.1
PROCESSING_VISIBILITY_S = 600
POISON_SUFFIX = "-poison"

Outcome = Literal["succeeded", "released", "poisoned"]


@dataclass(frozen=True)
class QueueOutcome:
    """What happened to one dequeued message (for observers: tests, benchmarks, logs)."""

    function_name: str
    queue_name: str
    message_id: str
    dequeue_count: int
    outcome: Outcome


QueueObserver = Callable[[QueueOutcome], None]


class BindingError(Exception):
    """The message could not be bound (for example, not valid base64); it counts as a failure."""


def decode_body(content: str, encoding: str) -> bytes:
    if encoding == "none":
        return content.encode()
    try:
        return base64.b64decode(content, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise BindingError(f"message is not valid base64 (messageEncoding is {encoding!r})") from exc


class QueueListener:
    def __init__(
        self,
        function: FunctionInfo,
        *,
        queue_name: str,
        connection_string: str,
        options: QueueOptions,
        invoker: Invoker,
        observers: list[QueueObserver],
    ) -> None:
        self.function = function
        self.queue_name = queue_name
        self.options = options
        self._connection_string = connection_string
        self._invoker = invoker
        self._observers = observers
        self._client: QueueClient | None = None
        self._poison_client: QueueClient | None = None
        self._task: asyncio.Task[None] | None = None
        self._in_flight: set[asyncio.Task[None]] = set()
        self._wake = asyncio.Event()
        self._capacity = asyncio.Condition()
        self._loop: asyncio.AbstractEventLoop | None = None

    @property
    def poison_queue_name(self) -> str:
        return self.queue_name + POISON_SUFFIX

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._client = QueueClient.from_connection_string(self._connection_string, self.queue_name)
        await _create_if_missing(self._client)
        self._task = asyncio.create_task(self._run(), name=f"queue-listener:{self.function.name}")

    async def stop(self, grace_s: float = 10.0) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        if self._in_flight:
            _, pending = await asyncio.wait(set(self._in_flight), timeout=grace_s)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        for client in (self._client, self._poison_client):
            if client is not None:
                await client.close()
        self._client = self._poison_client = None

    def nudge(self) -> None:
        """Poll now (callable from any thread)."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            self._wake.set()
        else:
            loop.call_soon_threadsafe(self._wake.set)

    async def _run(self) -> None:
        delay = MIN_POLLING_INTERVAL_S
        threshold = self.options.effective_new_batch_threshold
        while True:
            async with self._capacity:
                await self._capacity.wait_for(lambda: len(self._in_flight) <= threshold)
            self._wake.clear()
            try:
                messages = await self._receive()
            except (AzureError, OSError) as exc:
                logger.warning("Queue '%s': polling failed: %s", self.queue_name, exc)
                messages = []
            if messages:
                for message in messages:
                    task = asyncio.create_task(self._process(message))
                    self._in_flight.add(task)
                    task.add_done_callback(self._in_flight.discard)
                delay = MIN_POLLING_INTERVAL_S
                continue
            if await self._sleep(delay):
                delay = MIN_POLLING_INTERVAL_S
            else:
                delay = min(self.options.max_polling_interval_s, delay * 2 * random.uniform(0.8, 1.2))

    async def _sleep(self, delay: float) -> bool:
        """Wait ``delay`` seconds; True when woken early by ``nudge()``."""
        try:
            await asyncio.wait_for(self._wake.wait(), delay)
        except TimeoutError:
            return False
        return True

    async def _receive(self) -> list[StorageQueueMessage]:
        assert self._client is not None
        pager = self._client.receive_messages(
            messages_per_page=self.options.batch_size, visibility_timeout=PROCESSING_VISIBILITY_S
        )
        async for page in pager.by_page():
            return [message async for message in page]
        return []

    async def _process(self, message: StorageQueueMessage) -> None:
        try:
            outcome = await self._handle(message)
            self._notify(message, outcome)
        except (AzureError, OSError) as exc:
            logger.warning("Queue '%s': settling message %s failed: %s", self.queue_name, message.id, exc)
        except Exception:
            logger.exception("Queue '%s': unexpected error for message %s", self.queue_name, message.id)
        finally:
            current = asyncio.current_task()
            if current is not None:
                self._in_flight.discard(current)
            async with self._capacity:
                self._capacity.notify_all()

    async def _handle(self, message: StorageQueueMessage) -> Outcome:
        assert self._client is not None
        dequeue_count = int(message.dequeue_count or 0)
        max_count = self.options.max_dequeue_count
        if dequeue_count > max_count:
            await self._move_to_poison(message)
            return "poisoned"
        try:
            body = decode_body(message.content or "", self.options.message_encoding)
            value = FuncQueueMessage(
                id=message.id,
                body=body,
                dequeue_count=dequeue_count,
                expiration_time=message.expires_on,
                insertion_time=message.inserted_on,
                time_next_visible=message.next_visible_on,
                pop_receipt=message.pop_receipt,
            )
            await self._invoker.invoke(
                self.function, value, reason=f"New queue message detected on '{self.queue_name}'."
            )
        except (InvocationError, BindingError) as exc:
            if isinstance(exc, BindingError):
                logger.error("Function '%s': %s (message %s)", self.function.name, exc, message.id)
            if dequeue_count >= max_count:
                await self._move_to_poison(message)
                return "poisoned"
            await self._client.update_message(
                message,
                pop_receipt=message.pop_receipt,
                visibility_timeout=math.ceil(self.options.visibility_timeout_s),
            )
            return "released"
        await self._client.delete_message(message, pop_receipt=message.pop_receipt)
        return "succeeded"

    async def _move_to_poison(self, message: StorageQueueMessage) -> None:
        assert self._client is not None
        logger.warning(
            "Message has reached MaxDequeueCount of %d. Moving message to queue '%s'.",
            self.options.max_dequeue_count,
            self.poison_queue_name,
        )
        if self._poison_client is None:
            self._poison_client = QueueClient.from_connection_string(
                self._connection_string, self.poison_queue_name
            )
            await _create_if_missing(self._poison_client)
        await self._poison_client.send_message(message.content)
        await self._client.delete_message(message, pop_receipt=message.pop_receipt)

    def _notify(self, message: StorageQueueMessage, outcome: Outcome) -> None:
        event = QueueOutcome(
            function_name=self.function.name,
            queue_name=self.queue_name,
            message_id=str(message.id),
            dequeue_count=int(message.dequeue_count or 0),
            outcome=outcome,
        )
        for observer in list(self._observers):
            try:
                observer(event)
            except Exception:
                logger.exception("Queue observer failed")


async def _create_if_missing(client: QueueClient) -> None:
    with contextlib.suppress(ResourceExistsError):
        await client.create_queue()
