"""Dialects the fixtures do not cover, built as the real libraries emit them (source cited per test)."""

from __future__ import annotations

import json

from otel_tokenwatch import semconv
from otel_tokenwatch.pipeline.normalize.dialects import dialect_of, kind_of
from otel_tokenwatch.pipeline.normalize.factory import NormalizeConfig, NormalizeProcessor
from otel_tokenwatch.pipeline.normalize.providers import normalize_provider
from tests.normalize.spans import tree_of


def run(tree):  # type: ignore[no-untyped-def]
    NormalizeProcessor(NormalizeConfig()).process(tree)
    return {e.span.name: e for e in tree.spans}


def test_strands_bedrock_usage_cache_write_and_framework_provider() -> None:
    # strands-agents/sdk-python src/strands/telemetry/tracer.py: end_model_invoke_span writes Bedrock
    # Converse usage (inputTokens without cache; totalTokens = input + output + cacheRead + cacheWrite)
    # under both old and new names, cache as gen_ai.usage.cache_{read,write}_input_tokens, and
    # gen_ai.system = "strands-agents" (_get_common_attributes); the agent span repeats the run's totals
    usage = {"gen_ai.usage.prompt_tokens": 3000, "gen_ai.usage.input_tokens": 3000,
             "gen_ai.usage.completion_tokens": 200, "gen_ai.usage.output_tokens": 200,
             "gen_ai.usage.total_tokens": 4700, "gen_ai.usage.cache_read_input_tokens": 1000,
             "gen_ai.usage.cache_write_input_tokens": 500}
    spans = run(tree_of(
        (1, 0, "invoke_agent support", {"gen_ai.operation.name": "invoke_agent", "gen_ai.system": "strands-agents",
                                        "gen_ai.agent.name": "support", **usage}),
        (2, 1, "execute_event_loop_cycle", {"event_loop.cycle_id": "c1"}),
        (3, 2, "chat", {"gen_ai.operation.name": "chat", "gen_ai.system": "strands-agents",
                        "gen_ai.request.model": "us.anthropic.claude-sonnet-4-20250514-v1:0", **usage}),
        (4, 0, "invoke_swarm", {"gen_ai.operation.name": "invoke_swarm", "gen_ai.system": "strands-agents",
                                "gen_ai.agent.name": "swarm"}),
        scope="strands.telemetry.tracer"))
    c = spans["chat"].call
    assert c.dialect == "strands" and c.provider is None  # a framework, not the model's provider
    assert (c.input_tokens, c.cache_read_tokens, c.cache_write_tokens, c.uncached_input_tokens) == (4500, 1000, 500, 3000)
    assert c.counted and "gen_ai.provider.name" not in spans["chat"].added
    agent = spans["invoke_agent support"].call
    assert (agent.kind, agent.agent_name, agent.input_tokens, agent.counted) == ("agent", "support", 4500, False)
    # its totals equal its call's (no "counted calls" mismatch); only the input's meaning differs from semconv
    assert spans["invoke_agent support"].get(semconv.USAGE_MISMATCH) == \
        "gen_ai.usage.input_tokens is 3000 on the span, 4500 normalized"
    assert spans["invoke_swarm"].call.kind == "agent"


def test_total_tokens_reveal_output_without_reasoning() -> None:
    # Vercel AI SDK v5 on Google: ai.usage.outputTokens = candidatesTokenCount (no thoughts),
    # ai.usage.reasoningTokens = thoughtsTokenCount, ai.usage.totalTokens = totalTokenCount (with them)
    spans = run(tree_of((1, 0, "ai.generateText.doGenerate", {
        "ai.operationId": "ai.generateText.doGenerate", "ai.model.id": "gemini-2.5-flash",
        "ai.model.provider": "google.generative-ai", "ai.usage.inputTokens": 400, "ai.usage.outputTokens": 100,
        "ai.usage.reasoningTokens": 60, "ai.usage.totalTokens": 560})))
    c = spans["ai.generateText.doGenerate"].call
    assert (c.provider, c.input_tokens, c.output_tokens, c.reasoning_tokens) == ("gcp.gemini", 400, 160, 60)
    # OpenAI-style output already includes reasoning: the total says so, nothing is added
    spans = run(tree_of((1, 0, "openai.chat", {"gen_ai.operation.name": "chat", "gen_ai.usage.input_tokens": 400,
                                               "gen_ai.usage.output_tokens": 100, "gen_ai.usage.reasoning_tokens": 60,
                                               "gen_ai.usage.total_tokens": 500}), scope="opentelemetry.instrumentation.openai.v1"))
    assert spans["openai.chat"].call.output_tokens == 100


