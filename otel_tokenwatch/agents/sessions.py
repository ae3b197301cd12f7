"""Coding-agent events grouped into sessions, the way the assembler groups spans into trees.

A session (tool, session id) is held until it has been idle for
``session_idle`` or open for ``session_max_wait`` (bounded by
``max_sessions``), then becomes one ``Tree`` of synthetic spans: a root
``invoke_agent`` span for the session and one child per model request, failed
request and tool execution. The same normalize, enrich and score stages then
run on it; nothing about scoring is reimplemented here.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

import orjson
from opentelemetry.proto.common.v1.common_pb2 import InstrumentationScope
from opentelemetry.proto.resource.v1.resource_pb2 import Resource
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status

from otel_tokenwatch import __version__
from otel_tokenwatch.agents.events import AgentSpan
from otel_tokenwatch.otlp.wire import encode_attributes
from otel_tokenwatch.pipeline.tree import ResourceInfo, ScopeInfo, SpanEntry, Tree

SCOPE = InstrumentationScope(name="otel_tokenwatch.agents", version=__version__).SerializeToString()


@dataclass
class Session:
    tool: str
    session_id: str
    resource: bytes
    first_seen: float
    last_seen: float
    spans: list[AgentSpan] = field(default_factory=list)
    part: int = 0


class SessionAssembler:
    def __init__(self, idle: float, max_wait: float, max_sessions: int) -> None:
        self.idle = idle
        self.max_wait = max_wait
        self.max_sessions = max_sessions
        self.open: dict[tuple[str, str], Session] = {}
        self.parts: dict[tuple[str, str], int] = {}

    def add(self, tool: str, session_id: str, resource: Resource, span: AgentSpan, now: float) -> list[Tree]:
        key = (tool, session_id)
        s = self.open.get(key)
        out: list[Tree] = []
        if s is None:
            if len(self.open) >= self.max_sessions:
                oldest = min(self.open, key=lambda k: self.open[k].last_seen)
                out.append(self._release(oldest, "max_sessions"))
            s = self.open[key] = Session(tool, session_id, resource.SerializeToString(), now, now)
        s.spans.append(span)
        s.last_seen = now
        return out

    def expire(self, now: float) -> list[Tree]:
        due = [k for k, s in self.open.items() if now - s.last_seen >= self.idle or now - s.first_seen >= self.max_wait]
        return [self._release(k, "idle") for k in due]

    def flush(self) -> list[Tree]:
        return [self._release(k, "flush") for k in list(self.open)]

    def _release(self, key: tuple[str, str], reason: str) -> Tree:
        s = self.open.pop(key)
        part = self.parts.get(key, 0)
        self.parts[key] = part + 1
        if len(self.parts) > 4 * self.max_sessions:  # remember parts of recent sessions only
            self.parts.pop(next(iter(self.parts)))
        return build_tree(s, part, reason)


def _id(*parts: object, n: int) -> bytes:
    return hashlib.sha256("|".join(map(str, parts)).encode()).digest()[:n]


def build_tree(s: Session, part: int, reason: str) -> Tree:
    trace_id = _id("tokenwatch-session", s.tool, s.session_id, n=16)
    root_id = _id(trace_id, part, "root", n=8)
    res = ResourceInfo(s.resource, "")
    scope = ScopeInfo(SCOPE, "")
    spans = sorted(s.spans, key=lambda x: x.time_ns)
    start = spans[0].time_ns if spans else 0
    end = spans[-1].time_ns if spans else 0
    entries: list[SpanEntry] = []
    prompt: str | None = None
    step = 0
    loop_detected = False
    principal = next((x.attrs["user.id"] for x in spans if x.attrs.get("user.id")), None)
    for i, x in enumerate(spans):
        if x.kind == "prompt":
            if x.name == "loop_detected":
                loop_detected = True
            elif x.attrs.get("prompt"):
                prompt, step = str(x.attrs["prompt"]), 0
            continue
        attrs = {k: v for k, v in x.attrs.items() if k != "prompt"}
        if x.kind == "inference" and prompt is not None and not x.error:
            # the turn's prompt, in memory only, on the turn's first request (and its router call):
            # later steps of the turn carry tool results the events do not show, so they are matched
            # on shape only
            text: str | None = None
            if attrs.get("tokenwatch.usage.auxiliary"):
                text = "[router] " + prompt
            elif step == 0:
                text = prompt
            if not attrs.get("tokenwatch.usage.auxiliary"):
                step += 1
            if text is not None:
                attrs["gen_ai.input.messages"] = orjson.dumps([{"role": "user", "parts": [
                    {"type": "text", "content": text}]}]).decode()
        sp = Span(trace_id=trace_id, span_id=_id(trace_id, part, i, n=8), parent_span_id=root_id, name=x.name,
                  kind=Span.SPAN_KIND_CLIENT if x.kind == "inference" else Span.SPAN_KIND_INTERNAL,
                  start_time_unix_nano=x.time_ns, end_time_unix_nano=x.time_ns)
        if x.error:
            sp.status.CopyFrom(Status(code=Status.STATUS_CODE_ERROR))
        data = sp.SerializeToString() + encode_attributes(list(attrs.items()))
        entries.append(SpanEntry(res, scope, data, sp.span_id, root_id))
    root_attrs: dict[str, Any] = {"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": s.tool,
                                  "gen_ai.conversation.id": s.session_id, "session.id": s.session_id,
                                  "tokenwatch.agent.tool": s.tool, "gen_ai.workflow.name": s.tool,
                                  "tokenwatch.agent.session_part": part}
    if principal:
        root_attrs["user.id"] = principal
    if loop_detected:
        root_attrs["tokenwatch.agent.loop_detected"] = True
    root = Span(trace_id=trace_id, span_id=root_id, name=f"invoke_agent {s.tool}", kind=Span.SPAN_KIND_INTERNAL,
                start_time_unix_nano=start, end_time_unix_nano=end)
    entries.insert(0, SpanEntry(res, scope, root.SerializeToString() + encode_attributes(list(root_attrs.items())),
                                root_id, b""))
    tree = Tree(trace_id=trace_id, spans=entries, root_seen=True, complete=reason != "max_sessions",
                release_reason=reason)
    tree.facts["agent_session"] = {"tool": s.tool, "session_id": s.session_id}
    return tree
