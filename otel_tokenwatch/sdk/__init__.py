"""The in-process exporter plugin and the outcome call for application code."""

from otel_tokenwatch.sdk.exporter import TokenwatchSpanExporter
from otel_tokenwatch.sdk.outcome import report_outcome

__all__ = ["TokenwatchSpanExporter", "report_outcome"]
