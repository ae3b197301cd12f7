"""Reading one span into a ``Call``, whatever instrumentation wrote it.

Each field is read by precedence, first non-null wins (genai-dialects.md
section 7): current semconv, older semconv, OpenInference, then vendor
keys. One value per field, never a sum of dialects. Cache and reasoning
inclusion is then fixed per (dialect, provider) so that input always
includes cache and output always includes reasoning.
"""

from __future__ import annotations

import operator
from typing import Any

from otel_tokenwatch.otlp.wire import key_values_to_dict
from otel_tokenwatch.pipeline.call import Call, SpanKind, cut_by_finish_reason
from otel_tokenwatch.pipeline.normalize import coerce
from otel_tokenwatch.pipeline.normalize.content import KeyIndex, input_messages, keyed_hash, messages
from otel_tokenwatch.pipeline.normalize.providers import ALIASES, normalize_provider, provider_at_host
from otel_tokenwatch.pipeline.tree import SpanEntry

#: Semantic Kernel names its model calls ``chat.completions``, ``chat.streaming_completions``,
#: ``text.completions``, ``text.streaming_completions`` (microsoft/semantic-kernel
#: python/semantic_kernel/utils/telemetry/model_diagnostics/decorators.py); LiteLLM v1 puts its call type
#: (``anthropic_messages`` for its /v1/messages route) where the operation belongs
INFERENCE_OPS = {"chat", "text_completion", "generate_content", "realtime_inference", "llm_call", "completion",
                 "responses", "response", "generate", "chat.completions", "chat.streaming_completions",
                 "text.completions", "text.streaming_completions", "anthropic_messages"}
EMBEDDING_OPS = {"embeddings", "embedding"}
TOOL_OPS = {"execute_tool", "tool_call"}
#: Strands multi-agent runs are ``invoke_swarm`` / ``invoke_graph`` (strands-agents/sdk-python
#: src/strands/telemetry/tracer.py, start_multiagent_span: ``f"invoke_{instance}"``)
AGENT_OPS = {"invoke_agent", "create_agent", "agent_call", "invoke_swarm", "invoke_graph"}
#: the semantic conventions' ``plan`` (an agent's planning or task decomposition phase, semantic-conventions-genai
#: model/gen-ai/registry.yaml gen_ai.operation.name) holds model calls of its own: a step, not a call
WORKFLOW_OPS = {"invoke_workflow", "workflow", "plan"}

OI_KINDS: dict[str, SpanKind] = {"LLM": "inference", "EMBEDDING": "embeddings", "TOOL": "tool", "AGENT": "agent",
                                 "CHAIN": "workflow"}
TRACELOOP_KINDS: dict[str, SpanKind] = {"workflow": "workflow", "task": "workflow", "agent": "agent",
                                        "tool": "tool"}
LANGFUSE_KINDS: dict[str, SpanKind] = {"generation": "inference", "embedding": "embeddings", "tool": "tool",
                                       "agent": "agent", "chain": "workflow"}
MLFLOW_KINDS: dict[str, SpanKind] = {"LLM": "inference", "CHAT_MODEL": "inference", "EMBEDDING": "embeddings",
                                     "TOOL": "tool", "AGENT": "agent", "CHAIN": "workflow"}
#: Laminar's span types (lmnr 0.8.2 sdk/types.py LaminarSpanType: DEFAULT, LLM, TOOL, EVALUATION, EXECUTOR,
#: EVALUATOR; attribute ``lmnr.span.type``): its instrumentations mark each model call LLM, ``@observe`` writes the
#: type it is given (DEFAULT unless told). Only these two decide; the others are the app's own functions and
#: evaluation runs, read by the rules that follow (a DEFAULT span is "other" there)
LMNR_KINDS: dict[str, SpanKind] = {"LLM": "inference", "TOOL": "tool"}

USAGE_KEYS = ("gen_ai.usage.input_tokens", "gen_ai.usage.output_tokens", "gen_ai.usage.prompt_tokens",
              "gen_ai.usage.completion_tokens", "llm.token_count.prompt", "llm.token_count.completion",
              "ai.usage.inputTokens", "ai.usage.outputTokens", "ai.usage.promptTokens", "ai.usage.completionTokens",
              "langfuse.observation.usage_details", "mlflow.chat.tokenUsage")


#: ``gen_ai.response.finish_reason`` (singular, comma-joined) is Semantic Kernel's spelling
#: (model_diagnostics/gen_ai_attributes.py), as are ``gen_ai.response.prompt_tokens`` / ``completion_tokens``
#: in its releases before the v1.28 usage names
FINISH_KEYS = ("gen_ai.response.finish_reasons", "llm.finish_reason", "llm.response.finish_reason",
               "langfuse.observation.metadata.finish_reason", "ai.response.finishReason",
               "gen_ai.completion.0.finish_reason", "gen_ai.response.finish_reason",
               # the anthropic SDK's own spans (anthropic >= 2, anthropic/_tracing.py SPAN_ATTRIBUTES
               # "anthropic.messages.create": ``anthropic.message.stop_reason`` = the Message's stop_reason,
               # end_turn / max_tokens / tool_use; no gen_ai.response.finish_reasons)
               "anthropic.message.stop_reason")


def _op(a: dict[str, Any]) -> str | None:
    raw = a.get("gen_ai.operation.name")
    if raw is None:
        raw = a.get("llm.request.type")
    if raw is None:
        # AgentOps' spelling of Traceloop's llm.request.type (agentops 0.4.21 semconv/span_attributes.py
        # LLM_REQUEST_TYPE; instrumentation/providers/openai/wrappers/chat.py handle_chat_attributes writes
        # "chat" on every call, the failed ones, which carry nothing else to tell their kind, included)
        raw = a.get("gen_ai.request.type")
    if raw is None:
        return None
    got = _OPS.get(raw) if type(raw) is str else None
    if got is None:
        got = _read_op(raw)
        if type(raw) is str:
            if len(_OPS) >= 1024:
                _OPS.clear()
            _OPS[raw] = got
    return got or None


def _read_op(raw: Any) -> str:
    op = coerce.to_str(raw)
    if op is None:
        return ""
    op = op.lower()
    # LiteLLM v1 puts its call type here: acompletion, aembedding, atext_completion
    if op.startswith("a") and op[1:] in INFERENCE_OPS | EMBEDDING_OPS:
        op = op[1:]
    return op


#: operation names as sent -> as read ("" for none): a handful of distinct values, read on every span
_OPS: dict[str, str] = {}


_PREFIX_MARKS = {"llm": "llm.", "langfuse": "langfuse.", "litellm": "litellm.", "gen_ai": "gen_ai.",
                 "mlflow": "mlflow.", "ai": "ai.", "traceloop": "traceloop."}


def _marks(a: dict[str, Any]) -> set[str]:
    """Which key families a span carries, in one pass over its keys."""
    marks: set[str] = set()
    for k in a:
        head = k.split(".", 1)[0]
        if head in _PREFIX_MARKS:
            marks.add(head)
            if head == "llm" and k.startswith("llm.token_count."):
                marks.add("llm.token_count.")
            elif head == "llm" and k.startswith("llm.usage."):
                marks.add("llm.usage.")
            elif head == "gen_ai" and k.startswith("gen_ai.cost."):
                marks.add("gen_ai.cost")
    return marks


def dialect_of(a: dict[str, Any], scope: str) -> str:
    if "genkit:type" in a:
        return "genkit"  # Firebase Genkit's own action spans (GENKIT_KINDS, _genkit_call)
    s = scope.lower()
    m = _marks(a)
    # LiteLLM's OTel v2 span carries canonical gen_ai.*, legacy names and OpenInference llm.token_count.*
    # together (genai-dialects.md section 5): its own litellm.* keys name it, whatever else it repeats
    if "litellm" in m:
        return "litellm"
    if "openinference.span.kind" in a or "llm.token_count." in m:
        return "openinference"
    if "langfuse" in m:
        return "langfuse"
    if "openlit" in s or "gen_ai.usage.cost" in a:
        return "openlit"
    if "pydantic" in s or "logfire.msg" in a or "operation.cost" in a:
        return "pydantic-ai"
    if "gen_ai.cost" in m:
        return "litellm"
    if "mlflow" in m:
        return "mlflow"
    if "ai" in m:
        return "vercel-ai"
    # Laminar's own instrumentations are forks of OpenLLMetry's (lmnr 0.8.2 opentelemetry_lib/opentelemetry/
    # instrumentation/{openai,anthropic}, opentelemetry-semantic-conventions-ai's names) under one scope,
    # ``lmnr.tracer``; a streamed Anthropic call's span has no llm.usage.total_tokens to tell them by
    if "traceloop" in s or "traceloop" in m or "llm.usage." in m or "lmnr.span.type" in a \
            or ("opentelemetry.instrumentation.openai" in s and "v2" not in s):
        return "openllmetry"
    if "gemini_cli" in s or "gemini-cli" in s:
        return "gemini-cli"
    # Strands Agents' tracer (scope strands.telemetry.tracer) and Google ADK's (scope gcp.vertex.agent)
    # write semconv names with framework values (gen_ai.system = strands-agents / gcp.vertex.agent)
    if "strands" in s:
        return "strands"
    if s == "gcp.vertex.agent":
        return "google-adk"
    if "gen_ai" in m:
        return "semconv"
    return ""


#: the kind an operation name decides on its own (kind_of's first rule, as one lookup)
_OP_KINDS: dict[str, SpanKind] = {**dict.fromkeys(INFERENCE_OPS, "inference"), **dict.fromkeys(EMBEDDING_OPS, "embeddings"),
                                  **dict.fromkeys(TOOL_OPS, "tool"), **dict.fromkeys(AGENT_OPS, "agent"),
                                  **dict.fromkeys(WORKFLOW_OPS, "workflow")}


#: spans that say an inference operation of what is no model call: OpenLLMetry's watsonx instrumentation wraps
#: ``ModelInference.__init__`` and ``get_details`` like ``generate``, with the same gen_ai.system "Watsonx" and
#: llm.request.type "completion" (opentelemetry-instrumentation-watsonx 0.62.4 __init__.py WRAPPED_METHODS_WATSON_AI_
#: VERSION_1, _wrap); the init fetches the model specs, get_details the model's details: neither generates
NOT_CALL_SPANS = frozenset({"watsonx.model_init", "watsonx.get_details"})
#: OpenLIT's ag2 instrumentor writes ``gen_ai.operation.name`` "chat" on its spans of an agent's generate_reply,
#: receive and send (openlit 1.45.0 instrumentation/ag2/utils.py process_agent_generate_reply / _receive / _send:
#: ``SemanticConvention.GEN_AI_OPERATION_TYPE_CHAT``, span ``execute_task {agent}``, provider ``ag2``), the step
#: named in ``gen_ai.agent.message_type`` (semcov GEN_AI_AGENT_MESSAGE_TYPE, which no other OpenLIT instrumentor
#: writes): an agent's step, around the model call OpenLIT's client instrumentor spans, or none (a tool's reply)
OPENLIT_AG2_STEP = "gen_ai.agent.message_type"
OPENLIT_AG2_SCOPE = "openlit.instrumentation.ag2"
#: AG2's own tracer (ag2 0.14.0 autogen/opentelemetry/consts.py INSTRUMENTING_MODULE_NAME)
AG2_OTEL_SCOPE = "opentelemetry.instrumentation.ag2"
#: AG2 1.x's TelemetryMiddleware (ag2 1.2.1 middleware/builtin/telemetry.py, the same scope, every span with
#: ``ag2.span.type``) writes each ``UsageEvent`` on the turn's stream as a ``record_usage {kind}`` span
#: (record_usage_span), and AG2's agent loop sends one of kind ``model_call`` after every model call it makes
#: (agent.py _call_client: ``UsageEvent(result.usage, kind="model_call", ...)`` right after ``llm_call``, which
#: on_llm_call spans as ``chat {model}``): that span repeats the chat span's usage beside it, an accounting
#: record, no call. The other kinds (``compaction``, ``aggregation``, ``subtask``: usage.py) are spend that
#: never becomes a chat span ("the only route by which spend that never becomes an LLM span reaches a trace",
#: _telemetry_consts.py ATTR_USAGE_KIND) and read as calls. (A live session's ``model_call`` events, live/openai.py
#: and live/gemini.py, have no chat span beside them: that spend is not read.)
AG2_USAGE_KIND = "ag2.usage.kind"
AG2_SPAN_TYPE = "ag2.span.type"


def kind_of(a: dict[str, Any], name: str, op: str | None) -> SpanKind:
    if op is not None:
        k = _OP_KINDS.get(op)
        if k is not None:
            if k == "inference" and name in NOT_CALL_SPANS:
                return "other"
            if k == "inference" and OPENLIT_AG2_STEP in a:
                return "agent"
            return k
    gt = a.get("genkit:type")
    if gt is not None:
        # Firebase Genkit's own spans, one per action it runs (@genkit-ai/core 1.42.0 lib/tracing/instrumentation.js
        # runInNewSpan: ``genkit:type`` the action type, ``genkit:metadata:subtype`` its kind: model, tool, flow, ...)
        # (a value of another type, a list or a mapping, names no kind: tables are looked up by strings only)
        sub = a.get("genkit:metadata:subtype")
        return GENKIT_KINDS.get(sub if type(sub) is str and sub else str(gt)) or GENKIT_KINDS.get(str(gt), "other")
    # the Vercel AI SDK names the step in ``ai.operationId`` (also ``operation.name``, with the functionId);
    # the span name is that id only until an exporter or processor renames the span
    vid = a.get("ai.operationId")
    if type(vid) is str:
        name = vid
    for key, table in (("openinference.span.kind", OI_KINDS), ("traceloop.span.kind", TRACELOOP_KINDS),
                       ("langfuse.observation.type", LANGFUSE_KINDS), ("mlflow.spanType", MLFLOW_KINDS)):
        v = coerce.to_str(a.get(key))
        if v is not None:
            k = table.get(v) or table.get(v.upper()) or table.get(v.lower())
            if k == "inference" and "._prepare_" in name:
                # OpenInference's LlamaIndex handler gives every dispatcher span on an LLM instance kind LLM
                # (openinference-instrumentation-llama-index 4.6.1 _handler.py ``_init_span_kind`` for BaseLLM),
                # helpers too: ``OpenAI._prepare_chat_with_tools`` (llama-index-llms-openai 0.8.3 base.py) only
                # builds the next request's kwargs, beside the ``OpenAI.chat`` span that makes the call
                return "other"
            if k == "inference" and "metadata.path" in a and "llm.model_name" not in a:
                # OpenInference's BeeAI instrumentation writes every emitter event of a chat run (new_token,
                # error, ...) as a child span of the run's span with the run's kind (openinference-
                # instrumentation-beeai 0.1.30 _span.py SpanWrapper.child: ``kind=self.kind``, the event's
                # ``metadata.path`` such as backend.openai.chat.new_token, no model, no usage): the call is the
                # parent ``OpenAIChatModel`` span, an event is none
                return "other"
            if k is not None:
                return k
            if v == "RETRIEVER" and name == OI_BEDROCK_KB_SPAN:
                return "tool"
            return "other"
    lt = a.get("lmnr.span.type")
    if type(lt) is str and lt in LMNR_KINDS:
        # a failed call's span has no usage, no operation name, nothing but Laminar's type to tell it
        # (its OpenAI and Anthropic forks of OpenLLMetry write no llm.request.type)
        return LMNR_KINDS[lt]
    if name.startswith("ai.") and name.endswith((".doGenerate", ".doStream")):
        return "inference"
    if name.startswith(("ai.generateText", "ai.streamText", "ai.generateObject", "ai.streamObject")):
        return "agent"
    if name.startswith("ai.embed"):
        return "embeddings"
    if name.startswith("execute_tool") or "gen_ai.tool.name" in a or "ai.toolCall.name" in a:
        return "tool"
    if a.get("mcp.method.name") == "tools/call":
        # the semantic conventions' MCP spans: ``tools/call`` is a tool execution (gen_ai.operation.name
        # execute_tool, gen_ai.tool.name recommended); mcp 2.3's own client span names the method only
        # (mcp/shared/jsonrpc_dispatcher.py: ``MCP send tools/call get_order``, mcp.method.name and
        # jsonrpc.request.id), so it read as "other"
        return "tool"
    if name.startswith("invoke_agent") or "gen_ai.agent.name" in a:
        return "agent"
    if op in AZ_AGENTS_RUN_OPS and type(st := a.get(AZ_AGENTS_RUN_STATUS)) is str and st in AZ_AGENTS_RUN_ENDS:
        return "inference"  # a failed run too, which has no usage (see AZ_AGENTS_RUN_OPS)
    if a.get(AG2_USAGE_KIND) == "model_call":
        return "other"  # AG2 1.x's copy of a chat span's usage (see AG2_USAGE_KIND)
    if any(k in a for k in USAGE_KEYS):
        return "inference"
    if "gen_ai.request.model" in a and ("gen_ai.response.id" in a or "gen_ai.response.finish_reasons" in a):
        return "inference"  # a model call that names no operation (Claude Code's claude_code.llm_request)
    if op is None and "gen_ai.provider.name" in a and "gen_ai.request.model" in a:
        # no operation, a provider asked for a model, nothing more: OpenLLMetry JS's Bedrock span of a call it cannot read
        # (@traceloop/instrumentation-bedrock 0.27.0 dist/index.js _startSpan: ``bedrock.completion`` with only
        # gen_ai.provider.name and gen_ai.request.model unless ``input.body`` is a string, i.e. every Converse /
        # ConverseStream call; _endSpan reads ``result.body`` only): still one model call, with no usage
        return "inference"
    t = a.get("logfire.msg_template")
    if type(t) is str:
        # Logfire's OpenAI Agents SDK spans (logfire 5.4 _internal/integrations/openai_agents.py, the span name
        # is the message template): the operation, response id and finish reasons of a model span come from the
        # Response only (get_basic_response_attributes), so a failed call (429, 500, a stream ended
        # response.incomplete) keeps just its template; function and agent spans name neither operation nor
        # gen_ai.* names (their tool or agent is ``name``, read for that scope in _Plan)
        return LOGFIRE_AGENTS_KINDS.get(t, "other")
    if "conversation.id" in a:
        k = PIPECAT_KINDS.get(name)
        if k is not None:
            return k
    return NAMED_CALL_KINDS.get(name, "other")


