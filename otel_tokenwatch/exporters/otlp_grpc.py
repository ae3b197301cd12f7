"""The ``otlp`` exporter: OTLP over gRPC, sending the encoded requests as they are.

The request bytes go on the wire without a decode/encode round trip (a
raw-bytes unary call). Status codes are judged as the OTLP spec and the
Collector do: UNAVAILABLE and friends are retried; RESOURCE_EXHAUSTED only
when the server sent RetryInfo, whose delay is honoured.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, cast

import grpc
from google.rpc import error_details_pb2, status_pb2

from otel_tokenwatch.config.build import require
from otel_tokenwatch.errors import RETRYABLE_GRPC
from otel_tokenwatch.exporters.contract import ExporterContext, ExporterFactory
from otel_tokenwatch.exporters.deadletter import request_class
from otel_tokenwatch.exporters.outcome import SENT, SendResult
from otel_tokenwatch.exporters.queued import QueuedExporter
from otel_tokenwatch.exporters.settings import ClientTLSConfig, SendingConfig

METHODS = {
    "traces": "/opentelemetry.proto.collector.trace.v1.TraceService/Export",
    "metrics": "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export",
    "logs": "/opentelemetry.proto.collector.logs.v1.LogsService/Export",
}


@dataclass(frozen=True)
class OTLPGrpcConfig(SendingConfig):
    endpoint: str = ""
    tls: ClientTLSConfig = field(default_factory=ClientTLSConfig)
    headers: dict[str, str] = field(default_factory=dict)
    compression: Literal["gzip", "none", ""] = "gzip"

    def validate(self, path: str) -> None:
        require(bool(self.endpoint), f"{path}.endpoint", "missing")


def retry_delay(err: grpc.aio.AioRpcError) -> float | None:
    """The RetryInfo delay in a status's details, if the server sent one."""
    for key, value in err.trailing_metadata() or ():
        if key == "grpc-status-details-bin" and isinstance(value, bytes):
            st = status_pb2.Status.FromString(value)
            for d in st.details:
                if d.Is(error_details_pb2.RetryInfo.DESCRIPTOR):
                    info = error_details_pb2.RetryInfo()
                    d.Unpack(info)
                    return cast(float, info.retry_delay.seconds + info.retry_delay.nanos / 1e9)
    return None


class OTLPGrpcExporter(QueuedExporter):
    def __init__(self, cfg: OTLPGrpcConfig, ctx: ExporterContext) -> None:
        super().__init__(cfg, ctx)
        self.cfg = cfg
        self.channel: grpc.aio.Channel | None = None
        self.call: Any = None
        self.response_cls = request_class(ctx.signal).__name__.replace("Request", "Response")

    def _target(self) -> tuple[str, bool]:
        ep = self.cfg.endpoint
        secure = not self.cfg.tls.insecure
        if ep.startswith("http://"):
            ep, secure = ep[len("http://"):], False
        elif ep.startswith("https://"):
            ep, secure = ep[len("https://"):], True
        return ep.rstrip("/"), secure

    async def open(self) -> None:
        target, secure = self._target()
        options = [("grpc.max_send_message_length", 64 * 2**20), ("grpc.enable_retries", 0)]
        compression = grpc.Compression.Gzip if self.cfg.compression == "gzip" else grpc.Compression.NoCompression
        if secure:
            t = self.cfg.tls
            creds = grpc.ssl_channel_credentials(
                root_certificates=Path(t.ca_file).read_bytes() if t.ca_file else None,
                private_key=Path(t.key_file).read_bytes() if t.key_file else None,
                certificate_chain=Path(t.cert_file).read_bytes() if t.cert_file else None)
            self.channel = grpc.aio.secure_channel(target, creds, options=options, compression=compression)
        else:
            self.channel = grpc.aio.insecure_channel(target, options=options, compression=compression)
        self.call = self.channel.unary_unary(METHODS[self.signal])

    async def close(self) -> None:
        if self.channel is not None:
            await self.channel.close()

    async def send(self, data: bytes, count: int) -> SendResult:
        metadata = tuple((k.lower(), v) for k, v in self.cfg.headers.items())
        try:
            raw = await self.call(data, timeout=float(self.cfg.timeout), metadata=metadata)
        except grpc.aio.AioRpcError as e:
            code = e.code()
            delay = retry_delay(e)
            retryable = code in RETRYABLE_GRPC or (code == grpc.StatusCode.RESOURCE_EXHAUSTED and delay is not None)
            return SendResult(ok=False, retryable=retryable, retry_after=delay, reason=code.name.lower(),
                              message=e.details() or "")
        return _partial(raw, self.signal)


def _partial(raw: bytes, signal: str) -> SendResult:
    """Read partial_success out of an Export*ServiceResponse."""
    if not raw:
        return SENT
    from otel_tokenwatch.exporters.otlp_http import parse_response

    return parse_response(raw, signal)


def _create(cfg: OTLPGrpcConfig, ctx: ExporterContext) -> OTLPGrpcExporter:
    return OTLPGrpcExporter(cfg, ctx)


FACTORY = ExporterFactory(type="otlp", config_class=OTLPGrpcConfig, create=_create, stability="beta")
