"""The three OTLP signals as one table: message types, item counting, dispatch.

Both transports decode a body into the signal's request message, count its
items, hand it to the consumers and build the response from this table, so
gRPC and HTTP cannot drift apart in what they accept or count.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from google.protobuf.message import DecodeError, Message
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import (
    ExportLogsServiceRequest,
    ExportLogsServiceResponse,
)
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
    ExportMetricsServiceResponse,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

from otel_tokenwatch.errors import BadRequest
from otel_tokenwatch.otlp.jsoncodec import JsonDecodeError, parse
from otel_tokenwatch.otlp.wire import TraceCheck, check_traces
from otel_tokenwatch.pipelines import Consumers, count_spans


def count_data_points(req: ExportMetricsServiceRequest) -> int:
    n = 0
    for rm in req.resource_metrics:
        for sm in rm.scope_metrics:
            for m in sm.metrics:
                kind = m.WhichOneof("data")
                if kind is not None:
                    n += len(getattr(m, kind).data_points)
    return n


def count_log_records(req: ExportLogsServiceRequest) -> int:
    return sum(len(sl.log_records) for rl in req.resource_logs for sl in rl.scope_logs)


@dataclass(frozen=True)
class Signal:
    name: str
    request: type[Message]
    response: type[Message]
    count: Callable[[Any], int]
    grpc_method: str

    def decode(self, body: bytes, json: bool) -> Message | TraceCheck:
        """Parse a request body; a body that does not parse is a permanent 400/INVALID_ARGUMENT.

        A protobuf trace request is only checked (``wire.check_traces``): its spans are cut from
        the bytes later, so building the message here would be wasted. A request the check
        declines is parsed, which either raises the same 400 or takes the slower path.
        """
        if self.name == "traces" and not json:
            checked = check_traces(body)
            if checked is not None:
                return checked
        try:
            if json:
                return parse(body, self.request())
            return self.request.FromString(body)
        except JsonDecodeError as e:
            raise BadRequest(f"body is not OTLP/JSON {self.request.__name__}: {e}") from None
        except (DecodeError, ValueError, RecursionError) as e:
            raise BadRequest(f"body is not a protobuf {self.request.__name__}: {e}") from None

    def dispatch(self, consumers: Consumers, msg: Message | TraceCheck, raw: bytes | None) -> int:
        """Hand the request to the pipelines; returns how many items were accepted."""
        if self.name == "traces":
            return consumers.traces(msg, raw)
        assert isinstance(msg, Message)
        n = self.count(msg)
        data = raw if raw is not None else msg.SerializeToString()
        getattr(consumers, self.name)(data, n)
        return n


SIGNALS: dict[str, Signal] = {
    "traces": Signal("traces", ExportTraceServiceRequest, ExportTraceServiceResponse, count_spans,
                     "/opentelemetry.proto.collector.trace.v1.TraceService/Export"),
    "metrics": Signal("metrics", ExportMetricsServiceRequest, ExportMetricsServiceResponse, count_data_points,
                      "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export"),
    "logs": Signal("logs", ExportLogsServiceRequest, ExportLogsServiceResponse, count_log_records,
                   "/opentelemetry.proto.collector.logs.v1.LogsService/Export"),
}
