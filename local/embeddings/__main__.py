"""``python -m local.embeddings --port 8084 --backend hashing|minilm``: embeddings until Ctrl-C or SIGTERM."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal

from local.embeddings.server import DEFAULT_PORT, EmbeddingsServer


async def serve(host: str, port: int, backend: str) -> None:
    server = await EmbeddingsServer(backend=backend, host=host, port=port).start()  # type: ignore[arg-type]
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    print(f"Embeddings ({backend}) on {server.base_url}", flush=True)
    try:
        await stop.wait()
    finally:
        await server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m local.embeddings", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    parser.add_argument("--backend", choices=["hashing", "minilm"], default="hashing")
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(args.host, args.port, args.backend))


if __name__ == "__main__":
    main()
