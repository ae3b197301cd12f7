"""The ``otlphttp`` exporter: OTLP/HTTP with protobuf bodies, gzip by default.

429/502/503/504 and connection errors are retried, honouring Retry-After
(seconds or an HTTP date); any other 4xx is permanent, as the OTLP spec says.
"""

from __future__ import annotations

import email.utils
import gzip
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

import aiohttp
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceResponse
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceResponse
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse

from otel_tokenwatch.config.build import require
from otel_tokenwatch.errors import RETRYABLE_HTTP
from otel_tokenwatch.exporters.contract import ExporterContext, ExporterFactory
from otel_tokenwatch.exporters.outcome import SENT, SendResult
from otel_tokenwatch.exporters.queued import QueuedExporter
from otel_tokenwatch.exporters.settings import ClientTLSConfig, SendingConfig

if TYPE_CHECKING:
    from google.protobuf.message import Message

_RESPONSES: dict[str, tuple[type[Message], str]] = {
    "traces": (ExportTraceServiceResponse, "rejected_spans"),
    "metrics": (ExportMetricsServiceResponse, "rejected_data_points"),
    "logs": (ExportLogsServiceResponse, "rejected_log_records")}


def parse_response(raw: bytes, signal: str) -> SendResult:
    cls, field_name = _RESPONSES[signal]
    try:
        resp = cls.FromString(raw)
    except Exception:  # noqa: BLE001 - a backend answering 200 with junk still took the data
        return SENT
    if not resp.HasField("partial_success"):
        return SENT
    ps = resp.partial_success
    rejected = int(getattr(ps, field_name))
    if rejected == 0 and not ps.error_message:
        return SENT
    return SendResult(ok=True, rejected=rejected, message=ps.error_message)


def parse_retry_after(value: str | None) -> float | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


@dataclass(frozen=True)
class OTLPHttpConfig(SendingConfig):
    #: base URL; /v1/traces, /v1/metrics, /v1/logs are appended
    endpoint: str = ""
    traces_endpoint: str = ""
    metrics_endpoint: str = ""
    logs_endpoint: str = ""
    tls: ClientTLSConfig = field(default_factory=ClientTLSConfig)
    headers: dict[str, str] = field(default_factory=dict)
    compression: Literal["gzip", "none", ""] = "gzip"

    def validate(self, path: str) -> None:
        require(bool(self.endpoint or self.traces_endpoint or self.metrics_endpoint or self.logs_endpoint),
                f"{path}.endpoint", "missing")
        for key in ("endpoint", "traces_endpoint", "metrics_endpoint", "logs_endpoint"):
            v = getattr(self, key)
            require(not v or v.startswith(("http://", "https://")), f"{path}.{key}",
                    f"expected a URL starting with http:// or https://, got {v!r}")

    def url(self, signal: str) -> str:
        explicit = getattr(self, f"{signal}_endpoint")
        if explicit:
            return str(explicit)
        return f"{self.endpoint.rstrip('/')}/v1/{signal}"


class OTLPHttpExporter(QueuedExporter):
    def __init__(self, cfg: OTLPHttpConfig, ctx: ExporterContext) -> None:
        super().__init__(cfg, ctx)
        self.cfg = cfg
        self.url = cfg.url(ctx.signal)
        self.session: aiohttp.ClientSession | None = None

    async def open(self) -> None:
        import ssl

        t = self.cfg.tls
        ssl_arg: ssl.SSLContext | bool = True
        if self.url.startswith("https://"):
            ctx = ssl.create_default_context(cafile=t.ca_file or None)
            if t.cert_file:
                ctx.load_cert_chain(t.cert_file, t.key_file)
            if t.insecure_skip_verify:
                ctx.check_hostname = False
                ctx.verify_mode = ssl.CERT_NONE
            ssl_arg = ctx
        self.session = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=float(self.cfg.timeout)),
            connector=aiohttp.TCPConnector(ssl=ssl_arg, limit=self.sending.sending_queue.num_consumers * 2))

    async def close(self) -> None:
        if self.session is not None:
            await self.session.close()

    async def send(self, data: bytes, count: int) -> SendResult:
        assert self.session is not None
        headers = {"Content-Type": "application/x-protobuf", **self.cfg.headers}
        body = data
        if self.cfg.compression == "gzip":
            body = gzip.compress(data, compresslevel=1)
            headers["Content-Encoding"] = "gzip"
        try:
            async with self.session.post(self.url, data=body, headers=headers) as resp:
                raw = await resp.read()
                if 200 <= resp.status < 300:
                    return parse_response(raw, self.signal)
                return SendResult(ok=False, retryable=resp.status in RETRYABLE_HTTP,
                                  retry_after=parse_retry_after(resp.headers.get("Retry-After")),
                                  reason=f"http_{resp.status}", message=raw[:200].decode("utf-8", "replace"))
        except (aiohttp.ClientError, OSError) as e:
            return SendResult(ok=False, retryable=True, reason="connection", message=f"{type(e).__name__}: {e}")


def _create(cfg: OTLPHttpConfig, ctx: ExporterContext) -> OTLPHttpExporter:
    return OTLPHttpExporter(cfg, ctx)


FACTORY = ExporterFactory(type="otlphttp", config_class=OTLPHttpConfig, create=_create, stability="beta")
