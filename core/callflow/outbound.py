"""Moved to core.api.call_request; kept until the call flow imports it from there."""

from core.api.call_request import default_initiate
from core.api.call_request import parse_call_request as parse_initiate

__all__ = ["default_initiate", "parse_initiate"]
