"""Coverage-guided fuzzing (atheris) of what a client controls: the OTLP decoders and the stages.

Run bounded by the test suite (tests/reliability/test_atheris.py); longer runs:
  FUZZ_RUNS=1000000 python tests/reliability/fuzz/fuzz_receiver.py

The run ends here, not through atheris's -atheris_runs: atheris keeps a 1-second interval timer
(SIGALRM) armed and its exit path puts SIGALRM back to the default action before the process ends,
so a tick landing in between killed the run after "Done" (exit -14, seen in CI). Counting the inputs
here lets the target stop the timer first and leave with os._exit.
"""

import os
import signal
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
    from otel_tokenwatch.receivers.otlp.signals import SIGNALS
    from otel_tokenwatch.state import MemoryStore

NORMALIZE = NormalizeProcessor(NormalizeConfig())
SCORE = ScoreProcessor(ScoreConfig(), MemoryStore())
SLOW_INPUT_S = 10.0  # the per-input limit, checked here: libFuzzer's own -timeout runs on SIGALRM
RUNS = int(os.environ.get("FUZZ_RUNS", "20000"))
_started = time.monotonic()
_done = 0


def one(data: bytes) -> None:
    global _done
    started = time.monotonic()
    try:
        _one(data)
    finally:
        took = time.monotonic() - started
        if took > SLOW_INPUT_S:
            raise RuntimeError(f"one input took {took:.1f} s (limit {SLOW_INPUT_S} s)")
    _done += 1
    if _done >= RUNS:
        signal.setitimer(signal.ITIMER_REAL, 0)  # no tick can land while the process ends
        print(f"fuzz_receiver: {_done} inputs in {time.monotonic() - _started:.0f} s, no crash",
              file=sys.stderr, flush=True)
        sys.stdout.flush()
        os._exit(0)


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
        t.encode()


if __name__ == "__main__":
    atheris.Setup(sys.argv, one)
    atheris.Fuzz()
