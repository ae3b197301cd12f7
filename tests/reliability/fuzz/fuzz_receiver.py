"""Coverage-guided fuzzing (atheris) of what a client controls: the OTLP decoders and the stages.

Run bounded by the test suite (tests/reliability/test_atheris.py); longer runs:
  python tests/reliability/fuzz/fuzz_receiver.py -atheris_runs=1000000
"""

import sys
import time

import atheris

with atheris.instrument_imports():
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

    from otel_tokenwatch.errors import BadRequest
    from otel_tokenwatch.otlp.wire import TraceCheck
    from otel_tokenwatch.pipeline.assemble.assembler import AssembleConfig, Assembler
    from otel_tokenwatch.pipeline.normalize.factory import NormalizeConfig, NormalizeProcessor
    from otel_tokenwatch.pipeline.score.config import ScoreConfig
    from otel_tokenwatch.pipeline.score.factory import ScoreProcessor
    from otel_tokenwatch.pipeline.tree import encode_spans
    from otel_tokenwatch.receivers.otlp.signals import SIGNALS
    from otel_tokenwatch.state import MemoryStore

NORMALIZE = NormalizeProcessor(NormalizeConfig())
SCORE = ScoreProcessor(ScoreConfig(), MemoryStore())
SLOW_INPUT_S = 10.0  # the per-input limit, checked here: libFuzzer's own -timeout runs on SIGALRM


def one(data: bytes) -> None:
    started = time.monotonic()
    try:
        _one(data)
    finally:
        took = time.monotonic() - started
        if took > SLOW_INPUT_S:
            raise RuntimeError(f"one input took {took:.1f} s (limit {SLOW_INPUT_S} s)")


def _one(data: bytes) -> None:
    json = bool(data) and data[0] & 1 == 1
    body = data[1:]
    try:
        req = SIGNALS["traces"].decode(body, json=json)
    except BadRequest:
        return
    asm = Assembler(AssembleConfig())
    if isinstance(req, TraceCheck):
        ExportTraceServiceRequest.FromString(body)  # the compiled check accepts only what protobuf parses
        released = asm.add(None, 0.0, None, body)
    else:
        released = asm.add(req, 0.0, None)  # type: ignore[arg-type]
    for t in released + asm.flush(0.0):
        NORMALIZE.process(t)
        SCORE.process(t)
        encode_spans(t.spans)


if __name__ == "__main__":
    atheris.Setup(sys.argv, one)
    atheris.Fuzz()
