"""The waste score of one tree (waste-score.md v1.1): every wasted unit gets a span and one reason.

Reasons run in the spec's order and each takes only what earlier reasons
left (``CallUnits.take``), so a unit is never wasted twice and the span
attributes add up to the root's ``tokenwatch.trace.wasted``.
"""

from __future__ import annotations

import hashlib
import re
import time
from dataclasses import dataclass, field
from typing import Any, NamedTuple, TypedDict

import orjson

from otel_tokenwatch import semconv
from otel_tokenwatch.pipeline.call import Call, cut_by_finish_reason
from otel_tokenwatch.pipeline.score.config import ScoreConfig
from otel_tokenwatch.pipeline.score.fingerprint import (
    _KEY,
    common_prefix_share,
    cross_tree_fingerprint,
    fingerprint,
    key_from_env,
    similarity,
)
from otel_tokenwatch.pipeline.score.sketch import WindowSketch
from otel_tokenwatch.pipeline.score.units import TYPES, CallUnits, price_weights
from otel_tokenwatch.pipeline.tree import SpanEntry, Tree, holds_id
from otel_tokenwatch.state.carry import Replan
from otel_tokenwatch.state.trip import Steps, batch_steps, run

CALL_KINDS = ("inference", "embeddings")
NS_BASELINE = "score.baseline_log"  # a log of samples: "score.baseline" held whole sketches
NS_CONV = "score.conv"
NS_INFLATION = "score.inflation"
CONV_WINDOW_LEN = 200  # the newest calls a conversation's window holds
#: numbers in a question (order ids, dates, amounts): a rephrased re-ask keeps them, another question changes them
_NUMBERS = re.compile(r"\d+")


@dataclass
class Waste:
    reason: str
    units: float
    tokens: dict[str, int]
    attrs: dict[str, Any] = field(default_factory=dict)


class TreeScore:
    """Working state while one tree is scored."""

    def __init__(self, tree: Tree, cfg: ScoreConfig, key: bytes = _KEY) -> None:
        self.tree = tree
        self.cfg = cfg
        self.key = key
        # a span that reports a call another span reports too (normalize's Call.report_of) is not a call
        spans = [e for e in tree.spans if e.call is not None and e.call.kind in CALL_KINDS and e.call.report_of is None]
        spans.sort(key=lambda e: (e.view.start_time_unix_nano, e.view.end_time_unix_nano))
        self.calls = spans
        self.counted = [e for e in spans if e.call.counted]  # type: ignore[union-attr]
        self.usd = bool(self.counted) and all(e.call.cost_usd is not None for e in self.counted)  # type: ignore[union-attr]
        self.units = {e.span_id: CallUnits(e.call, self.usd) for e in self.counted}  # type: ignore[arg-type]
        self._by_id: dict[bytes, SpanEntry] | None = None
        self.fps = {e.span_id: fingerprint(e, e.call, key, self._shape_parent(e))  # type: ignore[arg-type]
                    for e in spans}
        self._xfps: dict[bytes, str] = {}
        self.wastes: dict[bytes, list[Waste]] = {}
        #: the conversations the tree's calls belong to (their windows are read for the slice, then matched)
        self.conversations = sorted({str(c.conversation_id) for e in spans
                                     if (c := e.call) is not None and c.conversation_id})

    def xfp(self, e: SpanEntry) -> str:
        """The call's fingerprint as compared with other trees (see ``cross_tree_fingerprint``)."""
        got = self._xfps.get(e.span_id)
        if got is None:
            if self._by_id is None:
                self._by_id = {x.span_id: x for x in self.tree.spans}
            parent = self._by_id.get(e.parent_id)
            got = self._xfps[e.span_id] = cross_tree_fingerprint(
                e, self.call(e), parent.view.name if parent is not None else "", self.key)
        return got

    def call(self, e: SpanEntry) -> Call:
        assert e.call is not None
        return e.call

    def _shape_parent(self, e: SpanEntry) -> bytes | None:
        """The parent a shape fingerprint names, past a wrapper that reports this very call (normalize's
        ``report_of``), which is new for every call: OpenLIT's Mistral ``chat`` span (openlit 1.45.0
        instrumentation/mistral/mistral.py, made current) over the mistralai SDK's own span (mistralai 1.12.4
        extra/observability/otel.py), with no prompt on either when the app sends the SDK's message models
        (openlit's build_input_messages reads dicts only). None: the span's own parent."""
        if e.call is None or e.call.input_content is not None or not e.parent_id:
            return None
        if self._by_id is None:
            self._by_id = {x.span_id: x for x in self.tree.spans}
        p = self._by_id.get(e.parent_id)
        if p is not None and p.call is not None and p.call.report_of == e.span_id:
            return p.parent_id
        return None

    def waste(self, e: SpanEntry, reason: str, types: tuple[str, ...] = TYPES, share: float = 1.0,
              **attrs: Any) -> float:
        u = self.units.get(e.span_id)
        units, toks = u.take(types, share) if u is not None else (0.0, {})
        if units > 0 or u is None or not self.wastes.get(e.span_id):
            self.wastes.setdefault(e.span_id, []).append(Waste(reason, units, toks, attrs))
        return units

    def remaining(self, e: SpanEntry, types: tuple[str, ...] = TYPES) -> float:
        u = self.units.get(e.span_id)
        return u.remaining(types) if u is not None else 0.0

    @property
    def total(self) -> float:
        return sum(u.total for u in self.units.values())

    @property
    def wasted(self) -> float:
        return sum(w.units for ws in self.wastes.values() for w in ws)