#: spans known as model calls by their name alone, whatever keys they carry. OpenLLMetry's SageMaker
#: instrumentation (opentelemetry-instrumentation-sagemaker 0.62.4 __init__.py _instrumented_endpoint_invoke and
#: _instrumented_endpoint_invoke_with_response_stream) spans every ``invoke_endpoint`` and
#: ``invoke_endpoint_with_response_stream`` of a ``sagemaker-runtime`` client as ``sagemaker.completion``, with no
#: operation, provider, usage or finish reason: the endpoint name as gen_ai.request.model and the raw request and
#: response bodies as traceloop.entity.input / output (span_utils.py), a failed call only error.type. One model
#: call each (an endpoint hosts one model; see SAGEMAKER_SCOPE for what its body may tell)
NAMED_CALL_KINDS: dict[str, SpanKind] = {"sagemaker.completion": "inference"}
#: the stream flag a span's name gives, for model calls whose spans write none: OpenLLMetry's Replicate
#: instrumentation (opentelemetry-instrumentation-replicate 0.62.4 __init__.py WRAPPED_METHODS) names its span after
#: the client function it wraps, ``replicate.stream`` (server-sent events) or ``replicate.run`` (the finished
#: prediction's output)
NAMED_STREAMS = {"replicate.stream": True, "replicate.run": False}


#: azure-ai-agents 1.1.0 telemetry (_ai_agents_instrumentor.py): a run's model calls are the service's, the client
#: sees the run only. set_end_run writes the run as last fetched (``gen_ai.thread.run.status``, the run's usage
#: once it ended) on the span of each call that returns one: ``get_thread_run`` (runs.get, every poll),
#: ``process_thread_run`` (runs.stream, from the last thread.run event), ``start_thread_run`` (runs.create, and
#: runs.create_and_process, whose qualname matches the ``RunsOperations.create`` prefix first in
#: _trace_sync_function: its span is named start_thread_run too, over the create and the polls). A run that ended
#: is the report of its model calls, a failed one (``last_error``: the span ERROR, ``error.type`` its code such as
#: rate_limit_exceeded, no usage) of a failed call. Not start_thread_run: without usage it is the create (queued)
#: or create_and_process over the poll that saw the end, which would make one failed run two failed calls
AZ_AGENTS_RUN_OPS = frozenset({"get_thread_run", "process_thread_run"})
AZ_AGENTS_RUN_STATUS = "gen_ai.thread.run.status"
AZ_AGENTS_RUN_ENDS = frozenset({"completed", "incomplete", "failed", "expired"})
#: the run's id, on every span of one run (_utils.py start_span, set_end_run): the same run's usage, reported by
#: create_and_process's span and the poll inside it, or by a later runs.get of the finished run, counts once
AZ_AGENTS_RUN_ID = "gen_ai.thread.run.id"
#: the Agents service's thread is the run's conversation (semantic-conventions-genai registry.yaml
#: gen_ai.conversation.id: "a conversation (session, thread)"), on every span of it (_utils.py start_span)
AZ_AGENTS_THREAD_ID = "gen_ai.thread.id"

#: Genkit's action kinds (``genkit:metadata:subtype``, else ``genkit:type``): a ``model`` action is one model call
#: (@genkit-ai/ai 1.42.0 lib/model.js defineModel: actionType "model"; genkit.dev docs "Observability": one span per
#: action), ``embedder`` one embeddings call, ``tool`` a tool run (lib/tool.js); a ``flow`` (lib/flow.js) and the
#: ``generate`` util span (lib/generate.js: ``runInNewSpan`` with ``genkit:type`` util around the model calls and
#: tools of one generate, whose output repeats the last call's usage) are the app's workflow
GENKIT_KINDS: dict[str, SpanKind] = {"model": "inference", "embedder": "embeddings", "tool": "tool", "flow": "workflow",
                                     "util": "workflow"}
#: Genkit plugin names (the head of a model action's name) that providers.normalize_provider does not know:
#: @genkit-ai/google-genai's Gemini API plugin registers its models as ``googleai/{model}`` (googleai/gemini.ts
#: commonRef); ``vertexai/`` and compat-oai's ``openai/`` (or the name the app gives openAICompatible) it reads
GENKIT_PLUGINS = {"googleai": "gcp.gemini", "googleAI": "gcp.gemini"}
#: Pipecat's turn tracing (pipecat-ai 1.14.0 utils/tracing/turn_trace_observer.py, tracer ``pipecat.turn``): a
#: ``conversation`` span per pipeline run (``conversation.id``, ``conversation.type``) and a ``turn`` span per
#: user-and-bot exchange in it (``turn.number``, ``conversation.id``), around the service spans of the turn; neither
#: has a gen_ai.* key. The conversation is the session's workflow, a turn the bot's answer to one user turn (what
#: other frameworks write as an ``invoke_agent`` per user message); neither is a model call
PIPECAT_KINDS: dict[str, SpanKind] = {"conversation": "workflow", "turn": "agent"}
#: Pipecat's service spans (utils/tracing/service_decorators.py ``trace.get_tracer("pipecat")``: llm, tts, stt)
PIPECAT_SCOPE = "pipecat"
LOGFIRE_AGENTS_SCOPE = "logfire.openai_agents"
LOGFIRE_AGENTS_KINDS: dict[str, SpanKind] = {
    "Responses API with {gen_ai.request.model!r}": "inference", "Responses API": "inference",
    "Chat completion with {gen_ai.request.model!r}": "inference", "Function: {name}": "tool",
    "Agent run: {name!r}": "agent"}


#: the keys read_call looks up for each field, in precedence order (indexes of a plan)
#: (``metadata.usage.cached_prompt_tokens`` / ``cached_creation_tokens``: BeeAI's ChatModelUsage, which
#: openinference-instrumentation-beeai 0.1.30 processors/chat.py writes only as metadata; beeai-framework 0.1.85
#: adapters/litellm/utils.py parse_chat_model_usage: prompt_tokens_details.cached_tokens, within the prompt)
#: Sentry's SDKs (their AI integrations, on OpenTelemetry in @sentry/node) spell the subsets
#: ``gen_ai.usage.input_tokens.cached`` / ``.cache_write`` and ``gen_ai.usage.output_tokens.reasoning``, with
#: gen_ai.usage.input_tokens "including cached input tokens" (getsentry/relay relay-conventions: aliases of
#: gen_ai.usage.cache_read.input_tokens, gen_ai.usage.cache_creation.input_tokens, gen_ai.usage.reasoning.output_tokens)
#: Langtrace (langtrace-python-sdk 3.8.21 instrumentation/openai/patch.py _set_response_attributes) writes OpenAI's
#: ``usage.prompt_tokens_details.cached_tokens`` as ``gen_ai.usage.cached_tokens``, within gen_ai.usage.input_tokens
#: (its prompt_tokens)
#: pydantic-ai's Gemini usage keeps thoughtsTokenCount as ``gen_ai.usage.details.thoughts_tokens`` (pydantic-ai-slim
#: 2.68 models/google.py _usage_metadata_as_usage ``details['thoughts_tokens']``), inside gen_ai.usage.output_tokens
#: (RequestUsage.extract with genai-prices' Google extractor: candidatesTokenCount + thoughtsTokenCount)
#: Azure AI Foundry's agent SDKs write the output limit as gen_ai.request.max_output_tokens (azure-ai-agents
#: telemetry/_utils.py GEN_AI_REQUEST_MAX_OUTPUT_TOKENS, beside gen_ai.request.max_input_tokens)
#: ``conversation.id``, read last, is the conversation id of Pipecat's conversation and turn spans
#: (pipecat-ai 1.14.0 utils/tracing/turn_trace_observer.py: the PipelineWorker's ``conversation_id``)
#: ``llm.response.model`` / ``llm.response.id``, read last: the response's ``model`` and ``id`` as LiteLLM's
#: OpenInference-style mapper writes them for its arize, phoenix and langfuse_otel callbacks (litellm 1.110.2
#: integrations/arize/_utils.py _set_request_attributes: ``response_obj.get("id")`` / ``.get("model")``)
#: AG2 1.x's TelemetryMiddleware writes the reasoning count as ``gen_ai.usage.thinking_tokens`` (ag2 1.2.1
#: middleware/builtin/telemetry.py on_llm_call: ``Usage.thinking_tokens``; the OpenAI mapper's reasoning_tokens,
#: inside completion_tokens, config/openai/mappers.py normalize_usage; "a decomposition of output_tokens, not an
#: addition to it", config/anthropic/mappers.py) and cache counts under OpenLLMetry's old underscore names
_FIELD_KEYS: tuple[tuple[str, ...], ...] = (
    ("gen_ai.provider.name", "gen_ai.system", "llm.provider", "llm.system", "ai.model.provider", "mlflow.llm.provider"),  # F_PROVIDER
    ("gen_ai.request.model", "llm.request.model_name", "llm.model_name", "embedding.model_name", "langfuse.observation.model.name", "ai.model.id", "mlflow.llm.model", "model_name"),  # F_REQUEST_MODEL
    ("gen_ai.response.model", "llm.response.model_name", "ai.response.model", "llm.response.model"),  # F_RESPONSE_MODEL
    ("gen_ai.usage.input_tokens", "gen_ai.usage.prompt_tokens", "llm.token_count.prompt", "ai.usage.inputTokens", "ai.usage.promptTokens", "ai.usage.tokens", "gen_ai.response.prompt_tokens"),  # F_INPUT
    ("gen_ai.usage.output_tokens", "gen_ai.usage.completion_tokens", "llm.token_count.completion", "ai.usage.outputTokens", "ai.usage.completionTokens", "gen_ai.response.completion_tokens"),  # F_OUTPUT
    ("gen_ai.usage.cache_read.input_tokens", "gen_ai.usage.cache_read_input_tokens", "gen_ai.usage.input_tokens.cached", "llm.token_count.prompt_details.cache_read", "llm.token_count.prompt_details.cache_input", "ai.usage.inputTokenDetails.cacheReadTokens", "ai.usage.cachedInputTokens", "gen_ai.usage.details.cache_read_tokens", "metadata.usage.cached_prompt_tokens", "gen_ai.usage.cached_tokens"),  # F_CACHE_READ
    ("gen_ai.usage.cache_write.input_tokens", "gen_ai.usage.cache_creation.input_tokens", "gen_ai.usage.input_tokens.cache_write", "gen_ai.usage.cache_creation_input_tokens", "gen_ai.usage.cache_write_input_tokens", "llm.token_count.prompt_details.cache_write", "ai.usage.inputTokenDetails.cacheWriteTokens", "gen_ai.usage.details.cache_write_tokens", "metadata.usage.cached_creation_tokens"),  # F_CACHE_WRITE
    ("gen_ai.usage.reasoning.output_tokens", "gen_ai.usage.reasoning_tokens", "gen_ai.usage.output_tokens.reasoning", "llm.usage.reasoning_tokens", "llm.token_count.completion_details.reasoning", "gen_ai.usage.details.reasoning_tokens", "gen_ai.usage.details.thoughts_tokens", "ai.usage.outputTokenDetails.reasoningTokens", "ai.usage.reasoningTokens", "gen_ai.usage.thinking_tokens"),  # F_REASONING
    ("gen_ai.usage.cost", "llm.cost.total", "gen_ai.cost.total_cost", "litellm.cost.total", "operation.cost", "cost_usd"),  # F_COST
    ("gen_ai.response.id", "ai.response.id", "llm.response.id"),  # F_RESPONSE_ID
    ("gen_ai.agent.name", "agent.name", "agent_name"),  # F_AGENT
    ("gen_ai.conversation.id", "session.id", "gen_ai.session.id", "langfuse.session.id", "traceloop.association.properties.session_id", "gcp.vertex.agent.session_id", "conversation.id"),  # F_CONVERSATION
    ("enduser.id", "user.id", "gen_ai.user.id", "gen_ai.request.user", "langfuse.user.id"),  # F_PRINCIPAL
    ("gen_ai.tool.name", "tool.name", "ai.toolCall.name", "traceloop.entity.name"),  # F_TOOL
    ("gen_ai.request.max_tokens", "llm.invocation_parameters.max_tokens", "gen_ai.request.max_output_tokens"),  # F_MAX_TOKENS
    ("gen_ai.request.temperature",),  # F_TEMPERATURE
    ("attempt", "gen_ai.request.attempt", "http.request.resend_count"),  # F_ATTEMPTS
    # the reported total: never added, only read to tell whether a source's input includes cache and its
    # output reasoning (total = everything billed: Bedrock Converse totalTokens = input + output + cache
    # read + cache write; Gemini totalTokenCount includes thoughts that candidatesTokenCount leaves out)
    ("gen_ai.usage.total_tokens", "llm.usage.total_tokens", "llm.token_count.total", "ai.usage.totalTokens"),  # F_TOTAL
    # OpenLLMetry's traceloop.entity.name names the agent of a traceloop.span.kind=agent span (and the
    # tool of a tool span, via F_TOOL); on task and workflow spans it is the task's name, so read for agents only
    ("traceloop.entity.name",),  # F_ENTITY
)



def _with_aggregated(keys: tuple[str, ...]) -> tuple[str, ...]:
    """pydantic-ai (V2 default) renames an agent run's cumulative usage to ``gen_ai.aggregated_usage.*``:
    the same meaning, read last, and only ever used as an agent's fallback usage (counting rule 2)."""
    return keys + tuple(k.replace("gen_ai.usage.", "gen_ai.aggregated_usage.", 1) for k in keys
                        if k.startswith("gen_ai.usage."))


(F_PROVIDER, F_REQUEST_MODEL, F_RESPONSE_MODEL, F_INPUT, F_OUTPUT, F_CACHE_READ, F_CACHE_WRITE, F_REASONING, F_COST,
 F_RESPONSE_ID, F_AGENT, F_CONVERSATION, F_PRINCIPAL, F_TOOL, F_MAX_TOKENS, F_TEMPERATURE,
 F_ATTEMPTS, F_TOTAL, F_ENTITY) = range(len(_FIELD_KEYS))
_FIELD_KEYS = tuple(_with_aggregated(keys) if F_INPUT <= n <= F_REASONING else keys
                    for n, keys in enumerate(_FIELD_KEYS))

