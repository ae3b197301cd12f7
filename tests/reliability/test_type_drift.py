"""Every captured instrumentation's spans with their attribute values' types changed (and some keys left out):
no reader faults.

The readers were written against what each library sends today; a library's next release, another
language's SDK or a hand-written span may send the same key as another type (a count as a string or a
double, a list as one string, a string as a kvlist). Such a value may leave a field unread (it goes to
``tokenwatch.usage.invalid``), never a span: a reader fault marks the span unreadable and the
stage raises ``UnreadableSpans``, which this test treats as a failure. Every span still goes out.
"""

from __future__ import annotations

import logging
import math
import random
import zlib
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

from otel_tokenwatch.otlp.files import read
from otel_tokenwatch.pipeline.assemble.assembler import AssembleConfig, Assembler
from tests.agents.captured import scored
from tests.anyvalue import any_value
from tests.conftest import FIXTURES
from tests.stages import default_stages

DATA = Path(__file__).resolve().parents[1] / "normalize" / "data"
SOURCES = sorted(DATA.glob("*.jsonl"))
#: coding agents' captures (their spans, metrics and log records) and the shared fixtures' ones
AGENT_SOURCES = sorted((Path(__file__).resolve().parents[1] / "agents" / "data").glob("*.jsonl")) + sorted(
    (Path(FIXTURES) / "coding-agents").glob("*.jsonl"))
VARIANTS = 2  # seeded mutations per request


def retyped(v: AnyValue, rng: random.Random) -> AnyValue:
    """The same value as another type, the way a different SDK or release might send it."""
    which = v.WhichOneof("value")
    py: object
    if which == "string_value":
        s = v.string_value
        py = rng.choice([[s], {"value": s}, len(s), s.encode()[:64], float(len(s)), True, f'"{s[:40]}"', None])
    elif which == "int_value":
        n = v.int_value
        py = rng.choice([str(n), float(n), [n], f'"{n}"', -n - 1, 2**63 - 1, {"n": n}, True, "NaN"])
    elif which == "double_value":
        d = v.double_value
        py = rng.choice([str(d), int(d) if math.isfinite(d) else 0, [d], math.nan, math.inf, -d, "1e999"])
    elif which == "bool_value":
        py = rng.choice([str(v.bool_value), int(v.bool_value), [v.bool_value], "yes"])
    elif which == "array_value":
        items = [x.string_value for x in v.array_value.values if x.WhichOneof("value") == "string_value"]
        py = rng.choice([", ".join(items), str(items), items[:1] * 3, {"items": items}, len(items), []])
    elif which == "kvlist_value":
        py = rng.choice(["{not json", [], str(len(v.kvlist_value.values)), None])
    else:
        py = rng.choice(["", 0, []])
    return any_value(py)


def retype_some(attributes: Any, rng: random.Random) -> None:
    """About a third of a repeated KeyValue field's values retyped, and one in ten left out (a release that
    stops writing a key, a filtering processor upstream), in place."""
    kept = []
    for kv in attributes:
        r = rng.random()
        if r < 0.1:
            continue
        if r < 0.45:
            kv = KeyValue(key=kv.key, value=retyped(kv.value, rng))
        kept.append(kv)
    del attributes[:]
    attributes.extend(kept)


def mutated(req: ExportTraceServiceRequest, seed: int) -> ExportTraceServiceRequest:
    """The request with resource, span and span-event attributes retyped (events carry content for several
    dialects)."""
    rng = random.Random(seed)
    out = ExportTraceServiceRequest()
    out.CopyFrom(req)
    for rs in out.resource_spans:
        retype_some(rs.resource.attributes, rng)  # service.name, team and workflow keys: enrich reads them
        for ss in rs.scope_spans:
            for span in ss.spans:
                retype_some(span.attributes, rng)
                for ev in span.events:
                    retype_some(ev.attributes, rng)
    return out


def mutated_logs(req: ExportLogsServiceRequest, seed: int) -> ExportLogsServiceRequest:
    """A coding agent's log records with their attributes and bodies retyped."""
    rng = random.Random(seed)
    out = ExportLogsServiceRequest()
    out.CopyFrom(req)
    for rl in out.resource_logs:
        retype_some(rl.resource.attributes, rng)
        for sl in rl.scope_logs:
            for rec in sl.log_records:
                retype_some(rec.attributes, rng)
                if rec.HasField("body") and rng.random() < 0.35:
                    rec.body.CopyFrom(retyped(rec.body, rng))
    return out


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.stem)
def test_retyped_attributes_never_fault_a_reader(path: Path) -> None:
    stages = default_stages()
    sent = forwarded = 0
    for i, rec in enumerate(read(path)):
        if rec.signal != "traces":
            continue
        for v in range(VARIANTS):
            req = mutated(rec.request, zlib.crc32(f"{path.stem}:{i}:{v}".encode()))  # type: ignore[arg-type]
            asm = Assembler(AssembleConfig())
            # the service's path: spans cut from the request's bytes
            trees = asm.add(None, 0.0, None, req.SerializeToString()) + asm.flush(0.0)
            sent += sum(len(ss.spans) for rs in req.resource_spans for ss in rs.scope_spans)
            for t in trees:
                for stage in stages:
                    stage.process(t)  # a reader fault raises UnreadableSpans here
                forwarded += sum(len(ss.spans) for rs in ExportTraceServiceRequest.FromString(
                    t.encode()).resource_spans for ss in rs.scope_spans)
    assert sent > 0 and forwarded == sent


@pytest.mark.parametrize("path", AGENT_SOURCES, ids=lambda p: p.stem)
def test_retyped_agent_events_never_fault_the_agents_stage(path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """Claude Code, Gemini CLI and Codex log records (their api_request / tool_result / ... events) with retyped
    attributes and bodies become session trees the stages score, without a raise (the agents stage logs a
    session its stages could not score, and forwards it: that log is the failure here)."""
    caplog.set_level(logging.ERROR, logger="otel_tokenwatch")
    raws = []
    for i, rec in enumerate(read(path)):
        if rec.signal != "logs":
            continue
        for v in range(VARIANTS):
            raws.append(mutated_logs(rec.request, zlib.crc32(f"{path.stem}:{i}:{v}".encode())  # type: ignore[arg-type]
                                     ).SerializeToString())
    assert raws
    trees = scored(*raws)  # normalize, enrich and score raise on a reader fault here
    assert trees, path.stem
    assert not [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
