"""Privacy rules applied to spans before they leave: pseudonyms, content removal, group sizes.

Pseudonyms are HMAC-SHA256 with a key from the environment: stable for one
key (joins across traces still work), unrelated across keys, and not
reversible without the key. Content removal takes out every attribute and
event that the popular instrumentations use for prompt and completion text.
"""

from __future__ import annotations

import functools
import hmac
import json
import threading
from collections.abc import Callable
from typing import Any

from opentelemetry.proto.common.v1.common_pb2 import AnyValue
from opentelemetry.proto.resource.v1.resource_pb2 import Resource
from opentelemetry.proto.trace.v1.trace_pb2 import Span

from otel_tokenwatch import semconv
from otel_tokenwatch.pipeline.tree import ResourceInfo, SpanEntry

CONTENT_KEYS = frozenset({
    "gen_ai.input.messages", "gen_ai.output.messages", "gen_ai.system_instructions", "gen_ai.prompt",
    "gen_ai.completion", "gen_ai.tool.call.arguments", "gen_ai.tool.call.result", "gen_ai.tool.definitions",
    # the semantic conventions' retrieval spans: the query and the documents found (registry.yaml: "may contain
    # sensitive information")
    "gen_ai.retrieval.query.text", "gen_ai.retrieval.documents",
    "input.value", "output.value", "traceloop.entity.input", "traceloop.entity.output",
    "langfuse.observation.input", "langfuse.observation.output", "langfuse.trace.input", "langfuse.trace.output",
    "pydantic_ai.all_messages", "all_messages_events", "final_result", "tool_arguments", "tool_response",
    "gen_ai.content.prompt", "gen_ai.content.completion", "llm.prompts", "prompt", "completion",
    # the Vercel AI SDK (recordInputs / recordOutputs): prompts, answers, tool calls, embedded values
    "ai.prompt", "ai.prompt.messages", "ai.prompt.tools", "ai.response.text", "ai.response.toolCalls",
    "ai.response.object", "ai.response.reasoning", "ai.toolCall.args", "ai.toolCall.result", "ai.value",
    "ai.values", "ai.embedding", "ai.embeddings", "ai.result.text", "ai.result.toolCalls", "ai.result.object",
    # Traceloop's task spans, OpenLIT's tool spans, MLflow, Google ADK
    "gen_ai.task.input", "gen_ai.task.output", "gen_ai.tool.args", "gen_ai.tool.result",
    "mlflow.spanInputs", "mlflow.spanOutputs", "gcp.vertex.agent.llm_request", "gcp.vertex.agent.llm_response",
    "gcp.vertex.agent.tool_call_args", "gcp.vertex.agent.tool_response",
    # Logfire's OpenAI Agents SDK response spans (logfire 5.4 _internal/integrations/openai_agents.py
    # attributes_from_span_data): the whole Response (instructions, output) as ``response``, the request's
    # input items as ``raw_input``, the messages as ``events``
    "response", "raw_input", "events",
    # MLflow's OpenAI autolog sets every keyword argument but messages / input as an attribute (mlflow 3.17
    # openai/autolog.py _start_span): the Responses API's system prompt is ``instructions``
    "instructions",
    # Haystack 2.x's own tracer with content tracing (haystack 2.31 core/pipeline/pipeline.py: set_content_tag
    # of every component run's inputs and outputs, the pipeline's input and output data)
    "haystack.component.input", "haystack.component.output", "haystack.pipeline.input_data",
    "haystack.pipeline.output_data",
    # OpenLIT's Haystack pipeline span (openlit 1.45.0 instrumentation/haystack/utils.py: the pipeline's
    # ``input_data`` as json.dumps, the chat messages' text among it; its output's str values kept as they are)
    "gen_ai.framework.pipeline.input_data", "gen_ai.framework.pipeline.output_data",
    # openinference-instrumentation-smolagents 0.1.43 _wrappers.py _smolagent_run_attributes: the agent's task
    # (the user prompt smolagents puts in its first user message) and the run's additional_args (given to the
    # model with the task); a managed agent's prompts under smolagents.managed_agents.{i}. (_smolagents below)
    "smolagents.task", "smolagents.additional_args",
    # Laminar (lmnr 0.8.2 opentelemetry_lib/tracing/attributes.py SPAN_INPUT / SPAN_OUTPUT): an ``@observe``
    # function's arguments and return value, its instrumentations' request and response
    "lmnr.span.input", "lmnr.span.output",
    # @arizeai/openinference-genai 0.3.10 attributes.js mapSystemInstructions (run by @arizeai/openinference-vercel
    # 3.2.1 on AI SDK v7 spans) keeps the system prompt "for preservation" as OpenInference metadata
    "metadata.gen_ai.system_instructions",
    # Firebase Genkit's action spans: the whole request and response as JSON (@genkit-ai/core 1.42.0
    # lib/tracing/instrumentation.js metadataToAttributes: ``genkit:input`` / ``genkit:output`` = JSON.stringify),
    # messages and tool arguments among them; the usage inside genkit:output is read at normalize, before this
    "genkit:input", "genkit:output",
    # OpenLIT's LangChain callback spans of chains and agents (openlit 1.45.0 instrumentation/langchain/__init__.py
    # on_chain_start / on_chain_end: the run's inputs and outputs, messages among them, as str / json.dumps)
    "gen_ai.workflow.input", "gen_ai.workflow.output",
})
CONTENT_PREFIXES = ("gen_ai.prompt.", "gen_ai.completion.", "llm.input_messages.", "llm.output_messages.",
                    "llm.prompts.", "llm.prompt_template.", "gen_ai.input.", "gen_ai.output.messages.",
                    # OpenInference's embedded texts, retrieved and reranked documents
                    "embedding.embeddings.", "retrieval.documents.", "reranker.input_documents.",
                    "reranker.output_documents.", "reranker.query")