VENDOR_USAGE_KEYS = ("langfuse.observation.usage_details", "mlflow.chat.tokenUsage")
LF_LS_PROVIDER, LF_LS_MODEL = "langfuse.observation.metadata.ls_provider", "langfuse.observation.metadata.ls_model_name"
#: LangSmith's OTel exporter (langsmith 0.15 _internal/otel/_otel_exporter.py, scope ``langsmith``): a chat model
#: run's LangSmith params as ``langsmith.metadata.*``, LangChain's UsageMetadata among them as JSON
LS_SCOPE, LS_PROVIDER, LS_USAGE = "langsmith", "langsmith.metadata.ls_provider", "langsmith.metadata.usage_metadata"
VENDOR_COST_KEYS = (("langfuse.observation.cost_details", ("total",)), ("mlflow.llm.cost", ("total_cost",)))
#: OpenInference's embeddings spans keep the request apart, as embedding.invocation_parameters (openinference-
#: instrumentation-openai 0.1.66 _request_attributes_extractor.py _get_attributes_from_embedding_create_param: the
#: create params without ``input``), and embedding.model_name comes from the response only
#: (_response_attributes_extractor.py): a failed embeddings call names its model only there
PARAM_KEYS = ("langfuse.observation.model.parameters", "llm.invocation_parameters", "embedding.invocation_parameters")
#: keys read directly (not by precedence) after the usage and cost blocks
#: a time to the first chunk is measured on streams only: the Vercel AI SDK's doStream spans
#: (``ai.response.msToFirstChunk``), its v7 GenAI telemetry (``gen_ai.client.operation.time_to_first_chunk``,
#: the semconv metric's name as an attribute), semconv's ``gen_ai.response.time_to_first_chunk``
FIRST_CHUNK_KEYS = frozenset({"ai.response.msToFirstChunk", "gen_ai.client.operation.time_to_first_chunk",
                              "gen_ai.response.time_to_first_chunk"})
FLAG_KEYS = frozenset({"error.type", "langfuse.observation.level", "gen_ai.request.stream", "gen_ai.is_streaming",
                       "gen_ai.request.is_stream", "gen_ai.request.streaming",
                       "langfuse.observation.completion_start_time", "tokenwatch.usage.auxiliary",
                       "ai.operationId", "rpc.method", "llm.is_streaming"}) | FIRST_CHUNK_KEYS
#: instrumentation scopes whose Bedrock input tokens are Bedrock's own, cache excluded (see _Plan)
#: OpenLIT JS likewise: openlit 1.15.0 dist/instrumentation/bedrock/wrapper.js _converseCommonSetter writes
#: ``usage.inputTokens`` beside cacheRead/WriteInputTokens ("Bedrock Converse reports inputTokens exclusive of
#: cache read/write")
BEDROCK_RAW_INPUT_SCOPES = frozenset({"opentelemetry.instrumentation.botocore.bedrock-runtime",
                                      "opentelemetry.instrumentation.bedrock", "openlit.instrumentation.bedrock",
                                      "@openlit/instrumentation-bedrock"})
LITELLM_OI_SCOPE = "openinference.instrumentation.litellm"
OI_VERTEX_SCOPE = "openinference.instrumentation.vertexai"
OI_BEDROCK_SCOPE = "openinference.instrumentation.bedrock"
OI_OPENAI_SCOPE = "openinference.instrumentation.openai"
#: what makes OpenInference's OpenAI ``input.value`` a request body (a chat completion's messages, a Responses
#: or embeddings input, a legacy completion's prompt), read where llm.invocation_parameters is hidden
#: (_Plan.oi_request_input)
OI_REQUEST_BODY_KEYS = frozenset({"messages", "input", "prompt"})
#: the span OpenInference's Bedrock instrumentation makes for a Bedrock agent's knowledge base lookup:
#: ``invocationType.lower()`` of the trace's invocationInput (openinference-instrumentation-bedrock 0.1.61
#: _response_accumulator.py _process_invocation_input) with kind RETRIEVER (_attribute_extractor.py
#: get_attributes_from_knowledge_base_lookup_input). The agent's model asks for the lookup as it asks for an action
#: group's function (a tool_use of ``GET__x_amz_knowledgebase_{id}__Search``; InvocationType KNOWLEDGE_BASE beside
#: ACTION_GROUP, whose span is kind TOOL): a tool run of the agent
OI_BEDROCK_KB_SPAN = "knowledge_base"
#: the Vertex AI instrumentations of OTel contrib and of Traceloop share this scope name (told apart by their keys)
VERTEX_SCOPE = "opentelemetry.instrumentation.vertexai"
#: single-provider instrumentations whose spans may name no provider, by scope. OTel contrib's Vertex AI
#: instrumentation (opentelemetry-instrumentation-vertexai 2.2b0 utils.py get_genai_request_attributes) sets
#: gen_ai.system = vertex_ai only under the default semconv (``if not use_latest_semconvs``): with
#: gen_ai_latest_experimental its spans have neither gen_ai.system nor gen_ai.provider.name. OpenInference's
#: MistralAI instrumentation (openinference-instrumentation-mistralai 2.2.2) sets llm.provider / llm.system in
#: _response_attributes_extractor.py only, so a failed call's span has the request's attributes alone
#: OpenLLMetry's SageMaker spans name no provider at all (see NAMED_CALL_KINDS): the semantic conventions'
#: gen_ai.provider.name has no well-known value for SageMaker, so a name of its own, ``aws.sagemaker`` (a model
#: hosted on a SageMaker endpoint is not Bedrock's, and is billed per instance hour, not per token)
SAGEMAKER_SCOPE = "opentelemetry.instrumentation.sagemaker"
SCOPE_PROVIDERS = {VERTEX_SCOPE: "gcp.vertex_ai",
                   "openinference.instrumentation.mistralai": "mistral_ai", SAGEMAKER_SCOPE: "aws.sagemaker"}
CREWAI_OLLM_SCOPE = "opentelemetry.instrumentation.crewai.instrumentation"
#: azure-core-tracing-opentelemetry's scope: the Azure SDKs' spans, azure-ai-inference's chat spans among them
AZURE_CORE_SCOPE = "azure.core.tracing.ext.opentelemetry_span"
MASTRA_SCOPE = "@mastra/otel-exporter"
MASTRA_STEP_INPUT = "mastra.model_step.input"
#: instrumentation scopes whose Anthropic input tokens are Anthropic's own, cache excluded (see _Plan)
ANTHROPIC_RAW_INPUT_SCOPES = frozenset({"@traceloop/instrumentation-anthropic"})
#: botocore's streamed Bedrock Runtime operations: opentelemetry-instrumentation-botocore (0.66b2 __init__.py)
#: sets no stream flag, only ``rpc.method`` = the operation (bedrock.py _DONT_CLOSE_SPAN_ON_END_OPERATIONS)
AWS_STREAM_OPS = {"ConverseStream": True, "InvokeModelWithResponseStream": True, "Converse": False,
                  "InvokeModel": False}


