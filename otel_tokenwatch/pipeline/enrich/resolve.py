"""Workflow, team and outcome of one tree, each with the source that named it."""

from __future__ import annotations

import re
from typing import Any

from otel_tokenwatch.pipeline.enrich.config import OutcomeConfig, TeamConfig, WorkflowConfig, WorkflowRule
from otel_tokenwatch.pipeline.tree import SpanEntry, Tree

#: Langfuse's trace name too: its Python SDK (langfuse 5.2.0 _client/propagation.py propagate_attributes(
#: trace_name=...), _client/attributes.py TRACE_NAME) writes ``langfuse.trace.name`` on the current span and every
#: span started below it, the name its UI groups traces by
WELL_KNOWN_WORKFLOW_KEYS = ("gen_ai.workflow.name", "traceloop.workflow.name", "langfuse.trace.name")
OUTCOMES = ("success", "failure", "abandoned", "unknown")


def first_values(spans: list[SpanEntry], root: SpanEntry | None, keys: frozenset[str]) -> dict[str, Any]:
    """For each key, its value on the root, else on the earliest of ``spans`` (a tree's spans, or
    those of them that carry any key asked for) that carries it (empty values skipped): one pass for
    every key workflow and outcome may be named by."""
    found: dict[str, Any] = {}
    order = ([root] if root is not None else []) + [e for e in spans if e is not root]
    for e in order:
        a = e.attrs
        if keys.isdisjoint(a):
            continue
        for k in keys.intersection(a):
            if k not in found and a[k] not in (None, ""):
                found[k] = a[k]
    return found


def _match(pattern: str, value: str, regex: bool) -> bool:
    if not pattern:
        return True
    return re.fullmatch(pattern, value) is not None if regex else pattern == value


def _rule_matches(rule: WorkflowRule, e: SpanEntry) -> bool:
    if not _match(rule.service, e.resource.service_name, rule.regex):
        return False
    if not _match(rule.span_name, e.view.name, rule.regex):
        return False
    if rule.attribute:
        v = e.attrs.get(rule.attribute)
        if v is None:
            return False
        if rule.value and not _match(rule.value, str(v), rule.regex):
            return False
    return True


def workflow(tree: Tree, root: SpanEntry | None, cfg: WorkflowConfig, firsts: dict[str, Any]) -> tuple[str, str]:
    """``firsts``: ``first_values`` over at least the workflow keys."""
    for key in (*WELL_KNOWN_WORKFLOW_KEYS, *cfg.attributes):
        v = firsts.get(key)
        if v is not None:
            return str(v), key
    for i, rule in enumerate(cfg.rules):
        candidates = [root] if root is not None else []
        candidates += [e for e in tree.spans if e is not root]
        if any(_rule_matches(rule, e) for e in candidates):
            return rule.workflow, f"rule[{i}]"
    if root is not None and root.view.name:
        if root.parent_id and root.view.kind not in ENTRY_KINDS and root.attrs.get(LANGFUSE_APP_ROOT) is not True:
            # the trace's own root is not in the tree, and the earliest span without its parent is a step of
            # the run, not its name: a run longer than tree_max_wait is released before its root ends (SDKs
            # export a span when it ends, the root last), and some exporters drop the app's spans (Langfuse
            # JS v5's default filter); the service names the run better than "chat gpt-4o" would. A local root
            # that entered from another service (SERVER, CONSUMER) names its own request, as before.
            return root.resource.service_name, "service_name"
        return root.view.name, "root_span_name"
    return "unknown", "default"


#: span kinds of a request entering a service (SpanKind SERVER, CONSUMER): a trace's local root there
ENTRY_KINDS = frozenset({2, 5})
#: Langfuse JS v5's mark on a span its default export filter keeps while its parent is dropped (@langfuse/otel
#: 5.11.1 LangfuseSpanProcessor, isDefaultExportSpan): the exporter names it the trace's root, and Langfuse
#: names the trace after it (tests/normalize/test_captured_js2v5.py)
LANGFUSE_APP_ROOT = "langfuse.internal.is_app_root"


def team(root: SpanEntry | None, tree: Tree, cfg: TeamConfig) -> tuple[str, str]:
    entry = root or (tree.spans[0] if tree.spans else None)
    if entry is None:
        return "unknown", "default"
    res = entry.resource.attrs
    for key in cfg.resource_attributes:
        v = res.get(key)
        if v not in (None, ""):
            return str(v), key
    svc = entry.resource.service_name
    if svc in cfg.services:
        return cfg.services[svc], "services"
    return "unknown", "default"


def outcome_from_value(value: Any, cfg: OutcomeConfig) -> str | None:
    v = str(value).strip().lower()
    if v in OUTCOMES:
        return v
    return cfg.values.get(v)


def outcome(tree: Tree, root: SpanEntry | None, cfg: OutcomeConfig, firsts: dict[str, Any]) -> tuple[str, str]:
    """``firsts``: ``first_values`` over at least the outcome keys."""
    for key in cfg.attributes:
        v = firsts.get(key)
        if v is not None:
            o = outcome_from_value(v, cfg)
            if o is not None:
                return o, f"attribute:{key}"
    if cfg.from_status and root is not None:
        code = root.view.status_code
        if code == 2:
            return "failure", "status"
        if code == 1:
            return "success", "status"
    return "unknown", "default"