CONTENT_EVENTS = frozenset({"gen_ai.choice", "gen_ai.content.prompt", "gen_ai.content.completion",
                            "gen_ai.client.inference.operation.details"})


#: LiteLLM's ``raw_gen_ai_request`` span copies the provider request body and response fields one by one as
#: ``llm.{custom_llm_provider}.{field}`` (litellm 1.110 integrations/opentelemetry.py set_raw_request_attributes):
#: the fields that hold prompt, answer or tool text in the APIs LiteLLM forwards to (OpenAI, Anthropic, Gemini)
LITELLM_RAW_FIELDS = frozenset({"messages", "choices", "system", "content", "contents", "systemInstruction",
                                "system_instruction", "candidates", "prompt", "input", "instructions", "output",
                                "tools", "functions", "text"})
#: ``llm.*`` families that are no provider's raw payload (OpenInference, Traceloop, LiteLLM's own): never dropped
#: by that rule (``llm.token_count.prompt`` is a count)
LLM_FAMILIES = frozenset({"token_count", "usage", "request", "response", "prompt_template", "cost",
                          "invocation_parameters", "input_messages", "output_messages"})


def _litellm_raw(key: str) -> bool:
    if not key.startswith("llm.") or key.count(".") != 2:
        return False
    _, family, field = key.split(".")
    return field in LITELLM_RAW_FIELDS and family not in LLM_FAMILIES


#: Mastra's exporter writes every other span's input and output as ``mastra.{span type}.input`` / ``.output``
#: (@mastra/otel-exporter 1.4.0 dist/index.js getAttributes: agent runs, model steps with the messages sent,
#: generations, chunks, workflow steps), and span metadata as ``mastra.metadata.{key}``: the provider's response
#: ``body`` (answers; a Responses API body repeats the instructions) and a client tool call's ``args``
MASTRA_CONTENT_SUFFIXES = (".input", ".output")
MASTRA_CONTENT_METADATA = frozenset({"mastra.metadata.body", "mastra.metadata.args"})


def _mastra(key: str) -> bool:
    return key.startswith("mastra.") and (key.endswith(MASTRA_CONTENT_SUFFIXES) or key in MASTRA_CONTENT_METADATA)


#: the prompt texts of a smolagents managed agent (the manager's system prompt lists each one's description;
#: its additional_prompting / managed_agent_prompt wrap the task it is given), same _wrappers.py
SMOLAGENTS_MANAGED_CONTENT = (".description", ".additional_prompting", ".managed_agent_prompt")


