"""Which calls count, so that usage reported twice is added once.

Rules (genai-dialects.md section 7): only inference and embeddings spans
count; in a chain of nested inference spans the deepest one with usage
counts; the same ``gen_ai.response.id`` counts once per trace; agent,
workflow and root usage only cross-checks its descendants and counts only
when no descendant reports usage (they were sampled out).
"""

from __future__ import annotations

from otel_tokenwatch import semconv
from otel_tokenwatch.pipeline.tree import SpanEntry, Tree

CALL_KINDS = ("inference", "embeddings")


def _has_usage_below(e: SpanEntry, children: dict[bytes, list[SpanEntry]], seen: set[bytes]) -> bool:
    """A model call with usage somewhere below ``e`` (a module function: a closure calling itself is
    a reference cycle, garbage for the collector on every tree)."""
    for c in children.get(e.span_id, ()):
        if c.span_id in seen:
            continue
        seen.add(c.span_id)
        if c.call is not None and c.call.kind in CALL_KINDS and c.call.has_usage:
            return True
        if _has_usage_below(c, children, seen):
            return True
    return False


def decide(tree: Tree) -> None:
    children = tree.children()
    responses: dict[str, SpanEntry] = {}
    for e in tree.spans:
        c = e.call
        if c is None or c.kind not in CALL_KINDS or not c.has_usage:
            continue
        if c.counted_elsewhere:
            e.set(semconv.USAGE_MISMATCH, "counted once, from the coding agent's log events (its session)")
            continue
        if _has_usage_below(e, children, {e.span_id}):
            continue  # a wrapper (framework span over the client span): its child counts
        if c.response_id:
            first = responses.get(c.response_id)
            if first is not None:
                e.set(semconv.USAGE_MISMATCH, f"duplicate of span {first.span_id.hex()} (same response id)")
                continue
            responses[c.response_id] = e
        c.counted = True
    # aggregates: counted only when nothing below reports usage
    for e in tree.spans:
        c = e.call
        if c is None or c.kind in CALL_KINDS or not c.has_usage:
            continue
        below = sum(x.call.total_tokens for x in _descendants(e, children) if x.call is not None and x.call.counted)
        if below == 0 and not _has_usage_below(e, children, {e.span_id}):
            c.counted = True
        elif below != c.total_tokens:
            e.set(semconv.USAGE_MISMATCH, f"reports {c.total_tokens} tokens, its counted calls {below}")


def _descendants(e: SpanEntry, children: dict[bytes, list[SpanEntry]]) -> list[SpanEntry]:
    out, stack, seen = [], list(children.get(e.span_id, ())), {e.span_id}
    while stack:
        x = stack.pop()
        if x.span_id in seen:
            continue
        seen.add(x.span_id)
        out.append(x)
        stack.extend(children.get(x.span_id, ()))
    return out