def test_vercel_v5_anthropic_input_excludes_cache_v6_includes_it() -> None:
    # v5 @ai-sdk/anthropic: inputTokens = usage.input_tokens, cachedInputTokens = cache_read_input_tokens
    # (LangSmith's AI SDK exporter: "AI SDK does not include Anthropic cache tokens in their stated input")
    v5 = {"ai.operationId": "ai.streamText.doStream", "ai.model.id": "claude-sonnet-4-5",
          "ai.model.provider": "anthropic.messages", "ai.usage.inputTokens": 300, "ai.usage.outputTokens": 50,
          "ai.usage.cachedInputTokens": 200, "ai.usage.totalTokens": 350}
    c = run(tree_of((1, 0, "ai.streamText.doStream", v5)))["ai.streamText.doStream"].call
    assert (c.provider, c.input_tokens, c.uncached_input_tokens) == ("anthropic", 500, 300)
    # v6 (vercel/ai generate-text.ts): ai.usage.inputTokens = inputTokens.total = noCache + cacheRead + cacheWrite
    v6 = {"ai.operationId": "ai.streamText.doStream", "ai.model.id": "claude-sonnet-4-5",
          "ai.model.provider": "anthropic.messages", "ai.usage.inputTokens": 9500, "ai.usage.outputTokens": 300,
          "ai.usage.cachedInputTokens": 8000, "ai.usage.inputTokenDetails.noCacheTokens": 1000,
          "ai.usage.inputTokenDetails.cacheReadTokens": 8000, "ai.usage.inputTokenDetails.cacheWriteTokens": 500,
          "ai.usage.outputTokenDetails.textTokens": 280, "ai.usage.outputTokenDetails.reasoningTokens": 20,
          "ai.usage.totalTokens": 9800}
    c = run(tree_of((1, 0, "ai.streamText.doStream", v6)))["ai.streamText.doStream"].call
    assert (c.input_tokens, c.cache_read_tokens, c.cache_write_tokens, c.uncached_input_tokens) == (9500, 8000, 500, 1000)
    assert (c.output_tokens, c.reasoning_tokens) == (300, 20)


def test_vercel_embeddings_and_spans_renamed_by_an_exporter() -> None:
    # AI SDK telemetry docs: ai.embed / ai.embed.doEmbed carry only ai.usage.tokens; every span has
    # ai.operationId, which stays when a processor renames the span (operation.name adds the functionId)
    spans = run(tree_of(
        (1, 0, "embed-docs", {"ai.operationId": "ai.embed", "operation.name": "ai.embed embed-docs",
                              "ai.model.id": "text-embedding-3-small", "ai.model.provider": "openai.embedding",
                              "ai.usage.tokens": 42}),
        (2, 1, "embed-docs doEmbed", {"ai.operationId": "ai.embed.doEmbed", "ai.model.id": "text-embedding-3-small",
                                      "ai.model.provider": "openai.embedding", "ai.usage.tokens": 42}),
        (3, 0, "my-llm-step", {"ai.operationId": "ai.generateText.doGenerate", "ai.model.id": "gpt-4o-mini",
                               "ai.model.provider": "openai.chat", "ai.usage.inputTokens": 10,
                               "ai.usage.outputTokens": 2})))
    leaf = spans["embed-docs doEmbed"].call
    assert (leaf.kind, leaf.input_tokens, leaf.request_model, leaf.counted) == ("embeddings", 42, "text-embedding-3-small", True)
    assert not spans["embed-docs"].call.counted  # the wrapper: its doEmbed child counts
    assert spans["my-llm-step"].call.kind == "inference" and spans["my-llm-step"].call.counted


