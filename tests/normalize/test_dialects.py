"""Dialects by their documented meaning (genai-dialects.md), including the traps of section 6."""

from __future__ import annotations

from otel_tokenwatch import semconv
from otel_tokenwatch.pipeline.normalize.factory import NormalizeConfig, NormalizeProcessor
from tests.normalize.spans import tree_of


def run(tree):  # type: ignore[no-untyped-def]
    NormalizeProcessor(NormalizeConfig()).process(tree)
    return {e.span.name: e for e in tree.spans}


def test_openlit_on_anthropic_adds_cache_to_input() -> None:
    t = tree_of((1, 0, "root", {}), (2, 1, "chat claude", {
        "gen_ai.operation.name": "chat", "gen_ai.provider.name": "anthropic", "gen_ai.request.model": "claude-3-5-sonnet-20241022",
        "gen_ai.usage.input_tokens": 100, "gen_ai.usage.output_tokens": 50,
        "gen_ai.usage.cache_read.input_tokens": 1000, "gen_ai.usage.cache_creation.input_tokens": 200}), scope="openlit.otel")
    c = run(t)["chat claude"].call
    assert (c.input_tokens, c.cache_read_tokens, c.cache_write_tokens, c.uncached_input_tokens) == (1300, 1000, 200, 100)
    e = run(tree_of((1, 0, "chat", {"gen_ai.operation.name": "chat", "gen_ai.provider.name": "anthropic",
                                      "gen_ai.usage.input_tokens": 1300, "gen_ai.usage.output_tokens": 5,
                                      "gen_ai.usage.cache_read.input_tokens": 1000})))["chat"]
    assert e.call.input_tokens == 1300  # current semconv: cache already included


def test_string_values_json_and_deprecated_names() -> None:
    e = run(tree_of((1, 0, "litellm_request", {
        "gen_ai.operation.name": "acompletion", "gen_ai.system": "Azure", "gen_ai.request.model": "gpt-4o",
        "gen_ai.usage.prompt_tokens": "1200", "gen_ai.usage.completion_tokens": "80",
        "gen_ai.response.finish_reasons": '["length"]', "gen_ai.cost.total_cost": "0.0042"})))["litellm_request"]
    c = e.call
    assert (c.kind, c.provider, c.input_tokens, c.output_tokens) == ("inference", "azure.ai.openai", 1200, 80)
    assert c.finish_reasons == ("length",) and str(c.cost_usd) == "0.0042" and c.cost_source == "reported"
    assert e.added["gen_ai.usage.input_tokens"] == 1200 and e.added["gen_ai.provider.name"] == "azure.ai.openai"


def test_openinference_langfuse_mlflow_vercel() -> None:
    spans = run(tree_of(
        (1, 0, "root", {}),
        (2, 1, "ChatOpenAI", {"openinference.span.kind": "LLM", "llm.model_name": "gpt-4o-mini", "llm.system": "openai",
                              "llm.token_count.prompt": 500, "llm.token_count.completion": 20,
                              "llm.token_count.prompt_details.cache_read": 100, "llm.cost.total": 0.00009}),
        (3, 1, "generation", {"langfuse.observation.type": "generation", "langfuse.observation.model.name": "gpt-4o",
                              "langfuse.observation.usage_details": '{"input": 300, "output": 40, "input_cache_read": 700, "output_reasoning": 10}'}),
        (4, 1, "mlflow-llm", {"mlflow.spanType": '"CHAT_MODEL"', "mlflow.llm.provider": '"anthropic"',
                              "mlflow.llm.model": '"claude-3-5-haiku-20241022"',
                              "mlflow.chat.tokenUsage": '{"input_tokens": 10, "output_tokens": 5, "cache_read_input_tokens": 90}'}),
        (5, 1, "ai.generateText.doGenerate", {"ai.model.id": "gpt-4o-mini", "ai.model.provider": "openai.chat",
                                              "ai.usage.promptTokens": 77, "ai.usage.completionTokens": 7}),
    ))
    oi = spans["ChatOpenAI"].call
    assert (oi.dialect, oi.input_tokens, oi.cache_read_tokens, oi.cost_source) == ("openinference", 500, 100, "reported")
    lf = spans["generation"].call
    # Langfuse's own keys exclude details: cache and reasoning are added back
    assert (lf.input_tokens, lf.output_tokens, lf.reasoning_tokens) == (1000, 50, 10)
    ml = spans["mlflow-llm"].call
    assert (ml.kind, ml.provider, ml.input_tokens) == ("inference", "anthropic", 100)
    vc = spans["ai.generateText.doGenerate"].call
    assert (vc.kind, vc.provider, vc.input_tokens, vc.output_tokens) == ("inference", "openai", 77, 7)
    assert all(spans[n].call.counted for n in ("ChatOpenAI", "generation", "mlflow-llm", "ai.generateText.doGenerate"))