class _Plan:
    """What a span with this key sequence (and scope) carries, worked out once.

    Instrumentations send the same keys span after span, so the answer is
    cached by the span's key sequence: a read then looks only at keys that
    are there, in precedence order, instead of testing every dialect's
    spelling (the normalize stage's hottest loop), and skips whole blocks
    (usage, cost, request shape) a span has no key for. Values are still
    read and converted per span.
    """

    __slots__ = (
        "adk_output",
        "ag2_raw",
        "anthropic_raw_input",
        "bedrock_raw_input",
        "choice_events",
        "content",
        "cost",
        "dialect",
        "enum_finish",
        "fields",
        "finish",
        "flags",
        "gemini_raw_output",
        "identity",
        "identity_get",
        "langfuse_ls",
        "langsmith",
        "litellm_failure_zeros",
        "litellm_usage",
        "ls_provider",
        "mlflow_kwargs",
        "oi_bedrock_raw",
        "oi_output_finish",
        "oi_request_input",
        "oi_vertex_cache",
        "output_finish",
        "params",
        "parent_input",
        "pipecat_input",
        "pipecat_stream",
        "pipecat_tools",
        "routed_model",
        "sagemaker_body",
        "scope_provider",
        "server_address",
        "shareable",
        "simple",
        "usage",
        "usage_raw",
        "usage_raw_cache",
        "util_stream",
        "vercel_cache_meta",
    )

    def __init__(self, a: dict[str, Any], scope: str) -> None:
        self.fields = tuple(tuple(k for k in keys if k in a) for keys in _FIELD_KEYS)
        if scope == LOGFIRE_AGENTS_SCOPE and "name" in a:
            # Logfire's Agents SDK function and agent spans keep the tool's and the agent's name as ``name``
            # (agents/tracing/span_data.py: AgentSpanData.export() has name, handoffs, tools, output_type;
            # FunctionSpanData.export() name, input, output): read last, for this scope only
            named = F_AGENT if "handoffs" in a else F_TOOL
            self.fields = tuple(f + ("name",) if n == named else f for n, f in enumerate(self.fields))
        if scope == LOGFIRE_AGENTS_SCOPE and "response_id" in a:
            # and a response span keeps ResponseSpanData.export()'s ``response_id`` (openai-agents 0.24
            # tracing/span_data.py: ``self.response.id``), the only response id logfire 6.0 writes there
            # (6.0.0b8 openai_agents.py get_basic_response_attributes has no gen_ai.response.id, which 5.4 set):
            # read last, for this scope only
            self.fields = tuple(f + ("response_id",) if n == F_RESPONSE_ID else f for n, f in enumerate(self.fields))
        pipecat = scope == PIPECAT_SCOPE
        if pipecat and "param.model" in a:
            # Pipecat's llm span names as gen_ai.request.model the service's ``_full_model_name`` when it has one
            # (pipecat-ai 1.14.0 utils/tracing/service_decorators.py _get_model_name), which the OpenAI service sets
            # from each stream's ``chunk.model`` (services/openai/base_llm.py set_full_model_name): from a service's
            # second call on, the previous response's served model, not this request's. The settings' model, the
            # request's own (build_chat_completion_params ``"model": self._settings.model``), is ``param.model``
            # (service_attributes.py add_llm_span_attributes: settings other than the sampling ones as param.*)
            self.fields = tuple(("param.model", *f) if n == F_REQUEST_MODEL else f for n, f in enumerate(self.fields))
        #: Pipecat's llm span keeps the request's messages (the adapter's get_messages_for_logging, provider-native)
        #: as JSON in ``input``, the tools offered (the adapter's from_standard_tools) as JSON in ``tools`` and the
        #: service's stream flag as ``stream`` (add_llm_span_attributes; traced_llm writes ``"stream": True``, "Most
        #: LLM services use streaming": the OpenAI service always streams, base_llm.py
        #: build_chat_completion_params), names too generic to read for any other scope
        self.pipecat_input = pipecat and "input" in a
        self.pipecat_tools = pipecat and "tools" in a
        self.pipecat_stream = pipecat and "stream" in a
        if scope == AZURE_CORE_SCOPE and (AZ_AGENTS_RUN_ID in a or AZ_AGENTS_THREAD_ID in a):
            # the Agents SDK's run and thread ids (see AZ_AGENTS_RUN_ID), read last, for its scope only
            self.fields = tuple(f + (AZ_AGENTS_RUN_ID,) if n == F_RESPONSE_ID and AZ_AGENTS_RUN_ID in a
                                else f + (AZ_AGENTS_THREAD_ID,) if n == F_CONVERSATION and AZ_AGENTS_THREAD_ID in a
                                else f for n, f in enumerate(self.fields))
        self.dialect = dialect_of(a, scope)
        self.usage = any(self.fields[f] for f in (F_INPUT, F_OUTPUT, F_CACHE_READ, F_CACHE_WRITE, F_REASONING)) \
            or any(k in a for k in VENDOR_USAGE_KEYS)
        if self.usage and scope == CREWAI_OLLM_SCOPE and "crewai.agent.id" in a:
            # OpenLLMetry's CrewAI agent span (opentelemetry-instrumentation-crewai 0.62.4 instrumentation.py
            # wrap_agent_execute_task) writes ``instance._token_process.get_summary()``: the Agent's running total
            # over every task it ever ran (crewai 1.15 agents/agent_builder/base_agent.py: one TokenProcess per
            # Agent, fed by TokenCalcHandler on each LiteLLM call), so its 2nd task's span repeats the 1st's
            # tokens, and an agent reused across kickoffs carries earlier traces' too: no usage of this span
            self.usage = False
        elif self.usage and (scope == OPENLIT_AG2_SCOPE and OPENLIT_AG2_STEP in a
                             or scope == AG2_OTEL_SCOPE and "gen_ai.conversation.turns" in a):
            # OpenLIT's ag2 step spans (OPENLIT_AG2_STEP) count generate_reply's tokens as ``len(str(messages))
            # // 4`` and the reply's length // 4 ("Mock token calculation", openlit 1.45.0 instrumentation/ag2/
            # utils.py process_agent_generate_reply), a tool's reply included: no usage. AG2's own ``conversation``
            # span writes ChatResult.cost's ``usage_including_cached_inference`` (ag2 0.14.0 autogen/opentelemetry/
            # instrumentators/agent_instrumentators/chat.py), gather_usage_summary of both agents' OpenAIWrapper
            # totals, never reset between chats: an agent's 3rd chat repeats its 1st and 2nd chats' tokens (and
            # answers served from AG2's cache): no usage of this span either
            self.usage = False
        self.cost = bool(self.fields[F_COST]) or any(k in a for k, _ in VENDOR_COST_KEYS)
        #: sources whose input on Anthropic is Anthropic's raw input_tokens, cache excluded (genai-dialects.md
        #: section 6): OpenLIT, MLflow, and the Vercel AI SDK before v6, whose ``ai.usage.inputTokens`` is
        #: ``usage.input_tokens`` (LangSmith's AI SDK exporter: "AI SDK does not include Anthropic cache
        #: tokens in their stated input token numbers"); v6 reports a cache-inclusive total together with
        #: ``ai.usage.inputTokenDetails.*`` (vercel/ai: inputTokens.total = noCache + cacheRead + cacheWrite)
        #: OpenLLMetry JS's Anthropic instrumentation too: @traceloop/instrumentation-anthropic 0.27.0
        #: (dist/index.js _endSpan) sets gen_ai.usage.input_tokens = ``result.usage.input_tokens`` beside
        #: cache_creation / cache_read, where the Python one (opentelemetry-instrumentation-anthropic) adds them in.
        #: Not MLflow: its ``mlflow.chat.tokenUsage`` input includes the cache since mlflow/mlflow#22516 (mlflow
        #: 3.17.2 anthropic/autolog.py _parse_usage: ``usage_dict[INPUT_TOKENS] += cache_total``, "consistent with
        #: OpenAI/Gemini"; bedrock/utils.py likewise); an older release's raw input is seen by _vendor_usage
        self.anthropic_raw_input = self.dialect == "openlit" or scope in ANTHROPIC_RAW_INPUT_SCOPES or (
            self.dialect == "vercel-ai" and not any(k.startswith("ai.usage.inputTokenDetails.") for k in a))
        #: Bedrock's ``inputTokens`` (Converse TokenUsage; Claude's ``input_tokens`` on InvokeModel) leave cache
        #: reads and writes out, and these libraries pass it on unchanged beside the cache counts:
        #: opentelemetry-instrumentation-botocore 0.66b2 extensions/bedrock.py _converse_on_success,
        #: Traceloop's opentelemetry-instrumentation-bedrock 0.62.4 span_utils.py converse_usage_record and
        #: _set_anthropic_messages_span_attributes (the cache from prompt_caching.py's response headers);
        #: openlit 1.45.0 instrumentation/bedrock/utils.py (``_input_tokens = usage.get("inputTokens")`` beside
        #: cacheRead/WriteInputTokens, priced with ``prompt_tokens_include_cache=False``: "Bedrock reports
        #: inputTokens exclusive of cache read/write tokens").
        #: OpenInference adds the cache in (openinference-instrumentation-bedrock _converse_attributes.py)
        self.bedrock_raw_input = scope in BEDROCK_RAW_INPUT_SCOPES
        #: AG2 1.x passes each provider's own counts on (ag2 1.2.1 config/*/mappers.py normalize_usage): Anthropic's
        #: ``input_tokens`` and Bedrock Converse's ``inputTokens`` as prompt_tokens beside the cache counts (cache
        #: excluded), Gemini's ``candidates_token_count`` as completion_tokens beside thoughts_token_count (thoughts
        #: excluded); OpenAI's prompt and completion counts include theirs. By provider, in _read_usage
        self.ag2_raw = scope == AG2_OTEL_SCOPE and AG2_SPAN_TYPE in a
        #: AI SDK v5 (ai 5.0.x, dist/index.mjs generateText doGenerate span: only ``ai.usage.promptTokens`` /
        #: ``completionTokens`` = the provider's inputTokens/outputTokens) has no cache key at all on
        #: generateText spans, and none for cache writes on streamText ones; @ai-sdk/anthropic 2.x puts
        #: Anthropic's raw ``usage`` (cache_read_input_tokens, cache_creation_input_tokens) in
        #: ``ai.response.providerMetadata`` (JSON), read for those spans only
        self.vercel_cache_meta = self.anthropic_raw_input and self.dialect == "vercel-ai" \
            and "ai.response.providerMetadata" in a and not (self.fields[F_CACHE_READ] and self.fields[F_CACHE_WRITE])
        #: Logfire writes input, output and cache counts of an OpenAI response but its reasoning tokens only inside
        #: ``gen_ai.usage.raw``, the provider's usage as JSON (logfire 5.4 _internal/integrations/llm_providers/
        #: usage.py get_usage_attributes: INPUT_TOKENS, OUTPUT_TOKENS, cache read/write, USAGE_RAW)
        self.usage_raw = self.dialect == "pydantic-ai" and "gen_ai.usage.raw" in a and not self.fields[F_REASONING]
        #: and its cache counts only there too from logfire 6.0 on: 6.0.0b8's get_usage_attributes writes
        #: INPUT_TOKENS, OUTPUT_TOKENS and USAGE_RAW alone (no cache_read / cache_creation keys, which 5.4 wrote
        #: when above zero); its input still includes the cache (anthropic.py: ``usage.input_tokens +
        #: cache_read_tokens + cache_write_tokens``; OpenAI's input includes cached_tokens)
        self.usage_raw_cache = self.dialect == "pydantic-ai" and "gen_ai.usage.raw" in a \
            and not (self.fields[F_CACHE_READ] or self.fields[F_CACHE_WRITE])
        #: instrumentations whose output on the Gemini API is ``candidatesTokenCount``, which leaves the thoughts
        #: out (Gemini API usageMetadata: totalTokenCount = prompt + candidates + toolUsePrompt + thoughts): OpenLIT
        #: 1.45.0 instrumentation/google_ai_studio/utils.py (``_output_tokens = candidates_token_count``, the
        #: thoughts apart as gen_ai.usage.reasoning_tokens) and OpenLLMetry's opentelemetry-instrumentation-google-
        #: generativeai 0.62.4 span_utils.py set_model_response_attributes (output = candidates_token_count, total =
        #: total_token_count, no thoughts key at all: the thoughts are the total's rest beyond input and output)
        #: Traceloop's opentelemetry-instrumentation-vertexai 0.62.4 too (span_utils.py set_model_response_attributes:
        #: output = candidates_token_count, ``llm.usage.total_tokens`` = total_token_count); OTel contrib's
        #: instrumentation has the same scope name but no total (and writes no Traceloop ``llm.*`` key)
        self.gemini_raw_output = scope in GEMINI_RAW_OUTPUT_SCOPES or (
            scope == VERTEX_SCOPE and "llm.usage.total_tokens" in a)
        #: OpenLIT's google-genai spans write ``str()`` of the SDK's enum as the finish reason (utils.py
        #: ``str(candidates[0].get("finish_reason"))``: ``FinishReason.MAX_TOKENS``): the member's name is the reason
        #: OpenLIT's together spans the same with together's FinishReason (together 1.6.0 types/common.py), whose member
        #: names are not the API's values (``FinishReason.StopSequence`` is "stop"): TOGETHER_FINISH maps them
        #: OpenLIT's Vertex AI spans likewise (instrumentation/vertexai/utils.py process_chat_response
        #: ``str(getattr(first_candidate, "finish_reason", None) or "")``), but that enum is the proto's
        #: (google.cloud.aiplatform_v1 Candidate.FinishReason, a proto-plus IntEnum): str() of it is its number on
        #: Python 3.11+ ("1"), its qualified name before; VERTEX_FINISH names the numbers
        self.enum_finish = scope in (OPENLIT_GOOGLE_SCOPE, OPENLIT_TOGETHER_SCOPE, OPENLIT_VERTEX_SCOPE)
        #: ADK's own span, whose output messages tell a stream (_adk_streamed); also where OpenInference's Google
        #: ADK instrumentation adds its llm.* keys, which make the span read as OpenInference: under ADK's schema
        #: v2 there is no call_llm span and both record onto the span that is current (google-adk 2.13
        #: flows/llm_flows/core/_model_call.py call_llm_async; openinference-instrumentation-google-adk 1.0.5
        #: _wrappers.py _TraceCallLlm), ``invoke_agent {name}``
        self.adk_output = scope == "gcp.vertex.agent" and "gen_ai.output.messages" in a
        #: spans whose finish reason may be only in their gen_ai.choice events (read where no attribute names one)
        self.choice_events = self.dialect == "strands" or scope == AZURE_CORE_SCOPE
        #: OpenInference's LangChain.js tracer names no provider (@arizeai/openinference-instrumentation-langchain
        #: 4.1.1 dist/src/utils.js: no llm.provider / llm.system at all); the run's LangSmith params are in
        #: ``metadata`` (formatMetadata: run.extra.metadata as JSON), whose ``ls_provider`` the chat model sets
        #: (@langchain/openai 1.6.0 chat_models/base.js getLsParams ``ls_provider: "openai"``, @langchain/anthropic
        #: 1.5.11 ``"anthropic"``)
        self.ls_provider = self.dialect == "openinference" and not self.fields[F_PROVIDER] and "metadata" in a
        #: LangSmith's chat model spans: ``gen_ai.system`` is its guess from the model name, "langchain" when none
        #: matches (_otel_exporter.py _set_gen_ai_system: ``o4-mini`` reads "langchain"), while the chat model's
        #: own ``ls_provider`` is in ``langsmith.metadata.ls_provider``; cache and reasoning counts are only in
        #: ``langsmith.metadata.usage_metadata`` (_set_io_attributes writes gen_ai.usage.input_token_details only
        #: from a top-level outputs.usage_metadata, which a chat model's LLMResult has not); and a failed run can
        #: end with status OK: a run exported before it ends gets set_status(OK) (_create_span_for_run) and the
        #: SDK ignores every later status once OK (opentelemetry-sdk Span.set_status), so its error is only the
        #: ``exception`` event _update_span_for_run records, which it does only for ``run_info["error"]``
        self.langsmith = scope == LS_SCOPE and LS_PROVIDER in a
        #: OpenInference's Vertex AI spans count prompt, candidates and total only (openinference-instrumentation-
        #: vertexai 0.1.29 _wrapper.py _parse_usage_metadata); the cache read is only in ``output.value``, the
        #: response as JSON (its ``usage_metadata.cached_content_token_count``, inside the prompt count)
        self.oi_vertex_cache = scope == OI_VERTEX_SCOPE and "output.value" in a and not self.fields[F_CACHE_READ]
        #: the provider of instrumentations that wrap one provider's SDK, by scope, where a span names none
        #: (see SCOPE_PROVIDERS)
        #: (see SCOPE_PROVIDERS); Traceloop's Vertex AI instrumentation names the provider ``Google`` on every span
        #: (opentelemetry-instrumentation-vertexai 0.62.4 __init__.py _wrap: GEN_AI_SYSTEM: "Google"), which
        #: would read as the Gemini API: its calls are Vertex AI's, told by its own ``llm.request.type`` key
        self.scope_provider = SCOPE_PROVIDERS.get(scope) if not self.fields[F_PROVIDER] or (
            scope == VERTEX_SCOPE and "llm.request.type" in a) else None
        #: Langfuse's LangChain handler keeps the run's LangSmith params as metadata, each value JSON-encoded
        #: (langfuse _client/attributes.py _serialize_metadata_value: ``"anthropic"`` with its quotes):
        #: ``ls_provider`` names the provider, which no other key does, and ``ls_model_name`` the request model;
        #: ``langfuse.observation.model.name`` is that request model at start and the response's model_name
        #: once the call returns one (langfuse/langchain/CallbackHandler.py _parse_model_and_log_errors
        #: ``_parse_model_name_from_metadata``, on_llm_end ``model=_parse_model(response)``): the served model
        self.langfuse_ls = self.dialect == "langfuse" and (LF_LS_PROVIDER in a or LF_LS_MODEL in a)
        #: LiteLLM's OTel logger (litellm 1.110 integrations/opentelemetry.py set_attributes, default semconv
        #: mode) writes input, output and total tokens only; cache reads and reasoning are in
        #: ``metadata.usage_object``, LiteLLM's Usage as a Python repr (OpenAI's shape: prompt_tokens_details.
        #: cached_tokens inside prompt_tokens, completion_tokens_details.reasoning_tokens inside completion_tokens)
        self.litellm_usage = self.dialect == "litellm" and "metadata.usage_object" in a \
            and not (self.fields[F_CACHE_READ] or self.fields[F_REASONING])
        #: LiteLLM's OTel v2 logger writes a failed call's usage as zeros: its span data reads the failure's
        #: StandardLoggingPayload (litellm 1.110.2 integrations/otel/model/payloads.py LLMUsage.
        #: from_standard_logging_payload, mappers/genai.py), whose usage is ``Usage(prompt_tokens=0,
        #: completion_tokens=0, total_tokens=0)`` when there is no response (litellm_core_utils/litellm_logging.py
        #: get_usage_from_response_obj): an error span with zero tokens reports no usage
        self.litellm_failure_zeros = self.dialect == "litellm" and bool(self.fields[F_INPUT] or self.fields[F_OUTPUT])
        #: MLflow's OpenAI autolog sets the call's keyword arguments (all but messages / input) as span attributes
        #: (mlflow 3.17 openai/autolog.py _start_span): ``model`` is the request model and ``stream`` the stream
        #: flag; its ``mlflow.llm.model`` is the model its span translation found (the response's, dated)
        self.mlflow_kwargs = self.dialect == "mlflow" and ("model" in a or "stream" in a)
        #: OpenInference's LiteLLM spans name the model as the app gave it to LiteLLM, ``{provider}/{model}``
        #: (openinference-instrumentation-litellm 0.1.51 __init__.py: ``span.set_attribute(LLM_MODEL_NAME,
        #: kwargs.get("model"))``, the provider beside it from the same string): DSPy sends ``openai/gpt-4o-mini``.
        #: So do OpenLLMetry's CrewAI LLM spans (opentelemetry-instrumentation-crewai 0.62.4 wrap_llm_call: request
        #: and response model both ``str(instance.model)``, CrewAI's LiteLLM model string, the provider from its
        #: prefix, _infer_llm_provider_from_model)
        #: OpenLIT's LiteLLM spans too (see read_call_and_plan)
        self.routed_model = scope == LITELLM_OI_SCOPE or scope == CREWAI_OLLM_SCOPE or scope == OPENLIT_LITELLM_SCOPE
        #: Mastra's ``chat`` span (MODEL_INFERENCE) often has no input: @mastra/observability 1.17.9 dist/index.js
        #: ModelSpanTracker.startInference takes it from its payload, and the safety-net call from the first
        #: chunk passes none; its parent MODEL_STEP span (``agent_step``) always has the step's messages
        #: (startStep: ``input = extractStepInput(payload)``), exported as ``mastra.model_step.input``
        #: (@mastra/otel-exporter 1.4.0 dist/index.js getAttributes: ``mastra.${spanType}.input``): the key the
        #: parent's prompt is read from, else None
        self.parent_input = MASTRA_STEP_INPUT if scope == MASTRA_SCOPE and "gen_ai.input.messages" not in a else None
        self.finish = tuple(k for k in FINISH_KEYS if k in a)
        #: no finish reasons key, but the semantic conventions' output messages, each with its ``finish_reason``
        #: (gen-ai output messages JSON schema: OutputMessage.finish_reason, required): OTel contrib's openai-v2
        #: streams (opentelemetry-util-genai 1.1b0: the ChatStreamWrapper fills no finish_reasons) and
        #: OpenLLMetry's async OpenAI and JS Anthropic spans write the reason only there
        self.output_finish = not self.finish and "gen_ai.output.messages" in a
        #: ... which on openai-v2's chat spans means a stream: its non-streamed path sets the invocation's
        #: finish_reasons from the choices, its ChatStreamWrapper never fills them (opentelemetry-instrumentation-
        #: openai-v2 2.4b0 patch.py: ``finish_reasons: list = []``, never appended to) but writes each choice's
        #: reason into the output messages (_set_output_messages); it writes no stream flag
        self.util_stream = self.output_finish and scope == UTIL_GENAI_SCOPE
        #: no finish reasons key, but OpenInference output messages, each with its ``message.finish_reason``
        #: (not in OpenInference's semantic conventions, which have only ``llm.finish_reason``, but the choice's
        #: reason where it is written): openinference-instrumentation-strands-agents 0.1.12 processor.py
        #: _extract_messages_from_events puts the gen_ai.choice event's ``finish_reason`` there and then strips
        #: the event (_strip_genai_events). The keys in message order, found once per key sequence
        self.oi_output_finish = _oi_output_finish_keys(a) if not self.finish and self.dialect == "openinference" \
            else ()
        #: OpenInference's spans of a Bedrock agent's model invocations (the ``LLM`` spans it rebuilds from
        #: InvokeAgent's trace events, openinference-instrumentation-bedrock 0.1.61 _response_accumulator.py
        #: _process_model_invocation_output) count the trace's ``metadata.usage`` only (inputTokens, outputTokens:
        #: the service model's Usage shape has nothing more, botocore bedrock-agent-runtime 2023-07-26) and write no
        #: finish reason; their ``output.value`` is the step's ``rawResponse.content`` unless a rationale replaced it
        #: (_attribute_extractor.py get_output_value: the raw string unless Converse-shaped), for Claude the
        #: Anthropic Messages response, with its ``usage`` (the cache) and ``stop_reason`` (_oi_bedrock_raw)
        self.oi_bedrock_raw = scope == OI_BEDROCK_SCOPE and "output.value" in a and "llm.token_count.prompt" in a \
            and not self.fields[F_CACHE_READ] and not self.finish
        self.params = next((k for k in PARAM_KEYS if k in a), None)
        #: OpenInference's TraceConfig hide_llm_invocation_parameters (OPENINFERENCE_HIDE_LLM_INVOCATION_PARAMETERS)
        #: drops llm.invocation_parameters (openinference-instrumentation 0.1.72 config.py TraceConfig.mask), the
        #: stream flag and max_tokens with it; but the OpenAI instrumentor's ``input.value`` is the request's own
        #: parameters as JSON (openinference-instrumentation-openai 0.1.66 _request.py _get_attributes_from_request:
        #: ``_as_input_attributes(_io_value_and_type(request_parameters))``), of which those invocation parameters
        #: are a copy without messages, functions and tools (_request_attributes_extractor.py
        #: _get_attributes_from_chat_completion_create_param), so the request's fields are read there; under
        #: hide_inputs it is the placeholder (content.REDACTED), no request to read, and nothing is
        self.oi_request_input = self.params is None and scope == OI_OPENAI_SCOPE and "input.value" in a
        #: the response body of a SageMaker endpoint call, read for the usage its container reports (_sagemaker_body)
        self.sagemaker_body = scope == SAGEMAKER_SCOPE and SAGEMAKER_OUTPUT in a
        self.flags = not FLAG_KEYS.isdisjoint(a)
        #: the host the client called, which names an OpenAI-compatible provider the span calls openai
        self.server_address = "server.address" in a
        #: where captured content and tool calls are, by key (content.KeyIndex), worked out once
        self.content = KeyIndex(a)
        #: nothing beyond names and identities to read (tool, agent and workflow spans mostly)
        self.simple = not (self.usage or self.cost or self.finish or self.oi_output_finish or self.flags or self.params
                           or self.oi_request_input or self.mlflow_kwargs
                           or self.langsmith or self.pipecat_stream or self.sagemaker_body
                           or self.fields[F_MAX_TOKENS] or self.fields[F_TEMPERATURE] or self.fields[F_ATTEMPTS]
                           or (self.routed_model and self.fields[F_REQUEST_MODEL]))
        #: every key a simple span's Call is read from (besides the operation, kind and status)
        self.identity = tuple(k for f in _IDENTITY_FIELDS for k in self.fields[f])
        #: those keys' values in one call (one value, or a tuple of them), for the shared-Call key
        self.identity_get = operator.itemgetter(*self.identity) if self.identity else None
        #: spans of this plan may share one Call (see _SHARED): nothing per span beyond those keys
        self.shareable = self.simple and not self.content.tool_args


