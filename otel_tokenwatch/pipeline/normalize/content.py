"""Captured messages and tool calls, read only to fingerprint requests and find repeated tool calls.

What this returns stays in memory with the tree (``Call.input_content``)
and is never logged or exported; tool arguments leave this module only as
keyed hashes (SHA-256 after a per-process random key).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from typing import Any

import orjson

from otel_tokenwatch.pipeline.normalize.coerce import parse_structured

_KEY = secrets.token_bytes(32)
_KEYED = hashlib.sha256(b"tokenwatch-arguments\0" + _KEY)
# OpenInference writes a message's text as message.content, or as parts message.contents.<m>.message_content.text
# (openinference-instrumentation-bedrock 0.1.61 _converse_attributes.py, _attribute_extractor.py: Converse messages and
# system blocks are lists of content blocks)
_OI_IN = re.compile(r"^llm\.input_messages\.(\d+)\.message\.(role|content|contents\.(\d+)\.message_content\.text)$")
#: ``.user``: OpenLLMetry JS's Cohere instrumentation keeps the user's text there, not in ``.content``
#: (@traceloop/instrumentation-cohere 0.27.0 dist/index.js _startSpan: ``gen_ai.prompt.{n}.user`` = the chat
#: ``message``, the completion ``prompt``, the rerank ``query``; its ``role`` beside it is "user")
_PROMPT = re.compile(r"^gen_ai\.prompt\.(\d+)\.(role|content|user)$")
_OI_TOOL = re.compile(r"^llm\.output_messages\.(\d+)\.message\.tool_calls\.(\d+)\.tool_call\.function\.(name|arguments)$")
_COMPLETION_TOOL = re.compile(r"^gen_ai\.completion\.(\d+)\.tool_calls\.(\d+)\.(name|arguments)$")
#: the tool calls of the request's own messages (an agent's history): OpenInference's flattened input messages
#: (openinference-semantic-conventions MESSAGE_TOOL_CALLS, TOOL_CALL_FUNCTION_NAME / _ARGUMENTS_JSON) and
#: OpenLLMetry's legacy prompts (``gen_ai.prompt.{i}.tool_calls.{j}.name`` / ``.arguments``)
_IN_TOOL = re.compile(r"^(?:llm\.input_messages\.(\d+)\.message\.tool_calls\.(\d+)\.tool_call\.function|"
                      r"gen_ai\.prompt\.(\d+)\.tool_calls\.(\d+))\.(name|arguments)$")


TOOL_ARG_KEYS = ("gen_ai.tool.call.arguments", "gen_ai.tool.args", "tool.parameters", "ai.toolCall.args", "input.value")


class KeyIndex:
    """Where a key sequence keeps indexed messages, tool calls and tool definitions.

    Worked out once per key sequence (the normalize plan holds it): the
    regular expressions then run on a sequence's keys once, not on every
    span's keys.
    """

    __slots__ = ("inputs", "llm_tools", "tool_args", "tool_calls")

    def __init__(self, keys: Any) -> None:
        self.inputs: list[tuple[int, str, str]] = []
        self.tool_calls: list[tuple[tuple[int, int], str, str]] = []
        parts: list[tuple[int, int, str]] = []
        calls: list[tuple[int, int, bool, str]] = []
        for k in keys:
            t = _IN_TOOL.match(k)
            if t:
                calls.append((int(t.group(1) or t.group(3)), int(t.group(2) or t.group(4)), t.group(5) == "arguments", k))
                continue
            m = _OI_IN.match(k)
            if m and m.group(3) is not None:
                parts.append((int(m.group(1)), int(m.group(3)), k))
                continue
            m = m or _PROMPT.match(k)
            if m:
                self.inputs.append((int(m.group(1)), "content" if m.group(2) == "user" else m.group(2), k))
            m = _OI_TOOL.match(k) or _COMPLETION_TOOL.match(k)
            if m:
                self.tool_calls.append(((int(m.group(1)), int(m.group(2))), m.group(3), k))
        # content parts after any whole content, in part order: input_messages joins them into one text
        self.inputs += [(n, "content", k) for n, _, k in sorted(parts)]
        # and each message's tool calls, name before arguments, in call order
        self.inputs += [(n, "tool", k) for n, _, _, k in sorted(calls)]
        self.llm_tools = sorted(k for k in keys if k.startswith("llm.tools."))
        self.tool_args = tuple(k for k in TOOL_ARG_KEYS if k in keys)


def keyed_hash(value: Any) -> str:
    """A stable-per-process digest of arguments: JSON is canonicalized so key order does not matter."""
    v = parse_structured(value) if isinstance(value, str) else value
    try:
        blob = orjson.dumps(v, option=orjson.OPT_SORT_KEYS)
    except TypeError:
        blob = str(v).encode()
    h = _KEYED.copy()  # SHA-256 after a secret per-process prefix (see score/fingerprint.py _h)
    h.update(blob)
    return h.hexdigest()[:16]


def _text_of(msg: Any) -> str:
    """A message's text for fingerprints, its tool calls and tool answers included: an agent's next step differs
    from the last by what the model asked a tool and what the tool said, which must not read as empty (two steps
    alike but for a tool's arguments would be one request twice)."""
    if isinstance(msg, str):
        return msg
    if not isinstance(msg, dict):
        return str(msg)
    if "parts" in msg and isinstance(msg["parts"], list):
        text = "\n".join(_part_text(p) for p in msg["parts"])
    else:
        c = msg.get("content")
        text = "\n".join(_item_text(x) for x in c) if isinstance(c, list) else ("" if c is None else str(c))
    calls = msg.get("tool_calls")
    if isinstance(calls, list) and calls:
        # OpenAI's assistant message (Chat Completions): ``tool_calls: [{id, type, function: {name, arguments}}]``
        # beside ``content: null``; the ids are per response, the request is the names and arguments. LiteLLM's
        # OTel logger keeps them so beside empty semconv ``parts`` (captured: tests/normalize/data/litellm-otel.jsonl)
        text += ("\n" if text else "") + _canonical([(f.get("name"), f.get("arguments")) for tc in calls
                                                      if isinstance(tc, dict) and isinstance(f := tc.get("function"), dict)])
    return text


def _canonical(v: Any) -> str:
    return v if isinstance(v, str) else orjson.dumps(v, option=orjson.OPT_SORT_KEYS, default=str).decode()


def _part_text(p: Any) -> str:
    """A part of the semantic conventions' messages (gen-ai input messages schema): TextPart ``content``,
    ToolCallRequestPart ``name`` and ``arguments`` (any JSON), ToolCallResponsePart ``response`` (``result`` in
    the registry's own example, semantic-conventions-genai model/gen-ai/registry.yaml gen_ai.input.messages)."""
    if not isinstance(p, dict):
        return str(p)
    if "content" in p:
        return _text_of(p["content"])
    if p.get("type") == "text":
        # a TextPart's content is required by the schema: one without it had its text left out, as pydantic-ai writes
        # every text under ``InstrumentationSettings(include_content=False)`` (pydantic-ai-slim 2.68.0
        # _otel_messages.py text_part: ``TextPart(type='text')``, the role and part types kept): the request is not
        # known, as with OpenInference's placeholder (input_messages)
        return REDACTED
    if "arguments" in p or p.get("type") == "tool_call":
        return _canonical({"tool_call": p.get("name"), "arguments": p.get("arguments")})
    if "response" in p or "result" in p:
        return _canonical({"tool_call_response": p.get("response", p.get("result"))})
    return ""


def _item_text(x: Any) -> str:
    """An item of a message's content list: a text block, or a tool call or tool answer in a provider's shape."""
    if not isinstance(x, dict):
        return str(x)
    if "text" in x:
        return _text_of(x["text"])
    if "content" in x:  # Anthropic's tool_result, and content blocks of others
        return _text_of(x["content"])
    return _tool_output(x) or _tool_part(x)


def _tool_output(part: dict[str, Any]) -> str:
    """The AI SDK's ToolResultPart keeps the tool's answer as ``output: {type, value}`` (ai 5.0.277
    ``ai.prompt.messages``: ``{"type": "tool-result", ..., "output": {"type": "text", "value": ...}}``)."""
    out = part.get("output")
    if not isinstance(out, dict):
        return ""
    v = out.get("value", "")
    return v if isinstance(v, str) else orjson.dumps(v, option=orjson.OPT_SORT_KEYS).decode()


#: a tool call's request in a content list, by shape: what identifies it (never its per-response id)
_TOOL_PARTS = (
    # Genkit (@genkit-ai/ai 1.42.0 lib/model-types.js ToolRequestPartSchema / ToolResponsePartSchema:
    # ``{"toolRequest": {ref, name, input}}``, ``{"toolResponse": {ref, name, output}}``)
    ("toolRequest", ("name", "input")), ("toolResponse", ("name", "output")),
    # the Gemini API's parts (``functionCall: {name, args}``, ``functionResponse: {name, response}``)
    ("functionCall", ("name", "args")), ("functionResponse", ("name", "response")),
    ("function_call", ("name", "args")), ("function_response", ("name", "response")),
    # Haystack's ChatMessage content (haystack 2.31 dataclasses/chat_message.py ToolCall, ToolCallResult:
    # ``{"tool_call": {tool_name, arguments, id}}``, ``{"tool_call_result": {result, origin, error}}``)
    ("tool_call", ("tool_name", "arguments")), ("tool_call_result", ("result", "error")),
)


def _tool_part(x: dict[str, Any]) -> str:
    for key, fields in _TOOL_PARTS:
        v = x.get(key)
        if isinstance(v, dict):
            return _canonical({key: {f: v.get(f) for f in fields}})
    t = x.get("type")
    if t == "tool_use":  # Anthropic's content block: ``{"type": "tool_use", "id", "name", "input"}``
        return _canonical({"tool_use": x.get("name"), "input": x.get("input")})
    if t == "tool-call":  # the AI SDK's ToolCallPart: ``{"type": "tool-call", toolCallId, toolName, input (args)}``
        return _canonical({"tool-call": x.get("toolName"), "input": x.get("input", x.get("args"))})
    return ""


def _messages(v: Any) -> list[tuple[str, str]] | None:
    v = parse_structured(v)
    if isinstance(v, dict) and isinstance(v.get("messages"), list):
        v = v["messages"]
    elif isinstance(v, dict) and isinstance(v.get("inputs"), str) and v["inputs"]:
        # a text-generation request as Hugging Face's TGI takes it (text-generation-inference router/src/lib.rs
        # GenerateRequest: ``inputs``, ``parameters``), on SageMaker endpoints too (router/src/sagemaker.rs): the
        # whole prompt, chat template and system text included, in one string (OpenLLMetry's SageMaker span keeps
        # the request body as traceloop.entity.input)
        return [("user", v["inputs"])]
    if isinstance(v, list):
        out = []
        for m in v:
            role = str(m.get("role", "")) if isinstance(m, dict) else ""
            out.append((role, _text_of(m)))
        return out
    if isinstance(v, str) and v:
        return [("user", v)]
    return None


def messages(v: Any) -> list[tuple[str, str]] | None:
    """(role, text) of a message list kept as JSON (or one text: the user's), else None."""
    return _messages(v)


def _adk_request(v: Any) -> list[tuple[str, str]] | None:
    """ADK's legacy ``call_llm`` span keeps the request as JSON, "{}" without content capture (google-adk 2.13.0
    telemetry/tracing.py trace_call_llm, ``_build_llm_request_for_trace``): ``config.system_instruction`` and
    ``contents``, google-genai Content dicts (role, parts with text / function_call / function_response)."""
    d = parse_structured(v)
    if not isinstance(d, dict) or not isinstance(d.get("contents"), list):
        return None
    out: list[tuple[str, str]] = []
    cfg = d.get("config")
    si = cfg.get("system_instruction") if isinstance(cfg, dict) else None
    if si:
        out.append(("system", si if isinstance(si, str) else orjson.dumps(si, option=orjson.OPT_SORT_KEYS).decode()))
    for c in d["contents"]:
        if isinstance(c, dict):
            parts = c.get("parts") if isinstance(c.get("parts"), list) else []
            out.append((str(c.get("role", "")), "\n".join(
                p["text"] if isinstance(p.get("text"), str) else orjson.dumps(p, option=orjson.OPT_SORT_KEYS).decode()
                for p in parts if isinstance(p, dict))))  # type: ignore[union-attr]  # a list: checked above
    return out or None


#: what OpenInference writes in place of content its TraceConfig hides (openinference-instrumentation 0.1.72
#: config.py REDACTED_VALUE, set by TraceConfig.mask: ``input.value`` under hide_inputs, each message's text under
#: hide_input_text, ``llm.prompts`` under hide_prompts); the OPENINFERENCE_HIDE_* variables turn it on
REDACTED = "__REDACTED__"


def input_messages(a: dict[str, Any], index: KeyIndex | None = None) -> list[tuple[str, str]] | None:
    """(role, text) of the request's messages, or None where the span holds none, or holds them redacted or
    left out (a semconv text part without its content: _part_text): a placeholder is the same for every request,
    so fingerprinting it would make any two calls of a model one request twice (their size and parent tell them
    apart instead: score/fingerprint.py's shape basis)."""
    msgs = _input_messages(a, index)
    if msgs and any(REDACTED in t for _, t in msgs):
        return None
    return msgs


#: OpenInference's embedded texts, one per input (openinference-semantic-conventions SpanAttributes.EMBEDDING_EMBEDDINGS
#: + EmbeddingAttributes.EMBEDDING_TEXT: ``embedding.embeddings.{i}.embedding.text``); TraceConfig's hide_inputs
#: redacts ``input.value`` but leaves these (only hide_embeddings_text removes them)
OI_EMBEDDING_TEXT = "embedding.embeddings.{}.embedding.text"


def embedding_texts(a: dict[str, Any]) -> list[tuple[str, str]] | None:
    """The embedded texts as (``user``, text) items, for an embeddings call whose request is not on the span
    otherwise: two embeddings of different texts with the same token count are two requests, not one twice."""
    out: list[tuple[str, str]] = []
    while type(t := a.get(OI_EMBEDDING_TEXT.format(len(out)))) is str and REDACTED not in t:
        out.append(("user", t))
    return out or None


def _input_messages(a: dict[str, Any], index: KeyIndex | None = None) -> list[tuple[str, str]] | None:
    # ai.prompt.messages: the Vercel AI SDK's doGenerate/doStream spans (v4-v6 and v7's legacy telemetry), the
    # messages as sent to the provider, system message included (ai/core/telemetry: recordInputs)
    # genkit:input: a Genkit model action's GenerateRequest as JSON, ``{"messages": [{role, content: [{text}, ...]}],
    # config, tools}`` (@genkit-ai/core 1.42.0 lib/tracing/instrumentation.js metadataToAttributes; @genkit-ai/ai
    # lib/model-types.js GenerateRequestSchema), system message included
    for key in ("gen_ai.input.messages", "langfuse.observation.input", "pydantic_ai.all_messages",
                "traceloop.entity.input", "ai.prompt.messages", "genkit:input"):
        if key in a:
            msgs = _messages(a[key])
            if msgs:
                return msgs
    if "gcp.vertex.agent.llm_request" in a:
        msgs = _adk_request(a["gcp.vertex.agent.llm_request"])
        if msgs:
            return msgs
    if "raw_input" in a:
        # Logfire's OpenAI Agents SDK response spans (logfire 5.4 _internal/integrations/openai_agents.py
        # attributes_from_span_data): ``raw_input`` is the request's input items, ``events`` the instructions
        # (gen_ai.system.message), those items and the response's output: the request is the system events and
        # the input items, not the answer
        msgs = _messages(a["raw_input"])
        if msgs:
            events = parse_structured(a.get("events"))
            system = [("system", _text_of(ev)) for ev in events if isinstance(ev, dict)
                      and ev.get("event.name") == "gen_ai.system.message"] if isinstance(events, list) else []
            return system + msgs
    indexed: dict[int, dict[str, str]] = {}
    for n, part, k in (index or KeyIndex(a)).inputs:
        d = indexed.setdefault(n, {})
        d[part] = d[part] + "\n" + str(a[k]) if part in d else str(a[k])
    if indexed:
        return [(d.get("role", ""), d.get("content", "") + ("\n" + d["tool"] if "tool" in d else ""))
                for _, d in sorted(indexed.items())]
    if "input.value" in a:
        return _messages(a["input.value"])
    return None


def event_messages(events: Any) -> list[tuple[str, str]] | None:
    """Messages kept as span events, one per message: ``gen_ai.{system,user,assistant,tool}.message`` with the
    content blocks as JSON in ``content`` (Strands Agents' default, strands-agents 1.62.0 telemetry/tracer.py
    _add_event_messages; the semconv's deprecated event form)."""
    out = [(ev.name[7:-8], next((kv.value.string_value for kv in ev.attributes if kv.key == "content"), ""))
           for ev in events if ev.name.startswith("gen_ai.") and ev.name.endswith(".message")]
    return out or None


def prompt_event_messages(events: Any) -> list[tuple[str, str]] | None:
    """The request kept as a ``gen_ai.content.prompt`` span event, its messages as JSON in ``gen_ai.prompt`` (the
    semantic conventions' event before the per-message ones, semconv 1.26/1.27): Langtrace's form
    (langtrace-python-sdk 3.8.21 utils/__init__.py set_span_attribute -> set_event_prompt: the request's
    ``gen_ai.prompt`` attribute, the messages as JSON from utils/llm.py get_llm_request_attributes, becomes
    ``span.add_event(name="gen_ai.content.prompt", attributes={"gen_ai.prompt": prompt})``)."""
    for ev in events:
        if ev.name == "gen_ai.content.prompt":
            v = next((kv.value.string_value for kv in ev.attributes if kv.key == "gen_ai.prompt"), "")
            return _messages(v) if v else None
    return None


def split_system(msgs: list[tuple[str, str]], a: dict[str, Any]) -> tuple[str | None, str | None]:
    """(system content, the rest) as canonical strings."""
    system = [t for r, t in msgs if r in ("system", "developer")]
    extra = a.get("gen_ai.system_instructions")
    if extra is not None:
        v = parse_structured(extra)
        if isinstance(v, list):
            # the semconv's form: a JSON array of parts, ``[{"type": "text", "content": ...}]`` (written so by
            # @ai-sdk/otel 1.0.173 and openlit 1.15.0 dist/instrumentation/openai/wrapper.js): their texts. OpenLIT
            # JS's Anthropic spans write an Anthropic ``system`` given as blocks as it is (openlit 1.15.0
            # dist/instrumentation/anthropic/wrapper.js _messageCreateCommonSetter ``JSON.stringify(system)``):
            # TextBlockParams, ``{"type": "text", "text": ..., "cache_control": ...}``, read by their text
            v = {"parts": [{"content": p["text"]} if isinstance(p, dict) and "content" not in p
                           and isinstance(p.get("text"), str) else p for p in v]}
        text = _text_of(v) if not isinstance(v, str) else v
        # the same instructions twice is one system prompt: openlit 1.45.0 instrumentation/litellm/utils.py
        # common_chat_logic writes gen_ai.system_instructions from the request's system messages
        # (__helpers.py build_system_instructions_from_messages) AND keeps those messages in
        # gen_ai.input.messages (build_input_messages: every role)
        if text not in system and text != "\n".join(system):
            system.insert(0, text)
    rest = [(r, t) for r, t in msgs if r not in ("system", "developer")]
    return ("\n".join(system) if system else None,
            orjson.dumps(rest).decode() if rest else None)


def requested_tools(a: dict[str, Any], index: KeyIndex | None = None) -> tuple[tuple[str, str | None], ...]:
    """Tool calls the model asked for in this response: (name, keyed hash of arguments)."""
    out: list[tuple[str, str | None]] = []
    for key in ("gen_ai.output.messages", "langfuse.observation.output"):
        if key not in a:
            continue
        v = parse_structured(a[key])
        msgs = v if isinstance(v, list) else [v]
        for m in msgs:
            if not isinstance(m, dict):
                continue
            if isinstance(inner := m.get("message"), dict):
                # an OpenAI Chat Completions choice, ``{finish_reason, index, message}``: Laminar's OpenAI spans
                # write the response's choices as the output messages (lmnr 0.8.2 instrumentation/openai)
                m = inner
            for p in m.get("parts", []) or []:
                if isinstance(p, dict) and p.get("type") == "tool_call" and p.get("name"):
                    out.append((str(p["name"]), keyed_hash(p.get("arguments")) if p.get("arguments") else None))
            for tc in m.get("tool_calls", []) or []:
                fn = tc.get("function", tc) if isinstance(tc, dict) else {}
                if isinstance(fn, dict) and fn.get("name"):
                    out.append((str(fn["name"]), keyed_hash(fn.get("arguments")) if fn.get("arguments") else None))
            if type(blocks := m.get("content")) is list:
                # Anthropic's content blocks, ``{"type": "tool_use", "id", "name", "input"}``, as Laminar's
                # Anthropic spans keep the Message's content (lmnr 0.8.2 instrumentation/anthropic/span_utils.py)
                for b in blocks:
                    if isinstance(b, dict) and b.get("type") == "tool_use" and b.get("name"):
                        out.append((str(b["name"]), keyed_hash(b["input"]) if b.get("input") else None))
        if out:
            return tuple(out)
    indexed: dict[tuple[int, int], dict[str, str]] = {}
    for n, part, k in (index or KeyIndex(a)).tool_calls:
        indexed.setdefault(n, {})[part] = str(a[k])
    for _, d in sorted(indexed.items()):
        if d.get("name"):
            out.append((d["name"], keyed_hash(d["arguments"]) if d.get("arguments") else None))
    return tuple(out)


def tool_arguments_hash(a: dict[str, Any], index: KeyIndex | None = None) -> str | None:
    for key in (index.tool_args if index is not None else TOOL_ARG_KEYS):
        v = a.get(key)
        if v not in (None, ""):
            return keyed_hash(v)
    return None


def tool_definitions_digest(a: dict[str, Any], index: KeyIndex | None = None) -> str | None:
    for key in ("gen_ai.tool.definitions", "llm.tools", "gen_ai.request.functions"):
        if key in a:
            return keyed_hash(a[key])
    names = (index or KeyIndex(a)).llm_tools
    if names:
        return keyed_hash([a[k] for k in names])
    return None
