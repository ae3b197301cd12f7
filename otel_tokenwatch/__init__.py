"""otel_tokenwatch: GenAI spend next to what it bought, inside an OpenTelemetry pipeline."""

__version__ = "0.1.0"