_IDENTITY_FIELDS = (F_PROVIDER, F_REQUEST_MODEL, F_RESPONSE_MODEL, F_RESPONSE_ID, F_AGENT, F_CONVERSATION, F_PRINCIPAL,
                    F_TOOL, F_ENTITY)
#: kinds whose Call no later stage changes (counting, scoring and metrics change inference and embeddings calls)
SHARED_KINDS = frozenset({"tool", "agent", "workflow"})
#: one Call for every tool/agent/workflow span that reads the same: (plan, operation, kind, error, identity values
#: and their types) -> Call. A tree of agent steps repeats a handful of tools; the Call is read once per shape.
_SHARED: dict[tuple[Any, ...], Call] = {}
_MAX_SHARED = 8192


def _choice_event_reasons(events: Any) -> list[str]:
    """Finish reasons from a span's gen_ai.choice events. Strands Agents' model span names its stop reason only
    there, unless gen_ai_latest_experimental is opted in (strands-agents 1.62.0 telemetry/tracer.py
    end_model_invoke_span: ``_add_event(span, "gen_ai.choice", {"finish_reason": str(stop_reason), ...})``);
    azure-ai-inference 1.0.0b9's streamed chat span too, inside the event's JSON (tracing.py StreamWrapper:
    gen_ai.response.finish_reasons comes from the last chunk, the usage chunk with no choices; the accumulated
    ``finish_reason`` goes to ``gen_ai.event.content`` = ``json.dumps(accumulate)``)."""
    reasons: list[str] = []
    for ev in events:
        if ev.name != "gen_ai.choice":
            continue
        for kv in ev.attributes:
            v = kv.value.string_value
            if kv.key == "finish_reason" and v:
                reasons.append(v)
            elif kv.key == "gen_ai.event.content" and '"finish_reason"' in v:
                got = coerce.parse_structured(v)
                if isinstance(got, dict) and isinstance(got.get("finish_reason"), str) and got["finish_reason"]:
                    reasons.append(got["finish_reason"])
    return reasons


OI_OUTPUT_PREFIX = "llm.output_messages."
OI_FINISH_SUFFIX = ".message.finish_reason"


def _oi_output_finish_keys(a: dict[str, Any]) -> tuple[str, ...]:
    """The ``llm.output_messages.{i}.message.finish_reason`` keys of a key sequence, by message index."""
    got = [(int(mid), k) for k in a if k.startswith(OI_OUTPUT_PREFIX) and k.endswith(OI_FINISH_SUFFIX)
           and (mid := k[len(OI_OUTPUT_PREFIX):-len(OI_FINISH_SUFFIX)]).isdigit()]
    return tuple(k for _, k in sorted(got))


def _output_message_reasons(v: Any) -> list[str]:
    """The ``finish_reason`` of each output message (gen_ai.output.messages, the semantic conventions' JSON), else
    its ``stop_reason``: Anthropic's name for it, which Laminar's Anthropic spans keep on each output message
    (lmnr 0.8.2 instrumentation/anthropic/span_utils.py: ``{"role", "content", "stop_reason"}``)."""
    got = coerce.parse_structured(v)
    if not isinstance(got, list):
        return []
    return [r for m in got if isinstance(m, dict)
            and type(r := m.get("finish_reason") or m.get("stop_reason")) is str and r]


SAGEMAKER_OUTPUT = "traceloop.entity.output"


def _sagemaker_body(v: Any, call: Call) -> list[str]:
    """The usage and finish reasons a SageMaker endpoint's container reports in its response body, which
    OpenLLMetry's SageMaker span keeps whole (opentelemetry-instrumentation-sagemaker 0.62.4 span_utils.py
    set_call_response_attributes: ``json.dumps`` of the parsed body; a stream's is set_stream_response_attributes'
    ``json.dumps`` of the payload parts joined as text, streaming_wrapper.py). Only fields the container itself
    writes, never a count made from text: a Hugging Face TGI container (the LLM DLC behind JumpStart endpoints,
    text-generation-inference router/src/sagemaker.rs) answers a Messages API request with a chat completion
    whose ``usage.{prompt,completion}_tokens`` it counted (router/src/chat.rs), a generate request with
    ``[{"generated_text", "details": {"finish_reason", "generated_tokens"}}]`` (``details`` only when asked:
    output tokens, no input count), and streams server-sent ``data:`` lines whose last has
    ``details.{finish_reason, generated_tokens, input_length}``. Other containers' bodies read as nothing."""
    body = coerce.parse_structured(v)
    if isinstance(body, str):  # a stream's text: the last data line with details or usage
        call.streaming = True
        last: Any = None
        for line in reversed(body.split("\n")):
            if line.startswith("data:"):
                got = coerce.parse_structured(line[5:])
                if isinstance(got, dict) and (isinstance(got.get("details"), dict)
                                              or isinstance(got.get("usage"), dict)):
                    last = got
                    break
        body = last
    elif isinstance(body, (dict, list)):
        call.streaming = False
    if isinstance(body, list) and len(body) == 1:
        body = body[0]  # TGI's /invocations wraps a generate answer in a list (compat_generate)
    if not isinstance(body, dict):
        return []
    reasons: list[str] = []
    usage, details = body.get("usage"), body.get("details")
    if isinstance(usage, dict):
        call.input_tokens = _safe_int(usage.get("prompt_tokens"))
        call.output_tokens = _safe_int(usage.get("completion_tokens"))
    elif isinstance(details, dict):
        call.input_tokens = _safe_int(details.get("input_length"))
        call.output_tokens = _safe_int(details.get("generated_tokens"))
        if type(r := details.get("finish_reason")) is str and r:
            reasons.append(r)
    choices = body.get("choices")
    if isinstance(choices, list):
        reasons += [r for ch in choices if isinstance(ch, dict) and type(r := ch.get("finish_reason")) is str and r]
    return reasons


def _plan(a: dict[str, Any], scope: str) -> _Plan:
    sig = (scope, *a)
    got = _PLANS.get(sig)
    if got is None:
        if len(_PLANS) >= _MAX_PLANS:
            _PLANS.clear()
        got = _PLANS[sig] = _Plan(a, scope)
    return got


_PLANS: dict[tuple[str, ...], _Plan] = {}
_MAX_PLANS = 4096


def _first(a: dict[str, Any], keys: tuple[str, ...], conv: Any, invalid: list[str]) -> Any:
    for k in keys:
        if k in a:
            try:
                v = conv(a[k])
            except coerce.Unreadable:
                invalid.append(k)
                continue
            if v is not None:
                return v
    return None


#: model names written as API resource names: Vertex AI's ``projects/{p}/locations/{l}/publishers/google/models/{m}``
#: (the GAPIC request's ``model``, which openinference-instrumentation-vertexai 0.1.29 _wrapper.py writes as
#: llm.model_name), ``publishers/google/models/{m}``, and the Gemini API's ``models/{m}``
RESOURCE_MODEL_PREFIXES = ("projects/", "publishers/", "models/")


def _resource_models(call: Call) -> None:
    """The model's own name out of a resource name (prices and metric labels are by model, and the path names
    the user's cloud project); a path of a publisher model in a project and location is Vertex AI's."""
    for fld in ("request_model", "response_model"):
        m = getattr(call, fld)
        if m is None or "models/" not in m:
            continue  # e.g. a tuned model's endpoint (projects/.../endpoints/123): no model name in it
        if m.startswith("projects/") and "/locations/" in m and "/publishers/" in m \
                and call.provider in (None, "gcp.gen_ai"):
            call.provider = "gcp.vertex_ai"
        setattr(call, fld, m.rpartition("models/")[2] or m)


def _json_field(a: dict[str, Any], key: str, invalid: list[str]) -> dict[str, Any]:
    if key not in a:
        return {}
    v = coerce.parse_structured(a[key])
    if isinstance(v, dict):
        return v
    invalid.append(key)
    return {}


def _dig(d: dict[str, Any], *path: str) -> Any:
    cur: Any = d
    for p in path:
        if not isinstance(cur, dict):
            return None
        cur = cur.get(p)
    return cur


def read_call(e: SpanEntry) -> Call:
    return read_call_and_plan(e)[0]


