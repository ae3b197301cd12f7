"""The captured instrumentations (tests/normalize/data/) as normalized trees, read once per source for
every test module that checks them."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any

from otel_tokenwatch import semconv
from otel_tokenwatch.pipeline.normalize.counting import _descendants
from otel_tokenwatch.pipeline.normalize.factory import NormalizeConfig, NormalizeProcessor
from otel_tokenwatch.pipeline.tree import SpanEntry, Tree
from tests.enrich.trees import trees_of

DATA = Path(__file__).parent / "data"
_CACHE: dict[str, list[tuple[str, Tree]]] = {}
#: a call's token counts, by the truth files' names, and the trace totals a root carries for them
TOKENS = ("input", "cache_read", "cache_write", "output", "reasoning")
ROOT_TOTALS = {"input": semconv.TRACE_INPUT_TOKENS, "output": semconv.TRACE_OUTPUT_TOKENS,
               "cache_read": semconv.TRACE_CACHE_READ_TOKENS, "cache_write": semconv.TRACE_CACHE_WRITE_TOKENS}


def _trees(source: str) -> list[tuple[str, Tree]]:
    """(scenario, normalized tree) for every trace of one capture, read afresh."""
    stage = NormalizeProcessor(NormalizeConfig())
    out = trees_of(DATA / f"{source}.jsonl")
    for _, t in out:
        stage.process(t)
    return out


def trees(source: str) -> list[tuple[str, Tree]]:
    """(scenario, normalized tree) for every trace of one capture."""
    if source not in _CACHE:
        _CACHE[source] = _trees(source)
    return _CACHE[source]


def counted(source: str, scenario: str) -> list[SpanEntry]:
    return sorted((e for sc, t in trees(source) if sc == scenario for e in t.spans
                   if e.call is not None and e.call.counted), key=lambda e: int(e.view.start_time_unix_nano))


def failed_calls(source: str, scenario: str) -> list[SpanEntry]:
    """Failed model calls: error spans of inference kind that are not a second report of another span."""
    return [e for sc, t in trees(source) if sc == scenario for e in t.spans
            if e.call is not None and e.call.kind == "inference" and e.call.error and e.call.report_of is None]


def app_root(tree: Tree, *, exported: bool = True) -> SpanEntry:
    """The span the trace's totals are on (Tree.root): the generator's ``workflow`` root. ``exported=False``: a
    source whose exporter drops the app's root span (Langfuse JS v5's default export filter): no span of the tree
    is without a parent, the spans that were its children keep its id, the one parent missing, and the root is the
    earliest of them; the ``workflow`` span is nowhere."""
    root = tree.root()
    assert root is not None
    if exported:
        assert root.view.name == "workflow"
        return root
    ids = {e.span_id for e in tree.spans}
    orphans = [e for e in tree.spans if e.parent_id not in ids]
    assert all(e.parent_id for e in tree.spans), "a span without a parent"
    assert len({e.parent_id for e in orphans}) == 1, "one parent missing: the app's root"
    assert root is min(orphans, key=lambda e: int(e.view.start_time_unix_nano))
    assert not any(e.view.name == "workflow" for e in tree.spans)
    return root


def scenario_totals(source: str, *, usage_on_error: bool = False, failed_providers_apart: bool = False,
                    parts_within: bool = False, roots_carry_totals: bool = False,
                    app_root_exported: bool = True) -> dict[str, dict[str, Any]]:
    """Per scenario: the model calls of a capture, added up as its truth file keeps them (failed calls carry
    no usage; ``unread``: successful calls whose spans hold none), in start order.

    ``usage_on_error``: an error span may carry usage, then it is read like a successful call and adds to
    ``failed`` only if it counts (``failed_models`` / ``failed_providers`` keep the calls without usage);
    otherwise an error span must have no usage. ``failed_providers_apart``: failed calls' providers go to ``failed_providers``, not
    ``providers``. ``parts_within``: each counted call's cache lies within its input, its reasoning within its
    output. ``roots_carry_totals``: every root has the trace's totals, even where they are 0 (else a missing
    one reads 0). ``app_root_exported``: False for a source that drops the app's root span (``app_root``: the
    totals are then on the earliest span whose parent never arrived). ``finish_reasons`` is flat, ``finish`` per
    call; ``scopes``: those of every model-call span."""
    got: dict[str, dict[str, Any]] = defaultdict(lambda: {
        "calls": 0, "failed": 0, "unread": 0, "input": 0, "output": 0, "cache_read": 0, "cache_write": 0,
        "reasoning": 0, "providers": set(), "failed_providers": set(), "scopes": set(), "models": [], "served": [],
        "failed_models": [], "finish_reasons": [], "finish": [], "streamed": [], "root_calls": 0, "root_input": 0,
        "root_output": 0})
    for scenario, tree in trees(source):
        g = got[scenario]
        for e in sorted(tree.spans, key=lambda e: int(e.view.start_time_unix_nano)):
            c = e.call
            if c is None or c.kind != "inference" or c.report_of is not None:
                continue
            g["calls"] += 1
            g["scopes"].add(e.scope.name)
            if c.error and not (usage_on_error and c.has_usage):
                if not usage_on_error:
                    assert not c.counted and not c.has_usage, (scenario, e.view.name)
                g["failed"] += 1
                g["failed_models"].append(c.request_model)
                g["failed_providers" if failed_providers_apart else "providers"].add(c.provider)
                continue
            g["providers"].add(c.provider)
            g["models"].append(c.request_model)
            g["served"].append(c.response_model)
            g["finish_reasons"] += list(c.finish_reasons)
            g["finish"].append(c.finish_reasons)
            g["streamed"].append(c.streaming)
            if not c.counted:
                g["unread"] += 1
                continue
            g["failed"] += int(c.error)
            g["input"] += c.input_tokens or 0
            g["output"] += c.output_tokens or 0
            g["cache_read"] += c.cache_read_tokens or 0
            g["cache_write"] += c.cache_write_tokens or 0
            g["reasoning"] += c.reasoning_tokens or 0
            if parts_within:
                assert (c.input_tokens or 0) >= (c.cache_read_tokens or 0) + (c.cache_write_tokens or 0)
                assert (c.output_tokens or 0) >= (c.reasoning_tokens or 0)
        root = app_root(tree, exported=app_root_exported)
        for k, key in (("root_calls", semconv.TRACE_CALLS), ("root_input", semconv.TRACE_INPUT_TOKENS),
                       ("root_output", semconv.TRACE_OUTPUT_TOKENS)):
            v = root.get(key)
            assert v is not None or not roots_carry_totals, (scenario, key)
            g[k] += v or 0
    return got


def with_gaps(truth: dict[str, Any], gaps: dict[tuple[str, str, str], Any], source: str, scenario: str,
              **defaults: Any) -> dict[str, Any]:
    """A scenario's truth (``defaults`` for the fields it lacks) with the source's gaps, (source, scenario,
    field) -> value read: what its spans cannot carry, so no reader can count it."""
    t = {**defaults, **truth}
    t.update({k: v for (s, sc, k), v in gaps.items() if (s, sc) == (source, scenario)})
    return t


#: the totals every capture's truth keeps, and what each is
TOTALS = {"calls": "model calls (each once)", "failed": "failed calls",
          "unread": "successful calls whose span holds no usage", "input": "input tokens (cache included)",
          "output": "output tokens (reasoning included)", "cache_read": "cache read tokens",
          "cache_write": "cache write tokens", "reasoning": "reasoning tokens"}


def assert_totals(got: dict[str, Any], want: dict[str, Any], fields: tuple[str, ...] = tuple(TOTALS)) -> None:
    """A scenario's totals (scenario_totals) are the truth's (with_gaps), and the roots carry them: the trace's
    counted calls (failed ones and those without usage are not among them), their input and output."""
    for k in fields:
        assert got[k] == want[k], TOTALS[k]
    assert (got["root_calls"], got["root_input"], got["root_output"]) == (
        want["calls"] - want["failed"] - want["unread"], want["input"], want["output"])


def capture_lines_are(source: str, scenarios: list[str]) -> None:
    """The capture's data file holds one trace per scenario, in this order, all of this source."""
    lines = (DATA / f"{source}.jsonl").read_text().splitlines()
    assert [json.loads(x)["scenario"] for x in lines] == scenarios, source
    assert all(json.loads(x)["source"] == source for x in lines), source


