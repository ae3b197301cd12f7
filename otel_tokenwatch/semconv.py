"""Every name tokenwatch writes, declared once.

Attributes go on re-exported spans and log records; metrics go through the
OpenTelemetry SDK. The README's reference tables are generated from these
declarations (``python -m otel_tokenwatch.semconv``) and a test fails when
the README drifts, so a name documented is a name shipped. Names follow
OpenTelemetry's rules: lowercase, dot-namespaced, units in ``unit`` not in
the name. Once shipped, a name does not change.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

AttrType = Literal["string", "int", "double", "boolean", "string[]"]
Where = Literal["root", "call", "span", "resource", "log"]


@dataclass(frozen=True, slots=True)
class Attr:
    name: str
    type: AttrType
    where: Where
    brief: str


@dataclass(frozen=True, slots=True)
class Metric:
    name: str
    instrument: Literal["counter", "histogram", "updowncounter", "gauge"]
    unit: str
    labels: tuple[str, ...]
    brief: str

    @property
    def prometheus_name(self) -> str:
        """The name a Prometheus scrape shows (OTel -> Prometheus rules)."""
        base = self.name.replace(".", "_")
        try:  # the exporter's own unit mapping, so the documented name is the scraped one
            from opentelemetry.exporter.prometheus._mapping import map_unit

            unit = map_unit(self.unit)
        except ImportError:  # pragma: no cover - the exporter is a dependency
            unit = {"s": "seconds", "By": "bytes"}.get(self.unit, "" if self.unit.startswith("{") else self.unit)
        if unit and not base.endswith("_" + unit):
            base = f"{base}_{unit}"
        if self.instrument == "counter":
            base += "_total"
        return base


ATTRIBUTES: dict[str, Attr] = {}
METRICS: dict[str, Metric] = {}


def _a(name: str, type_: AttrType, where: Where, brief: str) -> str:
    if name in ATTRIBUTES:
        raise ValueError(f"attribute {name} declared twice")
    ATTRIBUTES[name] = Attr(name, type_, where, brief)
    return name


def _m(name: str, instrument: Literal["counter", "histogram", "updowncounter", "gauge"], unit: str,
       labels: tuple[str, ...], brief: str) -> str:
    if name in METRICS:
        raise ValueError(f"metric {name} declared twice")
    METRICS[name] = Metric(name, instrument, unit, labels, brief)
    return name


# --- assembly -----------------------------------------------------------------
TRACE_SPANS = _a("tokenwatch.trace.spans", "int", "root", "Spans tokenwatch saw in this tree when it was released.")
TRACE_COMPLETE = _a("tokenwatch.trace.complete", "boolean", "root",
                    "True when the root was seen and the tree went idle; false when a bound or tree_max_wait released it early.")
LATE = _a("tokenwatch.late", "boolean", "span", "The span arrived after its tree had been released; it was forwarded at once.")
PROCESSORS_FAILED = _a("tokenwatch.processors.failed", "string", "root",
                       "Stages that failed on this tree, comma-separated (for instance while the shared state was "
                       "unreachable): the tree was forwarded without their attributes, so a score on it lacks their reasons.")

# --- normalization (written by the normalize stage) ----------------------------
SPAN_KIND = _a("tokenwatch.span.kind", "string", "span",
               "What the span is: inference, embeddings, tool, agent, workflow, other.")
DIALECT = _a("tokenwatch.dialect", "string", "call", "Which instrumentation dialect the call was read from.")
COUNTED = _a("tokenwatch.usage.counted", "boolean", "call",
             "False when this span's usage is already counted on another span (aggregate or second instrumentation).")
USAGE_MISMATCH = _a("tokenwatch.usage.mismatch", "string", "span",
                    "An aggregate on this span disagrees with the sum of its counted descendants: 'field: reported vs summed'.")
NOT_NORMALIZABLE = _a("tokenwatch.usage.invalid", "string", "span",
                      "Attributes that were present but could not be read (negative, NaN, wrong type); the call is uncounted.")
COST_USD = _a("tokenwatch.cost_usd", "double", "call", "Cost of this call in USD (reported by the instrumentation or computed).")
COST_SOURCE = _a("tokenwatch.cost.source", "string", "call", "reported | computed | unpriced.")
PROVIDER_AT_HOST = _a("tokenwatch.provider", "string", "call",
                      "The provider the call is priced and counted under where the span names another: an OpenAI client "
                      "library names every OpenAI-compatible host openai, and server.address names the host.")
PRICE_SOURCE = _a("tokenwatch.cost.price_source", "string", "call",
                  "Where a computed price came from: genai-prices@<version> or config.")
TRACE_TOKENS = _a("tokenwatch.trace.tokens", "int", "root", "Input plus output tokens of the tree's counted calls.")
TRACE_INPUT_TOKENS = _a("tokenwatch.trace.input_tokens", "int", "root", "Input tokens (cache included) of counted calls.")
TRACE_OUTPUT_TOKENS = _a("tokenwatch.trace.output_tokens", "int", "root", "Output tokens (reasoning included) of counted calls.")
TRACE_CACHE_READ_TOKENS = _a("tokenwatch.trace.cache_read_tokens", "int", "root", "Cache-read input tokens of counted calls.")
TRACE_CACHE_WRITE_TOKENS = _a("tokenwatch.trace.cache_write_tokens", "int", "root", "Cache-write input tokens of counted calls.")
TRACE_REASONING_TOKENS = _a("tokenwatch.trace.reasoning_tokens", "int", "root", "Reasoning output tokens of counted calls.")
TRACE_COST_USD = _a("tokenwatch.trace.cost_usd", "double", "root", "USD cost of the tree's priced calls.")
TRACE_CALLS = _a("tokenwatch.trace.calls", "int", "root", "Counted GenAI calls in the tree.")
TRACE_FAILED_CALLS = _a("tokenwatch.trace.failed_calls", "int", "root", "Counted calls that ended in error.")
TRACE_UNPRICED_CALLS = _a("tokenwatch.trace.unpriced_calls", "int", "root", "Counted calls with usage but no price.")

# --- enrichment ----------------------------------------------------------------
WORKFLOW = _a("tokenwatch.workflow", "string", "root", "The workflow this tree belongs to.")
WORKFLOW_SOURCE = _a("tokenwatch.workflow.source", "string", "root",
                     "Which source named the workflow: attribute key, rule, root_span_name, or service_name "
                     "(the trace's root was not in the tree).")
TEAM = _a("tokenwatch.team", "string", "root", "The owning team; 'unknown' when nothing names one.")
TEAM_SOURCE = _a("tokenwatch.team.source", "string", "root", "Which source named the team.")
OUTCOME = _a("tokenwatch.outcome", "string", "root", "success | failure | abandoned | unknown.")
OUTCOME_SOURCE = _a("tokenwatch.outcome.source", "string", "root", "attribute, status, reported, or default.")
OUTCOME_KPI_PREFIX = "tokenwatch.outcome.kpi."
_a("tokenwatch.outcome.kpi.<name>", "double", "root", "A KPI reported with the outcome (cycle_time_s, defects, value, ...).")
ATTEMPTS = _a("tokenwatch.call.attempts", "int", "call",
              "Requests one span stands for when the client retried inside it (Claude Code's attempt); "
              "the failed ones are counted as failed calls with reason retry.")
AUXILIARY = _a("tokenwatch.usage.auxiliary", "boolean", "call",
               "Auxiliary spend a tool makes on its own (Gemini CLI's model router): real, counted, marked.")
AGENT_TOOL = _a("tokenwatch.agent.tool", "string", "root",
                "On a coding-agent session tree: claude-code, gemini-cli or codex.")
AGENT_LOOP_DETECTED = _a("tokenwatch.agent.loop_detected", "boolean", "root",
                         "The coding agent reported that it stopped a loop itself (Gemini CLI loop_detected).")
AGENT_SESSION_PART = _a("tokenwatch.agent.session_part", "int", "root",
                        "0 for a session's first tree; n when events came after the session was released.")
PSEUDONYMIZED = _a("tokenwatch.privacy.pseudonymized", "string[]", "span",
                   "Attribute keys whose values were replaced by a keyed hash (hmac-sha256:...).")
CONTENT_REMOVED = _a("tokenwatch.privacy.content_removed", "int", "span",
                     "Attributes and events carrying prompt or completion content that were removed.")

# --- waste score ----------------------------------------------------------------
TRACE_WASTE_SCORE = _a("tokenwatch.trace.waste_score", "double", "root", "Wasted units / total units, in [0, 1].")
TRACE_UNITS = _a("tokenwatch.trace.units", "string", "root", "usd when every call is priced, else tokens.")
TRACE_TOTAL = _a("tokenwatch.trace.total", "double", "root", "Total units of the tree.")
TRACE_WASTED = _a("tokenwatch.trace.wasted", "double", "root", "Wasted units of the tree.")
TRACE_TOP_REASON = _a("tokenwatch.trace.top_reason", "string", "root", "The reason with the most wasted units, or none.")
TRACE_SCORE_FINAL = _a("tokenwatch.trace.score_final", "boolean", "root",
                       "True when the tree was complete at scoring; false for a running score.")
WASTE_REASON = _a("tokenwatch.waste.reason", "string", "call", "Why this call's units are wasted (one reason).")
WASTE_UNITS = _a("tokenwatch.waste.units", "double", "call", "Wasted units of this call, in the tree's units.")
WASTE_MATCH = _a("tokenwatch.waste.match", "string", "call", "For duplicate/retry: exact or near.")
WASTE_BASIS = _a("tokenwatch.waste.basis", "string", "call", "content when matched on captured messages, shape when inferred.")
WASTE_TRUNCATION = _a("tokenwatch.waste.truncation", "string", "call",
                      "max_tokens when the call reported no finish reason and its output reached the request's "
                      "max_tokens: the cut behind a truncated or retry reason was inferred.")
WASTE_REASONS = _a("tokenwatch.waste.reasons", "string[]", "call",
                   "When a call's units are wasted for more than one reason: reason=units for each.")
TRACE_BASELINE_P90 = _a("tokenwatch.trace.baseline_p90", "double", "root",
                        "The workflow baseline's p90 (in the tree's units) that over_baseline compared against.")
WASTE_BASELINE = _a("tokenwatch.waste.baseline", "double", "call",
                    "For over_baseline: the workflow baseline's p90 its tree was compared against (on a late call "
                    "too, whose tree's root left before it).")
WASTE_MATCHED_SPAN = _a("tokenwatch.waste.matched_span_id", "string", "call", "The earlier span this one repeats (hex).")

# --- self-telemetry (service health) --------------------------------------------
M_RECEIVER_ACCEPTED = _m("tokenwatch.receiver.accepted", "counter", "{item}", ("receiver", "transport", "signal"),
                         "Items (spans, data points, log records) accepted by a receiver.")
M_RECEIVER_REFUSED = _m("tokenwatch.receiver.refused", "counter", "{item}",
                        ("receiver", "transport", "signal", "reason"),
                        "Items or requests refused by a receiver, by reason (bad_request, too_large, media_type, ...).")
M_EXPORTER_SENT = _m("tokenwatch.exporter.sent", "counter", "{item}", ("exporter", "signal"),
                     "Items confirmed by the backend.")
M_EXPORTER_FAILED = _m("tokenwatch.exporter.send_failed", "counter", "{item}", ("exporter", "signal", "reason"),
                       "Items a backend refused for good or that ran out of retry time (dead-lettered).")
M_EXPORTER_RETRIED = _m("tokenwatch.exporter.retries", "counter", "{request}", ("exporter", "signal"),
                        "Export attempts that were retried.")
M_EXPORTER_REJECTED = _m("tokenwatch.exporter.partial_rejected", "counter", "{item}", ("exporter", "signal"),
                         "Items a backend rejected in a partial_success answer (logged, not retried).")
M_EXPORTER_ENQUEUE_FAILED = _m("tokenwatch.exporter.enqueue_failed", "counter", "{item}", ("exporter", "signal"),
                               "Items refused because an exporter queue was full (the receiver refuses, never drops).")
M_EXPORTER_QUEUE_SIZE = _m("tokenwatch.exporter.queue_size", "gauge", "{item}", ("exporter",),
                           "Items queued or being sent (not yet confirmed) by an exporter.")
M_EXPORTER_QUEUE_CAPACITY = _m("tokenwatch.exporter.queue_capacity", "gauge", "{item}", ("exporter",),
                               "Capacity of an exporter's queue (sending_queue.queue_size).")
M_SPANS_LATE = _m("tokenwatch.assembler.late_spans", "counter", "{span}", (),
                  "Spans that arrived after their tree was released.")
M_TREES_RELEASED = _m("tokenwatch.assembler.trees_released", "counter", "{trace}", ("reason",),
                      "Trees released, by reason: complete, max_wait, max_open_traces, max_bytes, shutdown.")
M_OPEN_TREES = _m("tokenwatch.assembler.open_trees", "gauge", "{trace}", (), "Trees being assembled.")
M_OPEN_BYTES = _m("tokenwatch.assembler.open_bytes", "gauge", "By", (), "Encoded bytes of spans held for assembly.")
M_MEMORY = _m("tokenwatch.process.memory", "gauge", "By", (),
              "Resident memory of the process, compared with service.memory_limit.")
M_SDK_UNSCORED = _m("tokenwatch.sdk.unscored_spans", "counter", "{span}", (),
                    "SDK plugin: spans sent downstream unscored because its queue was full (never dropped).")
M_STAGE_FAILED = _m("tokenwatch.processor.failed", "counter", "{trace}", ("processor",),
                    "Trees a processor raised on; they were exported unprocessed by that stage.")

# --- GenAI metrics (written by stages; see the metrics issue) --------------------
M_TOKENS = _m("tokenwatch.tokens", "counter", "{token}",
              ("workflow", "team", "provider", "model", "token_type", "waste_reason"),
              "Tokens of counted calls by type; waste_reason is none when not wasted.")
M_COST = _m("tokenwatch.cost", "counter", "USD",
            ("workflow", "team", "provider", "model", "waste_reason", "cost_source"), "Cost of counted calls.")
M_CALLS = _m("tokenwatch.calls", "counter", "{call}",
             ("workflow", "team", "provider", "model", "status", "waste_reason"), "Counted GenAI calls.")
M_TRACE_WASTE_SCORE = _m("tokenwatch.trace.waste_score", "histogram", "1", ("workflow", "outcome"),
                         "Waste score of each released tree.")
M_TRACE_COST = _m("tokenwatch.trace.cost", "histogram", "USD", ("workflow", "outcome"), "USD cost per tree.")
M_OUTCOMES = _m("tokenwatch.outcomes", "counter", "{outcome}", ("workflow", "team", "outcome"),
                "Outcomes of trees.")
M_OUTCOME_TREES = _m("tokenwatch.outcome.trees", "updowncounter", "{trace}", ("workflow", "team", "outcome"),
                     "Trees by their current outcome; a late report moves a tree from one outcome to another.")
M_OUTCOME_SPEND = _m("tokenwatch.outcome.spend", "updowncounter", "USD", ("workflow", "team", "outcome"),
                     "USD spent by trees with each current outcome; spend per success = spend{success} / "
                     "trees{success}.")
M_OUTCOME_KPI = _m("tokenwatch.outcome.kpi", "histogram", "1", ("workflow", "kpi", "outcome"),
                   "KPIs reported with outcomes (cycle_time_s, defects, value, ...), by KPI name.")
M_OUTCOME_REPORTS = _m("tokenwatch.outcome.reports", "counter", "{report}", ("result",),
                       "Outcome reports by result: applied, held, duplicate, expired, rejected.")


# --- documentation ----------------------------------------------------------------------
BEGIN_ATTRS = "<!-- BEGIN GENERATED: attributes (python -m otel_tokenwatch.semconv) -->"
END_ATTRS = "<!-- END GENERATED: attributes -->"
BEGIN_METRICS = "<!-- BEGIN GENERATED: metrics (python -m otel_tokenwatch.semconv) -->"
END_METRICS = "<!-- END GENERATED: metrics -->"


def attributes_table() -> str:
    rows = ["| attribute | type | on | meaning |", "|---|---|---|---|"]
    rows += [f"| `{a.name}` | {a.type} | {a.where} | {a.brief} |" for a in ATTRIBUTES.values()]
    return "\n".join(rows)


def metrics_table() -> str:
    rows = ["| metric (OTLP) | Prometheus | instrument | unit | labels | meaning |", "|---|---|---|---|---|---|"]
    rows += [f"| `{m.name}` | `{m.prometheus_name}` | {m.instrument} | {m.unit} | "
             f"{', '.join(m.labels) or '-'} | {m.brief} |" for m in METRICS.values()]
    return "\n".join(rows)


def render_readme(text: str) -> str:
    """The README with both generated sections replaced by the current declarations."""
    for begin, end, body in ((BEGIN_ATTRS, END_ATTRS, attributes_table()),
                             (BEGIN_METRICS, END_METRICS, metrics_table())):
        head, sep, rest = text.partition(begin)
        if not sep:
            raise ValueError(f"README lacks the marker {begin}")
        _, sep2, tail = rest.partition(end)
        if not sep2:
            raise ValueError(f"README lacks the marker {end}")
        text = f"{head}{begin}\n{body}\n{end}{tail}"
    return text


if __name__ == "__main__":  # pragma: no cover
    import sys
    from pathlib import Path

    readme = Path(sys.argv[1] if len(sys.argv) > 1 else "README.md")
    readme.write_text(render_readme(readme.read_text()))
    print(f"updated {readme}")
