"""Which calls count, so that usage reported twice is added once.

Rules (genai-dialects.md section 7): only inference and embeddings spans
count; in a chain of nested inference spans the deepest one with usage
counts; the same ``gen_ai.response.id`` counts once per trace; agent,
workflow and root usage only cross-checks its descendants and counts only
when no descendant reports usage (they were sampled out). One call reported
by two instrumentations side by side is one call: twins with the same usage
(_twins), a span without usage beside its twin (_unread_twins).
"""

from __future__ import annotations

from otel_tokenwatch import semconv
from otel_tokenwatch.pipeline.call import Call
from otel_tokenwatch.pipeline.normalize.dialects import LOGFIRE_STREAM_SPAN
from otel_tokenwatch.pipeline.tree import SpanEntry, Tree

CALL_KINDS = ("inference", "embeddings")


def _usage_below(e: SpanEntry, children: dict[bytes, list[SpanEntry]], seen: set[bytes],
                 usage: bool = True) -> SpanEntry | None:
    """The first model call with usage (any model call, without ``usage``) somewhere below ``e`` (a module
    function: a closure calling itself is a reference cycle, garbage for the collector on every tree)."""
    for c in children.get(e.span_id, ()):
        if c.span_id in seen:
            continue
        seen.add(c.span_id)
        if c.call is not None and c.call.kind in CALL_KINDS and (
                c.call.has_usage or not (usage or c.call.error)):
            return c
        got = _usage_below(c, children, seen, usage)
        if got is not None:
            return got
    return None


def _has_usage_below(e: SpanEntry, children: dict[bytes, list[SpanEntry]], seen: set[bytes]) -> bool:
    return _usage_below(e, children, seen) is not None


def _wraps(e: SpanEntry, c: Call, children: dict[bytes, list[SpanEntry]], usage: bool = True) -> bool:
    """``e`` is a wrapper over a model call with usage below it (a framework span over the client span, the
    Vercel AI SDK's embed span over doEmbed): the call below counts, ``e`` is marked a report of it so that
    scoring does not read the pair as a call asked twice, and the call below reads the messages ``e`` captured.
    Without ``usage``, the call below may report none either: a call whose usage no span carries (an OpenAI
    stream without ``include_usage``) is still one call, not one per instrumentation that wraps it."""
    below = _usage_below(e, children, {e.span_id}, usage)
    if below is None:
        return False
    c.report_of = below.span_id
    if below.call is not None:
        # the subsets only the wrapper names, as for twins side by side: OpenLIT's Mistral ``chat`` span
        # (openlit 1.45.0 instrumentation/mistral/utils.py: prompt_tokens_details.cached_tokens ->
        # gen_ai.usage.cache_read.input_tokens) over the mistralai SDK's own span, which names no cache
        # (mistralai 1.12.4 extra/observability/otel.py: prompt / completion / total tokens only)
        _fill(below.call, c)
    return True


def decide(tree: Tree) -> None:
    children = tree.children()
    responses: dict[str, SpanEntry] = {}
    counted: list[SpanEntry] = []
    failed: list[SpanEntry] = []
    for e in tree.spans:
        c = e.call
        if c is None or c.kind not in CALL_KINDS:
            continue
        if not c.has_usage:
            if c.error:
                failed.append(e)
            elif not _wraps(e, c, children):
                _wraps(e, c, children, usage=False)
            continue
        if c.counted_elsewhere:
            e.set(semconv.USAGE_MISMATCH, "counted once, from the coding agent's log events (its session)")
            continue
        if _wraps(e, c, children):
            continue
        if c.response_id:
            first = responses.get(c.response_id)
            if first is not None and first.call is not None and _inner_twin(e, first, c):
                # the same call from two instrumentations side by side that disagree on its tokens: the one
                # inside the other's time counts, whatever the span order (see _inner_twin)
                first.call.counted = False
                counted.remove(first)
                first.set(semconv.USAGE_MISMATCH, f"duplicate of span {e.span_id.hex()} (same response id)")
                first.call.report_of = e.span_id
                _fill(c, first.call)
            elif first is not None:
                e.set(semconv.USAGE_MISMATCH, f"duplicate of span {first.span_id.hex()} (same response id)")
                c.report_of = first.span_id
                if first.call is not None:
                    _fill(first.call, c)
                continue
            responses[c.response_id] = e
        c.counted = True
        counted.append(e)
    _stream_log_reports(tree)
    if len(counted) > 1 and len({e.scope.name for e in counted}) > 1:
        _twins(counted, True)
        _late_stream_twins(counted)
    if len(failed) > 1 and len({e.scope.name for e in failed}) > 1:
        _twins(failed, False)
    _unread_twins(tree, counted)
    # aggregates: counted only when nothing below reports usage
    for e in tree.spans:
        c = e.call
        if c is None or c.kind in CALL_KINDS or not c.has_usage:
            continue
        below = sum(x.call.total_tokens for x in _descendants(e, children) if x.call is not None and x.call.counted)
        if c.response_id and c.response_id in responses and below == 0:
            # a copy of one model call's usage, told by its response id, on a span beside that call, not over it:
            # openlit 1.45.0 instrumentation/langgraph/langgraph.py wrap_add_node's ``invoke_agent {node}`` span
            # (utils.py extract_llm_info_from_result: the node's last message's token_usage and response id),
            # whose call LangChain's callback spans under its own ``invoke_agent`` span, the node span's sibling
            e.set(semconv.USAGE_MISMATCH, f"a copy of span {responses[c.response_id].span_id.hex()}'s usage "
                                          "(same response id)")
        elif below == 0 and not _has_usage_below(e, children, {e.span_id}):
            c.counted = True
        elif below != c.total_tokens:
            e.set(semconv.USAGE_MISMATCH, f"reports {c.total_tokens} tokens, its counted calls {below}")


