"""The ``otlp`` receiver: OTLP/gRPC and OTLP/HTTP, as the Collector's receiver of that name."""

from __future__ import annotations

from typing import Any

from otel_tokenwatch.receivers.contract import ReceiverContext, ReceiverFactory
from otel_tokenwatch.receivers.otlp.config import OTLPReceiverConfig


class OTLPReceiver:
    def __init__(self, cfg: OTLPReceiverConfig, ctx: ReceiverContext) -> None:
        from otel_tokenwatch.receivers.otlp.grpc_server import GrpcServer
        from otel_tokenwatch.receivers.otlp.http_server import HttpServer

        self.id = ctx.id
        self.servers: dict[str, Any] = {}
        if cfg.protocols.grpc is not None:
            self.servers["grpc"] = GrpcServer(cfg.protocols.grpc, ctx, cfg.token())
        if cfg.protocols.http is not None:
            self.servers["http"] = HttpServer(cfg.protocols.http, ctx, cfg.token())

    @property
    def endpoints(self) -> dict[str, str]:
        return {k: s.endpoint for k, s in self.servers.items()}

    async def start(self) -> None:
        started = []
        try:
            for s in self.servers.values():
                await s.start()
                started.append(s)
        except BaseException:
            for s in started:
                await s.shutdown()
            raise

    async def shutdown(self) -> None:
        for s in self.servers.values():
            await s.shutdown()

    def status(self) -> dict[str, Any]:
        return {k: s.status() for k, s in self.servers.items()}


def _create(cfg: OTLPReceiverConfig, ctx: ReceiverContext) -> OTLPReceiver:
    return OTLPReceiver(cfg, ctx)


FACTORY = ReceiverFactory(type="otlp", config_class=OTLPReceiverConfig, create=_create, stability="beta")
