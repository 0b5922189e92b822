"""What a ``FunctionsHost`` serves, as data: one row per function, read off the routers and listeners.

The rows come from the state that answers requests (the HTTP router's entries with the route prefix
applied, the key level each route checks, the queue and connection setting each listener uses), not
from the app again, so a test can hold them against what the Python worker itself indexes from
``function_app.py`` (tests/worker/).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .auth import Level
from .eventgrid import WEBHOOK_PATH
from .host import FunctionsHost, resolve_app_setting_expressions


@dataclass(frozen=True)
class ServedFunction:
    """One function as the adapter serves it.

    ``route`` is the template the router matches (route prefix included, no leading slash), ``methods``
    the upper-case methods it accepts (empty: every method), ``auth_level`` the key level it checks;
    ``queue_name`` (resolved, lower-case) and ``connection`` (the app setting name) are set for queue
    triggers; ``webhook`` is the Event Grid webhook path of an Event Grid trigger; ``schedule`` (resolved)
    and ``run_on_startup`` are set for timer triggers; ``bindings`` holds
    every binding as indexed, in plain JSON values.
    """

    name: str
    trigger: str
    route: str | None = None
    methods: tuple[str, ...] = ()
    auth_level: str | None = None
    queue_name: str | None = None
    connection: str | None = None
    webhook: str | None = None
    schedule: str | None = None
    run_on_startup: bool | None = None
    is_async: bool = False
    wants_context: bool = False
    bindings: tuple[dict[str, Any], ...] = ()


def served_functions(host: FunctionsHost) -> list[ServedFunction]:
    """Every function of ``host`` (in the app's order) with the route, keys or queue it is served on."""
    routes = {entry.target.name: entry for entry in host.http.router.entries}
    rows = []
    for function in host.functions:
        row: dict[str, Any] = {}
        if function.name in routes:
            entry = routes[function.name]
            row = {
                "route": entry.route.template,
                "methods": tuple(sorted(entry.methods)),
                "auth_level": Level.parse(function.trigger.get("authLevel")).value,
            }
        elif function.trigger_type == "queueTrigger":
            queue_name, connection = host.queue_binding(function)
            row = {"queue_name": queue_name, "connection": connection}
        elif function.trigger_type == "eventGridTrigger":
            row = {"webhook": f"{WEBHOOK_PATH}?functionName={function.name}"}
        elif function.trigger_type == "timerTrigger":
            row = {
                "schedule": resolve_app_setting_expressions(str(function.trigger["schedule"])),
                "run_on_startup": bool(function.trigger.get("runOnStartup")),
            }
        rows.append(
            ServedFunction(
                name=function.name,
                trigger=function.trigger_type,
                is_async=function.is_async,
                wants_context=function.wants_context,
                bindings=function.bindings,
                **row,
            )
        )
    return rows