def _smolagents(key: str) -> bool:
    return key.startswith("smolagents.managed_agents.") and key.endswith(SMOLAGENTS_MANAGED_CONTENT)


#: LlamaIndex's own OpenTelemetry integration (llama-index-observability-otel 0.7.0 base.py, tracer
#: ``llamaindex.opentelemetry.tracer``) writes every instrumentation event as a span event, its ``model_dump()``
#: flattened into dot keys (utils.py flatten_dict), and a workflow step's input as ``llamaindex.step.input_summary``
#: (its repr, the messages among it; again as ``tags.llamaindex.step.input_summary`` on each event): the event
#: fields that hold prompts, answers, tool calls and definitions, retrieved texts (llama-index-core 0.14.25
#: instrumentation/events/: llm.py ``messages``, ``prompt``, ``response``, ``output``, ``template_args``; agent.py
#: ``input``, ``user_msg``, ``step``, ``step_output``, ``arguments``; query.py / retrieval.py / synthesis.py /
#: rerank.py ``query``, ``str_or_query_bundle``, ``nodes``, ``query_str``, ``text_chunks``, ``message_chunks``;
#: embedding.py ``chunks``, ``embeddings``; chat_engine.py ``delta``; a workflow step's ``output``; ``event_data``,
#: the str() of an event that would not dump) go by their first segment, but for the ids, models and counts of a
#: response (``response.raw.usage.*``, read at normalize before this)
LI_OTEL_SCOPE = "llamaindex.opentelemetry.tracer"
LI_CONTENT_FIELDS = frozenset({"messages", "prompt", "response", "output", "template", "template_args", "input",
                               "user_msg", "step", "step_output", "arguments", "query", "str_or_query_bundle",
                               "nodes", "query_str", "text_chunks", "message_chunks", "chunks", "embeddings",
                               "delta", "event_data", "exception"})
LI_CONTENT_KEYS = frozenset({"llamaindex.step.input_summary", "tags.llamaindex.step.input_summary",
                             "additional_kwargs.tools", "additional_kwargs.functions"})
LI_RESPONSE_KEPT = frozenset({"response.raw.id", "response.raw.model", "response.raw.created", "response.raw.object",
                              "response.raw.service_tier", "response.raw.system_fingerprint",
                              "response.additional_kwargs.prompt_tokens",
                              "response.additional_kwargs.completion_tokens",
                              "response.additional_kwargs.total_tokens"})


def _llamaindex_otel(key: str) -> bool:
    if key in LI_CONTENT_KEYS:
        return True
    if key.partition(".")[0] not in LI_CONTENT_FIELDS:
        return False
    return not (key.startswith("response.raw.usage.") or key in LI_RESPONSE_KEPT)


#: per scope, a rule for keys that are content there only (beside SCOPE_CONTENT_KEYS' exact keys)
SCOPE_CONTENT_RULES: dict[str, Callable[[str], bool]] = {LI_OTEL_SCOPE: _llamaindex_otel}


#: the Langfuse SDK writes an observation's (a trace's) metadata one key an attribute, under
#: ``langfuse.observation.metadata.`` (``langfuse.trace.metadata.``) (langfuse 5.2.0 _client/attributes.py
#: _flatten_and_serialize_metadata); langfuse-haystack 8.0.0 puts every Haystack tag there (haystack_integrations/
#: tracing/langfuse/tracer.py LangfuseSpan.set_tag: ``update(metadata={key: ...})``), the pipeline's
#: ``haystack.pipeline.input_data`` (the run's messages) among them: a content key under that prefix is content
LANGFUSE_METADATA_PREFIXES = ("langfuse.observation.metadata.", "langfuse.trace.metadata.")


def _langfuse_metadata(key: str) -> bool:
    if not key.startswith("langfuse."):
        return False
    for prefix in LANGFUSE_METADATA_PREFIXES:
        if key.startswith(prefix):
            return key[len(prefix):] in CONTENT_KEYS
    return False


