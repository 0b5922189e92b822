"""``FunctionsHost``: serves a ``func.FunctionApp`` over HTTP and runs its queue listeners."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
from pathlib import Path

import azure.functions as func
from aiohttp import web

from .auth import DEFAULT_FUNCTION_KEY, FUNCTION_KEY_ENV, MASTER_KEY_ENV, KeyChecker, Level, presented_key
from .eventgrid import EventGridWebhook
from .host_config import HostConfig
from .http import HttpFunctions, internal_error
from .invocation import FunctionInfo, Invoker, index_app
from .queues import QueueListener, QueueObserver
from .timers import Schedule, TimerListener

logger = logging.getLogger("local.functions_host")

DEFAULT_STORAGE_CONNECTION = "UseDevelopmentStorage=true"
DEFAULT_CONNECTION_NAME = "AzureWebJobsStorage"
_SETTING_EXPRESSION = re.compile(r"%([^%]+)%")
_QUEUE_NAME = re.compile(r"^[a-z0-9](?!.*--)[a-z0-9-]{1,61}[a-z0-9]$")


def resolve_app_setting_expressions(value: str) -> str:
    """Replace ``%NAME%`` with the app setting NAME, as the host does for binding properties."""

    def setting(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in os.environ:
            raise ValueError(f"app setting '{name}' (used as '%{name}%') is not defined")
        return os.environ[name]

    return _SETTING_EXPRESSION.sub(setting, value)


class FunctionsHost:
    """A local stand-in for the Functions host: HTTP functions, the Event Grid webhook, queue triggers.

    ``function_key`` defaults to ``$HTTP__FUNCTION_KEY`` or ``local-function-key``; ``master_key``
    (for ADMIN functions) to ``$HTTP__MASTER_KEY`` or the function key. ``timer_schedules=False``: timer
    functions run only when asked (``run_timer``, ``POST /admin/functions/{name}``), for tests. ``storage_connection_string``
    is used for queue bindings whose connection setting (default ``AzureWebJobsStorage``) is the default
    one; when None, ``$AzureWebJobsStorage`` or ``UseDevelopmentStorage=true`` (Azurite).
    """

    def __init__(
        self,
        app: func.FunctionApp,
        *,
        host_json_path: str | Path = "host.json",
        function_key: str | None = None,
        master_key: str | None = None,
        storage_connection_string: str | None = None,
        config: HostConfig | None = None,
        timer_schedules: bool = True,
    ) -> None:
        self.config = config or HostConfig.load(host_json_path)
        key = function_key or os.environ.get(FUNCTION_KEY_ENV) or DEFAULT_FUNCTION_KEY
        self.keys = KeyChecker(
            function_key=key, master_key=master_key or os.environ.get(MASTER_KEY_ENV) or key
        )
        self.functions: list[FunctionInfo] = index_app(app)
        self._storage_connection_string = storage_connection_string
        self.invoker = Invoker(function_timeout_s=self.config.function_timeout_s)
        self.http = HttpFunctions(
            self.functions, route_prefix=self.config.route_prefix, keys=self.keys, invoker=self.invoker
        )
        self.eventgrid = EventGridWebhook(self.functions, keys=self.keys, invoker=self.invoker)
        self.queue_listeners: list[QueueListener] = []
        self.timer_listeners: dict[str, TimerListener] = {}
        # False: timers run only when asked (run_timer, the admin API), never on their schedule.
        self._timer_schedules = timer_schedules
        self._admin_runs: set[asyncio.Task[None]] = set()
        self._observers: list[QueueObserver] = []
        self._runner: web.AppRunner | None = None
        self._base_url: str | None = None

    @property
    def function_key(self) -> str:
        return self.keys.function_key

    @property
    def base_url(self) -> str:
        """``http://host:port`` once started."""
        if self._base_url is None:
            raise RuntimeError("the host is not started")
        return self._base_url

    def add_queue_observer(self, observer: QueueObserver) -> None:
        """Call ``observer`` (on the event loop) with the outcome of every dequeued message."""
        self._observers.append(observer)

    def remove_queue_observer(self, observer: QueueObserver) -> None:
        self._observers.remove(observer)

    def nudge(self, queue_name: str | None = None) -> None:
        """Wake the listeners (of ``queue_name``, or all) to poll now instead of after their back-off."""
        for listener in self.queue_listeners:
            if queue_name is None or listener.queue_name == queue_name.lower():
                listener.nudge()

    def connection_string(self, setting_name: str | None) -> str:
        """The storage connection string a binding's ``connection`` setting name resolves to."""
        name = setting_name or DEFAULT_CONNECTION_NAME
        if name == DEFAULT_CONNECTION_NAME and self._storage_connection_string:
            return self._storage_connection_string
        for candidate in (name, f"AzureWebJobs{name}"):
            if os.environ.get(candidate):
                return os.environ[candidate]
        if name == DEFAULT_CONNECTION_NAME:
            return DEFAULT_STORAGE_CONNECTION
        raise ValueError(f"Storage account connection string '{name}' does not exist (app setting not set)")

    def queue_binding(self, function: FunctionInfo) -> tuple[str, str]:
        """The queue a queue trigger listens on (resolved, lower-case) and its connection setting name."""
        queue_name = resolve_app_setting_expressions(str(function.trigger["queueName"])).lower()
        if not _QUEUE_NAME.match(queue_name):
            raise ValueError(f"Function '{function.name}': invalid queue name {queue_name!r}")
        return queue_name, str(function.trigger.get("connection") or DEFAULT_CONNECTION_NAME)

    def _queue_listeners(self) -> list[QueueListener]:
        listeners = []
        for function in self.functions:
            if function.trigger_type != "queueTrigger":
                continue
            queue_name, connection = self.queue_binding(function)
            listeners.append(
                QueueListener(
                    function,
                    queue_name=queue_name,
                    connection_string=self.connection_string(connection),
                    options=self.config.queues,
                    invoker=self.invoker,
                    observers=self._observers,
                )
            )
        return listeners

    def _timer_listeners(self) -> dict[str, TimerListener]:
        listeners = {}
        for function in self.functions:
            if function.trigger_type != "timerTrigger":
                continue
            expression = resolve_app_setting_expressions(str(function.trigger["schedule"]))
            try:
                schedule = Schedule.parse(expression)
            except ValueError as exc:
                raise ValueError(f"Function '{function.name}': invalid schedule: {exc}") from None
            listeners[function.name] = TimerListener(function, schedule=schedule, invoker=self.invoker)
        return listeners

    async def run_timer(self, name: str, *, past_due: bool = False) -> None:
        """Run the timer function ``name`` now and wait for it to end (InvocationError if it failed):
        what a test uses to fire a timer deterministically."""
        listener = self.timer_listeners.get(name)
        if listener is None:
            raise KeyError(f"no timer function named {name!r} (started hosts only)")
        await listener.run_now(reason="Manual", past_due=past_due)

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        web_app = web.Application(client_max_size=100 * 1024 * 1024)
        web_app.router.add_route("*", "/{tail:.*}", self._dispatch)
        runner = web.AppRunner(web_app, access_log=None, handle_signals=False)
        await runner.setup()
        site = web.TCPSite(runner, host, port)
        await site.start()
        self._runner = runner
        server = site._server  # the bound port (port 0 picks a free one)
        sockets = getattr(server, "sockets", None) or []
        bound_port = int(sockets[0].getsockname()[1]) if sockets else port
        self._base_url = f"http://{host}:{bound_port}"
        try:
            self.queue_listeners = self._queue_listeners()
            for listener in self.queue_listeners:
                await listener.start()
            self.timer_listeners = self._timer_listeners()
            for timer in self.timer_listeners.values():
                if self._timer_schedules:
                    await timer.start()
        except BaseException:
            await self.stop()
            raise
        logger.info("Functions host listening on %s", self._base_url)

    async def stop(self) -> None:
        for listener in self.queue_listeners:
            await listener.stop()
        self.queue_listeners = []
        for timer in self.timer_listeners.values():
            await timer.stop()
        self.timer_listeners = {}
        for run in list(self._admin_runs):
            run.cancel()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        self.invoker.close()

    async def __aenter__(self) -> FunctionsHost:
        await self.start()
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.stop()

    def describe(self) -> list[str]:
        """One line per function, like the list ``func start`` prints."""
        lines = []
        base = self._base_url or "http://127.0.0.1:7071"
        for function in self.functions:
            trigger = function.trigger
            if function.trigger_type == "httpTrigger":
                route = "/".join(
                    p for p in (self.config.route_prefix, trigger.get("route") or function.name) if p
                )
                methods = ",".join(trigger.get("methods") or ["*"])
                lines.append(f"{function.name}: [{methods}] {base}/{route}")
            elif function.trigger_type == "eventGridTrigger":
                webhook = f"{base}/runtime/webhooks/EventGrid?functionName={function.name}"
                lines.append(f"{function.name}: eventGridTrigger {webhook}")
            elif function.trigger_type == "timerTrigger":
                lines.append(f"{function.name}: timerTrigger {trigger.get('schedule', '')}")
            else:
                detail = trigger.get("queueName", "")
                lines.append(f"{function.name}: {function.trigger_type} {detail}".rstrip())
        return lines

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        try:
            if EventGridWebhook.matches(path):
                return await self.eventgrid.handle(request)
            if path.rstrip("/").lower() == "/admin/host/ping":
                return web.Response(status=200)
            if path.lower().startswith("/admin/functions/"):
                return await self._admin_invoke(request)
            response = await self.http.handle(request)
        except Exception:
            logger.exception("Unhandled error while serving %s %s", request.method, path)
            return internal_error()
        return response if response is not None else web.Response(status=404)

    async def _admin_invoke(self, request: web.Request) -> web.StreamResponse:
        """``POST /admin/functions/{name}`` with the master key: run a non-HTTP function (here: a
        timer) now; 202 at once, as the host answers (the invocation goes on in the background)."""
        if not self.keys.authorized(Level.ADMIN, presented_key(request.headers, request.query)):
            return web.Response(status=401)
        if request.method != "POST":
            return web.Response(status=405)
        name = request.path.rstrip("/").rsplit("/", 1)[-1]
        listener = next((t for n, t in self.timer_listeners.items() if n.lower() == name.lower()), None)
        if listener is None:
            return web.Response(status=404)
        body = await request.read()
        if body:
            try:
                json.loads(body)
            except ValueError:
                return web.Response(status=400, text='the body must be JSON: {"input": ""}')
        run = asyncio.get_running_loop().create_task(self._run_logged(listener))
        self._admin_runs.add(run)
        run.add_done_callback(self._admin_runs.discard)
        return web.Response(status=202)

    @staticmethod
    async def _run_logged(listener: TimerListener) -> None:
        try:
            await listener.run_now(reason="Manual")
        except Exception:  # logged by the invoker
            logger.debug("admin invocation of %s failed", listener.function.name)
