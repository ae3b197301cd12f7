"""The normalized view of one GenAI span, computed once by normalize.

It lives beside the span (``SpanEntry.call``), not in it: enrich and score
read it, and what users should see is written onto the span as ``gen_ai.*``
(write-back) and ``tokenwatch.*`` attributes.

Token meaning, for every dialect (see README "Normalized token fields"):

* ``input_tokens``: all input tokens *including* cache reads and cache
  writes (the semconv rule). Anthropic-style sources that report uncached
  input are converted by adding their cache counts.
* ``output_tokens``: all output tokens *including* reasoning. Gemini-style
  sources that report output without thoughts are converted.
* ``cache_read_tokens``, ``cache_write_tokens``: subsets of input.
* ``reasoning_tokens``: subset of output.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal

#: finish reasons that say the answer was cut at the output limit, in every dialect's spelling
TRUNCATION = frozenset({"length", "max_tokens", "max_output_tokens", "model_length"})


def cut_by_finish_reason(reasons: tuple[str, ...] | list[str]) -> bool:
    return any(r.lower() in TRUNCATION for r in reasons)

SpanKind = Literal["inference", "embeddings", "tool", "agent", "workflow", "other"]
CostSource = Literal["reported", "computed", "unpriced", "none"]


@dataclass(slots=True)
class Call:
    kind: SpanKind
    dialect: str = ""
    operation: str | None = None
    provider: str | None = None
    #: the provider was read from server.address, not from what the span names (providers.provider_at_host)
    provider_from_host: bool = False
    request_model: str | None = None
    response_model: str | None = None
    # usage (None = not reported; 0 = reported as zero)
    input_tokens: int | None = None
    output_tokens: int | None = None
    cache_read_tokens: int | None = None
    cache_write_tokens: int | None = None
    reasoning_tokens: int | None = None
    # cost
    cost_usd: Decimal | None = None
    cost_source: CostSource = "none"
    price_source: str | None = None
    # outcome of the call
    finish_reasons: tuple[str, ...] = ()
    error: bool = False
    error_type: str | None = None
    # identity and context
    response_id: str | None = None
    tool_name: str | None = None
    tool_args_hash: str | None = None  # keyed hash, never the arguments themselves
    requested_tools: tuple[tuple[str, str | None], ...] = ()  # (tool name, args hash) the model asked for
    agent_name: str | None = None
    conversation_id: str | None = None
    principal: str | None = None  # user or service identity; never a metric label
    # request shape, for shape-based fingerprints
    max_tokens: int | None = None
    temperature: float | None = None
    streaming: bool | None = None
    tool_definitions_digest: str | None = None
    # captured content, in memory only for the tree's lifetime (never exported)
    input_content: str | None = None
    system_content: str | None = None
    # True when this span's usage counts toward totals (leaf inference, not a duplicate)
    counted: bool = False
    #: attribute keys that were present but unreadable
    invalid: list[str] = field(default_factory=list)
    #: for coding-agent sessions and retries hidden in one span: attempts made (1 = no retry)
    attempts: int = 1
    #: auxiliary spend (e.g. Gemini CLI's model router): real, counted, marked
    auxiliary: bool = False
    #: a coding agent's own span whose tokens are counted from its log events (the session)
    counted_elsewhere: bool = False
    #: the span id of the span that reports this same model call too (a framework span over or beside
    #: the client SDK's span): not a call of its own, for counting and for scoring
    report_of: bytes | None = None
    # --- written by the score stage ---
    #: the one reason this call's units are (partly) wasted, or None
    waste_reason: str | None = None
    #: wasted units of this call, in the tree's units (USD or tokens)
    waste_units: float = 0.0
    #: wasted tokens by token type (input, output, cache_read, cache_write, reasoning): for metrics
    wasted_tokens: dict[str, int] = field(default_factory=dict)
    #: wasted USD of this call (0 when unpriced): for metrics
    waste_cost_usd: float = 0.0

    @property
    def model(self) -> str | None:
        return self.response_model or self.request_model

    @property
    def has_usage(self) -> bool:
        return self.input_tokens is not None or self.output_tokens is not None

    @property
    def total_tokens(self) -> int:
        return (self.input_tokens or 0) + (self.output_tokens or 0)

    @property
    def uncached_input_tokens(self) -> int:
        return max(0, (self.input_tokens or 0) - (self.cache_read_tokens or 0) - (self.cache_write_tokens or 0))
