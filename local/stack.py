"""The local storage stack: Azurite (queues, tables, blobs), the Cosmos DB server, the AI Search
emulator, the embeddings endpoint and the App Configuration emulator (local/appconfig_emulator), on
loopback.

    python -m local.stack install   # npm ci (pinned) + the Cosmos server patch
    python -m local.stack up        # start both, wait until they answer, stop cleanly on Ctrl-C

Data lives in memory only: every start is a clean slate. The embeddings endpoint uses the hashing
backend unless LOCAL_EMBEDDINGS_BACKEND=minilm (the real all-MiniLM-L6-v2 model, slower to start).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / "node_modules" / ".bin"

AZURITE_PORTS = (10000, 10001, 10002)
COSMOS_PORT = 8081
SEARCH_PORT = 8083
EMBEDDINGS_PORT = 8084
APPCONFIG_PORT = 8483

# The server answers 500 instead of 404 when read_item misses; ACS-like "not found" semantics matter
# to the call store, so the install step patches that one line.
_COSMOS_READ = ROOT / "node_modules/@vercel/cosmosdb-server/lib/handler/read-document.js"
_COSMOS_BUG = "const data = collection.document(docId, parsedPartitionKey).read();\n"
_COSMOS_FIX = (
    _COSMOS_BUG + "        if (!data) {\n            res.statusCode = 404;\n"
    '            return { code: "NotFound", message: "Entity with the specified id does not exist in the '
    'system." };\n        }\n'
)


# The server accepts documents of any size (up to its 20 MB body limit); Azure Cosmos DB refuses items
# over 2 MB with 413 RequestEntityTooLarge and ids over 1,023 bytes with 400. Each write operation
# (create, replace, upsert) gets the service's checks, after its own "missing id" one.
_COSMOS_OPS = ROOT / "node_modules/@vercel/cosmosdb-server/lib/handler/_document-operations.js"
_COSMOS_OPS_HEAD = 'const get_partition_from_header_1 = require("../utils/get-partition-from-header");\n'
_COSMOS_LIMITS = """// Patched by local/stack.py: the limits of Azure Cosmos DB.
function serviceLimits(resourceBody) {
    if (Buffer.byteLength(String(resourceBody.id), "utf8") > 1023) {
        return { statusCode: 400, body: { code: "BadRequest", message: "Message: {\\"Errors\\":[\\"The size of the id exceeds the maximum of 1023 bytes.\\"]}" } };
    }
    if (Buffer.byteLength(JSON.stringify(resourceBody), "utf8") > 2 * 1024 * 1024) {
        return { statusCode: 413, body: { code: "RequestEntityTooLarge", message: "Message: {\\"Errors\\":[\\"Request size is too large\\"]}" } };
    }
    return null;
}
"""
_COSMOS_MISSING_ID = """            body: { message: "missing id" }
        };
    }
