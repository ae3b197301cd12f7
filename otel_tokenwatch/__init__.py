"""otel_tokenwatch: GenAI spend next to what it bought, inside an OpenTelemetry pipeline."""

__version__ = "0.1.0"


def __getattr__(name: str) -> object:
    # otel_tokenwatch.report_outcome(...) without importing the SDK plugin for the service
    if name == "report_outcome":
        from otel_tokenwatch.sdk.outcome import report_outcome

        return report_outcome
    raise AttributeError(name)
