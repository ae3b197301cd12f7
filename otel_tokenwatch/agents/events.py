"""Coding-agent log events, read by their documented meaning, as the spans of a session tree.

Each tool sends the same tokens as events, metrics and (optionally) spans;
tokenwatch counts the **events** (per-request detail, always on when the
tool's telemetry is on). Token meaning follows the provider underneath:
Claude Code's ``input_tokens`` exclude cache (Anthropic), so cache reads and
writes are added; Gemini CLI's output excludes thoughts, so they are added, and
its ``tool_token_count`` (Gemini's ``toolUsePromptTokenCount``) is input that
``input_token_count`` (``promptTokenCount``) does not hold, so it is added too;
Codex reports input with cache and output with reasoning already.

Failures are read where each tool reports them: Claude Code and Gemini CLI
``api_error``; Codex ``codex.api_request`` with an HTTP error status *or* an
``error.message`` (connection failures carry no status), and ``codex.sse_event``
whose stream failed (``response.failed``, or ``response.completed`` carrying
``error.message`` instead of token counts: codex-rs/otel
``events/session_telemetry.rs`` ``sse_event_failed`` / ``see_event_completed_failed``).
"""

from __future__ import annotations

import hashlib
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


def short_name(name: str) -> str:
    """An event's name without Claude Code's or Gemini CLI's prefix (Codex's events keep theirs)."""
    return name.removeprefix("claude_code.").removeprefix("gemini_cli.")


#: who a coding agent's event is from, first present wins: Claude Code's ``user.id`` (an installation hash)
#: and Gemini CLI's ``installation.id``, opaque already; else the account of a signed-in user: Claude Code's
#: ``user.account_uuid``, Codex's ``user.account_id`` and ``user.email`` (codex-rs/otel OtelManager
#: ``account_id`` / ``account_email``, sent with a ChatGPT login only: an API-key session has neither)
OPAQUE_PRINCIPAL_KEYS = ("user.id", "installation.id")
ACCOUNT_KEYS = ("user.account_uuid", "user.account_id", "user.email")


def principal_of(a: dict[str, Any]) -> str | None:
    """The session's principal as the spans tokenwatch builds carry it (``user.id``): an account or an
    email becomes a digest (``account:<sha256 prefix>``), so a session of a signed-in user still has a
    principal for the per-principal rules (inflation windows, team sizes) and the account itself is never
    written onto a span of ours; the records that carried it are forwarded as they came."""
    for k in OPAQUE_PRINCIPAL_KEYS:
        if a.get(k):
            return str(a[k])
    for k in ACCOUNT_KEYS:
        if a.get(k):
            return "account:" + hashlib.sha256(str(a[k]).encode()).hexdigest()[:24]
    return None


def read_event(tool: str, name: str, a: dict[str, Any], time_ns: int) -> AgentSpan | None:
    """The span an event stands for, or None for events that carry no spend, tool call or prompt."""
    name = short_name(name)
    principal = principal_of(a)
    base: dict[str, Any] = {}
    if principal:
        base["user.id"] = principal
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
        cost = _claude_cost(a)
        if cost is not None:
            call["cost_usd"] = cost
        if a.get("request_id"):
            call["gen_ai.response.id"] = str(a["request_id"])
        return AgentSpan("inference", f"chat {model}", time_ns, call)
    if tool == "gemini-cli" and name == "api_response":
        thoughts = _i(a, "thoughts_token_count")
        call.update({"gen_ai.usage.input_tokens": _gemini_input(a, thoughts),
                     "gen_ai.usage.output_tokens": _i(a, "output_token_count") + thoughts,
                     "gen_ai.usage.cache_read.input_tokens": _i(a, "cached_content_token_count"),
                     "gen_ai.usage.reasoning.output_tokens": thoughts})
        reasons = _finish(a.get("finish_reasons"))
        if reasons:
            call["gen_ai.response.finish_reasons"] = [r.lower() for r in reasons]
        if gemini_auxiliary(a.get("role")):
            call["tokenwatch.usage.auxiliary"] = True  # router, compressor, loop detector...: real spend, marked
        return AgentSpan("inference", f"chat {model}", time_ns, call)
    if tool == "codex" and name == "codex.sse_event" and _codex_stream_failed(a):
        call["error.type"] = str(a.get("event.kind") or "stream_error")
        return AgentSpan("inference", f"chat {model}", time_ns, call, error=True)
    if tool == "codex" and name == "codex.sse_event" and a.get("event.kind", a.get("kind")) == "response.completed" \
            and codex_has_usage(a):
        call.update({"gen_ai.usage.input_tokens": _i(a, "input_token_count"),
                     "gen_ai.usage.output_tokens": _i(a, "output_token_count"),
                     "gen_ai.usage.cache_read.input_tokens": _i(a, "cached_token_count"),
                     "gen_ai.usage.cache_write.input_tokens": _i(a, "cache_write_token_count"),
                     "gen_ai.usage.reasoning.output_tokens": _i(a, "reasoning_token_count")})
        return AgentSpan("inference", f"chat {model}", time_ns, call)
    if name in ("api_error",) or (tool == "codex" and name == "codex.api_request" and _codex_request_failed(a)):
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


