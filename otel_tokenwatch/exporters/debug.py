"""The ``debug`` exporter: prints what passes, as the Collector's exporter of that name.

``basic`` prints one line per batch (counts), ``normal`` one line per span
with tokenwatch's verdict, ``detailed`` the whole request as OTLP/JSON. It
writes to stderr regardless of the log level: an operator asked for it.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import Literal

from otel_tokenwatch.config.build import Duration
from otel_tokenwatch.exporters.contract import ExporterContext, ExporterFactory
from otel_tokenwatch.exporters.deadletter import request_class
from otel_tokenwatch.exporters.outcome import SENT, SendResult
from otel_tokenwatch.exporters.queued import QueuedExporter
from otel_tokenwatch.exporters.settings import BatchConfig, QueueConfig, SendingConfig
from otel_tokenwatch.otlp.jsoncodec import dumps
from otel_tokenwatch.otlp.wire import key_values_to_dict


@dataclass(frozen=True)
class DebugConfig(SendingConfig):
    verbosity: Literal["basic", "normal", "detailed"] = "basic"
    sending_queue: QueueConfig = field(default_factory=lambda: QueueConfig(num_consumers=1))
    batch: BatchConfig = field(default_factory=lambda: BatchConfig(flush_timeout=Duration(0.05)))


class DebugExporter(QueuedExporter):
    def __init__(self, cfg: DebugConfig, ctx: ExporterContext) -> None:
        super().__init__(cfg, ctx)
        self.cfg = cfg
        self.request_cls = request_class(ctx.signal)

    async def send(self, data: bytes, count: int) -> SendResult:
        out = sys.stderr
        if self.cfg.verbosity == "detailed":
            out.write(dumps(self.request_cls.FromString(data)).decode() + "\n")
        elif self.cfg.verbosity == "normal" and self.signal == "traces":
            req = self.request_cls.FromString(data)
            for rs in req.resource_spans:
                for ss in rs.scope_spans:
                    for s in ss.spans:
                        a = key_values_to_dict(s.attributes)
                        tw = {k: v for k, v in a.items() if k.startswith("tokenwatch.")}
                        out.write(f"{s.trace_id.hex()} {s.span_id.hex()} {s.name!r} {tw}\n")
        else:
            out.write(f"{self.id}: {count} {self.signal} item(s), {len(data)} bytes\n")
        out.flush()
        return SENT


def _create(cfg: DebugConfig, ctx: ExporterContext) -> DebugExporter:
    return DebugExporter(cfg, ctx)


FACTORY = ExporterFactory(type="debug", config_class=DebugConfig, create=_create)