def _tool_order(t: tuple[str, str | None]) -> tuple[str, str]:
    """A requested tool's place in its call's set: the same tool asked for once with readable arguments and once
    without has a hash and None, which do not compare."""
    return str(t[0]), t[1] or ""


def is_truncated(c: Call) -> bool:
    return cut_by_finish_reason(c.finish_reasons) or cut_at_max_tokens(c)


class _Cut(TypedDict, total=False):
    truncation: str


def _inferred_cut(c: Call) -> _Cut:
    """The waste attributes that say a cut was inferred from max_tokens (tokenwatch.waste.truncation)."""
    return {"truncation": "max_tokens"} if cut_at_max_tokens(c) else {}


def cut_at_max_tokens(c: Call) -> bool:
    """No finish reason reported by a call known not to be streamed, and the visible output is exactly
    the request's max_tokens: the answer was cut (Langfuse's OpenAI generations record no finish reason
    unless streamed; the fixtures' truncated calls answer exactly 64 and 256 tokens for max_tokens 64
    and 256). Known not streamed: a stream cut at max_tokens is the caller's choice, not waste, and
    openai-v2 records no finish reason on exactly its streamed calls. Exactly: an output above the
    limit says the limit counted something else (a healthy fixture call answers 12 tokens for
    max_tokens 8 and stops). Reasoning is left out of the comparison: a limit that includes it cannot
    be told reached from the visible part; a miss is safer than a false cut."""
    if c.finish_reasons or c.streaming is not False or not c.max_tokens or c.output_tokens is None:
        return False
    return c.output_tokens - (c.reasoning_tokens or 0) == c.max_tokens


def group_of(e: SpanEntry, by_id: dict[bytes, SpanEntry], memo: dict[bytes, bytes] | None = None) -> bytes:
    """The nearest enclosing agent invocation (or b'' for the tree). ``memo`` (by parent span id)
    lets the spans of one tree share the walk up their common ancestors."""
    pid = e.parent_id
    if memo is not None:
        got = memo.get(pid)
        if got is not None:
            return got
    path: list[bytes] = []
    cur = by_id.get(pid)
    got = b""
    while cur is not None and len(path) < 1000:
        if memo is not None and pid in memo:
            got = memo[pid]
            break
        path.append(pid)
        c = cur.call
        if c is not None and c.kind == "agent":
            got = cur.span_id
            break
        pid = cur.parent_id
        cur = by_id.get(pid)
    if memo is not None:
        for p in path:
            memo[p] = got
        memo[e.parent_id] = got
    return got


def _start(e: SpanEntry) -> int:
    return e.view.start_time_unix_nano  # type: ignore[no-any-return]


class _Planned(NamedTuple):
    """What a tree reads from and adds to the shared state, known before any of its reasons."""

    outcome: str
    key: str | None  # the workflow baseline it is judged against and adds its sample to
    now: float
    ask: tuple[str, str, float] | None  # its inflation window entry
    items: list[tuple[str, bytes]]  # (conversation, window item) per call