def is_content_key(key: str, extra: frozenset[str] = frozenset()) -> bool:
    return key in CONTENT_KEYS or key in extra or key.startswith(CONTENT_PREFIXES) or _litellm_raw(key) \
        or _mastra(key) or _smolagents(key) or _langfuse_metadata(key)


def is_content_event(name: str) -> bool:
    # MLflow keeps every streamed chunk as an event ``mlflow.chunk.item.{i}`` (mlflow 3.17 openai/autolog.py
    # _add_span_event): the answer's text, and in a Responses stream's response.created the instructions too
    return name in CONTENT_EVENTS or (name.startswith("gen_ai.") and name.endswith(".message")) \
        or name.startswith("mlflow.chunk.item.")


def _remove(attrs: Any, drop: Callable[[str], bool]) -> int:
    """Take the attributes whose key ``drop`` names out of a repeated KeyValue field, in place (rewritten only
    when one goes); how many went."""
    keep = [kv for kv in attrs if not drop(kv.key)]
    gone = len(attrs) - len(keep)
    if gone:
        del attrs[:]
        attrs.extend(keep)
    return gone


#: OpenInference's OpenAI Agents response spans put the Response's own fields (``instructions``, the system
#: prompt, among them) in the invocation parameters (openinference-instrumentation-openai-agents 2.6.0
#: _processor.py _get_attributes_from_response: ``obj.model_dump(exclude={"object", "tools", "usage", "output",
#: "error", "status"})``): the parameters stay, the prompt goes. OpenInference's Anthropic JS instrumentation
#: does the same with the request's ``system`` prompt (@arizeai/openinference-instrumentation-anthropic 0.2.8
#: dist/src/instrumentation.js: invocation parameters = the request body without ``messages``). OpenInference's
#: Google ADK instrumentation writes the whole GenerateContentConfig, whose ``system_instruction`` is the agent's
#: instruction text (openinference-instrumentation-google-adk 1.0.5 _wrappers.py
#: _get_attributes_from_generate_content_config: ``obj.model_dump_json(exclude_none=True)``)
OI_PARAMS = "llm.invocation_parameters"
OI_PROMPT_PARAMS = ("instructions", "system", "system_instruction")


def _has_instructions(kv: Any) -> bool:
    if kv.key != OI_PARAMS:
        return False
    v = kv.value.string_value
    return '"instructions"' in v or '"system"' in v or '"system_instruction"' in v


def _drop_instructions(v: AnyValue) -> int:
    try:
        params = json.loads(v.string_value)
    except ValueError:
        v.string_value = ""
        return 1
    if not isinstance(params, dict):
        return 0
    n = sum(params.pop(k, None) is not None for k in OI_PROMPT_PARAMS)
    if n:
        v.string_value = json.dumps(params)
    return n