#: a framework span's times come from its callbacks (LangChain run times are datetimes, microseconds):
#: the client span inside it may end up to this much after it by rounding alone
_TWIN_SLACK_NS = 1_000


def _inner_twin(e: SpanEntry, first: SpanEntry, c: Call) -> bool:
    """``e`` (same response id as ``first``, other tokens) is the span inside ``first``'s time, from another
    scope: the client SDK's own span beside a wrapper's. anthropic >= 2 traces every call itself (anthropic/_tracing.py, scope
    ``com.anthropic.sdk.python``, on once a TracerProvider is set), and Traceloop's Anthropic instrumentor starts
    its span around the SDK method without making it current (opentelemetry-instrumentation-anthropic 0.62.4
    ``tracer.start_span``), so the two are siblings; the SDK's span reads the final Message (Traceloop's streamed
    output adds message_start's placeholder ``output_tokens`` to message_delta's cumulative count, streaming.py
    _process_response_item). The inner span counts, as a child would, whichever arrives first."""
    fc = first.call
    if fc is None or (fc.input_tokens, fc.output_tokens) == (c.input_tokens, c.output_tokens):
        return False  # they agree: the first stays counted, and takes the subsets only its twin names (_fill)
    return e.scope.name != first.scope.name and _within(e, first)


def _twins(counted: list[SpanEntry], usage: bool) -> None:
    """One model call reported by two instrumentations that are not parent and child: a framework span
    (LangChain) and the client SDK's span made during it, each with the call's usage. OpenInference's
    LangChain tracer never makes its span current (openinference-instrumentation-langchain 0.1.80
    _tracer.py: ``# token = context_api.attach(context)`` left out on purpose), so OpenInference's OpenAI
    ``ChatCompletion`` span is the LangChain ``ChatOpenAI`` span's sibling, not its child, and the nesting rule
    cannot see the pair. Same usage, another instrumentation scope, and the inner span's time inside the
    outer's: the inner (client) span counts, as a child would. A failed call (no usage) reported twice is
    paired the same way among failed spans (``usage`` False), parent and child included."""
    spans = sorted(counted, key=lambda e: (e.view.start_time_unix_nano, -e.view.end_time_unix_nano))
    paired: set[bytes] = set()
    for n, outer in enumerate(spans):
        oc = outer.call
        assert oc is not None
        if oc.report_of is not None:
            continue
        end = outer.view.end_time_unix_nano + _TWIN_SLACK_NS
        tokens = (oc.input_tokens, oc.output_tokens)
        for inner in spans[n + 1:]:
            if inner.view.start_time_unix_nano > end:
                break
            ic = inner.call
            assert ic is not None
            if inner.view.end_time_unix_nano > end or inner.scope.name == outer.scope.name \
                    or inner.span_id in paired or ic.report_of is not None \
                    or (ic.input_tokens, ic.output_tokens) != tokens:
                continue
            oc.counted = False
            oc.report_of = inner.span_id
            paired.add(inner.span_id)
            _fill(ic, oc)
            if usage:
                outer.set(semconv.USAGE_MISMATCH, f"duplicate of span {inner.span_id.hex()} (the same call, "
                                                  f"reported by {inner.scope.name} too)")
            break


def _same_model(a: Call, b: Call) -> bool:
    """The two spans do not name two different request models (a name either leaves out is no difference)."""
    return a.request_model is None or b.request_model is None or a.request_model == b.request_model


