"""Per-worker dependencies, created once on first use and reused by every invocation.

Adapters import their SDKs lazily, so building the container costs nothing at cold start; the first
invocation that needs a client pays for it once.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any

from core.adapters.cosmos_store import CosmosCallStore
from core.adapters.storage_queue import StorageQueueSender
from core.adapters.table_inbox import TableEventInbox
from core.observability import configure as configure_observability
from core.settings import Settings, get_settings


@dataclass
class Container:
    settings: Settings
    calls: CosmosCallStore
    inbox: TableEventInbox
    queues: StorageQueueSender
    # Further per-worker singletons (telephony, LLM, engine, ...) keyed by name, built on demand.
    extras: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def build(cls, settings: Settings) -> Container:
        configure_observability(settings)
        return cls(
            settings=settings,
            calls=CosmosCallStore(settings.cosmos),
            inbox=TableEventInbox(settings.storage),
            queues=StorageQueueSender(settings.storage),
        )

    async def close(self) -> None:
        await self.calls.close()
        await self.inbox.close()
        await self.queues.close()
        for extra in self.extras.values():
            close = getattr(extra, "close", None)
            if close is not None:
                await close()
        self.extras.clear()


@functools.cache
def get_container() -> Container:
    return Container.build(get_settings())


def reset_container() -> None:
    """Forget the worker's container and settings (tests that change the environment)."""
    get_container.cache_clear()
    get_settings.cache_clear()