#: the scope of OpenLLMetry's CrewAI spans (``get_tracer(__name__)`` in its instrumentation module)
CREWAI_OLLM_SCOPE = "opentelemetry.instrumentation.crewai.instrumentation"
#: the scope of OpenLIT's CrewAI spans
OPENLIT_CREWAI_SCOPE = "openlit.instrumentation.crewai"
#: keys too generic to be content everywhere that are content under one instrumentation scope: Logfire's
#: OpenAI Agents SDK function spans keep the tool's arguments and result as ``input`` and ``output``
#: (logfire 5.4 _internal/integrations/openai_agents.py, FunctionSpanData)
SCOPE_CONTENT_KEYS = {"logfire.openai_agents": frozenset({"input", "output"}),
                      # Pipecat's service spans (pipecat-ai 1.14.0 utils/tracing/service_attributes.py, tracer
                      # ``pipecat``): an llm span's request messages as ``input`` (an OpenAI Realtime span's context
                      # too), its streamed answer as ``output``, the tools offered as ``tools``; a tts span's
                      # ``text``, an stt span's ``transcript`` (service_decorators.py traced_tts / traced_stt);
                      # Gemini Live's ``text_output``, the Live / Realtime spans' ``tools.definitions``; captured:
                      # tests/normalize/data/pipecat-openai.jsonl
                      "pipecat": frozenset({"input", "output", "tools", "text", "transcript", "text_output",
                                            "tools.definitions"}),
                      # pydantic-ai's model request spans serialize the whole ModelRequestParameters as
                      # ``model_request_parameters`` (pydantic_ai/_instrumentation.py
                      # model_request_parameters_attributes; redacted only with include_content=False): its
                      # ``instruction_parts`` hold the system prompt's text (models/__init__.py
                      # ModelRequestParameters.instruction_parts), beside every tool definition and the
                      # prompted output template; captured: tests/normalize/data/pydantic-ai-*.jsonl
                      "pydantic-ai": frozenset({"model_request_parameters"}),
                      # Claude Code's own spans (CLAUDE_CODE_ENHANCED_TELEMETRY_BETA): claude_code.interaction
                      # ``user_prompt`` (the prompt with OTEL_LOG_USER_PROMPTS), claude_code.tool
                      # ``full_command`` / ``file_path`` (OTEL_LOG_TOOL_DETAILS), and the detailed-beta
                      # ``new_context``, ``system_prompt_preview``, ``user_system_prompt``, ``tool_input``,
                      # ``response.model_output`` (code.claude.com/docs/en/monitoring-usage, "Traces (beta)");
                      # captured: tests/agents/data/claude-code-2.1.332.jsonl
                      "com.anthropic.claude_code.tracing": frozenset({
                          "user_prompt", "full_command", "file_path", "new_context", "system_prompt_preview",
                          "user_system_prompt", "tool_input", "response.model_output"}),
                      # CrewAI's agents and tasks are prompt text: its system prompt is ``You are {role}.
                      # {backstory}\nYour personal goal is: {goal}`` and its user prompt the task's description
                      # and expected output (crewai 1.15 translations/en.json role_playing / task);
                      # openinference-instrumentation-crewai 1.1.21 copies them onto its spans (_event_listener.py
                      # _build_agent_start_spec: agent.goal, agent.backstory, task_description,
                      # task_expected_output; graph.node.id and tool.agent_role are the role; crew_agents /
                      # crew_tasks the same as JSON, _wrappers.py and _event_listener.py)
                      **dict.fromkeys(("openinference.instrumentation.crewai",
                                       "openinference.instrumentation.crewai._event_listener"), frozenset({
                          "agent.goal", "agent.backstory", "agent.role", "task_description", "task_expected_output",
                          "crew_agents", "crew_tasks", "crew_inputs", "graph.node.id", "graph.node.parent_id",
                          "tool.agent_role", "tool.task_name"})),
                      # OpenLLMetry's CrewAI instrumentation (opentelemetry-instrumentation-crewai 0.62.4
                      # crewai_span_attributes.py: every crew / agent / task field as crewai.{crew,agent,task}.*,
                      # the crew's agents and tasks as JSON, its result and tasks_output; instrumentation.py:
                      # gen_ai.agent.name is the agent's role)
                      CREWAI_OLLM_SCOPE: frozenset({
                          "crewai.agent.role", "crewai.agent.goal", "crewai.agent.backstory", "crewai.crew.agents",
                          "crewai.crew.tasks", "crewai.crew.result", "crewai.crew.tasks_output", "crewai.task.agent",
                          "crewai.task.description", "crewai.task.expected_output", "crewai.task.output",
                          "gen_ai.agent.name"}),
                      # OpenLIT's CrewAI instrumentation (openlit 1.45.0 instrumentation/crewai/utils.py): the
                      # agent's role as gen_ai.agent.name, ``f"{role}: {goal}"`` as gen_ai.agent.description, the
                      # crew's agents (role, goal, backstory) as JSON in gen_ai.crewai.crew.agents
                      OPENLIT_CREWAI_SCOPE: frozenset({"gen_ai.agent.name", "gen_ai.agent.description",
                                                       "gen_ai.crewai.crew.agents"}),
                      # OpenLIT's pydantic-ai instrumentation (openlit 1.45.0 instrumentation/pydantic_ai/utils.py):
                      # ``str(getattr(instance, "_system_prompts", ""))``, the agent's system prompts, as
                      # gen_ai.agent.description on its agent, task and model_request spans
                      "openlit.instrumentation.pydantic_ai": frozenset({"gen_ai.agent.description"}),
                      # OpenLIT's vector stores write the request's data as db.query.text and repeat it in
                      # db.query.summary (openlit 1.45.0 instrumentation/chroma/utils.py: ``texts={query_texts}``
                      # for a query, ``documents={documents}`` for add / update / upsert; instrumentation/qdrant/
                      # utils.py: ``str(points)`` with their payloads, ``str(query)``): a RAG app's documents and
                      # questions; captured: tests/normalize/data/{chroma,qdrant}-openlit.jsonl
                      **dict.fromkeys(("openlit.instrumentation.chroma", "openlit.instrumentation.qdrant"),
                                      frozenset({"db.query.text", "db.query.summary", "db.filter"})),
                      # opentelemetry-instrumentation-chromadb 0.62.4 wrapper.py _add_query_result_events: one
                      # db.query.result event per hit with the retrieved document's text and metadata (the RAG
                      # context the prompt is built from); _encode_where_document: the query's text filter
                      "opentelemetry.instrumentation.chromadb": frozenset({
                          "db.query.result.document", "db.query.result.metadata", "db.chroma.query.where_document",
                          "db.chroma.get.where_document", "db.chroma.delete.where_document"})}