def test_nested_wrapper_counts_the_deepest_and_agent_only_as_fallback() -> None:
    spans = run(tree_of(
        (1, 0, "invoke_agent helper", {"gen_ai.operation.name": "invoke_agent", "gen_ai.usage.input_tokens": 999,
                                       "gen_ai.usage.output_tokens": 1}),
        (2, 1, "framework chat", {"gen_ai.operation.name": "chat", "gen_ai.usage.input_tokens": 400,
                                  "gen_ai.usage.output_tokens": 10, "gen_ai.response.id": "r1"}),
        (3, 2, "client chat", {"gen_ai.operation.name": "chat", "gen_ai.usage.input_tokens": 400,
                               "gen_ai.usage.output_tokens": 10, "gen_ai.response.id": "r1"}),
        (4, 1, "other branch", {"gen_ai.operation.name": "chat", "gen_ai.usage.input_tokens": 400,
                                "gen_ai.usage.output_tokens": 10, "gen_ai.response.id": "r1"}),
    ))
    assert spans["client chat"].call.counted
    assert not spans["framework chat"].call.counted  # wrapper: its child counts
    assert not spans["other branch"].call.counted  # same response id, counted once
    assert not spans["invoke_agent helper"].call.counted
    assert "410" in str(spans["invoke_agent helper"].get(semconv.USAGE_MISMATCH))
    # an agent whose calls were sampled out: its usage is all there is
    alone = run(tree_of((1, 0, "invoke_agent helper", {"gen_ai.operation.name": "invoke_agent",
                                                         "gen_ai.usage.input_tokens": 50,
                                                         "gen_ai.usage.output_tokens": 5})))
    assert alone["invoke_agent helper"].call.counted


def test_unreadable_values_are_reported_not_guessed() -> None:
    e = run(tree_of((1, 0, "chat", {"gen_ai.operation.name": "chat", "gen_ai.usage.input_tokens": "lots",
                                     "gen_ai.usage.prompt_tokens": 12, "gen_ai.usage.output_tokens": 3})))["chat"]
    assert e.call.input_tokens == 12
    assert e.get(semconv.NOT_NORMALIZABLE) == "gen_ai.usage.input_tokens"


def test_non_genai_spans_are_left_alone() -> None:
    e = run(tree_of((1, 0, "GET /", {"http.request.method": "GET"})))["GET /"]
    assert e.call.kind == "other" and not e.added


def test_dialect_is_named_by_documented_keys_alone() -> None:
    from otel_tokenwatch.pipeline.normalize.dialects import dialect_of

    assert dialect_of({"llm.token_count.prompt": 1}, "any") == "openinference"
    assert dialect_of({"llm.usage.total_tokens": 1, "gen_ai.usage.prompt_tokens": 1}, "any") == "openllmetry"
    assert dialect_of({"litellm.cost.total": 1.0}, "any") == "litellm"
    assert dialect_of({"gen_ai.cost.total_cost": 1.0}, "any") == "litellm"
    assert dialect_of({"mlflow.spanType": "LLM"}, "any") == "mlflow"
    assert dialect_of({"ai.usage.inputTokens": 3}, "any") == "vercel-ai"
    assert dialect_of({"gen_ai.usage.input_tokens": 3}, "any") == "semconv"
    assert dialect_of({"http.method": "GET"}, "any") == ""