def _unread_twins(tree: Tree, counted: list[SpanEntry]) -> None:
    """One successful model call reported by two instrumentations side by side (not parent and child) where one
    or both spans hold no usage: a stream the client asked no usage for. ChatOpenAI at a base URL of its own
    leaves ``stream_usage`` off (langchain-openai 1.7.4 chat_models/base.py: "Enable stream_usage by default if
    using default base URL and client"), so neither OpenInference's LangChain ``ChatOpenAI`` span nor the OTel
    contrib openai-v2 ``chat`` span beside it (OpenInference's LangChain tracer never makes its span current,
    see _twins) reads any: one call, not two calls without usage. The nesting rule pairs such a span with a
    call below it (_wraps); the twin rule pairs counted spans by their equal tokens, failed ones among
    themselves: a usage-less span is paired, by the same meaning, with a span of another instrumentation scope
    inside whose time it lies or that lies inside its time, of the same request model, that is no report
    itself, a counted one first (it becomes a report of the span with the usage, whichever of the two is inner),
    else another usage-less one (the outer becomes a report of the inner, as a child's wrapper would)."""
    unread = [e for e in tree.spans if e.call is not None and e.call.kind in CALL_KINDS and not e.call.has_usage
              and not e.call.error and e.call.report_of is None and not e.call.counted]
    if not unread:
        return
    live = [e for e in counted if e.call is not None and e.call.counted and e.call.report_of is None]
    if len({e.scope.name for e in (*unread, *live)}) < 2:
        return  # one instrumentation: no twins to look for (and no pass over every pair of a big tree's calls)
    unread.sort(key=lambda e: (e.view.start_time_unix_nano, -e.view.end_time_unix_nano))
    taken: set[bytes] = set()
    for u in unread:
        uc = u.call
        assert uc is not None
        if u.span_id in taken or uc.report_of is not None:
            continue
        for pool in (live, unread):
            partner = next((p for p in pool if p is not u and p.span_id not in taken and p.call is not None
                            and p.call.report_of is None and p.scope.name != u.scope.name
                            and _same_model(uc, p.call) and _within_either(u, p)), None)
            if partner is None:
                continue
            pc = partner.call
            assert pc is not None
            taken.update((u.span_id, partner.span_id))
            if pool is unread and _within(u, partner):  # u the inner of two usage-less spans: it stays
                pc.report_of = u.span_id
                _fill(uc, pc)
            else:  # u beside the span with the usage, or the outer of two usage-less spans
                uc.report_of = partner.span_id
                _fill(pc, uc)
            break


def _within(inner: SpanEntry, outer: SpanEntry) -> bool:
    """``inner``'s time lies inside ``outer``'s (the framework callbacks' rounding allowed, _TWIN_SLACK_NS)."""
    i, o = inner.view, outer.view
    return bool(i.start_time_unix_nano >= o.start_time_unix_nano
                and i.end_time_unix_nano <= o.end_time_unix_nano + _TWIN_SLACK_NS)


def _within_either(a: SpanEntry, b: SpanEntry) -> bool:
    return _within(a, b) or _within(b, a)


#: how long after a framework's span of a streamed call ends the client span made at the stream's end may start
_LATE_TWIN_NS = 5_000_000


def _late_stream_twins(counted: list[SpanEntry]) -> None:
    """A streamed call whose client span is made only once the stream is exhausted, after the framework's span of
    the same call has ended: openlit 1.45.0 instrumentation/google_ai_studio/async_google_ai_studio.py
    ``TracedAsyncStream.__anext__`` starts its ``chat {model}`` span at ``StopAsyncIteration`` (``with
    tracer.start_as_current_span(self._span_name)``, in the consumer's context), so under Google ADK (whose
    ``generate_content`` span, scope gcp.vertex.agent, has ended by then) the two are siblings one after the
    other. Same parent, another scope, same tokens and request model, the streamed span starting right after the
    other ends: the later (client) span counts, as a child would."""
    spans = sorted(counted, key=lambda e: e.view.end_time_unix_nano)
    for n, outer in enumerate(spans):
        oc = outer.call
        assert oc is not None
        if oc.report_of is not None or not oc.counted:
            continue
        end = outer.view.end_time_unix_nano
        for inner in spans[n + 1:]:
            ic = inner.call
            assert ic is not None
            start = inner.view.start_time_unix_nano
            if not ic.streaming or ic.report_of is not None or not end <= start <= end + _LATE_TWIN_NS \
                    or inner.parent_id != outer.parent_id or inner.scope.name == outer.scope.name \
                    or (ic.input_tokens, ic.output_tokens, ic.request_model) != (
                        oc.input_tokens, oc.output_tokens, oc.request_model):
                continue
            oc.counted = False
            oc.report_of = inner.span_id
            _fill(ic, oc)
            outer.set(semconv.USAGE_MISMATCH, f"duplicate of span {inner.span_id.hex()} (the same streamed call, "
                                              f"reported by {inner.scope.name} at the stream's end)")
            break