"""
_COSMOS_CHECK = "    const refused = serviceLimits(input.resourceBody);\n    if (refused) {\n        return refused;\n    }\n"


def _patch_cosmos_limits() -> None:
    source = _COSMOS_OPS.read_text()
    if "serviceLimits" in source:
        return
    if source.count(_COSMOS_MISSING_ID) != 3:
        raise SystemExit(f"{_COSMOS_OPS} is not the version the size patch expects")
    source = source.replace(_COSMOS_OPS_HEAD, _COSMOS_OPS_HEAD + _COSMOS_LIMITS)
    _COSMOS_OPS.write_text(source.replace(_COSMOS_MISSING_ID, _COSMOS_MISSING_ID + _COSMOS_CHECK))


# The server answers every request with "Connection: close" unless started with keepAlive, which its
# command line cannot ask for; Azure Cosmos DB keeps connections open, so the app's client pays a new
# TCP connection per request only here (~6 a turn, a fifth of the app's CPU under load). Idle
# connections stay open longer than aiohttp's 15 s keep-alive, so the client always closes them first
# and never reuses one the server is closing.
_COSMOS_CLI = ROOT / "node_modules/@vercel/cosmosdb-server/lib/cli.js"
_COSMOS_SERVER = "const server = cosmosDBServer().listen("
_COSMOS_KEEP_ALIVE = (
    "const server = Object.assign(cosmosDBServer({ keepAlive: true }), { keepAliveTimeout: 30000 }).listen("
)


def _patch_cosmos_keep_alive() -> None:
    source = _COSMOS_CLI.read_text()
    if _COSMOS_KEEP_ALIVE in source:
        return
    if _COSMOS_SERVER not in source:
        raise SystemExit(f"{_COSMOS_CLI} is not the version the keep-alive patch expects")
    _COSMOS_CLI.write_text(source.replace(_COSMOS_SERVER, _COSMOS_KEEP_ALIVE))


def install() -> None:
    """Install the pinned npm emulators if missing, and patch the Cosmos server."""
    if not (BIN / "azurite").exists() or not (BIN / "cosmosdb-server").exists():
        npm = shutil.which("npm")
        if npm is None:
            raise SystemExit("npm is required to install the local emulators (apt-get install nodejs npm)")
        subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=ROOT, check=True)
    source = _COSMOS_READ.read_text()
    if _COSMOS_FIX not in source:
        _COSMOS_READ.write_text(source.replace(_COSMOS_BUG, _COSMOS_FIX))
    _patch_cosmos_limits()
    _patch_cosmos_keep_alive()


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.2)
        return sock.connect_ex((host, port)) == 0


def wait_for_ports(ports: tuple[int, ...], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    pending = list(ports)
    while pending:
        pending = [p for p in pending if not port_open(p)]
        if not pending:
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"local services did not open ports {pending} within {timeout:.0f}s")
        time.sleep(0.05)


@dataclass
class LocalStack:
    """Azurite + Cosmos DB server child processes. Reuses services already listening."""

    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def start(self) -> LocalStack:
        install()
        if not all(port_open(p) for p in AZURITE_PORTS):
            self._spawn(
                [
                    str(BIN / "azurite"),
                    "--silent",
                    "--inMemoryPersistence",
                    "--skipApiVersionCheck",
                    "--loose",
                    "--disableTelemetry",
                    "--blobHost",
                    "127.0.0.1",
                    "--queueHost",
                    "127.0.0.1",
                    "--tableHost",
                    "127.0.0.1",
                ]
            )
        if not port_open(COSMOS_PORT):
            self._spawn(
                [str(BIN / "cosmosdb-server"), "-p", str(COSMOS_PORT), "--host", "127.0.0.1", "--no-ssl"]
            )
        if not port_open(SEARCH_PORT):
            self._spawn([sys.executable, "-m", "local.search_emulator", "--port", str(SEARCH_PORT)])
        if not port_open(EMBEDDINGS_PORT):
            backend = os.environ.get("LOCAL_EMBEDDINGS_BACKEND", "hashing")
            self._spawn(
                [
                    sys.executable,
                    "-m",
                    "local.embeddings",
                    "--port",
                    str(EMBEDDINGS_PORT),
                    "--backend",
                    backend,
                ]
            )
        if not port_open(APPCONFIG_PORT):
            self._spawn([sys.executable, "-m", "local.appconfig_emulator", "--port", str(APPCONFIG_PORT)])
        try:
            wait_for_ports(
                (*AZURITE_PORTS, COSMOS_PORT, SEARCH_PORT, EMBEDDINGS_PORT, APPCONFIG_PORT), timeout=60.0
            )
        except TimeoutError:
            self.stop()
            raise
        return self

    def _spawn(self, argv: list[str]) -> None:
        self.processes.append(
            subprocess.Popen(
                argv,
                cwd=ROOT,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
        )

    def stop(self) -> None:
        for process in self.processes:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
        self.processes.clear()


def appconfig_connection_string() -> str:
    """APP_CONFIGURATION__CONNECTION_STRING of the stack's App Configuration emulator."""
    from local.appconfig_emulator import connection_string

    return connection_string(f"http://127.0.0.1:{APPCONFIG_PORT}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.stack", description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["install", "up"])
    args = parser.parse_args(argv)
    if args.command == "install":
        install()
        return 0
    stack = LocalStack().start()
    print(
        f"Azurite on 127.0.0.1:{AZURITE_PORTS}, Cosmos DB server on 127.0.0.1:{COSMOS_PORT}, AI Search"
        f" emulator on 127.0.0.1:{SEARCH_PORT}, embeddings on 127.0.0.1:{EMBEDDINGS_PORT}, App Configuration "
        f"emulator on 127.0.0.1:{APPCONFIG_PORT} ({appconfig_connection_string()}). Ctrl-C stops.",
        flush=True,
    )
    try:
        asyncio.run(asyncio.Event().wait())
    except KeyboardInterrupt:
        pass
    finally:
        stack.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