class Scorer:
    def __init__(self, cfg: ScoreConfig, state: Any, clock: Any = time.time) -> None:
        self.cfg = cfg
        self.state = state
        self.clock = clock
        self.key = key_from_env(cfg.fingerprint_key_env)
        #: baseline key -> (the last sequence number of its log this scorer has counted, the sketch of
        #: the log up to it). Each tree appends its sample and gets back what other replicas appended
        #: since, so the sketch is never decoded again while this scorer keeps up.
        self._sketches: dict[str, tuple[int, WindowSketch]] = {}

    # --- the reasons, in order -------------------------------------------------------
    def score_many(self, trees: list[Tree]) -> list[TreeScore | Exception]:
        """``_score_many``, planned again when the round trip that carried enrich's calls found an
        outcome held for one of the trees (state/carry.py): nothing of the first plan was sent, and the
        trees now say the outcome they took."""
        return run(self.score_many_steps(trees))

    def score_many_steps(self, trees: list[Tree]) -> Steps[list[TreeScore | Exception]]:
        """``score_many`` with its round trips left to the driver (state/trip.py)."""
        try:
            return (yield from self._score_many(trees))
        except Replan:
            return (yield from self._score_many(trees))

    def _score_many(self, trees: list[Tree]) -> Steps[list[TreeScore | Exception]]:
        """Score the trees released together, each as if alone and in order, on one round trip to the
        shared state for all of them: what a tree adds to it (its baseline sample, its calls in their
        conversations' windows, its inflation window entry) depends on its spans and outcome only,
        not on its reasons, so it goes out with the reads the reasons need (the conversations'
        windows) before any reason is found. Then per tree the reasons, the baseline judged against
        the samples logged before its own and the inflation window as read after its own append; a
        later tree of a conversation sees an earlier one through ``held``. Per tree its score, or the
        exception it raised (a tree whose reasons fail has still added its sample: its total is a fact
        of its spans, and every replica's log must hold what its sketch counts)."""
        out: list[TreeScore | Exception] = []
        for tree in trees:
            try:
                out.append(TreeScore(tree, self.cfg, self.key))
            except Exception as exc:  # noqa: BLE001 - contained to this tree (the chain counts it)
                out.append(exc)
        plans: list[_Planned | None] = []  # per tree, before any reason; None: the tree failed
        for i, tree in enumerate(trees):
            ts = out[i]
            plan = None
            if isinstance(ts, TreeScore):
                try:
                    items = self._conversation_items(ts)
                    # the assembler's memory of the released trace (its late cache): the outcome the tree was
                    # scored with, so that a late call of a failed or abandoned run is wasted as its tree's were
                    summary = tree.facts.get("summary")
                    if tree.late:
                        plan = _Planned(str(summary.get("outcome") or "") if summary is not None else "", None,
                                        0.0, None, items)
                    else:
                        outcome = self.outcome_of(tree)
                        if summary is not None and ts.counted:
                            summary["outcome"] = outcome
                        now = self.clock()
                        plan = _Planned(outcome, self._baseline_key(ts, tree, outcome), now,
                                        self._inflation_ask(ts, tree, outcome, now), items)
                except Exception as exc:  # noqa: BLE001
                    out[i] = exc
            plans.append(plan)
        convs = sorted({c for ts, plan in zip(out, plans) if plan is not None
                        for c in ts.conversations})  # type: ignore[union-attr]
        appends = [("append", NS_CONV, conv, item, CONV_WINDOW_LEN, self.cfg.conversation_window)
                   for plan in plans if plan is not None for conv, item in plan.items]
        wanted = [(plan.key, ts.total, plan.now) for ts, plan in zip(out, plans)  # type: ignore[union-attr]
                  if plan is not None and plan.key is not None]
        asks = [plan.ask for plan in plans if plan is not None and plan.ask is not None]
        extra = [("items", NS_CONV, c) for c in convs] + appends + \
            [op for ask in asks for op in self._inflation_ops(ask)]
        try:  # every read and write of these trees: one round trip
            found, rest = yield from self._baselines_before_steps(wanted, extra)
        except Replan:
            raise
        except Exception as exc:  # noqa: BLE001 - the shared state out: no tree is judged on it
            for i, plan in enumerate(plans):
                # its conversation items are a subset of its conversations
                if plan is not None and (plan.key is not None or plan.ask is not None
                                         or out[i].conversations):  # type: ignore[union-attr]
                    out[i] = exc
                elif plan is not None:  # nothing of the shared state to judge it on
                    try:
                        self._reasons(out[i], trees[i], plan.outcome, {})  # type: ignore[arg-type]
                        if trees[i].late:
                            self._late_judge(out[i], trees[i].facts.get("summary"))  # type: ignore[arg-type]
                    except Exception as exc2:  # noqa: BLE001
                        out[i] = exc2
            return out
        held: dict[str, list[bytes]] = dict(zip(convs, rest))
        baselines = iter(found)
        windows = iter(rest[len(convs) + len(appends) + 1::2])  # each ask's window as read after its append
        for i, plan in enumerate(plans):
            if plan is None:
                continue
            ts = out[i]
            assert isinstance(ts, TreeScore)
            baseline = next(baselines) if plan.key is not None else None
            window = next(windows) if plan.ask is not None else None
            try:
                self._reasons(ts, trees[i], plan.outcome, held)
                summary = trees[i].facts.get("summary")
                if trees[i].late:
                    self._late_judge(ts, summary)
                if baseline is not None:
                    p = self._judge(ts, baseline[0], plan.now)
                    if p is not None and summary is not None:
                        # what the tree's late calls are judged against (``_late_judge``)
                        summary["baseline"] = (p, ts.total, ts.usd)
                if window is not None:
                    same = self._inflation_judge(ts, plan.ask, window)  # type: ignore[arg-type]
                    if same and summary is not None:
                        summary["inflation"] = same
            except Exception as exc:  # noqa: BLE001 - contained to this tree (the chain counts it)
                out[i] = exc
            finally:
                if baseline is not None:  # the tree's own waste never moves the baseline it was judged against
                    baseline[0].apply([baseline[1]], plan.now)
                for conv, item in plan.items:
                    held[conv] = [*held.get(conv, ()), item][-CONV_WINDOW_LEN:]
        return out

    def _reasons(self, ts: TreeScore, tree: Tree, outcome: str, held: dict[str, list[bytes]]) -> None:
        """The reasons found on the tree alone and on its conversations' windows (``held``), in order:
        each takes what the earlier ones left."""
        by_id = {e.span_id: e for e in tree.spans}
        self.failed_calls(ts)
        self.retries(ts)
        self.duplicates(ts, held)
        self.truncated(ts)
        self.loops(ts, by_id)
        self.uncached_prefix(ts)
        if not tree.late or outcome:  # a late tree: its released tree's outcome, where remembered
            self.failed_outcome(ts, outcome)

    def failed_calls(self, ts: TreeScore) -> None:
        for e in ts.calls:
            if ts.call(e).error:
                ts.waste(e, "failed_call")

    def retries(self, ts: TreeScore) -> None:
        for j, e in enumerate(ts.calls):
            fp = ts.fps[e.span_id][0]
            for i in range(j - 1, -1, -1):
                prev = ts.calls[i]
                if ts.fps[prev.span_id][0] != fp:
                    continue
                pc = ts.call(prev)
                if not pc.error and is_truncated(pc) and ts.remaining(prev) > 0:
                    ts.waste(prev, "retry", match="exact", basis=ts.fps[prev.span_id][1],
                             matched=e.span_id.hex(), **_inferred_cut(pc))
                break

    def duplicates(self, ts: TreeScore, held: dict[str, list[bytes]]) -> None:
        ok = [e for e in ts.calls if not ts.call(e).error and not is_truncated(ts.call(e))]
        conv_seen = self._conversation_fps(ts, held)
        for j, e in enumerate(ok):
            c = ts.call(e)
            fp, basis = ts.fps[e.span_id]
            for prev in reversed(ok[:j]):
                if ts.fps[prev.span_id][0] == fp and (basis == "content" or c.input_tokens is not None):
                    # a shape without its size is the model and the parent only: two calls a library leaves bare
                    # (@traceloop/instrumentation-bedrock 0.27.0 dist/index.js _startSpan: a Converse call's span
                    # has provider and model only) are two calls, not one request made twice
                    pi = ts.call(prev).input_tokens
                    if basis == "content" and c.input_tokens and pi and c.input_tokens != pi:
                        # the same recorded content, a different request: an identical request has the same
                        # input tokens. Instrumentations that record part of the input drop what differs
                        # (opentelemetry-instrumentation-openai-agents-v2 0.1.0 span_processor.py
                        # _normalize_messages_to_role_parts keeps no part of a Responses API function_call /
                        # function_call_output item: an agent's step after a tool call reads as its first)
                        continue
                    ts.waste(e, "duplicate", match="exact", basis=basis, matched=prev.span_id.hex())
                    break
                if self._near(c, ts.call(prev)) and not self._continues(ts, prev, e):
                    ts.waste(e, "duplicate", match="near", basis="content" if c.input_content is not None else "shape",
                             matched=prev.span_id.hex())
                    break
            else:
                other = conv_seen.get(ts.xfp(e)) if conv_seen else None
                if other is not None:  # never this tree: _conversation_fps skips its own trace
                    ts.waste(e, "duplicate", match="exact", basis=basis, matched=other)

    @staticmethod
    def _continues(ts: TreeScore, prev: SpanEntry, cur: SpanEntry) -> bool:
        """The later call follows a tool call of the earlier one (an agent step), so it is not a re-ask."""
        p = ts.call(prev)
        if p.requested_tools or any(r.lower() in ("tool_calls", "tool_call", "tool_use", "function_call")
                                    for r in p.finish_reasons):
            return True
        lo, hi = prev.view.start_time_unix_nano, cur.view.start_time_unix_nano
        return any(e.call is not None and e.call.kind == "tool" and lo <= e.view.start_time_unix_nano <= hi
                   for e in ts.tree.spans)

    def _near(self, c: Call, p: Call) -> bool:
        cfg = self.cfg
        if c.model != p.model or c.agent_name != p.agent_name:
            return False
        a, b = c.input_tokens or 0, p.input_tokens or 0
        if min(a, b) < cfg.near_duplicate_min_input or abs(a - b) > cfg.near_duplicate_tolerance * b:
            return False
        if c.input_content is not None and p.input_content is not None:
            # the same context with the question rephrased; a shared system block with different
            # questions is a cacheable prefix (uncached_prefix), not a duplicate
            # the numbers it names must be the same too: "Where is order A-1003?" after "... A-1004?" is one
            # character apart and another question (a Vercel AI SDK capture: two orders behind one system prompt)
            return c.system_content == p.system_content and \
                similarity(c.input_content, p.input_content) >= cfg.near_duplicate_similarity and \
                _NUMBERS.findall(c.input_content) == _NUMBERS.findall(p.input_content)
        # without captured content, similar sizes alone are no evidence of a re-ask (a shared system
        # prompt with different questions looks the same): only exact shape matches count
        return False

    def _conversation_fps(self, ts: TreeScore, held: dict[str, list[bytes]]) -> dict[str, str]:
        """The fingerprints other trees of the tree's conversations left, from ``held`` (the windows
        read for the trees scored together, with what earlier ones of them added)."""
        seen: dict[str, str] = {}
        for conv in ts.conversations:
            for raw in held[conv]:
                d = orjson.loads(raw)
                if d["trace"] != ts.tree.trace_id_hex:
                    seen.setdefault(d["fp"], d["span"])
        return seen

    @staticmethod
    def _conversation_items(ts: TreeScore) -> list[tuple[str, bytes]]:
        """(conversation, window item) per call of the tree that its conversation's window gets."""
        items: list[tuple[str, bytes]] = []
        for e in ts.calls:
            c = ts.call(e)
            if not c.conversation_id or c.error:
                continue
            items.append((str(c.conversation_id), orjson.dumps(
                {"fp": ts.xfp(e), "span": e.span_id.hex(), "trace": ts.tree.trace_id_hex})))
        return items

    def truncated(self, ts: TreeScore) -> None:
        for e in ts.calls:
            c = ts.call(e)
            # a streamed answer cut at max_tokens was read as it arrived: the caller chose the cut
            if not c.error and is_truncated(c) and c.streaming is not True:
                ts.waste(e, "truncated", types=("output",),
                         **_inferred_cut(c))

    def loops(self, ts: TreeScore, by_id: dict[bytes, SpanEntry]) -> None:
        k = self.cfg.loop_threshold
        groups: dict[bytes, list[SpanEntry]] = {}
        memo: dict[bytes, bytes] = {}
        for e in ts.calls:
            groups.setdefault(group_of(e, by_id, memo), []).append(e)
        # a run of repeats is never longer than its tool's count in the tree: where no (tool, arguments)
        # is seen often enough to pass the thresholds below, no tool span needs grouping or sorting
        tool_spans: list[SpanEntry] = []
        seen: dict[tuple[str, str | None], int] = {}
        # a (tool, args hash) first, then below a call's requested tools
        key: tuple[str, str | None] | tuple[tuple[str, str | None], ...] | None
        for e in ts.tree.spans:
            c = e.call
            if c is not None and c.kind == "tool" and c.tool_name:
                tool_spans.append(e)
                key = (c.tool_name, c.tool_args_hash)
                seen[key] = seen.get(key, 0) + 1
        tools: dict[bytes, list[SpanEntry]] = {}
        if any(n > (k if h is not None else 3 * k) for (_, h), n in seen.items()):
            for e in tool_spans:
                tools.setdefault(group_of(e, by_id, memo), []).append(e)
        for g, calls in groups.items():
            run_key: object = None
            run = 0
            for e in calls:
                req = ts.call(e).requested_tools
                key = tuple(sorted(req, key=_tool_order)) if req else None
                run = run + 1 if key is not None and key == run_key else (1 if key is not None else 0)
                run_key = key
                if key is None:
                    continue
                args_known = all(h is not None for _, h in key)
                if run > k and (args_known or run > 3 * k):
                    ts.waste(e, "loop", tool=",".join(n for n, _ in key), repeats=run)
            # tool spans: each repeat past the threshold wastes the LLM call that asked for it (the last
            # call that started before the tool ran)
            seq = sorted(tools.get(g, ()), key=_start)
            run, prev_key = 0, None
            for t in seq:
                tc = t.call
                assert tc is not None
                key2 = (tc.tool_name, tc.tool_args_hash)
                run = run + 1 if key2 == prev_key else 1
                prev_key = key2
                if run > k and (tc.tool_args_hash is not None or run > 3 * k):
                    asked = [e for e in calls if e.view.start_time_unix_nano <= t.view.start_time_unix_nano
                             and not (e.call is not None and e.call.auxiliary)]
                    if asked and ts.remaining(asked[-1]) > 0:
                        ts.waste(asked[-1], "loop", tool=tc.tool_name, repeats=run)

    def uncached_prefix(self, ts: TreeScore) -> None:
        cfg = self.cfg
        prev: SpanEntry | None = None
        for e in ts.counted:
            c = ts.call(e)
            p, prev = prev, e
            if p is None or c.error:
                continue
            pc = ts.call(p)
            if pc.model != c.model or not c.input_tokens:
                continue
            if c.cache_read_tokens is None:
                continue  # the instrumentation does not report cache reads: a cache hit cannot be ruled out
            weights, known = price_weights(c.model, c.provider)
            ratio = weights["cache_read"] if known else 1 - cfg.default_cache_discount
            if ratio >= 1:
                continue  # no prompt caching offered for this model
            full_c = (c.system_content or "") + (c.input_content or "")
            full_p = (pc.system_content or "") + (pc.input_content or "")
            if c.input_content is not None and pc.input_content is not None:
                prefix = int(common_prefix_share(full_p, full_c) * c.input_tokens)
                basis = "content"
            elif (pc.input_tokens or 0) >= cfg.uncached_prefix_min_tokens and \
                    c.input_tokens >= (pc.input_tokens or 0) + 0.9 * (pc.output_tokens or 0):
                prefix = (pc.input_tokens or 0) + (pc.output_tokens or 0)
                basis = "shape"
            else:
                continue
            prefix = min(prefix, c.input_tokens)
            if prefix < cfg.uncached_prefix_min_tokens:
                continue
            avoidable = prefix - (c.cache_read_tokens or 0)
            if avoidable < cfg.uncached_prefix_min_tokens:
                continue
            uncached = c.uncached_input_tokens
            if uncached <= 0:
                continue
            share = min(1.0, avoidable * (1 - ratio) / uncached)
            ts.waste(e, "uncached_prefix", types=("input",), share=share, basis=basis,
                     matched=p.span_id.hex(), prefix_tokens=prefix)

    @staticmethod
    def outcome_of(tree: Tree) -> str:
        o = tree.facts.get("outcome")
        if o is None:
            root = tree.root()
            o = root.get(semconv.OUTCOME) if root is not None else None
        return str(o) if o else "unknown"

    def failed_outcome(self, ts: TreeScore, outcome: str) -> None:
        share = 1.0 if outcome in ("failure", "abandoned") else (
            self.cfg.unknown_outcome_weight if outcome == "unknown" else 0.0)
        if share <= 0:
            return
        for e in ts.counted:
            if ts.remaining(e) > 0:
                ts.waste(e, "failed_outcome", share=share, outcome=outcome)

    def _successful(self, ts: TreeScore, tree: Tree, outcome: str) -> bool:
        if outcome == "success":
            return True
        if outcome != "unknown" or not self.cfg.unknown_outcome_is_success:
            return False
        root = tree.root()
        return not any(ts.call(e).error for e in ts.calls) and (root is None or root.view.status_code != 2)

    def _workflow(self, tree: Tree) -> str:
        wf = tree.facts.get("workflow")
        if wf is None:
            root = tree.root()
            wf = root.get(semconv.WORKFLOW) if root is not None else None
            if wf is None and root is not None:
                wf = root.view.name
        return str(wf or "unknown")

    def _baseline_key(self, ts: TreeScore, tree: Tree, outcome: str) -> str | None:
        """The workflow baseline a successful tree is judged against (and adds its sample to)."""
        if not ts.counted or not self._successful(ts, tree, outcome):
            return None
        return f"{self._workflow(tree)}|{'usd' if ts.usd else 'tokens'}"

    def _judge(self, ts: TreeScore, sketch: WindowSketch, now: float) -> float | None:
        """Waste the tree's spend above its workflow's baseline; the baseline it was judged against, if any."""
        cfg = self.cfg
        total = ts.total
        p = None
        if sketch.count >= cfg.baseline_min_samples:
            p = sketch.quantile(cfg.baseline_quantile, now)
            # the sketch is accurate to about 2%: equal trees never exceed their own baseline
            if p is not None and total > p * 1.02:
                left = sum(ts.remaining(e) for e in ts.counted)
                excess = min(total - p, left)
                if excess > 0 and left > 0:
                    ts.tree.facts["baseline_p90"] = p
                    for e in ts.counted:
                        if ts.remaining(e) > 0:
                            ts.waste(e, "over_baseline", share=excess / left, baseline=p)
        return p

    def _late_judge(self, ts: TreeScore, summary: dict[str, Any] | None) -> None:
        """A late tree's new calls judged as part of the tree they belong to, by what its scoring left in the
        assembler's memory of the released trace: under suspected inflation if the tree was, and over
        baseline by what they take the tree's spend above the baseline it was judged against (the tree's
        calls keep what they were given; its baseline sample stays the spend it was released with). A call
        received again (its id among those the trace counted) was judged with its first copy."""
        if summary is None:
            return
        seen = summary.get("counted", b"")
        new = [e for e in ts.counted if not (seen and holds_id(seen, e.span_id))]
        if not new:
            return
        judged = summary.get("baseline")
        if judged is not None and judged[2] == ts.usd:  # else its calls are counted in other units (unpriced)
            p, before, usd = judged
            after = before + sum(ts.units[e.span_id].total for e in new)
            summary["baseline"] = (p, after, usd)
            left = sum(ts.remaining(e) for e in new)
            excess = min(after - max(p, before), left)
            if after > p * 1.02 and excess > 0 and left > 0:
                for e in new:
                    if ts.remaining(e) > 0:
                        ts.waste(e, "over_baseline", share=excess / left, baseline=p)
        trees = summary.get("inflation")
        if trees:
            for e in new:
                if ts.remaining(e) > 0:
                    ts.waste(e, "suspected_inflation", trees=trees)

    def _baseline_before(self, key: str, total: float, now: float) -> tuple[WindowSketch, bytes]:
        """One tree's ``_baselines_before``: the caller applies the item once the tree is judged."""
        return self._baselines_before([(key, total, now)])[0][0]

    def _baselines_before(self, wanted: list[tuple[str, float, float]], extra: list[tuple[Any, ...]] | None = None
                          ) -> tuple[list[tuple[WindowSketch, bytes]], list[Any]]:
        return run(self._baselines_before_steps(wanted, extra))

    def _baselines_before_steps(self, wanted: list[tuple[str, float, float]],
                                extra: list[tuple[Any, ...]] | None = None
                                ) -> Steps[tuple[list[tuple[WindowSketch, bytes]], list[Any]]]:
        """Append each (baseline key, sample, time) to its workflow's shared log, all in one round
        trip with the ``extra`` batch calls, and return per sample the sketch it is judged against and
        its item, and the extra calls' results. The sketch is this
        scorer's copy plus what others appended since it last looked (or the whole log read again when
        it is new or too far behind); the caller judges the samples in order and applies each item
        before the next, so every sample is judged against all samples logged before it."""
        if not wanted and not extra:
            # still one batch when a carried call is waiting (state/carry.py): these trees' reasons were
            # found on the outcomes their spans name, and hold only if no outcome was held for them
            yield from batch_steps(self.state, [])
            return [], []
        cfg = self.cfg
        by_key: dict[str, list[bytes]] = {}
        since: dict[str, tuple[int, WindowSketch]] = {}
        out: list[tuple[WindowSketch, bytes]] = []
        for key, total, now in wanted:
            mine = since.get(key) or self._sketches.get(key)
            if mine is None:
                mine = (0, WindowSketch(cfg.baseline_window, cfg.baseline_max_samples))
            since[key] = mine
            item = mine[1].sample(total, now)
            by_key.setdefault(key, []).append(item)
            out.append((mine[1], item))
        # the log holds a little more than the sketch's bound, so a replica reading it whole sees
        # what the others' sketches hold before the bound drops their oldest slots
        keys = list(by_key)
        got = yield from batch_steps(self.state, [("log_extend", NS_BASELINE, k, by_key[k], cfg.baseline_max_samples * 2,
                                 cfg.baseline_window, since[k][0]) for k in keys] + (extra or []))
        got, rest = got[:len(keys)], got[len(keys):]
        now = wanted[0][2] if wanted else 0.0
        fresh: dict[str, WindowSketch] = {}
        cold = [k for k, (_, between) in zip(keys, got) if between is None]
        # a log this scorer is new to, or fell too far behind on, is read whole: one more trip for all of them
        # (a replica starting, a workflow first seen), awaited like the first
        logs = dict(zip(cold, (yield from batch_steps(self.state, [("log_read", NS_BASELINE, k) for k in cold])))) \
            if cold else {}
        for k, (seq, between) in zip(keys, got):
            sketch = since[k][1]
            if between is None:
                last, items = logs[k]
                # the log may have moved on since these appends: keep the items logged before them
                keep = max(0, min(len(items), len(items) - (last - seq) - len(by_key[k])))
                sketch = fresh[k] = WindowSketch(cfg.baseline_window, cfg.baseline_max_samples)
                sketch.apply(items[:keep], now)
            else:
                sketch.apply(between, now)
            if k not in self._sketches and len(self._sketches) >= 1024:
                self._sketches.clear()
            self._sketches[k] = (seq, sketch)
        return [(fresh.get(key, sketch), item) for (key, _, _), (sketch, item) in zip(wanted, out)], rest

    def _inflation_ask(self, ts: TreeScore, tree: Tree, outcome: str, now: float) -> tuple[str, str, float] | None:
        """(principal digest, fingerprint, time) of a tree the inflation reason looks at, else None."""
        if not ts.counted or outcome != "unknown":
            return None
        if any(ts.call(e).requested_tools for e in ts.calls) or any(
                e.call is not None and e.call.kind == "tool" for e in tree.spans):
            return None  # tool calls may have side effects: not the pattern
        principal = next((ts.call(e).principal for e in ts.calls if ts.call(e).principal), None)
        if principal is None:
            root = tree.root() or tree.spans[0]
            principal = "service:" + root.resource.service_name
        pkey = hashlib.sha256(principal.encode()).hexdigest()[:32]  # never the identifier itself
        return pkey, ts.xfp(ts.counted[0]), now

    def _inflation_ops(self, ask: tuple[str, str, float]) -> list[tuple[Any, ...]]:
        """Add the tree to its principal's window and read the window back (in order: a later tree of
        the same batch sees an earlier one)."""
        pkey, fp, now = ask
        return [("append", NS_INFLATION, pkey, orjson.dumps([fp, now]), 500, self.cfg.inflation_window),
                ("items", NS_INFLATION, pkey)]

    def _inflation_judge(self, ts: TreeScore, ask: tuple[str, str, float], held: list[bytes]) -> int:
        """Waste a tree the principal sent again and again unchanged; how many such trees, if judged so."""
        _, fp, now = ask
        window = self.cfg.inflation_window
        same = sum(1 for raw in held if (d := orjson.loads(raw))[0] == fp and now - d[1] <= window)
        if same < self.cfg.inflation_min_trees:
            return 0
        for e in ts.counted:
            if ts.remaining(e) > 0:
                ts.waste(e, "suspected_inflation", trees=same)
        return same
