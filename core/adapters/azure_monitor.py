"""Azure Monitor as the OpenTelemetry exporter: traces, metrics and logs go to Application Insights."""

from __future__ import annotations


def configure(connection_string: str, logger_name: str) -> None:
    """Install the Azure Monitor providers for this worker. Call once: each call adds exporters."""
    # Imported here because the distro is heavy and only needed when telemetry leaves the process.
    from azure.monitor.opentelemetry import configure_azure_monitor

    configure_azure_monitor(connection_string=connection_string, logger_name=logger_name)
