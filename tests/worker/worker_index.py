"""Index a Function App with the Python worker's own code, in a fresh process, and print what it found.

``python -m tests.worker.worker_index <app directory>`` runs ``azure-functions-runtime`` (the library
worker the Functions host loads for Python 3.13+) the way the host drives it at start-up: a
``WorkerInitRequest`` for the app directory (the worker imports ``function_app.py`` and indexes it,
validating every function's bindings against its signature), then a ``FunctionsMetadataRequest``
whose answer is what the host registers. It prints one JSON object: the init status and, per function,
its metadata, raw bindings and what the worker's registry holds. Nothing here re-implements the
indexing; the stand-in below only replaces the protobuf classes the proxy worker injects.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any


class _Message:
    """A protobuf message reduced to its fields (keyword arguments), which is all the worker sets."""

    def __init__(self, **fields: Any) -> None:
        self.__dict__.update(fields)


def _message(name: str, **constants: int) -> type[_Message]:
    return type(name, (_Message,), constants)


# The messages the library worker builds while indexing, with the enum values of the host's
# FunctionRpc.proto (BindingInfo.Direction: in, out, inout; BindingInfo.DataType: undefined, string,
# binary, stream; StatusResult.Status: Failure, Success, Cancelled). The proxy worker passes its
# generated protobuf module as ``protos``; the runtime reads nothing else from it while indexing.
PROTOS = SimpleNamespace(
    BindingInfo=_message(
        "BindingInfo", **{"in": 0}, out=1, inout=2, undefined=0, string=1, binary=2, stream=3
    ),
    RpcFunctionMetadata=_message("RpcFunctionMetadata"),
    RpcRetryOptions=_message("RpcRetryOptions"),
    FunctionMetadataResponse=_message("FunctionMetadataResponse"),
    WorkerInitResponse=_message("WorkerInitResponse"),
    WorkerMetadata=_message("WorkerMetadata"),
    StatusResult=_message("StatusResult", Failure=0, Success=1, Cancelled=2),
    RpcException=_message("RpcException"),
)


async def index(app_directory: str) -> dict[str, Any]:
    from azure_functions_runtime import handle_event

    init = SimpleNamespace(
        request=SimpleNamespace(
            worker_init_request=SimpleNamespace(function_app_directory=app_directory, capabilities={})
        ),
        properties={"host": "127.0.0.1", "protos": PROTOS},
    )
    init_response = await handle_event.worker_init_request(init)
    result = init_response.result
    exception = getattr(result, "exception", None)
    answer: dict[str, Any] = {
        "status": "Success" if result.status == PROTOS.StatusResult.Success else "Failure",
        "error": getattr(exception, "message", None),
        "worker_version": init_response.worker_metadata.worker_version,
        "runtime_version": init_response.worker_metadata.runtime_version,
        "functions": [],
    }
    if answer["status"] != "Success":
        return answer
    metadata = await handle_event.functions_metadata_request(None)
    for function in metadata.function_metadata_results:
        registered = handle_event._functions.get_function(function.function_id)
        answer["functions"].append(
            {
                "name": function.name,
                "script_file": function.script_file,
                "entry_point": function.entry_point,
                "language": function.language,
                "properties": dict(function.properties),
                "raw_bindings": [json.loads(raw) for raw in function.raw_bindings],
                "binding_directions": {name: info.direction for name, info in function.bindings.items()},
                "is_async": registered.is_async,
                "requires_context": registered.requires_context,
                "is_http_func": registered.is_http_func,
            }
        )
    return answer


def main() -> None:
    app_directory = str(Path(sys.argv[1]).resolve())
    # The proxy worker puts the app directory first on sys.path before the runtime imports the app.
    sys.path.insert(0, app_directory)
    answer = asyncio.run(index(app_directory))
    # On a line of its own and last: the app may log to stdout while it is imported.
    print("\n" + json.dumps(answer))


if __name__ == "__main__":
    main()