def test_semantic_kernel_operation_names_finish_reason_and_failed_call() -> None:
    # microsoft/semantic-kernel python/semantic_kernel/utils/telemetry/model_diagnostics: operation
    # "chat.completions" / "text.streaming_completions", gen_ai.response.finish_reason = ",".join(str(reason)),
    # older releases gen_ai.response.prompt_tokens / completion_tokens; a failure sets error.type and ERROR
    spans = run(tree_of(
        (1, 0, "chat.completions gpt-4o", {"gen_ai.operation.name": "chat.completions", "gen_ai.system": "openai",
                                           "gen_ai.request.model": "gpt-4o", "gen_ai.response.id": "chatcmpl-1",
                                           "gen_ai.response.finish_reason": "FinishReason.STOP,FinishReason.LENGTH",
                                           "gen_ai.usage.input_tokens": 9, "gen_ai.usage.output_tokens": 12}),
        (2, 0, "text.streaming_completions gpt-4o", {"gen_ai.operation.name": "text.streaming_completions",
                                                     "gen_ai.system": "openai", "gen_ai.request.model": "gpt-4o",
                                                     "error.type": "ServiceResponseException"}),
        (3, 0, "chat.completions old", {"gen_ai.operation.name": "chat.completions", "gen_ai.system": "openai",
                                        "gen_ai.request.model": "gpt-4o", "gen_ai.response.prompt_tokens": 30,
                                        "gen_ai.response.completion_tokens": 4}),
        error={2}))
    ok = spans["chat.completions gpt-4o"].call
    assert (ok.kind, ok.finish_reasons, ok.counted) == ("inference", ("stop", "length"), True)
    failed = spans["text.streaming_completions gpt-4o"].call
    assert (failed.kind, failed.error, failed.error_type) == ("inference", True, "ServiceResponseException")
    old = spans["chat.completions old"].call
    assert (old.input_tokens, old.output_tokens) == (30, 4)


def test_openinference_embedding_model_and_cache_input() -> None:
    # Arize-ai/openinference semconv/trace/__init__.py: EMBEDDING_MODEL_NAME = "embedding.model_name";
    # LLM_TOKEN_COUNT_PROMPT_DETAILS_CACHE_INPUT = "llm.token_count.prompt_details.cache_input"
    spans = run(tree_of(
        (1, 0, "CreateEmbeddingResponse", {"openinference.span.kind": "EMBEDDING",
                                           "embedding.model_name": "text-embedding-3-small",
                                           "llm.token_count.prompt": 8, "llm.token_count.total": 8}),
        (2, 0, "ChatCompletion", {"openinference.span.kind": "LLM", "llm.model_name": "gpt-4o-mini",
                                  "llm.token_count.prompt": 900, "llm.token_count.completion": 10,
                                  "llm.token_count.total": 910, "llm.token_count.prompt_details.cache_input": 512})))
    emb = spans["CreateEmbeddingResponse"].call
    assert (emb.kind, emb.request_model, emb.input_tokens) == ("embeddings", "text-embedding-3-small", 8)
    chat = spans["ChatCompletion"].call
    assert (chat.input_tokens, chat.cache_read_tokens) == (900, 512)  # a subset: total says input includes it


def test_litellm_v2_span_is_litellm_not_openinference() -> None:
    # LiteLLM OTel v2 (genai-dialects.md section 5): canonical gen_ai.*, legacy names and llm.token_count.*
    # on one span, plus litellm.cost.*
    a = {"gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai", "gen_ai.usage.input_tokens": 10,
         "llm.token_count.prompt": 10, "litellm.cost.total": 0.001}
    assert dialect_of(a, "litellm") == "litellm"


def test_langfuse_langchain_details_are_all_added_back() -> None:
    # langfuse-python langfuse/langchain/CallbackHandler.py _parse_usage_model: every input_token_details
    # entry becomes input_<key> and is subtracted from input (audio too), output_token_details likewise;
    # total keeps the provider's total_tokens
    details = {"input": 100, "input_audio": 50, "input_cache_read": 800, "input_cache_creation": 50,
               "output": 30, "output_reasoning": 15, "output_audio": 5, "total": 1050}
    c = run(tree_of((1, 0, "ChatOpenAI", {"langfuse.observation.type": "generation",
                                          "langfuse.observation.model.name": "gpt-4o-audio-preview",
                                          "langfuse.observation.usage_details": json.dumps(details)})))["ChatOpenAI"].call
    assert (c.input_tokens, c.output_tokens, c.cache_read_tokens, c.cache_write_tokens) == (1000, 50, 800, 50)
    assert (c.reasoning_tokens, c.uncached_input_tokens) == (15, 150)
    # the handler clamps at 0 when details overlap (Vertex modality + cache): the provider total is exact
    vertex = {"input": 0, "input_modality_TEXT": 0, "cached_modality_TEXT": 600, "output": 20, "total": 1020}
    c = run(tree_of((1, 0, "ChatVertexAI", {"langfuse.observation.type": "generation",
                                            "langfuse.observation.usage_details": json.dumps(vertex)})))["ChatVertexAI"].call
    assert (c.input_tokens, c.output_tokens) == (1000, 20)


