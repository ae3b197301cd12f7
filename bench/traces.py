"""Realistic GenAI traces for benchmarks: the shared fixtures' trees, re-identified and batched.

Every fixture trace (openai-v2, OpenInference, OpenLLMetry, OpenLIT,
Langfuse, pydantic-ai) is a template; copies get fresh trace and span ids,
and tool/agent filler spans bring trees to 10-50 spans, so the load looks
like agent traffic with realistic attribute counts. Requests are cut at
``spans_per_request`` spans across many traces, as an SDK BatchSpanProcessor
sends them.
"""

from __future__ import annotations

import glob
import os
import random
from pathlib import Path

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span

from otel_tokenwatch.otlp import files

FIXTURES = Path(os.environ.get("TOKENWATCH_FIXTURES", Path(__file__).resolve().parents[2] / "shared" / "fixtures"))
if not FIXTURES.exists():  # the checkout may sit elsewhere; the fixtures live beside it (as in tests/conftest.py)
    FIXTURES = Path("/work/shared/fixtures")


def templates() -> list[list[tuple[bytes, bytes, Span]]]:
    """Fixture traces as lists of (resource bytes, scope bytes, span)."""
    by_trace: dict[bytes, list[tuple[bytes, bytes, Span]]] = {}
    for path in sorted(glob.glob(str(FIXTURES / "*.jsonl"))):
        for rec in files.read(path):
            if rec.signal != "traces":
                continue
            for rs in rec.request.resource_spans:  # type: ignore[union-attr]
                res = rs.resource.SerializeToString()
                for ss in rs.scope_spans:
                    scope = ss.scope.SerializeToString()
                    for sp in ss.spans:
                        by_trace.setdefault(sp.trace_id, []).append((res, scope, sp))
    return list(by_trace.values())


def _filler(root: Span, rng: random.Random, i: int) -> Span:
    s = Span(trace_id=root.trace_id, span_id=rng.randbytes(8), parent_span_id=root.span_id,
             name=f"execute_tool lookup_{i % 7}", kind=Span.SPAN_KIND_INTERNAL,
             start_time_unix_nano=root.start_time_unix_nano + i * 1000,
             end_time_unix_nano=root.start_time_unix_nano + i * 1000 + 500)
    for k, v in (("gen_ai.operation.name", "execute_tool"), ("gen_ai.tool.name", f"lookup_{i % 7}"),
                 ("gen_ai.tool.call.id", f"call_{i}"), ("app.request.id", f"req-{rng.randrange(10**9)}"),
                 ("http.route", "/api/tools"), ("code.function", "run_tool")):
        kv = s.attributes.add()
        kv.key = k
        kv.value.string_value = v
    return s


def make_trees(n_trees: int, seed: int = 7, min_spans: int = 10, max_spans: int = 50) -> list[list[tuple[bytes, bytes, Span]]]:
    """``n_trees`` re-identified copies of fixture traces, padded to 10-50 spans."""
    rng = random.Random(seed)
    tpls = templates()
    out = []
    for _ in range(n_trees):
        tpl = rng.choice(tpls)
        tid = rng.randbytes(16)
        ids: dict[bytes, bytes] = {}
        tree = []
        for res, scope, sp in tpl:
            c = Span()
            c.CopyFrom(sp)
            c.trace_id = tid
            c.span_id = ids.setdefault(sp.span_id, rng.randbytes(8))
            if sp.parent_span_id:
                c.parent_span_id = ids.setdefault(sp.parent_span_id, rng.randbytes(8))
            tree.append((res, scope, c))
        root = next((s for _, _, s in tree if not s.parent_span_id), tree[0][2])
        target = rng.randint(min_spans, max_spans)
        res0, scope0 = tree[0][0], tree[0][1]
        i = 0
        while len(tree) < target:
            tree.insert(len(tree) - 1, (res0, scope0, _filler(root, rng, i)))
            i += 1
        # the root ends last: SDKs export it last
        tree.sort(key=lambda t: not t[2].parent_span_id)
        out.append(tree)
    return out


def batch_requests(trees: list[list[tuple[bytes, bytes, Span]]], spans_per_request: int = 512,
                   interleave: int = 8) -> list[bytes]:
    """Encoded ExportTraceServiceRequests, each mixing spans of ``interleave`` concurrent traces."""
    spans: list[tuple[bytes, bytes, Span]] = []
    for g in range(0, len(trees), interleave):
        group = trees[g:g + interleave]
        longest = max(len(t) for t in group)
        for i in range(longest):
            for t in group:
                if i < len(t):
                    spans.append(t[i])
    out = []
    for start in range(0, len(spans), spans_per_request):
        req = ExportTraceServiceRequest()
        rs_by: dict[bytes, ResourceSpans] = {}
        ss_by: dict[tuple[bytes, bytes], ScopeSpans] = {}
        for res, scope, sp in spans[start:start + spans_per_request]:
            rs = rs_by.get(res)
            if rs is None:
                rs = rs_by[res] = req.resource_spans.add()
                rs.resource.ParseFromString(res)
            ss = ss_by.get((res, scope))
            if ss is None:
                ss = ss_by[(res, scope)] = rs.scope_spans.add()
                ss.scope.ParseFromString(scope)
            ss.spans.append(sp)
        out.append(req.SerializeToString())
    return out


def assembled(trees: list[list[tuple[bytes, bytes, Span]]]) -> list:  # type: ignore[type-arg]
    """The trees as the service's assembler releases them: batched into requests, spans cut from
    the request bytes (as the receiver hands them over), all flushed at once."""
    from otel_tokenwatch.pipeline.assemble.assembler import AssembleConfig, Assembler

    asm = Assembler(AssembleConfig())
    for r in batch_requests(trees):
        asm.add(None, 0.0, None, r)
    return asm.flush(0.0)