def read_call_and_plan(e: SpanEntry, share: bool = False) -> tuple[Call, _Plan | None]:
    """The span's Call, and the plan it was read with (None for spans that are not GenAI).

    With ``share``, a tool, agent or workflow span that reads exactly like an earlier one gets
    the same Call object: the caller promises not to change it (normalize's own additions for
    such spans, coding-agent marks and tool-argument hashes, are excluded by ``_Plan.shareable``
    and by the caller).
    """
    a = e.attrs
    span = e.view
    op = _op(a)
    kind = kind_of(a, span.name, op)
    if kind == "other":
        if span.status_code == 2 and op is None and e.scope.name.startswith(OPENLIT_SCOPE):
            return _openlit_failure(e), None
        if HAYSTACK_TYPE in a:
            return _haystack_call(e), None
        if e.scope.name == LI_OTEL_SCOPE:
            return _llamaindex_otel_call(e), None
        return Call(kind=kind, operation=op), None  # not GenAI: nothing more is read or written
    plan = _plan(a, e.scope.name)
    if plan.dialect == "genkit":
        return _genkit_call(e, kind), plan  # the plan's content index: factory reads genkit:input's messages
    key: tuple[Any, ...] | None = None
    if share and plan.shareable and kind in SHARED_KINDS:
        get = plan.identity_get
        if get is None:
            key = (plan, op, kind, span.status_code == 2)
        elif len(plan.identity) == 1:
            v = get(a)
            key = (plan, op, kind, span.status_code == 2, v, type(v))
        else:
            values = get(a)
            key = (plan, op, kind, span.status_code == 2, values, tuple(map(type, values)))
        try:
            got = _SHARED.get(key)
        except TypeError:  # a list value: read this span on its own
            got, key = None, None
        if got is not None:
            return got, plan
    call = Call(kind=kind, dialect=plan.dialect, operation=op)
    inv = call.invalid
    p = plan.fields
    s, i = coerce.to_str, coerce.to_int
    if plan.langsmith:
        call.provider = normalize_provider(s(a[LS_PROVIDER]))
    elif p[F_PROVIDER] and not plan.scope_provider:
        call.provider = normalize_provider(_first(a, p[F_PROVIDER], s, inv))
        if call.provider is None and len(p[F_PROVIDER]) > 1:
            # the first key named a framework (providers.NOT_PROVIDERS), a later one may name the provider: ADK's
            # legacy call_llm span says gen_ai.system = "gcp.vertex.agent" (google-adk 2.13 telemetry/tracing.py)
            # and openinference-instrumentation-google-adk 1.0.5 writes llm.provider = "google" on that same span
            # (_wrappers.py _TraceCallLlm)
            for k in p[F_PROVIDER][1:]:
                call.provider = normalize_provider(_first(a, (k,), s, inv))
                if call.provider is not None:
                    break
    elif plan.ls_provider:
        lsp = coerce.parse_structured(a["metadata"])
        if isinstance(lsp, dict) and type(lsp := lsp.get("ls_provider")) is str:
            call.provider = normalize_provider(lsp)
    elif plan.scope_provider:
        call.provider = plan.scope_provider
    if plan.server_address and call.provider in (None, "openai") and type(host := a["server.address"]) is str:
        # an OpenAI client library says openai of every OpenAI-compatible host (DeepSeek, Azure, OpenRouter, Gemini's
        # endpoint); the semantic conventions point to server.address for the actual system (providers.provider_at_host)
        at = provider_at_host(host)
        if at is not None:
            call.provider, call.provider_from_host = at, True
    if p[F_REQUEST_MODEL]:
        call.request_model = _first(a, p[F_REQUEST_MODEL], s, inv)
    if p[F_RESPONSE_MODEL]:
        call.response_model = _first(a, p[F_RESPONSE_MODEL], s, inv)
    if plan.langfuse_ls:
        _langfuse_ls(a, call)
    rm = call.request_model
    if rm is not None and rm.startswith(RESOURCE_MODEL_PREFIXES):
        _resource_models(call)
    if plan.mlflow_kwargs and "model" in a:
        model = _first(a, ("model",), s, inv)
        if model is not None:
            if call.response_model is None and call.request_model != model:
                call.response_model = call.request_model
            call.request_model = model
    # --- identity ---------------------------------------------------------------------------------
    if p[F_RESPONSE_ID]:
        call.response_id = _first(a, p[F_RESPONSE_ID], s, inv)
    if p[F_AGENT]:
        call.agent_name = _first(a, p[F_AGENT], s, inv)
    if kind == "agent" and call.agent_name is None and p[F_ENTITY]:
        call.agent_name = _first(a, p[F_ENTITY], s, inv)
    if p[F_CONVERSATION]:
        call.conversation_id = _first(a, p[F_CONVERSATION], s, inv)
    if p[F_PRINCIPAL]:
        call.principal = _first(a, p[F_PRINCIPAL], s, inv)
    if kind == "tool" and p[F_TOOL]:
        call.tool_name = _first(a, p[F_TOOL], s, inv)
    if kind == "inference" and span.name in NAMED_STREAMS:
        call.streaming = NAMED_STREAMS[span.name]  # no stream flag key: nothing later sets one
    if plan.simple:  # no usage, cost, outcome or request-shape keys: only the status can add to it
        call.error = span.status_code == 2
        if key is not None:
            if len(_SHARED) >= _MAX_SHARED:
                _SHARED.clear()
            _SHARED[key] = call
        return call, plan
    # a Bedrock agent step's raw Anthropic response, parsed once for its usage and its stop reason
    bedrock_raw = _oi_bedrock_raw(a) if plan.oi_bedrock_raw else None
    if plan.usage:
        _read_usage(a, plan, call, inv, bedrock_raw)
        if kind == "embeddings" and call.output_tokens is None and call.input_tokens is not None:
            call.output_tokens = 0  # an embedding has no output tokens (genai-dialects.md section 6); most
            # instrumentations write input only (openai-v2, OpenInference, OpenLLMetry, OpenLIT: captured)
    # --- cost as reported ------------------------------------------------------------------------
    if plan.cost:
        _read_cost(a, p, call, inv)
    # --- outcome of the call ------------------------------------------------------------------------
    reasons: list[str] = _sagemaker_body(a[SAGEMAKER_OUTPUT], call) if plan.sagemaker_body and kind == "inference" \
        else []
    for k in plan.finish:
        reasons = coerce.to_str_list(a[k]) if k != SK_FINISH_KEY else _sk_finish_reasons(a[k])
        if reasons:
            break
    if not reasons and plan.choice_events and kind == "inference":
        reasons = _choice_event_reasons(e.span.events)
    if not reasons and plan.oi_output_finish and kind == "inference":
        reasons = [r for k in plan.oi_output_finish if (r := s(a[k]))]
    if not reasons and plan.oi_bedrock_raw and kind == "inference":
        reasons = [r] if bedrock_raw and (r := s(bedrock_raw.get("stop_reason"))) else []
    if not reasons and plan.output_finish and kind == "inference":
        # "error" there is openai-v2's word for a choice that got no reason (patch.py ``choice.finish_reason or
        # "error"``: a stream the app stopped reading); an error is told by the span's status and error.type
        reasons = [r for r in _output_message_reasons(a["gen_ai.output.messages"]) if r != "error"]
    if plan.enum_finish:  # "None": str() of no reason (OpenLIT together utils.py process_chunk on the usage chunk)
        reasons = [TOGETHER_FINISH.get(r) or VERTEX_FINISH.get(r) or r.rpartition(".")[2] for r in reasons
                   if r not in ("None", "0")]  # 0: FINISH_REASON_UNSPECIFIED, no reason
    call.finish_reasons = tuple(reasons)
    if plan.flags:
        call.error_type = s(a.get("error.type"))
    call.error = span.status_code == 2 or call.error_type is not None or "error" in call.finish_reasons \
        or (plan.flags and s(a.get("langfuse.observation.level")) == "ERROR") \
        or (plan.langsmith and any(ev.name == "exception" for ev in e.span.events))
    if call.error and (call.finish_reasons and "error" not in call.finish_reasons
                       or "gen_ai.server.time_to_first_token" in a) and e.scope.name.startswith(OPENLIT_SCOPE):
        # OpenLIT's own fault, not the call's: its wrappers call the SDK, then read the response inside
        # ``try: process_chat_response(...) except Exception as e: handle_exception(span, e)`` (openlit 1.45.0
        # instrumentation/groq/groq.py chat; __helpers.py handle_exception "when LLM Function fails or trace
        # creation fails": ERROR status, error.type), and the response is returned to the app all the same. An
        # API error raises before any response attribute is set (see _openlit_failure), so a span that names
        # the provider's finish reason got an answer: groq's common_chat_logic fails on a tool call
        # (utils.py ``scope._tools.get``, a list) after the finish reason, before the usage. A time to first
        # token is measured from the answer too (semconv gen_ai.server.time_to_first_token; OpenLIT writes it
        # in __helpers.py common_span_attributes, from the response's processing): openlit 1.45.0
        # instrumentation/vertexai/utils.py common_chat_logic fails after it, before any finish reason or usage,
        # on a GenerationConfig object (``inference_config.get(key)``, a dict's method)
        call.error, call.error_type = False, None
    if call.error and plan.litellm_failure_zeros and not call.input_tokens and not call.output_tokens:
        call.input_tokens = call.output_tokens = call.cache_read_tokens = call.cache_write_tokens = None
        call.reasoning_tokens = None
    # --- request shape ------------------------------------------------------------------------------
    params: dict[str, Any] = _json_field(a, plan.params, inv) if plan.params else {}
    if plan.oi_request_input and isinstance(body := coerce.parse_structured(a["input.value"]), dict) \
            and type(body.get("model")) is str and not OI_REQUEST_BODY_KEYS.isdisjoint(body):
        params = body  # the request itself (_Plan.oi_request_input); not JSON (the placeholder): nothing to read
    if params and plan.dialect == "openinference" and type(rm := params.get("model")) is str \
            and rm != call.request_model:
        # OpenInference's OpenAI instrumentor writes llm.model_name from the response only (openinference-
        # instrumentation-openai 0.1.66 _response_attributes_extractor.py: ``yield LLM_MODEL_NAME,
        # completion.model``, the served, dated model); the requested one is the request's own ``model`` in
        # llm.invocation_parameters (_request_attributes_extractor.py)
        if call.response_model is None:
            call.response_model = call.request_model
        call.request_model = rm
    if plan.routed_model and call.request_model and "/" in call.request_model:
        head, _, tail = call.request_model.partition("/")
        if call.provider is None and head in ALIASES:
            # OpenLIT's LiteLLM spans say gen_ai.provider.name "litellm" (a router: providers.NOT_PROVIDERS) and
            # gen_ai.request.model as the app gave it, LiteLLM's ``{custom_llm_provider}/{model}`` (openlit
            # 1.45.0 instrumentation/litellm/litellm.py ``request_model = kwargs.get("model", "openai/gpt-4o")``; litellm
            # get_llm_provider_logic.py takes the provider from that prefix): the provider is the prefix
            call.provider = ALIASES[head]
        if tail and call.provider and normalize_provider(head) == call.provider:
            if call.response_model == call.request_model:
                call.response_model = tail  # the same routed string, not a served model
            call.request_model = tail
    if p[F_MAX_TOKENS] or params:
        # OpenInference's invocation parameters are the SDK's own request names: ``max_completion_tokens``
        # (openai >= 1.x via LangChain and the OpenAI instrumentor), ``max_output_tokens`` (google-genai's
        # GenerateContentConfig, openinference-instrumentation-google-genai _request_attributes_extractor.py)
        call.max_tokens = _first(a, p[F_MAX_TOKENS], i, inv) or _safe_int(
            params.get("max_tokens", params.get("max_completion_tokens", params.get("max_output_tokens"))))
        if call.max_tokens is None and type(n := params.get("num_output")) is int and n > 0:
            # OpenInference's LlamaIndex parameters are the LLM's LLMMetadata (openinference-instrumentation-
            # llama-index 4.6.1 _handler.py: ``metadata.json(exclude_unset=True)``), whose ``num_output`` is the
            # max tokens, -1 for none (llama-index-llms-openai 0.8.3 base.py: ``num_output=self.max_tokens or -1``)
            call.max_tokens = n
    if p[F_TEMPERATURE]:
        call.temperature = _first(a, p[F_TEMPERATURE], coerce.to_float, inv)
    if call.temperature is None and params.get("temperature") is not None:
        call.temperature = _safe_float(params.get("temperature"))
    # OpenInference spans without parameters still tell a stream by their name (AutoGen's, below); a Langfuse
    # generation without parameters by its completion_start_time (langfuse-haystack 8.0.0 tracer.py
    # _update_generation_details sets model_parameters only from the run's generation_kwargs: an Agent's llm has none)
    if plan.flags or params or plan.dialect in ("openinference", "langfuse"):
        call.streaming = coerce.to_bool(a.get("gen_ai.request.stream", a.get("gen_ai.is_streaming",
                                                                          params.get("stream"))))
        if call.streaming is None and "gen_ai.request.is_stream" in a:
            # OpenLIT JS's flag (openlit 1.15.0 dist/instrumentation/openai/wrapper.js _chatCompletionCommonSetter
            # and the Responses setter: ``span.setAttribute(GEN_AI_REQUEST_IS_STREAM, stream)``,
            # semantic-convention.js ``'gen_ai.request.is_stream'``), on every call, false when not streamed
            call.streaming = coerce.to_bool(a["gen_ai.request.is_stream"])
        if call.streaming is None and "gen_ai.request.streaming" in a:
            # AgentOps' flag (agentops 0.4.21 semconv/span_attributes.py LLM_REQUEST_STREAMING;
            # instrumentation/providers/openai/wrappers/chat.py handle_chat_attributes: ``kwargs.get("stream",
            # False)``), on every call
            call.streaming = coerce.to_bool(a["gen_ai.request.streaming"])
        if call.streaming is None and plan.dialect == "langfuse" and kind == "inference":
            # Langfuse records the first token's time only for streamed generations: without it, not streamed
            # (langfuse-haystack: the reply meta's completion_start_time, which haystack-ai 3.4.1 sets from a
            # stream's first chunk only, components/generators/utils.py ``first_chunk_meta.get("received_at")``)
            call.streaming = "langfuse.observation.completion_start_time" in a
        if call.streaming is None and not FIRST_CHUNK_KEYS.isdisjoint(a):
            call.streaming = True
        if call.streaming is None and type(vop := a.get("ai.operationId")) is str \
                and vop.endswith(("doStream", "doGenerate")):
            call.streaming = vop.endswith("doStream")  # ai.streamText.doStream / ai.generateText.doGenerate
        if call.streaming is None and plan.dialect == "openinference" \
                and span.name.endswith(("ContentStream", "converse_stream", "invoke_model_with_response_stream",
                                        "stream_chat", "stream_complete", ".generate_stream", ".invoke_stream",
                                        "stream_generate_content", ".create_stream")):
            # google-genai's stream calls have no stream flag in OpenInference's parameters (the config), only
            # their span names (openinference-instrumentation-google-genai _wrappers.py: ``GenerateContentStream``,
            # ``AsyncGenerateContentStream``); so Bedrock's (openinference-instrumentation-bedrock 0.1.61
            # _wrappers.py: ``bedrock.converse_stream``, ``bedrock.invoke_model_with_response_stream``); so
            # LlamaIndex's, whose span is the LLM method (llama-index-instrumentation dispatcher.py span():
            # ``f"{actual_class}.{method_name}-{uuid}"``, openinference-instrumentation-llama-index 4.6.1
            # _handler.py ``name=id_.partition("-")[0]``: ``OpenAI.stream_chat``, ``OpenAI.astream_complete``);
            # so smolagents' (openinference-instrumentation-smolagents 0.1.43 _wrappers.py _ModelStreamWrapper:
            # ``f"{instance.__class__.__name__}.generate_stream"``, the parameters are the model's kwargs); so
            # Agno's (openinference-instrumentation-agno 1.0.15 _model_wrapper.py: ``f"{model_name}.invoke_stream"``,
            # ``.ainvoke_stream``; its parameters are the request's without ``stream``); so Vertex AI's
            # (openinference-instrumentation-vertexai 0.1.29 _wrapper.py: the span is named after the GAPIC method,
            # ``inspect.stack()[1].function``: ``stream_generate_content``) and AutoGen's (openinference-
            # instrumentation-autogen-agentchat 0.1.22 _wrappers.py: ``f"{instance.__class__.__name__}.create_stream"``)
            call.streaming = True
        if call.streaming is not True and plan.dialect == "openinference" and kind == "inference" \
                and e.scope.name == OI_LANGCHAIN_SCOPE and _langchain_streamed(a.get("output.value")):
            # ``chat_model.stream()``: LangChain's run params say ``"stream": self.streaming``, the model's option
            # (langchain-openai 1.7.4 chat_models/base.py _default_params; _stream sets ``stream=True`` for the
            # request only), but the run's result is the merged chunks (langchain-core 1.8.3
            # language_models/chat_models.py BaseChatModel.stream: ``generation = merge_chat_generation_chunks(
            # chunks)``, ``run_manager.on_llm_end(LLMResult(generations=[[generation]]))``), a
            # ChatGenerationChunk, where invoke()'s is a ChatGeneration (generate_from_stream too), and
            # openinference-instrumentation-langchain 0.1.80 (_tracer.py ``_as_output(_convert_io(run.outputs))``)
            # writes it as output.value. A model invoked with a streaming callback handler (astream_events) streams
            # with a ChatGeneration and says nothing of it
            call.streaming = True
        if call.streaming is None and type(rm := a.get("rpc.method")) is str and kind == "inference":  # type: ignore[assignment]  # rm reused
            call.streaming = AWS_STREAM_OPS.get(rm)
        if call.streaming is None and (plan.dialect in ("litellm", "openllmetry") or "llm.request.type" in a):
            # LiteLLM's legacy attribute, ``str(optional_params.get("stream", False))`` (litellm 1.110
            # integrations/opentelemetry.py set_attributes, SpanAttributes.LLM_IS_STREAMING); OpenLLMetry's
            # Ollama instrumentation writes only it (opentelemetry-instrumentation-ollama 0.62.4 span_utils.py
            # set_model_input_attributes: ``LLM_IS_STREAMING, kwargs.get("stream") or False``); its Together span of a
            # stream has no llm.usage.* key to tell the dialect by, only Traceloop's llm.request.type
            # (opentelemetry-instrumentation-together 0.62.4 span_utils.py set_model_prompt_attributes)
            call.streaming = coerce.to_bool(a.get("llm.is_streaming"))
        call.auxiliary = coerce.to_bool(a.get("tokenwatch.usage.auxiliary")) is True
    if call.streaming is None and plan.util_stream and kind == "inference" and a.get("gen_ai.provider.name") == "openai":
        call.streaming = True  # openai-v2's stream (see _Plan.util_stream)
    if call.streaming is None and (plan.mlflow_kwargs or plan.pipecat_stream):
        call.streaming = coerce.to_bool(a.get("stream"))
    if call.streaming is None and plan.dialect == "pydantic-ai" and span.name.startswith(LOGFIRE_STREAM_SPAN):
        # Logfire's streamed OpenAI call: the request span ends when the stream is handed back, the usage and
        # finish reason go on a log span it writes when the stream is consumed (logfire 5.4 _internal/
        # integrations/llm_providers/llm_provider.py record_streaming: ``streaming response from
        # {request_data[model]!r} took {duration:.2f}s``); no stream flag on either
        call.streaming = True
    if call.streaming is None and plan.adk_output and cut_by_finish_reason(call.finish_reasons):
        call.streaming = _adk_streamed(a["gen_ai.output.messages"])  # only a cut call needs to know
    if call.streaming is None and plan.dialect == "openllmetry" and cut_by_finish_reason(call.finish_reasons):
        # OpenLLMetry's Cohere instrumentation sets no stream flag; it adds one ``llm.content.completion.chunk``
        # span event per streamed chunk (opentelemetry-instrumentation-cohere 0.62.4 streaming.py
        # process_chat_v2_streaming_response: ``span.add_event(LLM_CONTENT_COMPLETION_CHUNK)``), streams only
        call.streaming = any(ev.name == "llm.content.completion.chunk" for ev in e.span.events) or None
    # retries a client hides in one span (Claude Code's `attempt`; gen_ai.request.attempt events)
    if p[F_ATTEMPTS]:
        attempts = _first(a, p[F_ATTEMPTS], i, inv)
        if attempts and attempts > 1:
            call.attempts = attempts if "http.request.resend_count" not in a else attempts + 1
    return call, plan


OPENLIT_SCOPE = "openlit.instrumentation."
#: opentelemetry-util-genai's handler, the scope of the spans OTel contrib's openai-v2 2.x makes through it
UTIL_GENAI_SCOPE = "opentelemetry.util.genai.handler"
OPENLIT_GOOGLE_SCOPE = "openlit.instrumentation.google_ai_studio"
OPENLIT_TOGETHER_SCOPE = "openlit.instrumentation.together"
#: together 1.6.0 types/common.py FinishReason, str() of a member -> its value (the API's finish reason)
TOGETHER_FINISH = {"FinishReason.Length": "length", "FinishReason.StopSequence": "stop", "FinishReason.EOS": "eos",
                   "FinishReason.ToolCalls": "tool_calls", "FinishReason.Error": "error"}
OPENLIT_LITELLM_SCOPE = "openlit.instrumentation.litellm"
OPENLIT_VERTEX_SCOPE = "openlit.instrumentation.vertexai"
#: google.cloud.aiplatform_v1 types/content.py Candidate.FinishReason (google-cloud-aiplatform 2.7.0) by number:
#: only OpenLIT's Vertex AI spans write a bare number (together's and google-genai's enums are str enums)
VERTEX_FINISH = {"1": "STOP", "2": "MAX_TOKENS", "3": "SAFETY", "4": "RECITATION", "5": "OTHER", "6": "BLOCKLIST",
                 "7": "PROHIBITED_CONTENT", "8": "SPII", "9": "MALFORMED_FUNCTION_CALL", "10": "MODEL_ARMOR"}
#: OpenInference's Vertex AI instrumentation too (openinference-instrumentation-vertexai 0.1.29 _wrapper.py
#: _parse_usage_metadata: llm.token_count.completion = candidates_token_count, total = total_token_count)
GEMINI_RAW_OUTPUT_SCOPES = frozenset({OPENLIT_GOOGLE_SCOPE, "opentelemetry.instrumentation.google_generativeai",
                                      "openinference.instrumentation.vertexai"})


def _openlit_failure(e: SpanEntry) -> Call:
    """A failed OpenLIT model call, which has no attribute at all: openlit 1.45.0's Anthropic wrapper
    (openlit/instrumentation/anthropic/anthropic.py) calls the SDK inside ``tracer.start_as_current_span(
    f"chat {request_model}", kind=CLIENT)`` and sets every attribute only from the response, so an API error
    leaves the span with its name, an ERROR status and the ``exception`` event the context manager records.
    The operation and request model are the span name's (semconv ``{operation} {model}``), the provider the
    scope's last part (``openlit.instrumentation.anthropic``)."""
    name = e.view.name
    op, _, model = name.partition(" ")
    if op not in INFERENCE_OPS:
        return Call(kind="other")
    provider = normalize_provider(e.scope.name[len(OPENLIT_SCOPE):].split(".", 1)[0])
    return Call(kind="inference", dialect="openlit", operation=op, provider=provider, request_model=model or None,
                error=True)


#: Haystack 2.x's own tracer (haystack 2.31 tracing/opentelemetry.py OpenTelemetryTracer, core/pipeline/
#: pipeline.py _run_component) writes no GenAI attribute: one ``haystack.component.run`` span per component run
#: with its type, and with content tracing (HAYSTACK_CONTENT_TRACING_ENABLED) its inputs and outputs as JSON
HAYSTACK_TYPE = "haystack.component.type"
#: the chat generators whose output is OpenAI's Chat Completions answer, by component type, and the provider
HAYSTACK_GENERATORS = {"OpenAIChatGenerator": "openai", "OpenAIGenerator": "openai",
                       "AzureOpenAIChatGenerator": "azure.ai.openai", "AzureOpenAIGenerator": "azure.ai.openai"}


