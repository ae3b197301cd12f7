"""Coding-agent usage from metrics, for sessions that sent no events (counted once, never added to events).

Claude Code's ``claude_code.token.usage`` is a DELTA sum by default (points add up) but CUMULATIVE
with ``OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE=cumulative`` (code.claude.com/docs/en/
monitoring-usage, "Common configuration variables"); Gemini CLI's ``gemini_cli.token.usage`` is a
CUMULATIVE sum; Codex's ``codex.turn.token_usage`` a histogram (its sum). Temporality is read from each
metric, never assumed per tool.

A cumulative point is turned into the increase since the last point of the *same series*: a series is
the point's full attribute set, not just (model, type). Claude Code splits one model's tokens by
``query_source`` (main / subagent / auxiliary), ``speed``, ``effort``, ``agent.name``, ``skill.name``,
...; taking the last value per (model, type) kept only one of those series. The last value of every
series is remembered after its session is released, so the exporter repeating its totals (every
export interval, for as long as the process lives) after a release adds nothing, instead of counting
the whole total again. A value below the last one, or a new start time, is a restarted counter: it
counts from zero.

Token types are mapped to the normalized meaning: Claude input excludes cache (added back), Gemini
output excludes thoughts (added back), Gemini ``tool`` tokens (``toolUsePromptTokenCount``) are input
that ``input`` (``promptTokenCount``) does not hold (added: gemini-cli ``telemetry/loggers.ts``
``logApiResponse`` records ``tool_token_count`` as ``type=tool``).
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from opentelemetry.proto.resource.v1.resource_pb2 import Resource

from otel_tokenwatch.agents.events import AgentSpan, principal_of
from otel_tokenwatch.agents.sessions import Session, build_tree
from otel_tokenwatch.pipeline.tree import Tree

#: metric token type -> normalized field
TYPES = {
    "claude-code": {"input": "uncached", "output": "output", "cacheRead": "cache_read", "cacheCreation": "cache_write"},
    "gemini-cli": {"input": "input", "output": "output_no_thoughts", "cache": "cache_read", "thought": "reasoning",
                   "tool": "tool_input"},
    # codex.turn.token_usage token_type (captured, codex-cli 0.171.0): input (incl. cached), cached_input,
    # cache_write_input, output (incl. reasoning), reasoning_output, total (skipped: the sum)
    "codex": {"input": "input", "cached_input": "cache_read", "cache_write_input": "cache_write", "output": "output",
              "reasoning_output": "reasoning"},
}
PROVIDERS = {"claude-code": "anthropic", "gemini-cli": "gcp.gen_ai", "codex": "openai"}


@dataclass
class MetricUsage:
    tool: str
    session_id: str
    resource: bytes
    principal: str | None
    first_seen: float
    last_seen: float
    #: (model, field) -> tokens in this session part (delta points and cumulative increases add up)
    values: dict[tuple[str, str], float] = field(default_factory=dict)
    cost: dict[str, float] = field(default_factory=dict)
    part: int = 0

    def tree(self) -> Tree:
        spans = []
        models = {m for m, _ in self.values} | set(self.cost)
        for i, model in enumerate(sorted(models)):
            v = {f: n for (m, f), n in self.values.items() if m == model}
            cr, cw = int(v.get("cache_read", 0)), int(v.get("cache_write", 0))
            inp = int(v.get("input", v.get("uncached", 0) + cr + cw) + v.get("tool_input", 0))
            out = int(v.get("output", v.get("output_no_thoughts", 0) + v.get("reasoning", 0)))
            attrs: dict[str, Any] = {"gen_ai.operation.name": "chat", "gen_ai.provider.name": PROVIDERS[self.tool],
                                     "gen_ai.request.model": model, "gen_ai.usage.input_tokens": inp,
                                     "gen_ai.usage.output_tokens": out, "gen_ai.usage.cache_read.input_tokens": cr,
                                     "gen_ai.usage.cache_write.input_tokens": cw,
                                     "gen_ai.conversation.id": self.session_id,
                                     "tokenwatch.agent.usage_from": "metrics"}
            if v.get("reasoning"):
                attrs["gen_ai.usage.reasoning.output_tokens"] = int(v["reasoning"])
            if self.cost.get(model):
                attrs["cost_usd"] = self.cost[model]
            if self.principal:
                attrs["user.id"] = self.principal
            spans.append(AgentSpan("inference", f"chat {model}", i, attrs))
        s = Session(self.tool, self.session_id, self.resource, self.first_seen, self.last_seen, spans)
        t = build_tree(s, self.part, "idle")
        t.facts["agent_session"]["from"] = "metrics"
        return t


class MetricSessions:
    def __init__(self, max_sessions: int) -> None:
        self.max_sessions = max_sessions
        self.open: dict[tuple[str, str], MetricUsage] = {}
        #: cumulative series (digest) -> (start time, last value counted); kept past a session's release
        self.last: OrderedDict[bytes, tuple[int, float]] = OrderedDict()
        self.max_series = 32 * max_sessions
        #: (tool, session) -> parts released so far (bounded like the event assembler's)
        self.parts: OrderedDict[tuple[str, str], int] = OrderedDict()
        #: sessions pushed out by max_sessions, released at the next due()
        self.evicted: list[MetricUsage] = []

    def add(self, tool: str, sid: str, resource: Resource, attrs: dict[str, Any], metric: str, value: float,
            cumulative: bool, now: float, start_ns: int = 0) -> None:
        model = str(attrs.get("model") or attrs.get("gen_ai.request.model") or "unknown")
        if metric.endswith("cost.usage"):
            fld: str | None = "cost"
        else:
            ttype = str(attrs.get("type") or attrs.get("token_type") or "")
            fld = TYPES.get(tool, {}).get(ttype)
        if fld is None:
            return  # e.g. Codex's "total": the sum of the others
        if cumulative:
            value = self._increase(_series(tool, sid, metric, attrs), start_ns, value)
        key = (tool, sid)
        u = self.open.get(key)
        if u is None:
            if value == 0:
                return  # an unchanged total repeated after its session was released
            if len(self.open) >= self.max_sessions:
                self.evicted.append(self.pop(next(iter(self.open))))
            u = self.open[key] = MetricUsage(tool, sid, resource.SerializeToString(), principal_of(attrs), now, now,
                                             part=self.parts.get(key, 0))
        if value:
            u.last_seen = now  # growth, not a repeated total, keeps the session open
        if fld == "cost":
            u.cost[model] = u.cost.get(model, 0.0) + value
            return
        k = (model, fld)
        u.values[k] = u.values.get(k, 0.0) + value

    def _increase(self, series: bytes, start_ns: int, value: float) -> float:
        """What a cumulative point adds to its series since the last point counted."""
        prev = self.last.get(series)
        self.last[series] = (start_ns, value)
        self.last.move_to_end(series)
        if len(self.last) > self.max_series:
            self.last.popitem(last=False)
        if prev is None:
            return value
        prev_start, prev_value = prev
        if (start_ns and prev_start and start_ns != prev_start) or value < prev_value:
            return value  # the counter restarted (a new process for the same session)
        return value - prev_value

    def due(self, now: float, idle: float, all_: bool) -> list[tuple[str, str]]:
        return [k for k, u in self.open.items() if all_ or now - u.last_seen >= idle]

    def pop(self, key: tuple[str, str]) -> MetricUsage:
        u = self.open.pop(key)
        self.parts[key] = u.part + 1
        self.parts.move_to_end(key)
        if len(self.parts) > 4 * self.max_sessions:
            self.parts.popitem(last=False)
        return u

    def take_evicted(self) -> list[MetricUsage]:
        out, self.evicted = self.evicted, []
        return out


def _series(tool: str, sid: str, metric: str, attrs: dict[str, Any]) -> bytes:
    """The identity of a metric series (its name and all of its point's attributes), as a short digest."""
    text = repr((tool, sid, metric, sorted((str(k), repr(v)) for k, v in attrs.items())))
    return hashlib.blake2b(text.encode(), digest_size=16).digest()