def test_openllmetry_traceloop_entity_names_agents_and_tools_only() -> None:
    # traceloop-sdk decorators (@agent, @tool, @task): traceloop.span.kind + traceloop.entity.name
    spans = run(tree_of(
        (1, 0, "triage.agent", {"traceloop.span.kind": "agent", "traceloop.entity.name": "triage",
                                "traceloop.workflow.name": "support"}),
        (2, 1, "lookup.tool", {"traceloop.span.kind": "tool", "traceloop.entity.name": "lookup_order"}),
        (3, 1, "summarize.task", {"traceloop.span.kind": "task", "traceloop.entity.name": "summarize"}),
        (4, 0, "other.agent", {"traceloop.span.kind": "agent", "traceloop.entity.name": "billing"}),
        scope="traceloop.tracer"))
    assert spans["triage.agent"].call.agent_name == "triage"
    assert spans["other.agent"].call.agent_name == "billing"  # not a shared Call of the first agent
    assert spans["lookup.tool"].call.tool_name == "lookup_order"
    assert spans["summarize.task"].call.agent_name is None


def test_google_adk_call_llm_session_and_framework_system() -> None:
    # google/adk-python src/google/adk/telemetry/tracing.py trace_call_llm: gen_ai.system = "gcp.vertex.agent"
    # (the framework), gcp.vertex.agent.session_id, gen_ai.usage.input/output_tokens
    c = run(tree_of((1, 0, "call_llm", {"gen_ai.system": "gcp.vertex.agent", "gen_ai.request.model": "gemini-2.0-flash",
                                        "gcp.vertex.agent.session_id": "s-42", "gcp.vertex.agent.invocation_id": "e-1",
                                        "gen_ai.usage.input_tokens": 120, "gen_ai.usage.output_tokens": 8,
                                        "gen_ai.response.finish_reasons": ["stop"]}),
                    scope="gcp.vertex.agent"))["call_llm"].call
    assert (c.kind, c.dialect, c.provider, c.conversation_id, c.counted) == ("inference", "google-adk", None, "s-42", True)


def test_provider_spellings_of_spring_ai_litellm_vercel_pydantic_ai() -> None:
    # Spring AI AiProvider enum; LiteLLM custom_llm_provider; Vercel ai.model.provider; pydantic-ai GoogleModel
    assert normalize_provider("azure-openai") == "azure.ai.openai"
    assert normalize_provider("bedrock_converse") == "aws.bedrock"
    assert normalize_provider("spring_ai") is None
    assert normalize_provider("azure_ai") == "azure.ai.inference"
    assert normalize_provider("google.vertex.chat") == "gcp.vertex_ai"
    assert normalize_provider("google.generative-ai") == "gcp.gemini"
    assert normalize_provider("google-gla") == "gcp.gemini"


def test_kind_of_reads_vercel_operation_id_before_the_name() -> None:
    assert kind_of({"ai.operationId": "ai.streamText.doStream"}, "custom name", None) == "inference"
    assert kind_of({"ai.operationId": "ai.streamText"}, "custom name", None) == "agent"


def test_sentry_spells_cache_and_reasoning_as_subkeys_of_the_totals() -> None:
    # Sentry's conventions (getsentry/relay relay-conventions, the attributes its SDKs' AI integrations write):
    # gen_ai.usage.input_tokens "including cached input tokens", gen_ai.usage.input_tokens.cached and
    # .cache_write within it, gen_ai.usage.output_tokens.reasoning within the output
    c = run(tree_of((1, 0, "chat gpt-4o-mini", {
        "sentry.op": "gen_ai.chat", "sentry.origin": "auto.ai.openai", "gen_ai.operation.name": "chat",
        "gen_ai.system": "openai", "gen_ai.request.model": "gpt-4o-mini", "gen_ai.usage.input_tokens": 1200,
        "gen_ai.usage.input_tokens.cached": 1024, "gen_ai.usage.input_tokens.cache_write": 100,
        "gen_ai.usage.output_tokens": 300, "gen_ai.usage.output_tokens.reasoning": 128,
        "gen_ai.usage.total_tokens": 1500})))["chat gpt-4o-mini"].call
    assert c is not None and c.counted
    assert (c.input_tokens, c.cache_read_tokens, c.cache_write_tokens) == (1200, 1024, 100)
    assert (c.output_tokens, c.reasoning_tokens, c.uncached_input_tokens) == (300, 128, 76)


