"""The ``normalize`` processor: one ``Call`` per span, priced, counted once, written back.

For every span of a tree it decides the kind and reads the dialect into a
``Call`` (``dialects``), keeps captured content in memory for fingerprints
(``content``), decides which calls count (``counting``), prices counted
calls that report no cost (``pricing``), writes the current semconv names
back where the span lacks them, and puts the tree's totals on the root.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal

from otel_tokenwatch import semconv
from otel_tokenwatch.errors import TokenwatchError
from otel_tokenwatch.pipeline.call import Call
from otel_tokenwatch.pipeline.normalize import content, counting
from otel_tokenwatch.pipeline.normalize.dialects import (
    LI_OTEL_DIALECT,
    haystack_messages,
    llamaindex_otel_messages,
    read_call_and_plan,
)
from otel_tokenwatch.pipeline.normalize.pricing import PriceOverride, Pricer
from otel_tokenwatch.pipeline.processor import BaseProcessor, ProcessorContext, ProcessorFactory
from otel_tokenwatch.pipeline.tree import SpanEntry, Tree

log = logging.getLogger("otel_tokenwatch.normalize")

WRITE_BACK = (("gen_ai.usage.input_tokens", "input_tokens"), ("gen_ai.usage.output_tokens", "output_tokens"),
              ("gen_ai.usage.cache_read.input_tokens", "cache_read_tokens"),
              ("gen_ai.usage.cache_write.input_tokens", "cache_write_tokens"),
              ("gen_ai.usage.reasoning.output_tokens", "reasoning_tokens"))


@dataclass(frozen=True)
class NormalizeConfig:
    #: price calls that report no cost, from genai-prices (and the overrides below)
    pricing: bool = True
    #: your own prices (USD per million tokens), checked before genai-prices
    prices: list[PriceOverride] = field(default_factory=list)
    #: write current gen_ai.* names back onto spans that lack them
    write_back: bool = True
    #: read captured messages (in memory only) so duplicates can be matched on content
    read_content: bool = True
    #: coding agents send the same tokens as events, metrics and spans: count their events (the logs
    #: pipeline's agents stage) and not their spans, or "spans" to count the spans instead
    agent_tokens_from: Literal["events", "spans"] = "events"


class UnreadableSpans(TokenwatchError):
    """Some spans of a tree could not be read at all (an exception in a reader, never in the span)."""


class NormalizeProcessor(BaseProcessor):
    name = "normalize"
    shared_state = False  # a tree's spans alone: may run ahead, while a release waits on Redis
    _unreadable = 0

    def __init__(self, cfg: NormalizeConfig) -> None:
        self.cfg = cfg
        self.pricer = Pricer(list(cfg.prices)) if cfg.pricing else None
        self._agent_events = cfg.agent_tokens_from == "events"

    def process(self, tree: Tree) -> None:
        self._unreadable = 0
        self._process(tree)
        if self._unreadable:
            # the tree is read as far as it could be and goes on; the chain marks it and counts the stage's
            # failure, so a reader fault on every span of some instrumentation is seen, not just debug-logged
            raise UnreadableSpans(f"{self._unreadable} of {len(tree.spans)} spans could not be read (a reader "
                                  f"fault: their calls are uncounted and carry {semconv.NOT_NORMALIZABLE})")

    def _process(self, tree: Tree) -> None:
        pending: list[tuple[SpanEntry, str]] = []
        for e in tree.spans:
            e.call = self._read(e, pending=pending)
        if pending:
            _parent_inputs(tree, pending)
        counting.decide(tree)
        totals = {"in": 0, "out": 0, "cr": 0, "cw": 0, "rs": 0, "calls": 0, "failed": 0, "unpriced": 0}
        cost = Decimal(0)
        genai = False
        for e in tree.spans:
            c = e.call
            if c is None or c.kind == "other":
                continue
            genai = True
            if c.counted:
                if c.cost_usd is None:
                    self._price(c)
                totals["in"] += c.input_tokens or 0
                totals["out"] += c.output_tokens or 0
                totals["cr"] += c.cache_read_tokens or 0
                totals["cw"] += c.cache_write_tokens or 0
                totals["rs"] += c.reasoning_tokens or 0
                totals["calls"] += 1
                totals["failed"] += int(c.error)
                if c.cost_usd is None:
                    totals["unpriced"] += 1
                else:
                    cost += c.cost_usd
            self._annotate(e, c)
        tree.facts["genai"] = genai
        root = tree.root()
        if root is None or tree.late or not genai:
            return  # non-GenAI trees leave exactly as they came
        root.set(semconv.TRACE_TOKENS, totals["in"] + totals["out"])
        root.set(semconv.TRACE_INPUT_TOKENS, totals["in"])
        root.set(semconv.TRACE_OUTPUT_TOKENS, totals["out"])
        root.set(semconv.TRACE_CACHE_READ_TOKENS, totals["cr"])
        root.set(semconv.TRACE_CACHE_WRITE_TOKENS, totals["cw"])
        root.set(semconv.TRACE_REASONING_TOKENS, totals["rs"])
        root.set(semconv.TRACE_COST_USD, float(cost))
        root.set(semconv.TRACE_CALLS, totals["calls"])
        root.set(semconv.TRACE_FAILED_CALLS, totals["failed"])
        root.set(semconv.TRACE_UNPRICED_CALLS, totals["unpriced"])

    def _read(self, e: SpanEntry, share: bool = True, pending: list[tuple[SpanEntry, str]] | None = None) -> Call:
        agent = self._agent_events and _agent_span(e)
        try:
            # a coding agent's span gets a mark of its own below: it never shares its Call
            c, plan = read_call_and_plan(e, share=share and not agent)
        except Exception:
            log.debug("span could not be read", exc_info=True)
            self._unreadable += 1
            e.set(semconv.NOT_NORMALIZABLE, "<unreadable span>")  # said here: "other" spans are not annotated
            return Call(kind="other", invalid=["<unreadable span>"])
        if plan is None:
            if c.dialect in ("haystack", LI_OTEL_DIALECT) and self.cfg.read_content:
                msgs = haystack_messages(e.attrs) if c.dialect == "haystack" else llamaindex_otel_messages(e)
                if msgs:
                    c.system_content, c.input_content = content.split_system(msgs, e.attrs)
            return c
        if agent:
            c.counted_elsewhere = True
        a = e.attrs
        index = plan.content
        if c.kind == "inference":
            if self.cfg.read_content:
                msgs = content.input_messages(a, index)
                if not msgs and plan.dialect == "strands":
                    msgs = content.event_messages(e.span.events)  # Strands' default: messages as span events
                if not msgs and e.may_contain(b"gen_ai.content.prompt"):  # a byte search before a full decode
                    msgs = content.prompt_event_messages(e.span.events)  # Langtrace's: one gen_ai.content.prompt
                if not msgs and plan.pipecat_input:
                    msgs = content.messages(a["input"])  # Pipecat's llm span (dialects._Plan.pipecat_input)
                if msgs:
                    c.system_content, c.input_content = content.split_system(msgs, a)
                elif plan.parent_input is not None and pending is not None:
                    pending.append((e, plan.parent_input))  # the prompt is on the parent span (Mastra)
            c.requested_tools = content.requested_tools(a, index)
            c.tool_definitions_digest = content.tool_definitions_digest(a, index)
            if c.tool_definitions_digest is None and plan.pipecat_tools:
                c.tool_definitions_digest = content.keyed_hash(a["tools"])  # Pipecat's (dialects._Plan.pipecat_tools)
        elif c.kind == "embeddings" and self.cfg.read_content:
            # the embedded text, where the span records it, so that two embeddings of different texts with the
            # same token count (a RAG app's questions) are two requests, not a shape duplicate: openlit 1.45.0
            # instrumentation/openai/utils.py common_embedding_logic and opentelemetry-instrumentation-openai
            # 0.62.4 shared/embeddings_wrappers.py _set_prompts write the input as gen_ai.input.messages
            msgs = content.input_messages(a, index)
            if not msgs and "embedding.embeddings.0.embedding.text" in a:
                msgs = content.embedding_texts(a)  # OpenInference with hide_inputs: input.value is redacted
            if msgs:
                c.system_content, c.input_content = content.split_system(msgs, a)
        elif c.kind == "tool" and index.tool_args:
            c.tool_args_hash = content.tool_arguments_hash(a, index)
        return c

    def _price(self, c: Call) -> None:
        if self.pricer is None or not c.has_usage:
            c.cost_source = "unpriced" if c.has_usage else "none"
            return
        price, source = self.pricer.price(c)
        if price is None:
            c.cost_source = "unpriced"
        else:
            c.cost_usd, c.cost_source, c.price_source = price, "computed", source

    def _annotate(self, e: SpanEntry, c: Call) -> None:
        e.set(semconv.SPAN_KIND, c.kind)
        if c.attempts > 1:
            e.set(semconv.ATTEMPTS, c.attempts)
        if c.dialect:
            e.set(semconv.DIALECT, c.dialect)
        if c.invalid:
            e.set(semconv.NOT_NORMALIZABLE, ",".join(sorted(set(c.invalid))))
        if c.kind not in ("inference", "embeddings") and not c.has_usage:
            return
        e.set(semconv.COUNTED, c.counted)
        if c.provider_from_host:
            e.set(semconv.PROVIDER_AT_HOST, c.provider)  # type: ignore[arg-type]  # a str: read from the host
        if c.counted:
            if c.cost_usd is not None:
                e.set(semconv.COST_USD, float(c.cost_usd))
            e.set(semconv.COST_SOURCE, c.cost_source if c.cost_source != "none" else "unpriced")
            if c.price_source:
                e.set(semconv.PRICE_SOURCE, c.price_source)
        if not self.cfg.write_back:
            return
        if c.provider:
            e.set_if_absent("gen_ai.provider.name", c.provider)
        if c.request_model:
            e.set_if_absent("gen_ai.request.model", c.request_model)
        if c.response_model:
            e.set_if_absent("gen_ai.response.model", c.response_model)
        differ = []
        for key, fld in WRITE_BACK:
            v = getattr(c, fld)
            if v is None:
                continue
            if not e.set_if_absent(key, v) and key not in e.added:
                # never overwrite what the span carried; say where its meaning differs from ours
                old = e.attrs.get(key)
                try:
                    same = int(str(old)) == v
                except ValueError:
                    same = False
                if not same:
                    differ.append(f"{key} is {old} on the span, {v} normalized")
        if differ:
            e.set(semconv.USAGE_MISMATCH, "; ".join(differ))


def _parent_inputs(tree: Tree, pending: list[tuple[SpanEntry, str]]) -> None:
    """Model calls whose prompt their parent span keeps (``_Plan.parent_input``): read it from there."""
    by_id = {e.span_id: e for e in tree.spans}
    for e, key in pending:
        parent = by_id.get(e.parent_id)
        c = e.call
        if parent is None or c is None or key not in parent.attrs:
            continue
        msgs = content.messages(parent.attrs[key])
        if msgs:
            c.system_content, c.input_content = content.split_system(msgs, e.attrs)


AGENT_SCOPES = ("com.anthropic.claude_code", "gemini-cli", "codex")
AGENT_SERVICES = frozenset({"claude-code", "gemini-cli", "codex", "codex_cli_rs", "codex-cli", "codex_exec"})


def _agent_span(e: SpanEntry) -> bool:
    """A coding agent's own span (not tokenwatch's synthetic session span); once per (resource, scope)."""
    key = (e.resource, e.scope)
    got = _AGENT_SOURCES.get(key)
    if got is None:
        scope = e.scope.name
        got = not scope.startswith("otel_tokenwatch") and (
            scope.startswith(AGENT_SCOPES) or e.resource.service_name in AGENT_SERVICES)
        if len(_AGENT_SOURCES) >= 4096:
            _AGENT_SOURCES.clear()
        _AGENT_SOURCES[key] = got
    return got


#: the assembler hands out one ResourceInfo/ScopeInfo per distinct resource and scope (hashed by identity)
_AGENT_SOURCES: dict[tuple[object, object], bool] = {}


def _create(cfg: NormalizeConfig, ctx: ProcessorContext) -> NormalizeProcessor:
    return NormalizeProcessor(cfg)


FACTORY = ProcessorFactory(type="normalize", config_class=NormalizeConfig, create=_create)