def gemini_auxiliary(role: Any) -> bool:
    """Whether a Gemini CLI request was made by the CLI for itself rather than for the user's turn.

    gemini-cli ``packages/core/src/telemetry/llmRole.ts`` (``LlmRole``): ``main`` and ``subagent``
    do the user's work; every ``utility_*`` role (``utility_router``, ``utility_compressor``,
    ``utility_summarizer``, ``utility_loop_detector``, ``utility_next_speaker``,
    ``utility_edit_corrector``, ...) is the CLI's own helper call. Only the router was marked before,
    so a loop-detector or next-speaker call counted as a step of the turn (it took the turn's
    prompt fingerprint and could be blamed for a tool loop).
    """
    return isinstance(role, str) and role.startswith("utility_")


def _gemini_input(a: dict[str, Any], thoughts: int) -> int:
    """Gemini CLI input: ``input_token_count`` plus ``tool_token_count`` when the total says it is extra.

    Gemini CLI ``ApiResponseEvent`` (``packages/core/src/telemetry/types.ts``) copies
    ``promptTokenCount`` to ``input_token_count`` and ``toolUsePromptTokenCount`` to
    ``tool_token_count``; the Gemini API documents ``totalTokenCount`` as the sum of prompt,
    candidates, tool-use prompt and thoughts tokens, so tool-use prompt tokens are billed input
    that ``input_token_count`` does not contain. They are added unless the event's own
    ``total_token_count`` shows they are already inside the input.
    """
    inp, tool_tokens = _i(a, "input_token_count"), _i(a, "tool_token_count")
    if tool_tokens <= 0:
        return inp
    total = _i(a, "total_token_count")
    if total and total < inp + _i(a, "output_token_count") + thoughts + tool_tokens:
        return inp  # this total has no room for them: already counted in the input
    return inp + tool_tokens


#: token keys of codex-rs/otel ``SessionTelemetry::sse_event_completed`` (the usage-bearing record)
CODEX_USAGE_KEYS = ("input_token_count", "output_token_count", "cached_token_count", "cache_write_token_count",
                     "reasoning_token_count", "tool_token_count")


def codex_has_usage(a: Any) -> bool:
    """Whether a Codex ``response.completed`` record is the one with the response's usage.

    codex-rs/otel ``events/session_telemetry.rs`` logs a ``codex.sse_event`` for every SSE event
    (``log_sse_event``: ``event.kind`` and ``duration_ms`` only), and for a completed response a second
    one from ``sse_event_completed`` with the token counts. Captured from codex-cli 0.171.0
    (tests/agents/data/codex-0.171.0.jsonl): every response gives both; read as two calls, each
    response counted twice (the second with zero tokens), doubling calls and diluting loop scores.
    """
    return any(k in a for k in CODEX_USAGE_KEYS)


def _codex_request_failed(a: dict[str, Any]) -> bool:
    """A Codex ``codex.api_request`` that failed: HTTP error status, or an error without any status.

    codex-rs/otel ``SessionTelemetry::record_api_request`` logs ``http.response.status_code`` (absent
    when the request never got a response) and ``error.message`` (the transport error).
    """
    status = _i(a, "http.response.status_code")
    return status >= 400 or (status == 0 and bool(a.get("error.message")))


#: ``codex.sse_event`` kinds whose failure means the model response was lost (the turn is retried);
#: a failed ``response.output_item.done`` parse is not (the stream goes on)
_CODEX_FAILED_KINDS = frozenset({"response.failed", "response.completed", "", "unknown"})


def _codex_stream_failed(a: dict[str, Any]) -> bool:
    """A Codex response stream that failed: ``response.failed``, or an error on completion / the stream itself.

    codex-rs/otel ``events/session_telemetry.rs``: ``sse_event_failed`` logs ``event.kind`` (the SSE
    event, absent for stream errors and idle timeouts) with ``error.message``;
    ``see_event_completed_failed`` logs ``event.kind=response.completed`` with ``error.message`` and
    no token counts. Read as completions, these were calls with zero tokens that succeeded.
    """
    kind = str(a.get("event.kind", a.get("kind")) or "")
    if kind == "response.failed":
        return True
    return bool(a.get("error.message")) and kind in _CODEX_FAILED_KINDS


def _claude_cost(a: dict[str, Any]) -> float | None:
    """Claude Code's reported cost: ``cost_usd``, else ``cost_usd_micros`` / 1e6.

    code.claude.com/docs/en/monitoring-usage, API request event: ``cost_usd`` (estimated USD) and
    ``cost_usd_micros`` (the same in millionths of a dollar, an integer); read the integer when the
    double is missing or unreadable.
    """
    cost = _safe_cost(a.get("cost_usd"))
    if cost is None:
        micros = _safe_cost(a.get("cost_usd_micros"))
        if micros is not None:
            cost = micros / 1_000_000
    return cost


def _safe_cost(v: Any) -> float | None:
    try:
        d = to_decimal(v)
    except Unreadable:
        return None
    return float(d) if d is not None else None
