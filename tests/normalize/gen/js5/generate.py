"""Re-generate tests/normalize/data/{otel-js-openai,openllmetry-js-bedrock}.jsonl and js5-truth.json.

Real spans from the OpenTelemetry JS contrib OpenAI instrumentation (``@opentelemetry/instrumentation-openai``
0.21.0, donated by Elastic; semconv ``gen_ai.*`` attributes) over the openai npm SDK 6.32.0 (chat completions,
streaming with ``stream_options.include_usage``, tool calls, embeddings, errors with ``maxRetries: 0``), driven by
``generate.mjs`` here against the fake OpenAI server of ../vercel_ai/fake_server.py (loopback only, through
``fake_server.py`` here); and from OpenLLMetry JS's Bedrock instrumentation (``@traceloop/instrumentation-bedrock``
0.27.0) over @aws-sdk/client-bedrock-runtime 3.1164.0 InvokeModel / InvokeModelWithResponseStream with Anthropic
Claude bodies, against ``fake_server.py`` here (Claude on Bedrock's response and event stream). The served
requests are folded into the truth file by ../vercel_ai/truth.py (input includes the cache, output the reasoning).

Sources: ``otel-js-openai``, ``openllmetry-js-bedrock``. Scenarios (the shared ones): healthy (two chats; OpenAI
one embedding too), cached (OpenAI: ``prompt_tokens_details.cached_tokens`` and
``completion_tokens_details.reasoning_tokens``; Bedrock: cache_creation_input_tokens, then cache_read), streaming
(the second cut at max tokens 16), tool_use, errors (a 429 then a 500 reach the app, no SDK retries), duplicate.
Content capture is on: OpenLLMetry's ``traceContent: true`` onto the spans; for the OpenAI one
OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true, which it writes as log events, never on spans: each line's ``otlp_logs`` holds them (@opentelemetry/sdk-logs 0.223.1 in-memory exporter, as capture.py's
Recorder(logs=True) does for the Python captures). Not captured: Converse (@traceloop/instrumentation-bedrock
0.27.0 _startSpan reads InvokeModel's ``input.body`` only, so a Converse call gets a bare ``bedrock.completion``
span) and LangChain.js embeddings under OpenInference. Versions: package.json / package-lock.json here (exact); Node 20.20.2; Python standard library only.

Re-run (network: the npm registry only)::

    python3 tests/normalize/gen/js5/generate.py [WORKDIR]     # default /tmp/gen-js5; CAPTURE_OUT to write elsewhere

What the library's spans cannot carry is pinned, with its source cited, in tests/normalize/test_captured_js5.py.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from capture import run_node

SOURCES = ("otel-js-openai", "openllmetry-js-bedrock")


def main() -> None:
    work = Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/gen-js5")
    run_node(HERE, SOURCES, "js5-truth.json", work, server_script=HERE / "fake_server.py",
             env={"OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT": "true"})


if __name__ == "__main__":
    main()