#: span events that are content in one scope only: Claude Code's claude_code.tool ``tool.output`` event holds the
#: tool's input and output bodies with OTEL_LOG_TOOL_CONTENT=1 (monitoring-usage "Traces (beta)"; captured
#: 2.1.332: ``bash_command`` and ``output`` for Bash)
SCOPE_CONTENT_EVENTS = {"com.anthropic.claude_code.tracing": frozenset({"tool.output"})}
#: span names made of prompt text, per scope: (name suffix, the name the library gives a span without it).
#: openinference-instrumentation-crewai 1.1.21 names agent and task spans after the role and the task
#: (_event_listener.py _build_agent_start_spec ``f"{role}.{task_name[:50]}.execute"``, else ``Agent.execute``;
#: _wrappers.py _get_execute_core_span_name ``f"{agent_role}.{task_name}._execute_core"``, else
#: ``Task._execute_core``; an agent's own kickoff ``f"{role}.kickoff"``, else ``Agent.kickoff``)
_CREWAI_NAMES = ((".execute", "Agent.execute"), ("._execute_core", "Task._execute_core"),
                 (".kickoff", "Agent.kickoff"))
SCOPE_CONTENT_NAMES = {"openinference.instrumentation.crewai": _CREWAI_NAMES,
                       "openinference.instrumentation.crewai._event_listener": _CREWAI_NAMES,
                       # opentelemetry-instrumentation-crewai 0.62.4 instrumentation.py: wrap_agent_execute_task
                       # ``f"{role}.agent"`` (else ``agent.agent``), wrap_task_execute ``f"{description}.task"``
                       # (else ``task.task``)
                       CREWAI_OLLM_SCOPE: ((".agent", "agent.agent"), (".task", "task.task"))}


def _plain_name(entry: SpanEntry, names: tuple[tuple[str, str], ...]) -> str | None:
    """The name to give a span whose name holds prompt text (None: its name is kept)."""
    name = entry.view.name
    for suffix, plain in names:
        if name.endswith(suffix) and name != plain:
            if suffix == ".kickoff" and entry.attrs.get("openinference.span.kind") != "AGENT":
                return None  # a crew's or flow's kickoff: named after the crew, not an agent
            return plain
    return None


def _openlit_crewai_plain_name(entry: SpanEntry) -> str | None:
    """openlit 1.45.0 instrumentation/crewai/utils.py generate_span_name: ``f"{operation} {role}"`` for agent
    and task spans (``create_agent`` / ``invoke_agent``), the role being the system prompt's ``You are {role}``;
    ``invoke_agent {method}`` for a flow's methods (Python identifiers, kept). A failed task span carries only
    error.type (no gen_ai.agent.name), so a name that is no identifier is taken for a role too."""
    op: str  # view is untyped (Any)
    op, _, entity = entry.view.name.partition(" ")
    if op not in ("invoke_agent", "create_agent") or not entity:
        return None
    if entity == entry.attrs.get("gen_ai.agent.name") or not entity.isidentifier():
        return op
    return None


