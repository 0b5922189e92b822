"""A local stand-in for the Azure Functions host (Core Tools cannot be installed here).

Serves the functions of a ``func.FunctionApp`` (Python v2 programming model) the way the host does:
HTTP triggers with route templates and keys, the Event Grid webhook, and queue triggers polling Azure
Storage (Azurite). See README.md in this folder for what it reproduces and what it does not.
"""

from .host import FunctionsHost
from .host_config import HostConfig, QueueOptions
from .listing import ServedFunction, served_functions
from .queues import QueueOutcome
from .settings_loader import LocalSettings, load_local_settings

__all__ = [
    "FunctionsHost",
    "HostConfig",
    "LocalSettings",
    "QueueOptions",
    "QueueOutcome",
    "ServedFunction",
    "load_local_settings",
    "served_functions",
]
