"""Every captured instrumentation scores the same scenarios the same way: waste where the generator made
it, none where it did not. The captures (tests/normalize/data/, real libraries against fake servers) hold
one scenario each of healthy, cached, streaming, tool use, errors and an identical request twice; the
shapes differ per library (wrappers over client spans, spans side by side, content under other keys), the
waste must not."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from otel_tokenwatch import semconv
from otel_tokenwatch.config import load
from otel_tokenwatch.pipeline.processor import ProcessorChain, ProcessorContext
from otel_tokenwatch.service import build_processors
from otel_tokenwatch.state import MemoryStore
from tests.conftest import FIXTURES
from tests.enrich.trees import fixture_trees, trees_of

CAPTURED = sorted((Path(__file__).resolve().parents[1] / "normalize" / "data").glob("*.jsonl"))
#: scenario -> the waste reasons its spans carry, for every capture
EXPECTED = {"duplicate": {"duplicate": 1}, "errors": {"failed_call": 2},
            # tests/normalize/gen/edot: an async stream the app stops reading (no waste), one broken off mid-way
            "stream_edges": {"failed_call": 1}}
#: what a library's spans cannot tell (source cited in tests/normalize/test_captured_anthropic.py): Traceloop's
#: Anthropic instrumentation sets no streaming flag for messages.stream(), so its stream cut at max_tokens
#: reads as a truncated answer
KNOWN = {("anthropic-openllmetry.jsonl", "streaming"): {"truncated": 1},
         # Firebase Genkit 1.42.0 (@genkit-ai/core lib/action.js): a model action's span gets its name, input,
         # output and subtype only; ``streamingRequested`` (``!!options?.onChunk``) goes to the model function, not
         # onto the span, and the GenerateRequest in genkit:input has no stream field: a cut stream reads the same
         ("genkit-openai.jsonl", "streaming"): {"truncated": 1},
         # the same over Genkit's Gemini API plugin (@genkit-ai/google-genai 1.42.0 lib/googleai/gemini.js: a
         # streamed request calls streamGenerateContent, nothing of it reaches the model action's span)
         ("genkit-googleai.jsonl", "streaming"): {"truncated": 1},
         # @traceloop/instrumentation-bedrock 0.27.0 dist/index.js: InvokeModelWithResponseStream's span has the
         # name and attributes InvokeModel's has (``chat <model>``; _endSpan reads the chunks into the same keys),
         # no stream flag, so the stream cut at max_tokens reads the same
         ("bedrock-converse-openllmetry-js.jsonl", "streaming"): {"truncated": 1},
         # @arizeai/openinference-instrumentation-bedrock 0.5.1 dist/src/instrumentation.js: an
         # InvokeModelWithResponseStream call is a ``bedrock.invoke_model`` span like InvokeModel's, its chunks read
         # into the same keys (invoke-model-streaming-response-attributes.js; ``"streaming": true`` only inside a
         # ConverseStream's output.value JSON): the stream cut at max_tokens reads as a truncated answer
         ("openinference-js-bedrock.jsonl", "streaming"): {"truncated": 1},
         # @traceloop/instrumentation-together 0.27.0 / -cohere 0.27.0 dist/index.js: a streamed call's span has
         # the keys of a plain one (no stream flag), so the cut stream reads the same
         ("openllmetry-js-together.jsonl", "streaming"): {"truncated": 1},
         ("openllmetry-js-cohere.jsonl", "streaming"): {"truncated": 1},
         # @traceloop/instrumentation-together 0.27.0 dist/index.js _wrapPromise: ``promise._thenUnwrap(...)`` ends
         # the span on success only, with no rejection handler: the 429 and the 500 leave spans never ended, never
         # exported: no failed call to see
         ("openllmetry-js-together.jsonl", "errors"): {},
         # Traceloop's opentelemetry-instrumentation-vertexai 0.62.4 __init__.py _wrap starts the call's span with
         # tracer.start_span and ends it only after ``wrapped(...)`` returns: a call that raises (the 429, the 500)
         # leaves a span never ended, never exported: no failed call to see
         ("openllmetry-vertexai.jsonl", "errors"): {},
         # crewai 1.15 llms/base_llm.py __init_subclass__ replaces LLM.call with run_with_rate_limit_retry around
         # it (llms/retry.py: a throttle is retried, no switch), and opentelemetry-instrumentation-crewai 0.62.4
         # wraps that ``crewai.llm.LLM.call``: on CrewAI's LiteLLM route the 429 and its retry answered 500 are
         # one ``{model}.llm`` span, the only span of the call (LiteLLM's own HTTP client: no OpenAI span)
         ("crewai-openllmetry-litellm.jsonl", "errors"): {"failed_call": 1},
         # opentelemetry-instrumentation-google-generativeai 0.62.4 __init__.py _wrap opens the same span for
         # Models.generate_content and Models.generate_content_stream (``generate_content {model}``, provider,
         # operation and model only; _build_from_streaming_response adds no stream flag): the cut stream reads the same
         ("openllmetry-google-genai.jsonl", "streaming"): {"truncated": 1},
         # Traceloop's Bedrock instrumentation (opentelemetry-instrumentation-bedrock 0.62.4 __init__.py
         # _instrumented_converse_stream) gives converse_stream the attributes and span name of converse
         # (``chat <model>``): metric_params.is_stream reaches its metrics only, so the cut stream reads the same
         ("bedrock-openllmetry.jsonl", "streaming"): {"truncated": 1},
         # Strands Agents 1.62.0 models/bedrock.py _stream replays a Converse answer as stream events
         # (convert_non_streaming_to_streaming) and telemetry/tracer.py writes the same model span either way
         # (``chat``, gen_ai.server.time_to_first_token on both, no stream flag)
         ("strands-bedrock.jsonl", "streaming"): {"truncated": 1},
         # ... and openinference-instrumentation-strands-agents 0.1.12 (processor.py) rewrites those spans, adding
         # no stream flag (its llm.invocation_parameters come from gen_ai.request.* keys Strands does not write);
         # Strands' OpenAIModel (models/openai.py stream(): a non-streamed completion replayed as stream events)
         # makes the same model span streamed or not: both cut streams read as truncated answers
         **{(f"{s}.jsonl", "streaming"): {"truncated": 1}
            for s in ("strands-bedrock-openinference", "strands-openinference")},
         # semantic-kernel 1.45.0 utils/telemetry/model_diagnostics/decorators.py: trace_streaming_chat_completion
         # opens the very span trace_chat_completion does (_get_completion_span(CHAT_COMPLETION_OPERATION, ...):
         # ``chat <model>``, same attributes, no stream flag), so its stream cut at max_tokens reads the same
         ("semantic-kernel-openai.jsonl", "streaming"): {"truncated": 1},
         # the same chat span under SK's agents (tests/normalize/test_captured_skli.py); and the identical
         # get_response twice is not seen as one request twice: the chat span carries no content (decorators.py
         # logs the messages, never sets them on the span), so its fingerprint is the shape one, which names the
         # parent, and each call has a parent of its own (a new AutoFunctionInvocationLoop under a new
         # ``invoke_agent support``): two steps alike, not a duplicate
         ("semantic-kernel-agent.jsonl", "streaming"): {"truncated": 1},
         ("semantic-kernel-agent.jsonl", "duplicate"): {},
         # azure-ai-inference 1.0.0b9 tracing.py: complete(stream=True) opens the span complete() does (``chat
         # <model>``, _add_request_chat_attributes: no stream flag) and StreamWrapper ends it with the accumulated
         # finish reason ("length") in its gen_ai.choice event: the stream cut at max_tokens reads as truncated
         ("azure-ai-inference.jsonl", "streaming"): {"truncated": 1},
         # google-adk 2.13.0 under its legacy schema (ADK_TELEMETRY_SCHEMA_VERSION_OPT_IN=1): neither call_llm
         # (telemetry/tracing.py trace_call_llm: the final aggregated response, ``"partial": false``, and the
         # request, which has no streaming mode) nor the stable-semconv generate_content span says stream
         ("google-adk-legacy.jsonl", "streaming"): {"truncated": 1},
         # ... and openinference-instrumentation-google-adk 1.0.5 on that call_llm span adds none: _wrappers.py
         # _TraceCallLlm writes llm.invocation_parameters from the request's GenerateContentConfig (the streaming
         # mode is ADK's RunConfig, not in it) and the aggregated response
         ("google-adk-openinference-legacy.jsonl", "streaming"): {"truncated": 1},
         # openai-agents 0.24.0 ends a stream whose terminal event is response.incomplete (the max_output_tokens
         # cut) with ModelBehaviorError (agents/models/openai_responses.py stream_response: usage and response
         # are recorded on the response span for response.completed only, record_model_error_on_span
         # otherwise; run_internal/run_loop.py re-raises): every instrumentation of its tracing sees a failed
         # model call without usage, and the app does get an error (tests/normalize/test_captured_agents_sdk.py)
         **{(f"agents-{lib}.jsonl", "streaming"): {"failed_call": 1}
            for lib in ("openinference", "logfire", "openllmetry", "otel", "logfire-6.0")},
         # opentelemetry-instrumentation-openai-agents-v2 0.1.0 span_processor.py records no system instructions
         # (_collect_system_instructions reads role=system input items; the Agents SDK sends an agent's
         # instructions apart, as the Responses API's ``instructions``): every scenario's first request reads as
         # the same "Where is order A-1001?" of the same model, so by the fifth trace of one service the requests
         # are the identical prompt asked again and again, the tokenmaxxing pattern as far as its spans can tell
         ("agents-otel.jsonl", "duplicate"): {"duplicate": 1, "suspected_inflation": 1},
         # agent-framework-core 1.23.0 observability.py ChatTelemetryLayer.get_response: a stream opens
         # _start_streaming_span(attributes, ...) with the attributes, name (``chat <model>``) and kind (INTERNAL)
         # of the non-streamed _get_span path, no stream flag; and the chat span's attributes come from
         # client_kwargs only (_get_span_attributes gets no ``options``), so not even its max_tokens is there
         ("agent-framework-openai.jsonl", "streaming"): {"truncated": 1},
         # OpenLLMetry JS @traceloop/instrumentation-openai 0.27.0 (dist/index.js startSpan) writes no stream flag
         # (model, max_tokens, temperature, top_p, penalties only) and its streamed chat span keeps no usage
         # (_streamingWrapPromise reads finish_reason and deltas, never chunk.usage): the cut stream reads the same
         ("openllmetry-js-openai.jsonl", "streaming"): {"truncated": 1},
         # both OpenAI JS instrumentations end a chat span only on success: patchOpenAI / patchedCreate hand
         # the APIPromise to ``_thenUnwrap(onSuccess)`` (@traceloop/instrumentation-openai 0.27.0 _wrapPromise,
         # @arizeai/openinference-instrumentation-openai 4.2.7 invokeMaybeAPIPromise), and safeExecuteInTheMiddle's
         # error callback sees synchronous throws only; a 429 / 500 rejects the promise (openai 6.32.0
         # core/api-promise.js), so the failed calls' spans are never ended and never exported
         **{(f"{lib}-js-openai.jsonl", "errors"): {} for lib in ("openllmetry", "openinference")},
         # ... the same OpenInference OpenAI instrumentation (4.2.7) under the MCP capture's agent loop
         # (tests/normalize/gen/oijs): the 429 and the 500 leave no span, no failed call to see
         ("openinference-js-mcp.jsonl", "errors"): {},
         # @mastra/otel-exporter 1.4.0 dist/index.js getAttributes / addModelRequestAttributes: the ``chat``
         # (MODEL_INFERENCE) span gets model, provider, usage, parameters, finishReason, responseModel and
         # completionStartTime (on generate() too), never ModelInferenceAttributes.streaming (@mastra/core
         # observability types): agent.stream()'s call cut at max tokens reads as a truncated answer
         ("mastra-otel.jsonl", "streaming"): {"truncated": 1},
         # ChatOpenAI(...).stream() (langchain-openai 1.7.4): the run's invocation params are
         # chat_models/base.py _default_params ``"stream": self.streaming`` (False unless streaming=True; _stream
         # sets ``kwargs["stream"] = True`` for the request only). OpenInference's output.value tells the stream
         # by its ChatGenerationChunk (dialects._langchain_streamed); OpenLLMetry's
         # opentelemetry-instrumentation-langchain 0.62.4 (callback_handler.py, request params: model, max_tokens,
         # temperature) writes no stream flag and no output type, and suppresses the OpenAI SDK span below it: the
         # stream cut at max tokens reads as a truncated answer
         ("langchain-embed-openllmetry.jsonl", "streaming"): {"truncated": 1},
         # LangChain's Embeddings interface has no callbacks (langchain-core 1.8.3 embeddings/embeddings.py: no
         # callback manager, no run), and openinference-instrumentation-langchain 0.1.80 is a callback tracer
         # (_tracer.py OpenInferenceTracer(BaseTracer)): OpenAIEmbeddings' calls make no span, the 429 on the
         # embeddings call included; only the chat call's 500 is seen
         ("langchain-embed-openinference.jsonl", "errors"): {"failed_call": 1},
         # @traceloop/instrumentation-langchain 0.27.0 (run by @traceloop/node-server-sdk 0.27.0) dist/index.js
         # handleChatModelStart sets provider, operation, request model and the input messages only (the
         # invocation params are read for the model name, extractModelFromExtraParams), handleLLMEnd the
         # response's: no stream flag, no max tokens, so .stream()'s call cut at max tokens reads the same
         ("traceloop-langchain-js.jsonl", "streaming"): {"truncated": 1},
         # openlit 1.45.0 instrumentation/mistral/utils.py build_input_messages reads each message with
         # ``message.get("role")``: the mistralai SDK's message models (UserMessage, AssistantMessage) fail it, so
         # gen_ai.input.messages is "[]", and OpenLIT writes gen_ai.usage.cache_read.input_tokens even when the API
         # names none (``input_tokens_details.get("cached_tokens", 0)``): with no prompt to compare, the second
         # healthy call's shape (1350 tokens in, the first call's 1200 + 150 resent, 0 cached) is a resent prefix
         ("mistralai-openlit.jsonl", "healthy"): {"uncached_prefix": 1},
         # agno 3.1.10 agent/agent.py ``add_history_to_context: bool = False``: the 2nd healthy run sends the
         # system prompt and the new question only, so the shared system prompt is 79% of the two calls' text;
         # openlit 1.45.0 instrumentation/openai/utils.py writes gen_ai.usage.cache_read.input_tokens 0 whenever
         # the API names none (``prompt_tokens_details.get("cached_tokens", 0) or 0``; OpenInference's agno span
         # writes none, so agno-openinference rules nothing out), and no span carries per-message token counts:
         # 79% of 1350 tokens in is a 1066-token uncached prefix, over OpenAI's 1024-token cache minimum
         ("openlit-agno.jsonl", "healthy"): {"uncached_prefix": 1},
         # openlit 1.45.0 over google-cloud-aiplatform 2.7.0 (tests/normalize/test_captured_olmore.py): its streamed
         # spans fail in instrumentation/vertexai/utils.py format_content (``part.video_metadata``, no such
         # attribute on the SDK's Part) inside vertexai.py TracedSyncStream ``with self._span:``, which ends the
         # span ERROR with nothing but the exception, as an API error leaves it; process_chat_response fails on a
         # function-call answer the same way (``getattr(response, "text", "")``: the SDK's ``text`` raises
         # ValueError). The app got those answers; no span can tell them from failures
         **{(f"openlit-vertexai{v}.jsonl", sc): {"failed_call": n} for v in ("", "-dict-config")
            for sc, n in (("streaming", 2), ("tool_use", 1))},
         # (on a GenerationConfig object, common_chat_logic ``inference_config.get(key)``, it fails after the span's
         # name, model and timing, before usage, request parameters or content: answered calls with no size and no
         # content, which the scorer does not take for one request made twice: engine.Scorer.duplicates; so the
         # duplicate scenario's resent request, as bare, is not found either)
         ("openlit-vertexai.jsonl", "duplicate"): {},
         # with a dict it works, but writes gen_ai.input.messages "[]" (process_chat_response ``scope._args =
         # [kwargs.get("contents", [])]``: the contents passed positionally, as contrib3's scenarios do, are
         # dropped) and gen_ai.usage.cache_read.input_tokens 0 when the API names none: the 2nd healthy call's
         # shape (1350 tokens in, the first call's 1200 + 150 resent, 0 cached) is a resent prefix
         ("openlit-vertexai-dict-config.jsonl", "healthy"): {"uncached_prefix": 1},
         # elastic-opentelemetry-instrumentation-openai 1.2.0 helpers.py _get_attributes_from_wrapper writes no
         # stream flag (stream=True only picks wrappers.py StreamWrapper): the stream cut at max tokens reads the
         # same as a truncated answer
         ("edot-openai.jsonl", "streaming"): {"truncated": 1},
         ("edot-openai-async.jsonl", "streaming"): {"truncated": 1},
         # its OpenTelemetry JS contrib counterpart, @opentelemetry/instrumentation-openai 0.21.0
         # build/src/instrumentation.js _startChatCompletionsSpan, likewise: model, penalties, max_tokens, stop,
         # temperature, top_p and server.* only (params.stream just picks the _onChatCompletionsStreamIterator
         # wrapper, isStreamPromise): its stream cut at max tokens reads as a truncated answer too
         ("otel-js-openai.jsonl", "streaming"): {"truncated": 1},
         # @traceloop/instrumentation-bedrock 0.27.0 dist/index.js _startSpan: one span per
         # BedrockRuntimeClient.send, named and attributed from the InvokeModel body alone (model, max_tokens,
         # temperature, top_p / top_k, messages); InvokeModelWithResponseStream differs only in _endSpan reading
         # the chunks, and nothing records which command ran: the stream cut at max tokens reads as truncated
         ("openllmetry-js-bedrock.jsonl", "streaming"): {"truncated": 1},
         # opentelemetry-instrumentation-openai 0.62.4 shared/chat_wrappers.py ChatStream.__anext__: on an error
         # mid-stream it runs _ensure_cleanup() first (status OK, span ended), then sets ERROR only ``if
         # self._span.is_recording()``, false by then: the broken stream's span reads as a success
         ("async-openllmetry.jsonl", "stream_edges"): {},
         # Laminar's fork of Traceloop's Anthropic instrumentation (lmnr 0.8.2 opentelemetry_lib/opentelemetry/
         # instrumentation/anthropic/span_utils.py: ``llm.is_streaming`` = ``kwargs.get("stream")``) names
         # messages.stream() ``anthropic.chat`` like create() and writes no flag for it: the stream cut at
         # max_tokens reads as a truncated answer, as anthropic-openllmetry's does
         ("lmnr-anthropic.jsonl", "streaming"): {"truncated": 1},
         # opentelemetry-instrumentation-watsonx 0.62.4 __init__.py _wrap: an exception from ModelInference.generate
         # is counted in its metrics and re-raised with the span never ended, never exported (as the Vertex AI
         # instrumentation's): no failed call to see
         ("watsonx-openllmetry.jsonl", "errors"): {},
         # opentelemetry-instrumentation-replicate 0.62.4 __init__.py _wrap: ``tracer.start_span``, then
         # ``wrapped(*args, **kwargs)`` with no try, ``span.end()`` after it: the 429 and the 500 (ReplicateError)
         # leave spans never ended, never exported: no failed call to see (tests/normalize/test_captured_smrep.py)
         ("replicate-openllmetry.jsonl", "errors"): {},
         # langchain-azure-ai 1.2.12 callbacks/tracers/inference_tracing.py: AzureAIOpenTelemetryTracer writes no
         # stream flag (on_llm_new_token records chunk-timing histograms only), so over ChatOpenAI the stream cut at
         # max_tokens (finish reason ``length``) reads as a truncated answer; over ChatAnthropic no finish reason is
         # written at all (tests/normalize/test_captured_lcazure.py), so nothing is scored there
         ("langchain-azure-ai-tracer.jsonl", "streaming"): {"truncated": 1},
         # ag2 0.14.0 autogen/opentelemetry/utils.py set_llm_request_params writes temperature, max_tokens, top_p
         # and the penalties only, no stream flag (instrumentators/llm_wrapper.py traced_create): the stream cut at
         # max_tokens reads as a truncated answer
         ("ag2-otel.jsonl", "streaming"): {"truncated": 1},
         # ... and traced_create wraps OpenAIWrapper.create, AG2's disk cache lookup included (oai/client.py), so
         # an answer served from the cache is a ``chat`` span like the call that filled it (its usage, cost and
         # finish reason; no response id, no cache mark): the identical chat twice reads as the request asked
         # twice, its 2nd answer counted though no request was sent (tests/normalize/test_captured_ag2.py)
         ("ag2-otel.jsonl", "disk_cache"): {"duplicate": 1},
         # openinference-instrumentation-bedrock 0.1.61 over InvokeAgent (tests/normalize/test_captured_bragent.py):
         # the agent's 2nd session turn resends the 1st in its orchestration prompt, no cache reported: a resent
         # prefix, as made; streamFinalResponse leaves no stream flag (_wrappers.py handle_request_attributes), so
         # the answer cut at maximumLength (stop_reason max_tokens in the raw response) reads as truncated; the 429
         # fails invoke_agent before any model span, and the 500 mid-stream leaves the step's LLM span status OK
         # (_response_accumulator.py _create_spans): no failed model call to score
         ("bedrock-agents-openinference.jsonl", "healthy"): {"uncached_prefix": 1},
         ("bedrock-agents-openinference.jsonl", "streaming"): {"truncated": 1},
         ("bedrock-agents-openinference.jsonl", "errors"): {},
         # ag2 1.2.1 middleware/builtin/telemetry.py on_llm_call writes no stream flag (nor any request option), so
         # AG2 1.x's stream cut at max_tokens reads as a truncated answer (tests/normalize/test_captured_ag2new.py)
         ("ag2-telemetry.jsonl", "streaming"): {"truncated": 1},
         # pydantic-ai-slim 2.68.0 under InstrumentationSettings(include_content=False) keeps no text (_otel_messages.py
         # text_part: ``{"type": "text"}``; tests/normalize/test_captured_modes2.py), and writes its cache count only
         # when above zero (usage.py RequestUsage.opentelemetry_attributes ``if self.cache_read_tokens``, so none is a
         # reported 0: dialects.py): with no prompt to compare,
         # the 2nd healthy run's call (the 1st run's messages resent as message_history: 1350 tokens in, the 1st
         # call's 1200 + 150, 0 cached) is a resent prefix, as with mistralai-openlit
         ("pydantic-ai-openai-no-content.jsonl", "healthy"): {"uncached_prefix": 1},
         # ... and the duplicate scenario asks the identical request in two ``agent.run`` calls: each chat span's
         # parent is its own run's ``invoke_agent support`` span (capabilities/instrumentation.py), whose
         # pydantic_ai.all_messages is textless too (and textless messages are no content: content._part_text), so
         # the two equal shapes are two runs' steps alike, not one request twice (as semantic-kernel-agent's)
         ("pydantic-ai-openai-no-content.jsonl", "duplicate"): {},
         # the same run over Anthropic (AnthropicModel; pydantic-ai's own parts and usage keys, so the same reading):
         # its 2nd healthy run's call is 1350 in (the 1st call's 1200 + 150), no cache reported, with no prompt to
         # compare a resent prefix; its duplicate is two agent runs' equal textless steps, each under its own
         # ``invoke_agent support`` span (tests/normalize/test_captured_modes2.py)
         ("pydantic-ai-anthropic-no-content.jsonl", "healthy"): {"uncached_prefix": 1},
         ("pydantic-ai-anthropic-no-content.jsonl", "duplicate"): {}}


def reasons(path: Path) -> dict[str, Counter[str]]:
    _, stages = build_processors(load(None), "traces", ProcessorContext(state=MemoryStore()))
    chain = ProcessorChain(stages)
    out: dict[str, Counter[str]] = {}
    for scenario, tree in trees_of(path):
        chain.process_many([tree])
        got = out.setdefault(scenario, Counter())
        for e in tree.spans:
            r = e.get(semconv.WASTE_REASON)
            if r:
                got[str(r)] += 1
    return out


@pytest.mark.parametrize("path", CAPTURED, ids=lambda p: p.name)
def test_captured_scenarios_waste_only_where_made(path: Path) -> None:
    got = reasons(path)
    assert {"healthy", "duplicate", "errors"} <= set(got), sorted(got)
    for scenario, found in got.items():
        want = KNOWN.get((path.name, scenario), EXPECTED.get(scenario, {}))
        assert dict(found) == want, (path.name, scenario)


def test_truncation_without_finish_reasons_reads_like_the_others() -> None:
    """Langfuse records no finish reason on calls that were not streamed; output at exactly max_tokens is
    the cut, so its truncation scenario (64 and 256 tokens cut, then a full answer) scores as the sources
    that report `length`, and says the cut was inferred."""
    ref = reasons(Path(FIXTURES) / "openai-v2-latest.jsonl")["truncation"]
    assert dict(ref) == {"retry": 2}
    assert reasons(Path(FIXTURES) / "langfuse-openai.jsonl")["truncation"] == ref
    _, stages = build_processors(load(None), "traces", ProcessorContext(state=MemoryStore()))
    chain = ProcessorChain(stages)
    marks = []
    for scenario, tree in fixture_trees("langfuse-openai.jsonl"):
        if scenario in ("truncation", "healthy"):
            chain.process_many([tree])
            marks += [(scenario, e.get(semconv.WASTE_TRUNCATION)) for e in tree.spans
                      if e.get(semconv.WASTE_TRUNCATION)]
    # the two cut calls; not the healthy call that answered 12 tokens for max_tokens 8 and stopped
    assert marks == [("truncation", "max_tokens")] * 2