#: per scope, the name a span gets when its own name holds prompt text (None: kept as it is)
SCOPE_NAMERS: dict[str, Callable[[SpanEntry], str | None]] = {
    **{scope: functools.partial(_plain_name, names=names) for scope, names in SCOPE_CONTENT_NAMES.items()},
    OPENLIT_CREWAI_SCOPE: _openlit_crewai_plain_name}


def drop_content(entry: SpanEntry, extra: frozenset[str] = frozenset()) -> int:
    """Remove content attributes (the known keys plus ``extra``) and events; returns how many."""
    scoped = SCOPE_CONTENT_KEYS.get(entry.scope.name)
    if scoped:
        extra = extra | scoped
    scoped_events = SCOPE_CONTENT_EVENTS.get(entry.scope.name, frozenset())
    rule = SCOPE_CONTENT_RULES.get(entry.scope.name)
    namer = SCOPE_NAMERS.get(entry.scope.name)
    plain_name = namer(entry) if namer is not None else None

    def content(key: str) -> bool:
        return is_content_key(key, extra) or (rule is not None and rule(key))

    attrs = entry.span.attributes
    events = entry.span.events
    if plain_name is None and not any(content(kv.key) or _has_instructions(kv) for kv in attrs) \
            and not any(is_content_event(ev.name) or ev.name in scoped_events for ev in events) \
            and not any(content(kv.key) for ev in events for kv in ev.attributes):
        return 0
    removed = [0]

    def edit(span: Span) -> None:
        if plain_name is not None:
            span.name = plain_name
            removed[0] += 1
        removed[0] += _remove(span.attributes, content)
        for kv in span.attributes:
            if _has_instructions(kv):
                removed[0] += _drop_instructions(kv.value)
        kept_events = []
        for ev in span.events:
            if is_content_event(ev.name) or ev.name in scoped_events:
                removed[0] += 1
                continue
            copy = Span.Event()
            copy.CopyFrom(ev)
            removed[0] += _remove(copy.attributes, content)
            kept_events.append(copy)
        del span.events[:]
        span.events.extend(kept_events)

    entry.rewrite(edit)
    entry.set(semconv.CONTENT_REMOVED, removed[0])
    return removed[0]


class Pseudonymizer:
    def __init__(self, keys: list[str], secret: bytes) -> None:
        self.keys = keys
        self.secret = secret

    def value(self, v: object) -> str:
        return "hmac-sha256:" + hmac.digest(self.secret, str(v).encode(), "sha256").hex()[:32]

    def apply(self, entry: SpanEntry) -> None:
        done = []
        for key in self.keys:
            if not entry.has(key):
                continue
            v = entry.attrs.get(key)
            if v is None:
                continue
            done.append(key)
        if not done:
            return
        wanted = set(done)

        def edit(span: Span) -> None:
            for kv in span.attributes:
                if kv.key in wanted:
                    kv.value.CopyFrom(AnyValue(string_value=self.value(_plain(kv.value))))

        entry.rewrite(edit)
        entry.set(semconv.PSEUDONYMIZED, done)


def _plain(v: AnyValue) -> object:
    kind = v.WhichOneof("value")
    return getattr(v, kind) if kind else ""


class GroupSizes:
    """Distinct principals per team, counted up to k: below k a team is reported only rolled up."""

    ROLLUP = "_small_teams"

    def __init__(self, k: int, secret: bytes) -> None:
        self.k = k
        self.secret = secret
        self.members: dict[str, set[str]] = {}
        self._lock = threading.Lock()

    def observe(self, team: str, principals: set[str]) -> None:
        if not principals:
            return
        with self._lock:
            s = self.members.setdefault(team, set())
            for p in principals:
                if len(s) >= self.k:
                    break
                # only a keyed digest is kept, never the identifier itself
                s.add(hmac.digest(self.secret, p.encode(), "sha256").hex()[:16])

    def label(self, team: str) -> str:
        if self.k <= 1 or team == "unknown":
            return team
        with self._lock:
            return team if len(self.members.get(team, ())) >= self.k else self.ROLLUP

    def state(self) -> dict[str, Any]:
        return {t: len(s) for t, s in self.members.items()}


