"""Adapters to outside services, each behind an interface from core.ports."""
