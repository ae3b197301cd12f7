"""Which component types exist, and where their factories live.

A factory is imported only when a config names its type, so a service that
never configures, say, the file exporter never imports it. Each factory
module exposes ``FACTORY`` with ``type``, ``config_class`` and ``create``.
"""

from __future__ import annotations

import importlib
from typing import Any

_REGISTRY: dict[str, dict[str, str]] = {
    "receivers": {
        "otlp": "otel_tokenwatch.receivers.otlp",
    },
    "processors": {
        "assemble": "otel_tokenwatch.pipeline.assemble.factory",
        "normalize": "otel_tokenwatch.pipeline.normalize.factory",
        "enrich": "otel_tokenwatch.pipeline.enrich.factory",
        "score": "otel_tokenwatch.pipeline.score.factory",
        "agents": "otel_tokenwatch.agents.factory",
    },
    "exporters": {
        "otlp": "otel_tokenwatch.exporters.otlp_grpc",
        "otlphttp": "otel_tokenwatch.exporters.otlp_http",
        "file": "otel_tokenwatch.exporters.file",
        "debug": "otel_tokenwatch.exporters.debug",
    },
}

#: signals a processor type may appear in (default: traces only)
SIGNAL_PROCESSORS: dict[str, tuple[str, ...]] = {"agents": ("logs", "metrics")}


def known_types(kind: str) -> list[str]:
    return sorted(_REGISTRY.get(kind, {}))


def factory_for(kind: str, type_name: str) -> Any | None:
    module = _REGISTRY.get(kind, {}).get(type_name)
    if module is None:
        return None
    return importlib.import_module(module).FACTORY


def known_factory(kind: str, type_name: str) -> Any:
    """The factory of a type the validated config named (``factory_for`` for types not yet checked)."""
    fac = factory_for(kind, type_name)
    if fac is None:  # config validation rejects unknown types first: a bug if reached
        raise LookupError(f"no {kind} type {type_name!r}; known: {', '.join(known_types(kind))}")
    return fac
