"""What every receiver gets from the service, and the factory shape it exposes.

A receiver owns its sockets and protocol details; everything it accepts goes
to its ``Consumers`` (the pipelines that list it). It must answer only after
``await consumers.commit()`` so an OK means "durable as configured".
"""

from __future__ import annotations

import builtins
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from otel_tokenwatch.pipelines import Consumers


@dataclass
class ReceiverContext:
    id: str
    consumers: Consumers
    telemetry: Any = None  # otel_tokenwatch.telemetry.SelfTelemetry
    extras: dict[str, Any] = field(default_factory=dict)


class Receiver(Protocol):
    id: str

    @property
    def endpoints(self) -> dict[str, str]:
        """Per protocol ("grpc"/"http"), the bound host:port (resolved when the config asked for port 0)."""

    async def start(self) -> None:
        """Bind and serve; raises with a clear message when a port is taken."""

    async def shutdown(self) -> None:
        """Stop taking new requests; in-flight requests finish."""

    def status(self) -> dict[str, Any]:
        """Counts for the status page."""


@dataclass
class ReceiverFactory:
    type: str
    config_class: builtins.type  # builtins: the field "type" shadows it in the class body
    create: Callable[[Any, ReceiverContext], Receiver]
    stability: str = "beta"
