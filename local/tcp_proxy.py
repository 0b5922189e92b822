"""A TCP proxy in front of a local service (Cosmos DB server, Azurite) that can fail on demand.

    proxy = await TcpProxy(8081).start()        # the app talks to 127.0.0.1:{proxy.port}
    proxy.refuse(6.0)        # for 6 s: open connections are cut, new ones closed at once
    proxy.blackhole(6.0)     # for 6 s: bytes go nowhere (requests hang until the client times out)
    proxy.slow(0.05)         # from now on, every chunk is forwarded 50 ms late (a slow service)
    proxy.slow(0.3, b"PUT ") # only requests starting so are late (e.g. throttled Cosmos DB writes)
    proxy.heal()             # end the fault now (and the slowness)

What a client sees is what it sees when a service restarts or a network path drops: resets, or
silence. When a black hole ends, the connections it held are cut (their state is lost) and new ones
work again.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from enum import StrEnum


class Mode(StrEnum):
    PASS = "pass"
    REFUSE = "refuse"
    BLACKHOLE = "blackhole"


class TcpProxy:
    def __init__(self, target_port: int, target_host: str = "127.0.0.1", host: str = "127.0.0.1") -> None:
        self.target = (target_host, target_port)
        self.host = host
        self.port = 0
        self._mode = Mode.PASS
        self._until = 0.0
        self._server: asyncio.Server | None = None
        self._links: set[asyncio.StreamWriter] = set()
        self._heal_timer: asyncio.TimerHandle | None = None
        self._healed = asyncio.Event()
        self._healed.set()
        self._latency = 0.0
        self._slow_prefix: bytes | None = None
        # Connections the fault touched (refused or held): tests check the fault was actually hit.
        self.faulted = 0

    @property
    def mode(self) -> Mode:
        return self._mode

    async def start(self, port: int = 0) -> TcpProxy:
        self._server = await asyncio.start_server(self._accept, self.host, port)
        self.port = int(self._server.sockets[0].getsockname()[1])
        return self

    async def stop(self) -> None:
        self.heal()
        self._cut_all()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def __aenter__(self) -> TcpProxy:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def refuse(self, seconds: float) -> None:
        self._fail(Mode.REFUSE, seconds)
        self._cut_all()

    def blackhole(self, seconds: float) -> None:
        self._fail(Mode.BLACKHOLE, seconds)

    def slow(self, latency_s: float, requests_starting: bytes | None = None) -> None:
        """Forward late: every chunk, or only client chunks that start with ``requests_starting``."""
        self._latency = max(0.0, latency_s)
        self._slow_prefix = requests_starting

    def heal(self) -> None:
        self._latency = 0.0
        if self._heal_timer is not None:
            self._heal_timer.cancel()
            self._heal_timer = None
        if self._mode is Mode.BLACKHOLE:
            self._cut_all()  # what the black hole held is lost
        self._mode = Mode.PASS
        self._healed.set()

    async def wait_healed(self) -> None:
        await self._healed.wait()

    def _fail(self, mode: Mode, seconds: float) -> None:
        if self._heal_timer is not None:
            self._heal_timer.cancel()
        self._mode = mode
        self._until = time.monotonic() + seconds
        self._healed.clear()
        self._heal_timer = asyncio.get_running_loop().call_later(seconds, self.heal)

    def _cut_all(self) -> None:
        for writer in list(self._links):
            writer.transport.abort()
        self._links.clear()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self._mode is Mode.REFUSE:
            self.faulted += 1
            writer.transport.abort()
            return
        self._links.add(writer)
        try:
            if self._mode is Mode.BLACKHOLE:
                self.faulted += 1
                await self._healed.wait()
                return  # heal() cut it
            try:
                up_reader, up_writer = await asyncio.open_connection(*self.target)
            except OSError:
                return
            self._links.add(up_writer)
            await asyncio.gather(
                self._pipe(reader, up_writer, upstream=True),
                self._pipe(up_reader, writer, upstream=False),
                return_exceptions=True,
            )
            self._links.discard(up_writer)
            up_writer.transport.abort()
        finally:
            self._links.discard(writer)
            writer.transport.abort()

    async def _pipe(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, *, upstream: bool
    ) -> None:
        with contextlib.suppress(OSError, asyncio.IncompleteReadError):
            while True:
                data = await reader.read(65536)
                if not data:
                    break
                if self._mode is not Mode.PASS:
                    # A fault began while this connection was open: drop everything from now on.
                    self.faulted += 1
                    await self._healed.wait()
                    break
                if self._latency and (
                    self._slow_prefix is None or (upstream and data.startswith(self._slow_prefix))
                ):
                    await asyncio.sleep(self._latency)
                writer.write(data)
                await writer.drain()
        writer.transport.abort()
