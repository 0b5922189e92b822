"""A test-only FunctionApp exercising what the host adapter serves (not the product's function_app)."""

from __future__ import annotations

import json
import threading

import azure.functions as func

app = func.FunctionApp(http_auth_level=func.AuthLevel.FUNCTION)


class Recorder:
    """What the functions received, shared between the worker threads and the tests."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.events: list[func.EventGridEvent | func.CloudEvent] = []
        self.queue_bodies: dict[str, list[bytes]] = {}
        self.queue_dequeue_counts: dict[str, list[int]] = {}

    def queue_message(self, name: str, message: func.QueueMessage) -> None:
        with self.lock:
            self.queue_bodies.setdefault(name, []).append(message.get_body())
            self.queue_dequeue_counts.setdefault(name, []).append(int(message.dequeue_count or 0))


recorder = Recorder()


@app.route(route="keyed", methods=["GET", "POST"])
def keyed(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse(
        json.dumps({"method": req.method, "name": req.params.get("name"), "body": req.get_body().decode()}),
        mimetype="application/json",
        headers={"X-Sample": "keyed"},
    )


@app.route(route="anonymous", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
async def anonymous(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse("hello", status_code=200)


@app.route(route="items/{id:guid}/{detail?}", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
async def item(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse(json.dumps(dict(req.route_params)), mimetype="application/json")


@app.route(route="items/special", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
def item_special(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse("special")


@app.route(route="files/{*rest}", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
def files(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse(req.route_params.get("rest", ""))


@app.route(route="admin-only", auth_level=func.AuthLevel.ADMIN)
def admin_only(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse("admin")


@app.route(route="boom", auth_level=func.AuthLevel.ANONYMOUS)
async def boom(req: func.HttpRequest) -> func.HttpResponse:
    raise RuntimeError("secret detail that must not leak")


@app.route(route="with-context", auth_level=func.AuthLevel.ANONYMOUS)
def with_context(req: func.HttpRequest, context: func.Context) -> str:
    return context.function_name


@app.event_grid_trigger(arg_name="event")
def on_event(event: func.EventGridEvent) -> None:
    with recorder.lock:
        recorder.events.append(event)


@app.event_grid_trigger(arg_name="event")
async def on_event_failing(event: func.EventGridEvent) -> None:
    raise RuntimeError("handler failure")


@app.queue_trigger(arg_name="msg", queue_name="%HOST_TEST_QUEUE_OK%", connection="AzureWebJobsStorage")
async def queue_ok(msg: func.QueueMessage) -> None:
    recorder.queue_message("ok", msg)


@app.queue_trigger(arg_name="msg", queue_name="%HOST_TEST_QUEUE_FAILING%", connection="AzureWebJobsStorage")
def queue_failing(msg: func.QueueMessage) -> None:
    recorder.queue_message("failing", msg)
    raise RuntimeError("always fails")
