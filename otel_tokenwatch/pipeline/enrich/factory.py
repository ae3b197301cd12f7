"""The ``enrich`` processor: workflow, team and outcome on every tree, and the privacy rules.

Runs after normalize (it reads ``entry.call``) and before score (which reads
the outcome from ``tree.facts``). It also owns the late-outcome API, because
the outcomes it holds are the ones it applies.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from typing import Any

from otel_tokenwatch import semconv
from otel_tokenwatch.config.build import ConfigError
from otel_tokenwatch.outcome.api import OutcomeAPI
from otel_tokenwatch.outcome.book import OutcomeBook, TreeSummary
from otel_tokenwatch.outcome.intake import OutcomeIntake
from otel_tokenwatch.outcome.model import Outcome
from otel_tokenwatch.pipeline.enrich import resolve
from otel_tokenwatch.pipeline.enrich.config import EnrichConfig
from otel_tokenwatch.pipeline.enrich.privacy import GroupSizes, Pseudonymizer, drop_content, without_command_line
from otel_tokenwatch.pipeline.processor import BaseProcessor, ProcessorContext, ProcessorFactory
from otel_tokenwatch.pipeline.tree import ResourceInfo, SpanEntry, Tree
from otel_tokenwatch.state.carry import Carry
from otel_tokenwatch.state.trip import Steps, run

CONVERSATION_KEYS = ("gen_ai.conversation.id", "session.id", "langfuse.session.id")
_CONVERSATION_KEYS = frozenset(CONVERSATION_KEYS)


@dataclass
class _Found:
    """What a tree says of itself, before the shared state is asked about its outcome."""

    keyed: list[SpanEntry]
    workflow: str
    workflow_source: str
    team: str
    team_source: str
    conversations: list[str]
    outcome: str
    outcome_source: str
    summary: TreeSummary | None


class EnrichProcessor(BaseProcessor):
    name = "enrich"

    def __init__(self, cfg: EnrichConfig, book: OutcomeBook, groups: GroupSizes,
                 pseudonymizer: Pseudonymizer | None, carry: Carry | None = None) -> None:
        self.cfg = cfg
        self.book = book
        #: the round trip a later stage makes, which takes this stage's calls along (see carry.py)
        self.carry = carry
        #: id(tree) -> why its deferred calls failed, said by ``finish_many``
        self._late_errors: dict[int, Exception] = {}
        self.groups = groups
        self.pseudonymizer = pseudonymizer
        self.content_keys = frozenset(cfg.privacy.content_attributes)
        self.user_keys = frozenset(cfg.privacy.user_attributes)
        #: every attribute workflow and outcome may be named by, looked up in one pass per tree
        self.first_keys = frozenset((*resolve.WELL_KNOWN_WORKFLOW_KEYS, *cfg.workflow.attributes,
                                     *cfg.outcome.attributes))
        #: every key any of this stage's lookups reads: most spans carry none and are passed over once
        self.read_keys = self.first_keys | _CONVERSATION_KEYS | self.user_keys

    def process(self, tree: Tree) -> None:
        errors = self.process_many([tree])
        err = errors[0] or self.finish_many([tree])[0]
        if err is not None:
            raise err

    def process_many(self, trees: list[Tree]) -> list[Exception | None]:
        """The trees released together take their outcomes and store their summaries in one round
        trip (``OutcomeBook.settle_many``), carried by score's when it follows (``carry``: then the
        trees are written as if no outcome were held, and rewritten in the rare case one was; the chain
        calls ``finish_many`` after the last stage); the rest is per tree. The privacy rules apply to
        every tree whatever else fails (the shared state out, a tree that cannot be read)."""
        errors: list[Exception | None] = [None] * len(trees)
        found: list[tuple[int, Tree, _Found]] = []
        for i, tree in enumerate(trees):
            try:
                if not tree.late:
                    found.append((i, tree, self._find(tree)))
                    continue
            except Exception as exc:  # noqa: BLE001 - contained to this tree (the chain counts it)
                errors[i] = exc
            self._privacy(tree)
        if not found:
            return errors
        if self.carry is not None:
            self._defer(found, errors)
            return errors
        try:
            reported = self.book.settle_many([(t.trace_id_hex, f.conversations, f.summary) for _, t, f in found])
        except Exception as exc:  # noqa: BLE001 - the shared state out: every tree lacks this stage
            for i, tree, _ in found:
                errors[i] = exc
                self._privacy(tree)
            return errors
        taken: dict[int, TreeSummary] = {}  # tree index -> its summary, now with the outcome it took
        for (i, tree, f), got in zip(found, reported):
            try:
                self._write(tree, f, got)
                if got is not None and f.summary is not None:
                    taken[i] = f.summary
            except Exception as exc:  # noqa: BLE001
                errors[i] = exc
                self._privacy(tree)
        try:
            self.book.update_many(list(taken.values()))  # stored again, with the outcomes: one round trip
        except Exception as exc:  # noqa: BLE001 - their trees are written; the stored summaries lack it
            for i in taken:
                errors[i] = exc
        return errors

    def _defer(self, found: list[tuple[int, Tree, _Found]], errors: list[Exception | None]) -> None:
        """``process_many`` with the settle deferred to the next round trip (see carry.py)."""
        assert self.carry is not None
        written: set[int] = set()  # id(tree)
        for i, tree, f in found:
            try:
                self._write(tree, f, None)
                written.add(id(tree))
            except Exception as exc:  # noqa: BLE001
                errors[i] = exc
                self._privacy(tree)
        ops, finds, taken = self.book.settle_ops([(t.trace_id_hex, f.conversations, f.summary) for _, t, f in found])

        def then(got: list[Any] | None, exc: Exception | None) -> None:
            reported = taken(got, exc)
            if exc is not None:  # the shared state out: every tree lacks this stage's outcome and summary
                for _, tree, _ in found:
                    self._late_errors[id(tree)] = exc
                return
            again: list[tuple[Tree, TreeSummary]] = []
            for (_, tree, f), got_one in zip(found, reported):
                if got_one is None or id(tree) not in written:
                    continue
                try:
                    self._write_outcome(tree, f, got_one)
                    if f.summary is not None:
                        again.append((tree, f.summary))
                except Exception as e:  # noqa: BLE001
                    self._late_errors[id(tree)] = e
            if not again:
                return

            def stored(_: list[Any] | None, e: Exception | None) -> None:
                if e is not None:  # their trees are written; the stored summaries lack the outcome
                    for tree, _s in again:
                        self._late_errors[id(tree)] = e

            # stored again, with the outcomes (rare): on the next round trip, which the chain's end makes at the
            # latest (Carry.flush_steps), so that over Redis this too is awaited, not a blocking call in the loop
            assert self.carry is not None
            self.carry.defer(self.book.update_ops([s for _, s in again]), stored)

        self.carry.defer(ops, then, finds)

    def finish_many(self, trees: list[Tree]) -> list[Exception | None]:
        """After the chain's last stage: what no later stage carried is sent now, and each tree's
        failure of the deferred calls is said (the chain counts it as this stage's)."""
        return run(self.finish_many_steps(trees))

    def finish_many_steps(self, trees: list[Tree]) -> Steps[list[Exception | None]]:
        """``finish_many`` with its round trip left to the driver (state/trip.py)."""
        if self.carry is not None:
            yield from self.carry.flush_steps()
        if not self._late_errors:
            return [None] * len(trees)
        return [self._late_errors.pop(id(t), None) for t in trees]

    def _find(self, tree: Tree) -> _Found:
        root = tree.root()
        read_keys = self.read_keys
        keyed = [e for e in tree.spans if not read_keys.isdisjoint(e.attrs)]  # one look at each span's keys
        firsts = resolve.first_values(keyed, root, self.first_keys)
        wf, wf_src = resolve.workflow(tree, root, self.cfg.workflow, firsts)
        team, team_src = resolve.team(root, tree, self.cfg.team)
        conversations = self._conversations(tree, keyed)
        outcome, out_src = resolve.outcome(tree, root, self.cfg.outcome, firsts)
        summary = None
        if root is not None:
            cost = root.get(semconv.TRACE_COST_USD)
            summary = TreeSummary(
                trace_id=tree.trace_id_hex, root_span_id=root.span_id.hex(), workflow=wf, team=team,
                outcome=outcome, outcome_source=out_src,
                cost_usd=float(cost) if isinstance(cost, (int, float)) else 0.0,
                resource=self.book.resource_key(root.resource.data), end_time_unix_nano=root.view.end_time_unix_nano)
        return _Found(keyed, wf, wf_src, team, team_src, conversations, outcome, out_src, summary)

    def _write(self, tree: Tree, f: _Found, reported: Outcome | None) -> None:
        """Everything but the privacy rules, then those (last: the digests above read user ids)."""
        root = tree.root()
        team = f.team
        self.groups.observe(team, self._principals(tree, f.keyed))
        tree.facts.update(workflow=f.workflow, team=team, team_label=self.groups.label(team))
        if root is not None:
            root.set(semconv.WORKFLOW, f.workflow)
            root.set(semconv.WORKFLOW_SOURCE, f.workflow_source)
            root.set(semconv.TEAM, team)
            root.set(semconv.TEAM_SOURCE, f.team_source)
        self._write_outcome(tree, f, reported)
        self._privacy(tree)

    def _write_outcome(self, tree: Tree, f: _Found, reported: Outcome | None) -> None:
        """The outcome the tree took (``reported``), else the one its spans name. Also on its own: a
        tree written as if no outcome were held (``_defer``) that took one gets it here, over the
        one its spans named (the rest of what ``_write`` wrote stands)."""
        outcome, out_src = f.outcome, f.outcome_source
        kpis: dict[str, float] = {}
        if reported is not None:
            outcome, out_src, kpis = reported.outcome, "reported", dict(reported.kpis)
            if f.summary is not None:  # stored again by the caller
                f.summary.outcome, f.summary.outcome_source = outcome, out_src
        tree.facts.update(outcome=outcome, outcome_source=out_src, kpis=kpis)
        root = tree.root()
        if root is not None:
            root.set(semconv.OUTCOME, outcome)
            root.set(semconv.OUTCOME_SOURCE, out_src)
            for k, v in sorted(kpis.items()):
                root.set(semconv.OUTCOME_KPI_PREFIX + k, v)

    def _conversations(self, tree: Tree, keyed: list[SpanEntry]) -> list[str]:
        """``keyed``: the spans that carry any of ``read_keys``, in tree order."""
        found: dict[str, None] = {}
        carry = set(keyed)
        for e in tree.spans:
            if e.call is not None and e.call.conversation_id:
                found[e.call.conversation_id] = None
                continue
            if e not in carry:
                continue
            a = e.attrs
            for key in CONVERSATION_KEYS:
                v = a.get(key)
                if v:
                    found[str(v)] = None
        return list(found)

    def _principals(self, tree: Tree, keyed: list[SpanEntry]) -> set[str]:
        out: set[str] = set()
        keys = self.cfg.privacy.user_attributes
        resources: dict[int, ResourceInfo] = {}
        for e in tree.spans:
            if e.call is not None and e.call.principal:
                out.add(e.call.principal)
            resources[id(e.resource)] = e.resource
        for e in keyed:
            a = e.attrs
            for key in keys:
                v = a.get(key)
                if v:
                    out.add(str(v))
        for r in resources.values():  # once per resource, not once per span
            for key in keys:
                v = r.attrs.get(key)
                if v:
                    out.add(str(v))
        return out

    def _privacy(self, tree: Tree) -> None:
        p = self.cfg.privacy
        if not p.drop_content and self.pseudonymizer is None:
            return
        if tree.facts.get("privacy_applied"):
            return  # never twice: a pseudonym of a pseudonym would not match the user's digest elsewhere
        tree.facts["privacy_applied"] = True
        cleaned: dict[int, ResourceInfo] = {}
        for e in tree.spans:
            if p.drop_content:
                drop_content(e, self.content_keys)
                if b"process.command_" in e.resource.data:  # a byte test first: most resources have no command line
                    res = cleaned.get(id(e.resource))
                    if res is None:
                        res = cleaned[id(e.resource)] = without_command_line(e.resource)
                    e.resource = res
            if self.pseudonymizer is not None:
                self.pseudonymizer.apply(e)


def _create(cfg: EnrichConfig, ctx: ProcessorContext) -> EnrichProcessor:
    p = cfg.privacy
    pseudonymizer = None
    if p.pseudonymize:
        key = os.environ.get(p.key_env, "")
        if not key:
            raise ConfigError("processors.enrich.privacy.key_env",
                              f"pseudonymize is set but the environment variable {p.key_env} is empty; "
                              f"set it to a secret of at least 16 characters")
        pseudonymizer = Pseudonymizer(list(p.pseudonymize), key.encode())
    # principals are counted as keyed digests with a per-process key: never stored in clear
    groups = GroupSizes(p.min_group_size, secrets.token_bytes(32))
    if p.drop_content or pseudonymizer is not None:
        from otel_tokenwatch.pipeline.enrich.privacy import RecordPrivacy

        ctx.extras["record_privacy"] = RecordPrivacy(pseudonymizer, p.drop_content, frozenset(p.content_attributes))
    ctx.extras["team_label"] = groups.label
    book = OutcomeBook(ctx.state, pending_ttl=cfg.outcome.pending_ttl, tree_ttl=cfg.outcome.tree_ttl)

    def emit(summary: TreeSummary, span: bytes, resource: bytes) -> None:
        sink: Any = ctx.extras.get("emit_span")
        if sink is not None:
            sink(summary, span, resource)

    intake = OutcomeIntake(book, ctx.telemetry, emit=emit, team_label=groups.label)
    ctx.extras["outcome_intake"] = intake
    if cfg.outcome.api:
        api = OutcomeAPI(intake, cfg.outcome.auth_token, cfg.outcome.max_body_size)
        ctx.extras.setdefault("http_routes", []).extend(api.http_routes())
        ctx.extras.setdefault("grpc_handlers", []).append(api.grpc_handler())
    return EnrichProcessor(cfg, book, groups, pseudonymizer, carry=ctx.carry())


FACTORY = ProcessorFactory(type="enrich", config_class=EnrichConfig, create=_create)
