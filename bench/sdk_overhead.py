"""Overhead of the in-process plugin on the application's request path (prints figures).

A request makes a workflow span and 3 chat spans with GenAI attributes; spans go through a
BatchSpanProcessor to (a) a no-op exporter, (b) TokenwatchSpanExporter wrapping the same no-op
exporter. Reported: request-path time per request, and the background thread's throughput.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult


class Null(SpanExporter):
    def __init__(self) -> None:
        self.n = 0

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        self.n += len(spans)
        return SpanExportResult.SUCCESS


def run(exporter: SpanExporter, n: int) -> float:
    tp = TracerProvider()
    tp.add_span_processor(BatchSpanProcessor(exporter, max_queue_size=100000, max_export_batch_size=512))
    tr = tp.get_tracer("bench")
    t0 = time.perf_counter()
    for i in range(n):
        with tr.start_as_current_span("workflow", attributes={"gen_ai.workflow.name": "bench"}):
            for j in range(3):
                with tr.start_as_current_span("chat gpt-4o-mini", attributes={
                        "gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai",
                        "gen_ai.request.model": "gpt-4o-mini", "gen_ai.usage.input_tokens": 1000 + i % 97 + j,
                        "gen_ai.usage.output_tokens": 50, "gen_ai.response.finish_reasons": ["stop"]}):
                    pass
    path = time.perf_counter() - t0
    tp.force_flush()
    tp.shutdown()
    return path


def main() -> None:
    from otel_tokenwatch.sdk.exporter import TokenwatchSpanExporter

    n = 5000
    base = run(Null(), n)
    sink = Null()
    t0 = time.perf_counter()
    with_tw = run(TokenwatchSpanExporter(downstream=sink), n)
    total = time.perf_counter() - t0
    print(f"requests: {n} (4 spans each)")
    print(f"request path without plugin: {base / n * 1e6:8.1f} us/request")
    print(f"request path with plugin:    {with_tw / n * 1e6:8.1f} us/request  (ratio {with_tw / base:.2f}x)")
    print(f"plugin delivered {sink.n} spans, all scored, in {total:.2f}s incl. flush "
          f"({sink.n / total:,.0f} spans/s through the stages in the background thread)")


if __name__ == "__main__":
    main()