def test_azure_ai_agents_run_is_priced_as_azure_openai() -> None:
    # azure-ai-agents telemetry (_utils.py): a run span with gen_ai.system "az.ai.agents", the run's usage and
    # model, gen_ai.request.max_output_tokens; the JS SDKs say gen_ai.provider.name "microsoft.foundry"
    for attrs in ({"gen_ai.system": "az.ai.agents"}, {"gen_ai.provider.name": "microsoft.foundry"}):
        c = run(tree_of((1, 0, "process_thread_run", {
            **attrs, "gen_ai.operation.name": "process_thread_run", "gen_ai.agent.id": "asst_1",
            "gen_ai.thread.id": "thread_1", "gen_ai.thread.run.id": "run_1", "gen_ai.response.model": "gpt-4o",
            "gen_ai.request.max_output_tokens": 512, "gen_ai.usage.input_tokens": 900,
            "gen_ai.usage.output_tokens": 80, "server.address": "acme.services.ai.azure.com"})))["process_thread_run"].call
        assert c is not None and c.counted and c.provider == "azure.ai.openai", attrs
        assert (c.input_tokens, c.output_tokens, c.max_tokens) == (900, 80, 512)
        assert c.cost_usd is not None and c.cost_usd > 0


def test_semconv_plan_spans_are_steps_and_tool_results_are_read() -> None:
    # semantic-conventions-genai model/gen-ai/registry.yaml: gen_ai.operation.name ``plan`` (an agent's planning
    # phase, holding model calls of its own) and the input messages' example, whose tool_call_response part
    # keeps the tool's answer as ``result``
    msgs = [{"role": "user", "parts": [{"type": "text", "content": "Weather in Paris?"}]},
            {"role": "assistant", "parts": [{"type": "tool_call", "id": "call_1", "name": "get_weather",
                                             "arguments": {"location": "Paris"}}]},
            {"role": "tool", "parts": [{"type": "tool_call_response", "id": "call_1", "result": "rainy, 57F"}]}]
    spans = run(tree_of(
        (1, 0, "plan trip", {"gen_ai.operation.name": "plan", "gen_ai.agent.name": "planner"}),
        (2, 1, "chat gpt-4o", {"gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai",
                               "gen_ai.request.model": "gpt-4o", "gen_ai.usage.input_tokens": 50,
                               "gen_ai.usage.output_tokens": 10, "gen_ai.input.messages": json.dumps(msgs)})))
    assert spans["plan trip"].call.kind == "workflow" and not spans["plan trip"].call.counted
    c = spans["chat gpt-4o"].call
    assert c.counted and c.input_content is not None
    assert "rainy, 57F" in c.input_content and "get_weather" in c.input_content and "Paris" in c.input_content


def test_openinference_output_message_finish_reasons() -> None:
    # openinference-instrumentation-strands-agents 0.1.12 processor.py: each output message's
    # ``message.finish_reason`` (from the gen_ai.choice event it strips); read in message order where no
    # finish reasons key is there (llm.finish_reason first), on any OpenInference span of a model call
    msgs = {f"llm.output_messages.{n}.message.{k}": v for n, r in ((10, "max_tokens"), (2, "end_turn"))
            for k, v in (("role", "assistant"), ("content", "ok"), ("finish_reason", r))}
    usage = {"openinference.span.kind": "LLM", "llm.model_name": "gpt-4o-mini", "llm.token_count.prompt": 10,
             "llm.token_count.completion": 2}
    spans = run(tree_of((1, 0, "chat", {**usage, **msgs}), (2, 0, "llm", {**usage, **msgs, "llm.finish_reason": "stop"}),
                        (3, 0, "agent", {"openinference.span.kind": "AGENT", **msgs})))
    assert spans["chat"].call.finish_reasons == ("end_turn", "max_tokens")
    assert spans["llm"].call.finish_reasons == ("stop",)
    assert spans["agent"].call.finish_reasons == ()  # not a model call
