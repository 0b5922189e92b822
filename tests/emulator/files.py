"""A throwaway HTTP server for the audio files a test asks the emulator to play."""

from __future__ import annotations

from aiohttp import web


class FileServer:
    def __init__(self, files: dict[str, bytes]) -> None:
        self.files = files
        self._runner: web.AppRunner | None = None
        self.base_url = ""

    async def _serve(self, request: web.Request) -> web.StreamResponse:
        data = self.files.get(request.match_info["name"])
        if data is None:
            return web.Response(status=404)
        return web.Response(body=data, content_type="audio/wav")

    async def __aenter__(self) -> FileServer:
        app = web.Application()
        app.router.add_get("/{name}", self._serve)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.base_url = f"http://127.0.0.1:{port}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def url(self, name: str) -> str:
        return f"{self.base_url}/{name}"
