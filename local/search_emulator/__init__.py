"""A local Azure AI Search data plane that the real ``azure-search-documents`` SDK talks to."""

from local.search_emulator.server import DEFAULT_ADMIN_KEY, DEFAULT_PORT, SearchEmulator, SearchFault

__all__ = ["DEFAULT_ADMIN_KEY", "DEFAULT_PORT", "SearchEmulator", "SearchFault"]