def _genkit_call(e: SpanEntry, kind: SpanKind) -> Call:
    """A Genkit action span (GENKIT_KINDS). Its whole request and response are JSON attributes
    (@genkit-ai/core 1.42.0 instrumentation.js metadataToAttributes: ``genkit:input`` / ``genkit:output`` =
    ``JSON.stringify``): a model action's input is the GenerateRequest (messages, ``config``: maxOutputTokens,
    temperature), its output the GenerateResponse (@genkit-ai/ai lib/model-types.js GenerationUsageSchema:
    ``usage.inputTokens`` / ``outputTokens``, ``cachedContentTokens`` "cached input tokens", ``thoughtsTokens``;
    ``finishReason``: stop, length, blocked, interrupted, other, unknown). The model is the action's name,
    ``{plugin}/{model}`` (genkit:name), the plugin naming the provider. Only model and embedder spans are read
    for usage: the ``generate`` util span's output repeats its last model call's usage (lib/generate/action.js)."""
    a = e.attrs
    call = Call(kind=kind, dialect="genkit")
    call.error = e.view.status_code == 2 or a.get("genkit:state") == "error"
    name = coerce.to_str(a.get("genkit:name"))
    if kind == "tool":
        call.tool_name = name
        return call
    if kind not in ("inference", "embeddings") or name is None:
        return call
    head, _, model = name.partition("/")
    call.provider = (GENKIT_PLUGINS.get(head) or normalize_provider(head)) if model else None
    call.request_model = model or name
    inv = call.invalid
    req = _json_field(a, "genkit:input", inv)
    cfg = req.get("config")
    if isinstance(cfg, dict):
        call.max_tokens = _safe_int(cfg.get("maxOutputTokens"))
        call.temperature = _safe_float(cfg.get("temperature"))
    if "genkit:output" not in a:
        return call
    out = _json_field(a, "genkit:output", inv)
    usage = out.get("usage")
    if isinstance(usage, dict):
        call.input_tokens = _safe_int(usage.get("inputTokens"))
        call.output_tokens = _safe_int(usage.get("outputTokens"))
        call.cache_read_tokens = _safe_int(usage.get("cachedContentTokens"))
        call.reasoning_tokens = _safe_int(usage.get("thoughtsTokens"))
        if call.reasoning_tokens and call.output_tokens is not None:
            # thoughtsTokens lie outside outputTokens: Genkit's Gemini plugins write the Gemini API's counts,
            # ``outputTokens: usageMetadata.candidatesTokenCount, thoughtsTokens: thoughtsTokenCount`` (genkit
            # js/plugins/google-genai googleai/gemini.ts; Gemini's totalTokenCount = prompt + candidates +
            # thoughts), and cachedContentTokens = cachedContentTokenCount lies inside inputTokens (promptTokenCount)
            call.output_tokens += call.reasoning_tokens
    fr = out.get("finishReason")
    cands = out.get("candidates")
    if fr is None and isinstance(cands, list) and cands and isinstance(cands[0], dict):
        # the deprecated GenerateResponse.candidates (@genkit-ai/ai 1.42.0 lib/model-types.js: "only the first
        # candidate will be used"), which Genkit's Gemini API plugin still returns in place of finishReason:
        # ``{candidates: candidates.map(fromGeminiCandidate), custom, usage}`` (@genkit-ai/google-genai 1.42.0
        # lib/googleai/gemini.js defineModel; the candidate's finishReason mapped by fromGeminiFinishReason)
        fr = cands[0].get("finishReason")
    if type(fr) is str:
        call.finish_reasons = (fr,)
    return call


def _haystack_call(e: SpanEntry) -> Call:
    """A Haystack generator's run: the call's answer is its ``haystack.component.output``, the replies as
    ChatMessage dicts whose ``meta`` OpenAIChatGenerator fills from the response (haystack 2.31
    components/generators/chat/openai.py _convert_chat_completion_to_chat_message: ``model``, ``finish_reason``,
    ``usage`` = the OpenAI usage object as a dict, prompt_tokens with cached_tokens inside, completion_tokens
    with reasoning_tokens inside; a stream's also ``completion_start_time``, _convert_streaming_chunks_to_chat_
    message, which a call answered at once never has). The request model is nowhere on the span: the
    generator's init parameters are not its run's inputs. Without content tracing there is no output: a call
    without usage. A failed call: ERROR status, no output."""
    a = e.attrs
    provider = HAYSTACK_GENERATORS.get(t) if type(t := a[HAYSTACK_TYPE]) is str else None
    if provider is None:
        return Call(kind="other")
    call = Call(kind="inference", dialect="haystack", operation="chat", provider=provider,
                error=e.view.status_code == 2)
    out = coerce.parse_structured(a.get("haystack.component.output"))
    replies = out.get("replies") if isinstance(out, dict) else None
    if not isinstance(replies, list):
        return call
    metas = [r["meta"] for r in replies if isinstance(r, dict) and isinstance(r.get("meta"), dict)]
    call.finish_reasons = tuple(str(m["finish_reason"]) for m in metas if m.get("finish_reason"))
    tools = [(str(tc.get("tool_name")), keyed_hash(tc.get("arguments"))) for r in replies
             if isinstance(r, dict) and isinstance(r.get("content"), list) for part in r["content"]
             if isinstance(part, dict) and isinstance(tc := part.get("tool_call"), dict)]
    call.requested_tools = tuple(tools)
    if not metas:
        return call
    meta = metas[0]
    if type(m := meta.get("model")) is str:
        call.response_model = m
    call.streaming = True if "completion_start_time" in meta else None
    usage = meta.get("usage")
    if isinstance(usage, dict):
        call.input_tokens = _safe_int(usage.get("prompt_tokens"))
        call.output_tokens = _safe_int(usage.get("completion_tokens"))
        pd, cd = usage.get("prompt_tokens_details"), usage.get("completion_tokens_details")
        if isinstance(pd, dict):
            call.cache_read_tokens = _safe_int(pd.get("cached_tokens"))
        if isinstance(cd, dict):
            call.reasoning_tokens = _safe_int(cd.get("reasoning_tokens"))
    return call


#: LlamaIndex's own OpenTelemetry integration (llama-index-observability-otel 0.7.0 base.py): one span per dispatcher
#: span (``OpenAI.achat``, ``FunctionAgent.run``, ...), of this tracer, with no GenAI attributes at all; every
#: instrumentation event of the span becomes a span event named after its class, its ``model_dump()`` flattened
#: into dot-keyed attributes, lists and other values as JSON (OTelCompatibleEventHandler.handle, utils.py
#: flatten_dict). A model call is the span its ``LLMChatStartEvent`` / ``LLMCompletionStartEvent`` was sent in
#: (llama-index-core 0.14 core/llms/callbacks.py llm_chat_callback / llm_completion_callback, inside the LLM
#: method's dispatcher span)
LI_OTEL_SCOPE = "llamaindex.opentelemetry.tracer"
LI_OTEL_DIALECT = "llamaindex-otel"
LI_OTEL_START = {"LLMChatStartEvent": "chat", "LLMCompletionStartEvent": "text_completion"}
LI_OTEL_END = frozenset({"LLMChatEndEvent", "LLMCompletionEndEvent"})
#: the LLM methods that return a generator (BaseLLM.stream_chat / astream_chat / stream_complete / astream_complete)
LI_STREAM_METHODS = frozenset({"stream_chat", "astream_chat", "stream_complete", "astream_complete"})
#: the provider by the LLM class's ``class_name()`` (the start event's ``model_dict.class_name``):
#: llama-index-llms-openai 0.8.3 base.py OpenAI.class_name() = "openai_llm"
LI_OTEL_PROVIDERS = {"openai_llm": "openai"}


def _li_events(e: SpanEntry) -> tuple[str | None, dict[str, Any] | None, dict[str, Any] | None, str | None]:
    """(operation, start event, end event, exception type) of a LlamaIndex OTel span; only those events decoded."""
    op = start = end = exc = None
    for ev in e.span.events:
        n = ev.name
        if n in LI_OTEL_START:
            op, start = LI_OTEL_START[n], key_values_to_dict(ev.attributes)
        elif n in LI_OTEL_END:
            end = key_values_to_dict(ev.attributes)
        elif n == "exception":  # the SDK's record_exception (semconv exception.type: the exception's class)
            exc = next((kv.value.string_value for kv in ev.attributes if kv.key == "exception.type"), None) or None
    return op, start, end, exc


def _llamaindex_otel_call(e: SpanEntry) -> Call:
    """A model call under LlamaIndex's OTel integration (LI_OTEL_SCOPE), read from the span's events: the start
    event's ``model_dict`` is the LLM's metadata (llama-index-core 0.14 base/llms/types.py LLMMetadata:
    ``model_name``; ``class_name`` added by BaseComponent.model_dump), the end event's ``response.raw`` the
    provider's own response object dumped (ChatResponse / CompletionResponse ``raw``): for the OpenAI LLM the Chat
    Completions answer (llama-index-llms-openai 0.8.3 base.py ``raw=response``): ``id``, ``model`` (the served model),
    ``choices`` (JSON: finish_reason, message.tool_calls) and the usage object, ``prompt_tokens`` with
    ``prompt_tokens_details.cached_tokens`` inside, ``completion_tokens`` with ``completion_tokens_details.
    reasoning_tokens`` inside (OpenAI API reference). A failed call: ERROR status, no end event. A streamed call
    has no end event either: its span closes when the method returns the generator, and the events the generator
    sends later are dropped for a span not open (base.py handle: ``current_span_id not in all_spans``)."""
    op, start, end, exc = _li_events(e)
    if start is None:
        return Call(kind="other")
    s, i = coerce.to_str, _safe_int
    call = Call(kind="inference", dialect=LI_OTEL_DIALECT, operation=op, error=e.view.status_code == 2,
                error_type=exc)
    call.request_model = s(start.get("model_dict.model_name"))
    cls = start.get("model_dict.class_name")
    call.provider = LI_OTEL_PROVIDERS.get(cls) if type(cls) is str else None
    call.streaming = e.view.name.rpartition(".")[2] in LI_STREAM_METHODS
    tools = start.get("additional_kwargs.tools")  # the request's tool definitions (OpenAI's, as JSON)
    if tools is not None:
        call.tool_definitions_digest = keyed_hash(tools)
    if end is None:
        return call
    call.response_model = s(end.get("response.raw.model"))
    call.response_id = s(end.get("response.raw.id"))
    if "response.raw.usage.prompt_tokens" in end:  # the Chat Completions / Completions usage object
        call.input_tokens = i(end["response.raw.usage.prompt_tokens"])
        call.output_tokens = i(end.get("response.raw.usage.completion_tokens"))
        call.cache_read_tokens = i(end.get("response.raw.usage.prompt_tokens_details.cached_tokens"))
        call.reasoning_tokens = i(end.get("response.raw.usage.completion_tokens_details.reasoning_tokens"))
    choices = coerce.parse_structured(end.get("response.raw.choices"))
    if isinstance(choices, list):
        ch = [c for c in choices if isinstance(c, dict)]
        call.finish_reasons = tuple(str(c["finish_reason"]) for c in ch if c.get("finish_reason"))
        call.requested_tools = tuple(
            (str(fn["name"]), keyed_hash(fn.get("arguments")) if fn.get("arguments") else None)
            for c in ch if isinstance(m := c.get("message"), dict) and isinstance(m.get("tool_calls"), list)
            for tc in m["tool_calls"] if isinstance(tc, dict) and isinstance(fn := tc.get("function"), dict)
            and fn.get("name"))
    return call


def llamaindex_otel_messages(e: SpanEntry) -> list[tuple[str, str]] | None:
    """The request of a LlamaIndex OTel model call: its start event's ``messages`` (JSON, ChatMessage dumps: ``role``,
    ``blocks`` = [{block_type: text, text}, ...], the OpenAI tool calls in ``additional_kwargs.tool_calls``) or
    ``prompt`` (a completion's text)."""
    _, start, _, _ = _li_events(e)
    if start is None:
        return None
    v = coerce.parse_structured(start.get("messages"))
    if not isinstance(v, list):
        p = s if type(s := start.get("prompt")) is str else None
        return [("user", p)] if p else None
    return messages([{"role": m.get("role"), "content": m.get("blocks") or [],
                      "tool_calls": ak.get("tool_calls") if isinstance(ak := m.get("additional_kwargs"), dict) else None}
                     for m in v if isinstance(m, dict)])


def haystack_messages(a: dict[str, Any]) -> list[tuple[str, str]] | None:
    """A Haystack generator's input messages (``haystack.component.input``: ``{"messages": [ChatMessage dicts:
    role, content = [{"text": ...} | {"tool_call": ...} | {"tool_call_result": ...}]]}``)."""
    v = a.get("haystack.component.input")
    return input_messages({"gen_ai.input.messages": v}) if v is not None else None


SK_FINISH_KEY = "gen_ai.response.finish_reason"


OI_LANGCHAIN_SCOPE = "openinference.instrumentation.langchain"


def _langchain_streamed(v: Any) -> bool:
    """A LangChain run's output (OpenInference's output.value) holds a ChatGenerationChunk: the merged chunks
    of ``stream()`` (see read_call_and_plan). Parsed only when the name is there at all; a prompt or answer
    that names the class is content, not the generation's own ``type``."""
    if type(v) is not str or '"ChatGenerationChunk"' not in v:
        return False
    got = coerce.parse_structured(v)
    gens = got.get("generations") if isinstance(got, dict) else None
    return isinstance(gens, list) and any(
        isinstance(g, dict) and g.get("type") == "ChatGenerationChunk"
        for row in gens if isinstance(row, list) for g in row)


def _adk_streamed(v: Any) -> bool | None:
    """Whether an ADK ``generate_content`` span was a stream: ADK sets no stream flag, and reports a turn
    that arrived as several responses (RunConfig streaming_mode SSE: one per chunk) as one output message
    each, every one but the last with an empty finish reason (google-adk 2.13.0
    telemetry/_experimental_semconv.py set_operation_details_attributes_from_response: ``recorded +
    arrived``; tracing.py trace_inference_result: "No `partial` check"). One message: not streamed; no
    content captured: unknown."""
    msgs = coerce.parse_structured(v)
    if not isinstance(msgs, list) or not msgs:
        return None
    return len(msgs) > 1 and all(isinstance(m, dict) and not m.get("finish_reason") for m in msgs[:-1])


def _sk_finish_reasons(v: Any) -> list[str]:
    """Semantic Kernel joins one finish reason per choice with "," and writes Python's ``str()`` of its
    enum (``"FinishReason.STOP"``; semantic_kernel/utils/telemetry/model_diagnostics/decorators.py,
    ``",".join(finish_reasons)``): one lower-case reason per choice, as gen_ai.response.finish_reasons."""
    s = coerce.to_str(v)
    if s is None:
        return []
    return [r.strip().rsplit(".", 1)[-1].lower() for r in s.split(",") if r.strip()]


LOGFIRE_STREAM_SPAN = "streaming response from "


def _raw_usage_cache(u: dict[str, Any], call: Call) -> None:
    """Cache counts from a provider's own usage object (Logfire's ``gen_ai.usage.raw``), each a subset of the
    input Logfire reports: OpenAI's ``input_tokens_details`` (Responses) / ``prompt_tokens_details`` (Chat
    Completions) ``cached_tokens`` and ``cache_write_tokens`` (openai types/responses/response_usage.py,
    types/completion_usage.py), Anthropic's ``cache_read_input_tokens`` / ``cache_creation_input_tokens``
    (anthropic types/usage.py)."""
    details = u.get("input_tokens_details") or u.get("prompt_tokens_details")
    if isinstance(details, dict):
        call.cache_read_tokens = _safe_int(details.get("cached_tokens"))
        if "cache_write_tokens" in details:
            call.cache_write_tokens = _safe_int(details.get("cache_write_tokens"))
    if "cache_read_input_tokens" in u or "cache_creation_input_tokens" in u:
        call.cache_read_tokens = _safe_int(u.get("cache_read_input_tokens")) or 0
        call.cache_write_tokens = _safe_int(u.get("cache_creation_input_tokens")) or 0


