"""A local stand-in for the part of Twilio's REST API the product uses (sending SMS) and for Twilio's
side of the inbound webhook (delivering a received SMS, signed). See server.py."""

from local.twilio_emulator.server import TwilioEmulator

__all__ = ["TwilioEmulator"]
