"""A local OpenAI-compatible embeddings endpoint (all-MiniLM-L6-v2, or a hashing stand-in for tests)."""

from local.embeddings.server import DEFAULT_PORT, DIMENSIONS, EmbeddingsServer, hashing_embedding

__all__ = ["DEFAULT_PORT", "DIMENSIONS", "EmbeddingsServer", "hashing_embedding"]