def _read_usage(a: dict[str, Any], plan: _Plan, call: Call, inv: list[str],
                bedrock_raw: dict[str, Any] | None = None) -> None:
    """Tokens by precedence, then cache and reasoning inclusion (genai-dialects.md section 6); ``bedrock_raw``:
    the step's raw response where ``plan.oi_bedrock_raw`` (_oi_bedrock_raw)."""
    i = coerce.to_int
    p = plan.fields
    call.input_tokens = _first(a, p[F_INPUT], i, inv)
    call.output_tokens = _first(a, p[F_OUTPUT], i, inv)
    call.cache_read_tokens = _first(a, p[F_CACHE_READ], i, inv)
    call.cache_write_tokens = _first(a, p[F_CACHE_WRITE], i, inv)
    call.reasoning_tokens = _first(a, p[F_REASONING], i, inv)
    if (plan.usage_raw or plan.usage_raw_cache) and type(raw := a["gen_ai.usage.raw"]) is str \
            and ("reasoning_tokens" in raw or "cache" in raw):
        u = _json_field(a, "gen_ai.usage.raw", inv)
        if plan.usage_raw and "reasoning_tokens" in raw:
            # OpenAI's usage: output_tokens_details (Responses) / completion_tokens_details (Chat Completions), a
            # subset of the output Logfire reports
            call.reasoning_tokens = _safe_int(_dig(u, "output_tokens_details", "reasoning_tokens")
                                              or _dig(u, "completion_tokens_details", "reasoning_tokens"))
        if plan.usage_raw_cache:
            _raw_usage_cache(u, call)
    if plan.litellm_usage:
        u = _json_field(a, "metadata.usage_object", inv)
        if u:
            call.cache_read_tokens = _safe_int(_dig(u, "prompt_tokens_details", "cached_tokens"))
            call.reasoning_tokens = _safe_int(_dig(u, "completion_tokens_details", "reasoning_tokens"))
            if call.cache_write_tokens is None:
                call.cache_write_tokens = _safe_int(u.get("cache_creation_input_tokens"))
    if call.cache_read_tokens is None and plan.dialect == "pydantic-ai" and call.input_tokens is not None \
            and call.kind == "inference":
        # pydantic-ai writes its cache counts only when above zero (RequestUsage.opentelemetry_attributes:
        # details ``if v``; fixtures README): no key is a reported 0, and an uncached prefix can be seen
        call.cache_read_tokens = 0
    cache_in_input = True
    if call.input_tokens is None and call.output_tokens is None:
        cache_in_input = _vendor_usage(a, call, inv)
    if plan.vercel_cache_meta and call.provider == "anthropic":
        _vercel_anthropic_cache(a, call, inv)
    elif plan.vercel_cache_meta and call.provider == "gcp.gemini":
        _vercel_google_usage(a, call, inv)
    if plan.langsmith and LS_USAGE in a:
        # LangChain's UsageMetadata: input_tokens is the sum of every input type (cache reads and writes in it),
        # output_tokens includes reasoning (langchain_core/messages/ai.py UsageMetadata, InputTokenDetails)
        um = _json_field(a, LS_USAGE, inv)
        # (only where the span's own keys left a count unread)
        for fld, path in (("cache_read_tokens", ("input_token_details", "cache_read")),
                          ("cache_write_tokens", ("input_token_details", "cache_creation")),
                          ("reasoning_tokens", ("output_token_details", "reasoning"))):
            if getattr(call, fld) is None:
                setattr(call, fld, _safe_int(_dig(um, *path)))
    if plan.oi_vertex_cache and call.input_tokens:
        call.cache_read_tokens = _safe_int(_dig(coerce.parse_structured(a["output.value"]), "usage_metadata",
                                                "cached_content_token_count")) or call.cache_read_tokens
    if (call.provider == "anthropic" and plan.anthropic_raw_input) or plan.bedrock_raw_input or (
            plan.ag2_raw and call.provider in ("anthropic", "aws.bedrock")):
        cache_in_input = False
    if bedrock_raw is not None and call.input_tokens is not None:
        raw_usage = bedrock_raw.get("usage")
        if type(raw_usage) is dict and _safe_int(raw_usage.get("input_tokens")) == call.input_tokens:
            # the prompt count is Anthropic's input_tokens, which leaves the cache out: read it, add it in
            call.cache_read_tokens = _safe_int(raw_usage.get("cache_read_input_tokens"))
            call.cache_write_tokens = _safe_int(raw_usage.get("cache_creation_input_tokens"))
            cache_in_input = False
    cached = (call.cache_read_tokens or 0) + (call.cache_write_tokens or 0)
    reasoning_in_output = True
    if p[F_TOTAL] and call.input_tokens is not None and call.output_tokens is not None \
            and (cached or call.reasoning_tokens):
        # a reported total counts every billed token once: when it equals input + output only with the
        # cache (or reasoning) added, the source left that subset out of its input (or output)
        total = _first(a, p[F_TOTAL], i, inv)
        base = call.input_tokens + call.output_tokens
        reasoning = call.reasoning_tokens or 0
        if total is None or total == base:
            pass
        elif cached and reasoning and total == base + cached + reasoning:
            cache_in_input = reasoning_in_output = False
        elif cached and total == base + cached:
            cache_in_input = False
        elif reasoning and total == base + reasoning:
            reasoning_in_output = False
    if call.input_tokens is not None and (not cache_in_input or cached > call.input_tokens):
        # a subset larger than its total: the source reported input without cache (Anthropic style)
        call.input_tokens += cached
    if (plan.gemini_raw_output or (plan.ag2_raw and call.provider == "gcp.gen_ai")) and call.output_tokens is not None:
        reasoning_in_output = False
        if call.reasoning_tokens is None and call.input_tokens is not None and p[F_TOTAL]:
            rest = (_first(a, p[F_TOTAL], i, inv) or 0) - call.input_tokens - call.output_tokens
            call.reasoning_tokens = rest if rest > 0 else None
    if call.output_tokens is not None and call.reasoning_tokens and (
            not reasoning_in_output or call.dialect == "gemini-cli" or call.reasoning_tokens > call.output_tokens):
        call.output_tokens += call.reasoning_tokens  # Gemini style: output without thoughts


def _read_cost(a: dict[str, Any], p: tuple[tuple[str, ...], ...], call: Call, inv: list[str]) -> None:
    cost = _first(a, p[F_COST], coerce.to_decimal, inv)
    if cost is None:
        for key, path in VENDOR_COST_KEYS:
            d = _json_field(a, key, inv)
            if d:
                try:
                    cost = coerce.to_decimal(_dig(d, *path))
                except coerce.Unreadable:
                    inv.append(key)
                if cost is not None:
                    break
    if cost is not None and cost == 0 and call.total_tokens > 0:
        cost = None  # a zero cost for a call with tokens means "not priced by the instrumentation"
    if cost is not None:
        call.cost_usd, call.cost_source = cost, "reported"


def _ls_value(v: Any) -> str | None:
    """One Langfuse metadata value: a JSON-encoded string (``"openai"``) read as the string."""
    v = coerce.parse_structured(v) if isinstance(v, str) and v.startswith('"') else v
    return v if type(v) is str and v else None


def _langfuse_ls(a: dict[str, Any], call: Call) -> None:
    if call.provider is None and (lsp := _ls_value(a.get(LF_LS_PROVIDER))) is not None:
        call.provider = normalize_provider(lsp)
    if (model := _ls_value(a.get(LF_LS_MODEL))) is not None:
        if call.response_model is None and call.request_model not in (None, model):
            call.response_model = call.request_model
        call.request_model = model


def _oi_bedrock_raw(a: dict[str, Any]) -> dict[str, Any]:
    """The Anthropic Messages response in an OpenInference Bedrock agent LLM span's ``output.value`` (see
    _Plan.oi_bedrock_raw), or {} where the value is anything else."""
    raw = coerce.parse_structured(a["output.value"])
    return raw if type(raw) is dict and raw.get("type") == "message" else {}


def _safe_int(v: Any) -> int | None:
    try:
        return coerce.to_int(v)
    except coerce.Unreadable:
        return None


def _safe_float(v: Any) -> float | None:
    try:
        return coerce.to_float(v)
    except coerce.Unreadable:
        return None


def _vercel_anthropic_cache(a: dict[str, Any], call: Call, inv: list[str]) -> None:
    """Cache counts of an AI SDK v5 Anthropic span from ``ai.response.providerMetadata``: @ai-sdk/anthropic 2.x
    (dist/index.mjs, doGenerate ``providerMetadata.anthropic``) passes Anthropic's ``usage`` through as is, and
    ``cacheCreationInputTokens``; only fields the span's own keys left empty are filled."""
    meta = _json_field(a, "ai.response.providerMetadata", inv).get("anthropic")
    if not isinstance(meta, dict):
        return
    usage: dict[str, Any] = meta.get("usage") if isinstance(meta.get("usage"), dict) else {}  # type: ignore[assignment]  # a dict: checked
    if call.cache_read_tokens is None:
        call.cache_read_tokens = _safe_int(usage.get("cache_read_input_tokens"))
    if call.cache_write_tokens is None:
        w = usage.get("cache_creation_input_tokens")
        call.cache_write_tokens = _safe_int(w if w is not None else meta.get("cacheCreationInputTokens"))


def _vercel_google_usage(a: dict[str, Any], call: Call, inv: list[str]) -> None:
    """Cache and thoughts of an AI SDK v5 Gemini span from ``ai.response.providerMetadata``: @ai-sdk/google 2.x
    (2.0.108 dist/index.js doGenerate / doStream) reports ``outputTokens: candidatesTokenCount`` (the Gemini API's
    count without the thoughts), ``reasoningTokens: thoughtsTokenCount`` and ``cachedInputTokens:
    cachedContentTokenCount`` apart, and passes ``usageMetadata`` through as ``providerMetadata.google``; ai 5's
    generateText doGenerate span writes only ai.usage.promptTokens / completionTokens (ai 5.0.277 dist/index.js),
    so the cache and the thoughts are read here, and the thoughts added to an output that is the candidates'."""
    meta = _json_field(a, "ai.response.providerMetadata", inv).get("google")
    um = meta.get("usageMetadata") if isinstance(meta, dict) else None
    if not isinstance(um, dict):
        return
    if call.cache_read_tokens is None:
        call.cache_read_tokens = _safe_int(um.get("cachedContentTokenCount"))
    thoughts = _safe_int(um.get("thoughtsTokenCount"))
    if call.reasoning_tokens is None:
        call.reasoning_tokens = thoughts
    if thoughts and call.output_tokens is not None and call.output_tokens == _safe_int(um.get("candidatesTokenCount")):
        call.output_tokens += thoughts


def _vendor_usage(a: dict[str, Any], call: Call, inv: list[str]) -> bool:
    """JSON usage blobs (Langfuse, MLflow); returns whether their input includes cache."""
    lf = _json_field(a, "langfuse.observation.usage_details", inv)
    if lf:
        if "prompt_tokens" in lf or "completion_tokens" in lf:  # the OpenAI wrapper: raw OpenAI usage
            call.input_tokens = _safe_int(lf.get("prompt_tokens"))
            call.output_tokens = _safe_int(lf.get("completion_tokens"))
            call.cache_read_tokens = call.cache_read_tokens or _safe_int(
                _dig(lf, "prompt_tokens_details", "cached_tokens"))
            call.reasoning_tokens = call.reasoning_tokens or _safe_int(
                _dig(lf, "completion_tokens_details", "reasoning_tokens"))
            return True
        if "input" not in lf and "output" not in lf and ("input_tokens" in lf or "output_tokens" in lf):
            # langfuse-haystack 8.0.0 (haystack_integrations/tracing/langfuse/tracer.py _sanitize_usage_data) keeps
            # only input_tokens / output_tokens / total_tokens of the reply meta's usage, prompt_tokens /
            # completion_tokens renamed: the provider's own totals (OpenAI's cache within the input, reasoning
            # within the output), every detail dropped; not Langfuse's disjoint ``input`` / ``output`` buckets
            call.input_tokens = _safe_int(lf.get("input_tokens"))
            call.output_tokens = _safe_int(lf.get("output_tokens"))
            return True
        # Langfuse's own keys are disjoint buckets: the LangChain handler moves every input_token_details
        # entry to ``input_<key>`` (cache_read, cache_creation, audio, ...), every output_token_details entry to
        # ``output_<key>`` (reasoning, audio), Vertex modality counts to ``input_modality_*`` /
        # ``output_modality_*`` / ``cached_modality_*``, and subtracts each from input/output; ``total`` stays
        # the provider's (langfuse-python langfuse/langchain/CallbackHandler.py, _parse_usage_model)
        # Langfuse JS's OpenAI wrapper does the same with OpenAI's own detail names: prompt_tokens_details /
        # input_tokens_details become ``input_cached_tokens``, ``input_audio_tokens``, completion_tokens_details /
        # output_tokens_details ``output_reasoning_tokens``, ... (@langfuse/openai 4.6.1 dist/index.mjs
        # parseUsageDetails: ``input_${key}`` / ``output_${key}``, each subtracted from input / output)
        inp, out = _safe_int(lf.get("input")), _safe_int(lf.get("output"))
        call.cache_read_tokens = _safe_int(lf.get("input_cache_read")) or _safe_int(lf.get("input_cached_tokens")) \
            or call.cache_read_tokens
        call.cache_write_tokens = _safe_int(lf.get("input_cache_creation")) or call.cache_write_tokens
        reasoning = _safe_int(lf.get("output_reasoning")) or _safe_int(lf.get("output_reasoning_tokens"))
        if reasoning:
            call.reasoning_tokens = reasoning
        in_extra = out_extra = 0
        for k, v in lf.items():
            if type(v) is not int or v < 0:
                continue
            if k.startswith("output_"):
                out_extra += v
            elif k.startswith(("input_", "cached_modality_")) and not k.startswith("input_ephemeral_"):
                in_extra += v  # Anthropic's ephemeral_5m/1h counts split cache_creation: already in it
        if "input_cache_read" not in lf and "input_cache_creation" not in lf:
            # langchain-anthropic's raw Anthropic usage (llm_output / response_metadata ``usage``), which the
            # handler reads before usage_metadata: only input_tokens/output_tokens are renamed, so ``input`` is
            # Anthropic's input_tokens, cache excluded, and the cache counts keep Anthropic's names
            # (CallbackHandler.py _parse_usage: llm_output["usage"] first; _parse_usage_model conversion_list;
            # ``cache_creation_{tier}`` splits cache_creation_input_tokens, not added again)
            raw_read, raw_write = _safe_int(lf.get("cache_read_input_tokens")), \
                _safe_int(lf.get("cache_creation_input_tokens"))
            if raw_read is not None or raw_write is not None:
                call.cache_read_tokens, call.cache_write_tokens = raw_read, raw_write
                in_extra += (raw_read or 0) + (raw_write or 0)
        if out is not None:
            out += out_extra
        if inp is not None:
            inp += in_extra
            total = _safe_int(lf.get("total"))
            if total is not None and out is not None and total - out > inp:
                inp = total - out  # the handler clamps each subtraction at 0: the provider's total is exact
        call.input_tokens, call.output_tokens = inp, out
        return True
    ml = _json_field(a, "mlflow.chat.tokenUsage", inv)
    if ml:
        call.input_tokens = _safe_int(ml.get("input_tokens"))
        call.output_tokens = _safe_int(ml.get("output_tokens"))
        call.cache_read_tokens = _safe_int(ml.get("cache_read_input_tokens"))
        call.cache_write_tokens = _safe_int(ml.get("cache_creation_input_tokens"))
        # mlflow >= the fix above: input includes the cache; before it (mlflow.anthropic with cache tracking,
        # mlflow/mlflow#20956, until #22516) Anthropic's raw input_tokens. Which release wrote the span shows in
        # its output, the provider's response as JSON, whose own usage input leaves the cache out on Anthropic
        # (``usage.input_tokens``) and Bedrock (Converse ``usage.inputTokens``): equal to the span's input, the
        # span's is the raw one (the cache exceeding the input, _read_usage sees that alone)
        if call.provider in RAW_INPUT_PROVIDERS and call.input_tokens and (
                call.cache_read_tokens or call.cache_write_tokens) and "mlflow.spanOutputs" in a:
            usage = _dig(coerce.parse_structured(a["mlflow.spanOutputs"]), "usage")
            if isinstance(usage, dict):
                raw = usage.get(RAW_INPUT_PROVIDERS[call.provider])
                return not (type(raw) is int and raw == call.input_tokens)
        return True
    return True


#: providers whose API reports input without the cache, and the key of their response's usage that says it
RAW_INPUT_PROVIDERS = {"anthropic": "input_tokens", "aws.bedrock": "inputTokens"}
