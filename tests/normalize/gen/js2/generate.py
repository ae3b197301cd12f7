"""Re-generate tests/normalize/data/{mastra-otel,langfuse-js-openai,traceloop-langchain-js}.jsonl and js2-truth.json.

Real spans from three more JavaScript (Node.js) libraries, made by ``generate.mjs`` here, against the fake
OpenAI server of ``../vercel_ai/fake_server.py`` (Chat Completions and Responses, JSON and SSE, 429 / 500 with
OpenAI's error JSON; loopback only), one fresh server and one Node process per source; the served requests are
folded into the truth file by ``../vercel_ai/truth.py`` (input includes the cache, output the reasoning):

* ``mastra-otel``: @mastra/core 1.71.0 ``Agent`` (model @ai-sdk/openai 4.0.118, ``.chat()`` / ``.responses()``)
  with its AI tracing (@mastra/observability 1.17.9) exported by @mastra/otel-exporter 1.4.0 into an
  in-memory exporter (``OtelExporter({exporter})``); the agent runs join the app's trace through
  ``tracingOptions.traceId / parentSpanId``;
* ``langfuse-js-openai``: Langfuse JS v4, @langfuse/openai 4.6.1 ``observeOpenAI`` over openai 6.32.0, spans
  made by @langfuse/tracing 4.6.1 and exported by @langfuse/otel 4.6.1 ``LangfuseSpanProcessor`` (its
  ``exporter`` parameter: the in-memory exporter instead of Langfuse's OTLP endpoint); the same app over Langfuse
  JS v5 is ../js2v5 (``langfuse-js-openai-5``: this script, that folder's packages);
* ``traceloop-langchain-js``: OpenLLMetry JS all-in-one @traceloop/node-server-sdk 0.27.0 (``initialize`` with
  the in-memory exporter; its @traceloop/instrumentation-langchain 0.27.0) over @langchain/core 1.4.0 and
  @langchain/openai 1.6.0 ``ChatOpenAI`` (one Responses API call in healthy).

Scenarios (the shared ones, tests/normalize/gen/js/README.md): healthy, cached, streaming (the second cut at
max tokens 16), tool_use, errors (a 429 then a 500 reach the app, ``maxRetries: 0`` everywhere), duplicate.
Only the ``workflow`` roots (scope fixgen.app) are the generator's. Versions: package.json / package-lock.json
here (exact); Node 20.20.2 (@mastra/core asks for node >= 22.13 and runs); requirements.txt: none beyond the
Python standard library.

Re-run (network: the npm registry only)::

    python3 tests/normalize/gen/js2/generate.py [WORKDIR]     # default /tmp/gen-js2; CAPTURE_OUT to write elsewhere

What the libraries' spans cannot carry is pinned, with their source cited, in
tests/normalize/test_captured_js2.py (GAPS) and tests/score/test_captured_scores.py (KNOWN).
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from capture import run_node

SOURCES = ("mastra-otel", "langfuse-js-openai", "traceloop-langchain-js")


def main() -> None:
    work = Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/gen-js2")
    # no library telemetry (Traceloop's and Mastra's anonymous usage pings); the Traceloop SDK's NodeSDK would
    # add host.id, process.pid and argv without run_node's OTEL_NODE_RESOURCE_DETECTORS=none
    run_node(HERE, SOURCES, "js2-truth.json", work, {"TRACELOOP_TELEMETRY": "false", "MASTRA_TELEMETRY_DISABLED": "1"})


if __name__ == "__main__":
    main()