def _take_content(kept: Call, report: Call) -> None:
    """The counted span of a call reported twice reads the messages its twin captured when it captured none:
    a framework span records the prompt the client SDK's own span leaves out (OpenInference's Anthropic span
    over the span anthropic >= 2 makes itself), and a duplicate is then matched on content, not guessed from shape."""
    if kept.input_content is None and report.input_content is not None:
        kept.input_content, kept.system_content = report.input_content, report.system_content
    if not kept.requested_tools and report.requested_tools:
        kept.requested_tools = report.requested_tools


def _fill(kept: Call, report: Call) -> None:
    """The counted span of a call reported twice takes the subsets only its twin names (one value per field,
    never a sum): Traceloop's LangChain span names cache reads, the OTel contrib OpenAI span beside it does not
    (opentelemetry-instrumentation-openai-v2 2.4b0 records input and output only), and which of the two is
    counted depends on span order alone."""
    _take_content(kept, report)
    if (kept.input_tokens, kept.output_tokens) != (report.input_tokens, report.output_tokens):
        return
    if kept.cache_read_tokens is None:
        kept.cache_read_tokens = report.cache_read_tokens
    if kept.cache_write_tokens is None:
        kept.cache_write_tokens = report.cache_write_tokens
    if kept.reasoning_tokens is None:
        kept.reasoning_tokens = report.reasoning_tokens
    if not kept.finish_reasons:
        # the mistralai SDK's own span (mistralai 1.12.4 extra/observability/otel.py, scope mistralai_sdk_tracer)
        # has usage but no finish reason; OpenLLMetry's beside it does (opentelemetry-instrumentation-mistralai
        # 0.62.4 __init__.py _set_response_attributes: gen_ai.completion.N.finish_reason): a cut reads as cut
        kept.finish_reasons = report.finish_reasons
    if kept.streaming is None:
        # nor always whether it streamed: opentelemetry-instrumentation-openai-v2 2.4b0 writes no stream attribute
        # (patch.py traced_method; a stream is told by the finish reasons in its output messages only), and a
        # stream sent no usage has none of them, while OpenInference's LangChain span beside it reads
        # ``"stream": true`` from the invocation parameters: a cut stream, taken with the twin's finish reason,
        # must not read as a truncated answer (score/engine.py cut_at_max_tokens)
        kept.streaming = report.streaming
    if kept.response_model is None:
        # nor a served model (mistralai 1.12.4 extra/observability/otel.py writes gen_ai.response.model from
        # no response; OpenLIT's span over it does, openlit 1.45.0 instrumentation/mistral/utils.py)
        kept.response_model = report.response_model


def _stream_log_reports(tree: Tree) -> None:
    """Logfire reports a streamed call twice: the request span, ended as soon as the stream is handed back (no usage,
    no output), and, once the stream is consumed, the log span ``streaming response from {request_data[model]!r}
    took {duration:.2f}s`` with the request span's attributes plus the accumulated output and usage, its sibling
    under the same parent (logfire 5.4 and 6.0.0b8 _internal/integrations/llm_providers/llm_provider.py
    instrument_llm_provider: ``record_streaming`` logs ``STEAMING_MSG_TEMPLATE`` after the stream ends). The
    request span is a report of the log span that follows it, of the same scope, parent and request model: one
    call, not one asked twice, also where the log span holds no usage (a stream logfire 6.0.0b8 kept no response
    of, llm_providers/openai.py OpenaiResponsesStreamState.get_response_data)."""
    logs = [e for e in tree.spans if e.call is not None and e.call.kind in CALL_KINDS and e.call.streaming
            and e.view.name.startswith(LOGFIRE_STREAM_SPAN)]
    if not logs:
        return
    logs.sort(key=lambda e: e.view.start_time_unix_nano)
    taken: set[bytes] = set()
    requests = sorted((e for e in tree.spans if e.call is not None and e.call.kind in CALL_KINDS
                       and e.call.report_of is None and not e.call.has_usage and not e.call.error
                       and not e.call.streaming), key=lambda e: e.view.start_time_unix_nano)
    for req in requests:
        rc = req.call
        assert rc is not None
        for log in logs:
            lc = log.call
            assert lc is not None
            if log.span_id in taken or log.scope.name != req.scope.name or log.parent_id != req.parent_id \
                    or lc.request_model != rc.request_model \
                    or log.view.start_time_unix_nano < req.view.end_time_unix_nano:
                continue
            rc.report_of = log.span_id
            rc.counted = False
            taken.add(log.span_id)
            _take_content(lc, rc)
            break


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
