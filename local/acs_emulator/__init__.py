"""Local emulator of Azure Communication Services (Call Automation, SMS, IncomingCall via Event Grid).

Runs as its own process on loopback (``python -m local.acs_emulator``) or in-process in tests
(``AcsEmulator``). Depends on nothing in ``core/``. See README.md in this folder.
"""

from local.acs_emulator.config import DEFAULT_ACCESS_KEY, EmulatorConfig
from local.acs_emulator.server import AcsEmulator

__all__ = ["DEFAULT_ACCESS_KEY", "AcsEmulator", "EmulatorConfig"]