AGENT_CONTENT_KEYS = frozenset({"prompt", "prompt_text", "request_text", "response_text", "response", "tool_parameters",
                                "function_args", "tool_input", "user_prompt", "gen_ai.input.messages",
                                "gen_ai.output.messages", "gen_ai.system_instructions", "error.message",
                                # Codex codex.tool_result arguments / output (codex-rs/otel
                                # events/session_telemetry.rs tool_result_with_tags, log_tool_failed); Claude
                                # Code api_request_body / api_response_body body: the whole conversation
                                # (with OTEL_LOG_RAW_API_BODIES)
                                "arguments", "output", "body"})
#: content only on tool events: Claude Code's full tool ``error`` message (with OTEL_LOG_TOOL_DETAILS=1:
#: code.claude.com/docs/en/monitoring-usage, "Tool result event"); elsewhere ``error`` is a type, not content
AGENT_TOOL_CONTENT_KEYS = frozenset({"error"})
AGENT_TOOL_EVENTS = frozenset({"tool_result", "tool_decision", "tool_call", "codex.tool_result", "codex.tool_decision"})
#: resource attributes that carry the prompt: a headless run's argv is ``gemini -p "<prompt>"`` (or
#: ``claude -p``, ``codex exec``), and Gemini CLI's NodeSDK resource (OTel JS ``processDetector``, semconv
#: ``process.command_args`` / ``process.command_line``: the full command line) repeats it on every export
#: (captured: tests/agents/data/gemini-cli-0.61.0.jsonl); ``process.command`` (the script path) stays
AGENT_RESOURCE_CONTENT_KEYS = frozenset({"process.command_args", "process.command_line"})


def without_command_line(res: ResourceInfo) -> ResourceInfo:
    """The resource without the process's command line: a coding agent started headless carries its prompt
    there (Gemini CLI puts ``gemini -p "<prompt>"`` in ``process.command_args`` on every export's resource),
    so content removal takes it off the spans' resource as off the logs' and metrics'."""
    r = Resource.FromString(res.data)
    if not _remove(r.attributes, AGENT_RESOURCE_CONTENT_KEYS.__contains__):
        return res
    return ResourceInfo(r.SerializeToString(), res.schema_url)


class RecordPrivacy:
    """The enrich stage's privacy rules for log records (coding-agent events)."""

    def __init__(self, pseudonymizer: Pseudonymizer | None, drop_content: bool, extra: frozenset[str]) -> None:
        self.pseudonymizer = pseudonymizer
        self.drop_content = drop_content
        self.extra = extra

    def drop_genai_event(self, lr: Any, event: str) -> bool:
        """A GenAI content event (not a coding agent's) with content removal on: its body (the message or
        choice itself, in the legacy semantic conventions' events) and content attributes go; the record,
        its name, trace context and other attributes stay. Whether anything was removed."""
        content_event = is_content_event(event)
        if not content_event and not any(kv.key.startswith("gen_ai.") for kv in lr.attributes):
            return False  # an application's own log record: its attributes are its business
        gone = _remove(lr.attributes, lambda k: is_content_key(k, self.extra))
        if content_event and lr.HasField("body"):
            lr.ClearField("body")
        return content_event or gone > 0

    def apply_to_resource(self, resource: Any) -> bool:
        """With content removal on, a coding agent's resource loses its command line (it holds the prompt).
        Whether anything was removed."""
        return self.drop_content and _remove(resource.attributes, AGENT_RESOURCE_CONTENT_KEYS.__contains__) > 0

    def apply_to_record(self, lr: Any, event: str = "") -> None:
        """``event``: the record's event name without the tool's prefix (it decides the tool-only keys)."""
        if self.drop_content:
            tool_event = event in AGENT_TOOL_EVENTS
            _remove(lr.attributes, lambda k: k in AGENT_CONTENT_KEYS or is_content_key(k, self.extra)
                    or (tool_event and k in AGENT_TOOL_CONTENT_KEYS))
        if self.pseudonymizer is not None:
            for kv in lr.attributes:
                if kv.key in self.pseudonymizer.keys:
                    kv.value.CopyFrom(AnyValue(string_value=self.pseudonymizer.value(_plain(kv.value))))