def token_sums(calls: list[SpanEntry], fields: tuple[str, ...] = TOKENS) -> dict[str, int]:
    """The calls' token counts added up, by the truth files' names (``cache_read``: Call.cache_read_tokens)."""
    return {f: sum(getattr(e.call, f"{f}_tokens") or 0 for e in calls) for f in fields}


def counted_once(tree: Tree, root_sums: tuple[str, ...], *, app_root_exported: bool = True) -> list[SpanEntry]:
    """A trace's counted calls, none of them below another counted one; the trace's root carries their number
    and their sums of the ``root_sums`` fields (``app_root_exported``: as for ``scenario_totals``)."""
    children = tree.children()
    calls = [e for e in tree.spans if e.call is not None and e.call.counted]
    for e in calls:
        assert not any(d.call is not None and d.call.counted for d in _descendants(e, children)), e.view.name
    root = app_root(tree, exported=app_root_exported)
    assert root.get(semconv.TRACE_CALLS) == len(calls)
    for f, total in token_sums(calls, root_sums).items():
        assert root.get(ROOT_TOTALS[f]) == total, f
    return calls


def failed_in_errors(source: str, scenarios: list[str]) -> list[SpanEntry]:
    """The failed calls of the ``errors`` scenario, none counted, none with usage; no other scenario has one."""
    for scenario in scenarios:
        if scenario != "errors":
            assert failed_calls(source, scenario) == [], scenario
    failed = failed_calls(source, "errors")
    assert not any(e.call.counted or e.call.has_usage for e in failed)  # type: ignore[union-attr]
    return failed
