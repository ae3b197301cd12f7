"""The provider an OpenAI client library calls "openai" read from server.address, as the semantic
conventions say to (gen_ai.provider.name: "The server.address attribute may help identify the actual
system in use"): real pydantic-ai and OpenLIT spans of the shared fixtures, their host rewritten to
DeepSeek's, Azure's, OpenRouter's and Gemini's OpenAI-compatible endpoints."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from genai_prices import Usage, calc_price
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from otel_tokenwatch import semconv
from otel_tokenwatch.config import load
from otel_tokenwatch.otlp.files import read
from otel_tokenwatch.pipeline.assemble.assembler import AssembleConfig, Assembler
from otel_tokenwatch.pipeline.processor import ProcessorChain, ProcessorContext
from otel_tokenwatch.pipeline.tree import SpanEntry
from otel_tokenwatch.service import build_processors
from otel_tokenwatch.state import MemoryStore
from tests.conftest import FIXTURES

CAPTURES = Path(__file__).parent / "data"


def calls_at(fixture: str, host: str, model: str | None = None, where: Path = FIXTURES) -> list[SpanEntry]:
    """The fixture's counted model calls after the chain, every span's server.address set to ``host``
    (and its models to ``model``)."""
    _, stages = build_processors(load(None), "traces", ProcessorContext(state=MemoryStore()))
    chain = ProcessorChain(stages)
    out: list[SpanEntry] = []
    for rec in read(str(where / fixture)):
        if rec.signal != "traces":
            continue
        req = ExportTraceServiceRequest()
        req.CopyFrom(rec.request)
        for rs in req.resource_spans:
            for ss in rs.scope_spans:
                for sp in ss.spans:
                    for kv in sp.attributes:
                        if kv.key == "server.address":
                            kv.value.string_value = host
                        elif model and kv.key in ("gen_ai.request.model", "gen_ai.response.model"):
                            kv.value.string_value = model
        asm = Assembler(AssembleConfig())
        asm.add(req, 0.0, None)
        for tree in asm.flush(0.0, "flush"):
            chain.process(tree)
            out += [e for e in tree.spans if e.call is not None and e.call.counted and e.call.has_usage]
    assert out
    return out


@pytest.mark.parametrize("fixture", ["pydantic-ai.jsonl", "openlit-openai.jsonl"])
@pytest.mark.parametrize(("host", "provider"), [
    ("api.deepseek.com", "deepseek"), ("acme-prod.openai.azure.com", "azure.ai.openai"),
    ("openrouter.ai", "openrouter"), ("generativelanguage.googleapis.com", "gcp.gemini"),
    ("127.0.0.1", "openai"), ("api.openai.com", "openai"), ("llm-gateway.internal", "openai")])
def test_the_host_names_the_provider_an_openai_client_cannot(fixture: str, host: str, provider: str) -> None:
    for e in calls_at(fixture, host):
        assert e.call is not None and e.call.provider == provider, (host, e.call)
        # the span's own words stand; what we read instead is said beside them, only where it differs
        said = {e.attrs.get(k) for k in ("gen_ai.system", "gen_ai.provider.name")} - {None}
        assert said == {"openai"} and "gen_ai.provider.name" not in e.added
        assert e.added.get(semconv.PROVIDER_AT_HOST) == (None if provider == "openai" else provider)


@pytest.mark.parametrize("capture", ["semantic-kernel-openai.jsonl", "agents-otel.jsonl"])
def test_a_model_of_that_provider_is_priced_at_its_price(capture: str) -> None:
    """Captures whose spans report no cost of their own (pydantic-ai's and OpenLIT's do: that is taken)."""
    calls = calls_at(capture, "api.deepseek.com", model="deepseek-chat", where=CAPTURES)
    for e in calls:
        c = e.call
        assert c is not None and c.cost_source == "computed"
        want = calc_price(Usage(input_tokens=c.input_tokens, output_tokens=c.output_tokens,
                                cache_read_tokens=c.cache_read_tokens or None),
                          model_ref="deepseek-chat", provider_id="deepseek").total_price
        assert Decimal(str(e.added[semconv.COST_USD])).quantize(Decimal("1e-12")) == \
            Decimal(str(want)).quantize(Decimal("1e-12"))
    assert sum(e.added[semconv.COST_USD] for e in calls) > 0
