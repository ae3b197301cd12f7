"""Coding-agent usage from metrics, for sessions that sent no events (counted once, never added to events).

Claude Code's ``claude_code.token.usage`` is a DELTA sum (points add up), Gemini CLI's
``gemini_cli.token.usage`` a CUMULATIVE sum (the last point per series is the total), Codex's
``codex.turn.token_usage`` a histogram (its sum). Token types are mapped to the normalized meaning:
Claude input excludes cache (added back), Gemini output excludes thoughts (added back).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from opentelemetry.proto.resource.v1.resource_pb2 import Resource

from otel_tokenwatch.agents.events import AgentSpan
from otel_tokenwatch.agents.sessions import Session, build_tree
from otel_tokenwatch.pipeline.tree import Tree

#: metric token type -> normalized field
TYPES = {
    "claude-code": {"input": "uncached", "output": "output", "cacheRead": "cache_read", "cacheCreation": "cache_write"},
    "gemini-cli": {"input": "input", "output": "output_no_thoughts", "cache": "cache_read", "thought": "reasoning"},
    "codex": {"input": "input", "cached_input": "cache_read", "output": "output", "reasoning_output": "reasoning"},
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
    #: (model, field) -> value; cumulative series keep their last value, delta series add up
    values: dict[tuple[str, str], float] = field(default_factory=dict)
    cost: dict[str, float] = field(default_factory=dict)

    def tree(self) -> Tree:
        spans = []
        models = {m for m, _ in self.values} | set(self.cost)
        for i, model in enumerate(sorted(models)):
            v = {f: n for (m, f), n in self.values.items() if m == model}
            cr, cw = int(v.get("cache_read", 0)), int(v.get("cache_write", 0))
            inp = int(v.get("input", v.get("uncached", 0) + cr + cw))
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
        t = build_tree(s, 0, "idle")
        t.facts["agent_session"]["from"] = "metrics"
        return t


class MetricSessions:
    def __init__(self, max_sessions: int) -> None:
        self.max_sessions = max_sessions
        self.open: dict[tuple[str, str], MetricUsage] = {}

    def add(self, tool: str, sid: str, resource: Resource, attrs: dict[str, Any], metric: str, value: float,
            cumulative: bool, now: float) -> None:
        key = (tool, sid)
        u = self.open.get(key)
        if u is None:
            if len(self.open) >= self.max_sessions:
                self.open.pop(next(iter(self.open)))
            principal = attrs.get("user.id") or attrs.get("installation.id")
            u = self.open[key] = MetricUsage(tool, sid, resource.SerializeToString(),
                                             str(principal) if principal else None, now, now)
        u.last_seen = now
        model = str(attrs.get("model") or attrs.get("gen_ai.request.model") or "unknown")
        if metric.endswith("cost.usage"):
            u.cost[model] = (u.cost.get(model, 0.0) if not cumulative else 0.0) + value
            return
        ttype = str(attrs.get("type") or attrs.get("token_type") or "")
        fld = TYPES.get(tool, {}).get(ttype)
        if fld is None:
            return  # e.g. Gemini's "tool" tokens or Codex's "total": subsets or sums of the others
        k = (model, fld)
        u.values[k] = value if cumulative else u.values.get(k, 0.0) + value

    def due(self, now: float, idle: float, all_: bool) -> list[tuple[str, str]]:
        return [k for k, u in self.open.items() if all_ or now - u.last_seen >= idle]

    def pop(self, key: tuple[str, str]) -> MetricUsage:
        return self.open.pop(key)
