"""Coding-agent log events, read by their documented meaning, as the spans of a session tree.

Each tool sends the same tokens as events, metrics and (optionally) spans;
tokenwatch counts the **events** (per-request detail, always on when the
tool's telemetry is on). Token meaning follows the provider underneath:
Claude Code's ``input_tokens`` exclude cache (Anthropic), so cache reads and
writes are added; Gemini CLI's output excludes thoughts, so they are added;
Codex reports input with cache and output with reasoning already.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from otel_tokenwatch.pipeline.normalize.coerce import Unreadable, parse_structured, to_decimal, to_int


def _i(a: dict[str, Any], key: str) -> int:
    try:
        return to_int(a.get(key)) or 0
    except Unreadable:
        return 0


@dataclass
class AgentSpan:
    """One span of the synthetic session tree."""

    kind: str  # inference | tool | prompt
    name: str
    time_ns: int
    attrs: dict[str, Any] = field(default_factory=dict)
    error: bool = False


TOOLS = {"claude-code": "claude-code", "claude_code": "claude-code", "gemini-cli": "gemini-cli",
         "codex": "codex", "codex_cli_rs": "codex", "codex-cli": "codex", "codex_exec": "codex"}


def tool_of(service_name: str, scope: str, event_name: str) -> str | None:
    if service_name in TOOLS:
        return TOOLS[service_name]
    if scope.startswith("com.anthropic.claude_code") or event_name.startswith("claude_code."):
        return "claude-code"
    if scope == "gemini-cli" or event_name.startswith("gemini_cli."):
        return "gemini-cli"
    if event_name.startswith("codex."):
        return "codex"
    return None


def session_of(a: dict[str, Any]) -> str | None:
    for key in ("session.id", "conversation.id", "gen_ai.conversation.id"):
        v = a.get(key)
        if v:
            return str(v)
    return None


def _finish(v: Any) -> list[str]:
    v = parse_structured(v)
    if isinstance(v, (list, tuple)):
        return [str(x) for x in v]
    return [str(v)] if v else []


def read_event(tool: str, name: str, a: dict[str, Any], time_ns: int) -> AgentSpan | None:
    """The span an event stands for, or None for events that carry no spend, tool call or prompt."""
    name = name.removeprefix("claude_code.").removeprefix("gemini_cli.")
    principal = a.get("user.id") or a.get("installation.id") or a.get("user.account_uuid")
    base: dict[str, Any] = {}
    if principal:
        base["user.id"] = str(principal)
    sid = session_of(a)
    if sid:
        base["gen_ai.conversation.id"] = sid
    if tool == "claude-code":
        provider = "anthropic"
    elif tool == "gemini-cli":
        provider = "gcp.gen_ai"
    else:
        provider = "openai"
    model = a.get("model") or a.get("model_name")
    call = {**base, "gen_ai.operation.name": "chat", "gen_ai.provider.name": provider}
    if model:
        call["gen_ai.request.model"] = str(model)
    if tool == "claude-code" and name == "api_request":
        cr, cw = _i(a, "cache_read_tokens"), _i(a, "cache_creation_tokens")
        call.update({"gen_ai.usage.input_tokens": _i(a, "input_tokens") + cr + cw,
                     "gen_ai.usage.output_tokens": _i(a, "output_tokens"),
                     "gen_ai.usage.cache_read.input_tokens": cr, "gen_ai.usage.cache_write.input_tokens": cw})
        cost = _safe_cost(a.get("cost_usd"))
        if cost is not None:
            call["cost_usd"] = cost
        if a.get("request_id"):
            call["gen_ai.response.id"] = str(a["request_id"])
        return AgentSpan("inference", f"chat {model}", time_ns, call)
    if tool == "gemini-cli" and name == "api_response":
        thoughts = _i(a, "thoughts_token_count")
        call.update({"gen_ai.usage.input_tokens": _i(a, "input_token_count"),
                     "gen_ai.usage.output_tokens": _i(a, "output_token_count") + thoughts,
                     "gen_ai.usage.cache_read.input_tokens": _i(a, "cached_content_token_count"),
                     "gen_ai.usage.reasoning.output_tokens": thoughts})
        reasons = _finish(a.get("finish_reasons"))
        if reasons:
            call["gen_ai.response.finish_reasons"] = [r.lower() for r in reasons]
        if a.get("role") == "utility_router":
            call["tokenwatch.usage.auxiliary"] = True  # the model router: real spend, marked
        return AgentSpan("inference", f"chat {model}", time_ns, call)
    if tool == "codex" and name == "codex.sse_event" and a.get("event.kind", a.get("kind")) == "response.completed":
        call.update({"gen_ai.usage.input_tokens": _i(a, "input_token_count"),
                     "gen_ai.usage.output_tokens": _i(a, "output_token_count"),
                     "gen_ai.usage.cache_read.input_tokens": _i(a, "cached_token_count"),
                     "gen_ai.usage.cache_write.input_tokens": _i(a, "cache_write_token_count"),
                     "gen_ai.usage.reasoning.output_tokens": _i(a, "reasoning_token_count")})
        return AgentSpan("inference", f"chat {model}", time_ns, call)
    if name in ("api_error",) or (tool == "codex" and name == "codex.api_request"
                                   and _i(a, "http.response.status_code") >= 400):
        status = a.get("status_code") or a.get("http.status_code") or a.get("http.response.status_code")
        call["error.type"] = str(status or "error")
        return AgentSpan("inference", f"chat {model}", time_ns, call, error=True)
    if name in ("tool_result", "tool_call", "codex.tool_result"):
        tool_name = a.get("tool_name") or a.get("function_name") or a.get("tool.name")
        if not tool_name:
            return None
        attrs = {**base, "gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": str(tool_name)}
        args = a.get("tool_parameters") or a.get("function_args") or a.get("tool_input") or a.get("arguments")
        if args:
            attrs["gen_ai.tool.call.arguments"] = str(args)
        ok = str(a.get("success", "true")).lower() != "false"
        return AgentSpan("tool", f"execute_tool {tool_name}", time_ns, attrs, error=not ok)
    if name in ("user_prompt", "codex.user_prompt"):
        prompt = a.get("prompt") or a.get("prompt_text")
        attrs = dict(base)
        if prompt:
            attrs["prompt"] = str(prompt)  # in memory for fingerprints; removed before anything leaves
        return AgentSpan("prompt", "user_prompt", time_ns, attrs)
    if name == "loop_detected":
        return AgentSpan("prompt", "loop_detected", time_ns, {**base, "tokenwatch.agent.loop_detected": True})
    return None


def _safe_cost(v: Any) -> float | None:
    try:
        d = to_decimal(v)
    except Unreadable:
        return None
    return float(d) if d is not None else None