def test_configured_prices_win_over_genai_prices_and_unknown_models_stay_unpriced() -> None:
    from otel_tokenwatch.config.build import build

    cfg = build(NormalizeConfig, {"prices": [{"model": "our-llama", "input": 1.0, "output": 2.0}]},
                "processors.normalize")
    tree = tree_of(
        (1, 0, "root", {}),
        (2, 1, "ours", {"gen_ai.operation.name": "chat", "gen_ai.request.model": "our-llama",
                        "gen_ai.usage.input_tokens": 1_000_000, "gen_ai.usage.output_tokens": 500_000}),
        (3, 1, "mystery", {"gen_ai.operation.name": "chat", "gen_ai.request.model": "no-such-model-x",
                           "gen_ai.usage.input_tokens": 10, "gen_ai.usage.output_tokens": 1}))
    NormalizeProcessor(cfg).process(tree)
    got = {e.span.name: e for e in tree.spans}
    assert got["ours"].call.cost_usd == 2 and got["ours"].get(semconv.PRICE_SOURCE) == "config"
    assert got["mystery"].call.cost_usd is None and got["mystery"].get(semconv.COST_SOURCE) == "unpriced"
    assert got["root"].get(semconv.TRACE_UNPRICED_CALLS) == 1


def test_subsets_larger_than_their_totals_reveal_the_convention() -> None:
    spans = run(tree_of(
        (1, 0, "anthropic via semconv", {"gen_ai.operation.name": "chat", "gen_ai.provider.name": "anthropic",
                                         "gen_ai.usage.input_tokens": 50, "gen_ai.usage.output_tokens": 10,
                                         "gen_ai.usage.cache_read.input_tokens": 5000}),
        (2, 1, "gemini thoughts", {"gen_ai.operation.name": "generate_content", "gen_ai.provider.name": "gcp.gemini",
                                   "gen_ai.usage.input_tokens": 100, "gen_ai.usage.output_tokens": 20,
                                   "gen_ai.usage.reasoning.output_tokens": 900})))
    a = spans["anthropic via semconv"].call
    assert (a.input_tokens, a.uncached_input_tokens) == (5050, 50)
    g = spans["gemini thoughts"].call
    assert (g.output_tokens, g.reasoning_tokens) == (920, 900)


def test_pydantic_ai_aggregated_usage_is_an_agent_fallback_only() -> None:
    """pydantic-ai V2 puts a run's cumulative usage under gen_ai.aggregated_usage.* on invoke_agent."""
    agg = {"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": "support",
           "gen_ai.aggregated_usage.input_tokens": 900, "gen_ai.aggregated_usage.output_tokens": 60,
           "gen_ai.aggregated_usage.cache_read.input_tokens": 500}
    spans = run(tree_of((1, 0, "invoke_agent support", agg),
                        (2, 1, "chat gpt-4o", {"gen_ai.operation.name": "chat", "gen_ai.request.model": "gpt-4o",
                                               "gen_ai.usage.input_tokens": 900, "gen_ai.usage.output_tokens": 60})))
    agent = spans["invoke_agent support"].call
    assert (agent.kind, agent.input_tokens, agent.cache_read_tokens) == ("agent", 900, 500)
    assert not agent.counted and spans["chat gpt-4o"].call.counted  # never added to its calls
    alone = run(tree_of((1, 0, "invoke_agent support", agg)))["invoke_agent support"]
    assert alone.call.counted  # its calls were sampled out: the run total is all there is
    assert alone.get(semconv.TRACE_INPUT_TOKENS) == 900
