"""Re-generate tests/normalize/data/{openinference-vercel-ai,openlit-js-openai,openinference-langgraph-js}.jsonl and js3-truth.json.

Real spans from three more JavaScript (Node.js) libraries, made by ``generate.mjs`` here, against the fake
OpenAI server of ``../vercel_ai/fake_server.py`` (Chat Completions and Responses, JSON and SSE, 429 / 500 with
OpenAI's error JSON; loopback only), one fresh server and one Node process per source; the served requests are
folded into the truth file by ``../vercel_ai/truth.py`` (input includes the cache, output the reasoning):

* ``openinference-vercel-ai``: Vercel AI SDK ai 7.0.173 (@ai-sdk/openai 4.0.118, ``.chat()`` / ``.responses()``),
  its telemetry through @ai-sdk/otel 1.0.173 ``OpenTelemetry`` (``registerTelemetry``, usage / providerMetadata
  on), rewritten into OpenInference attributes by @arizeai/openinference-vercel 3.2.1
  ``OpenInferenceSimpleSpanProcessor`` and filtered by its ``isOpenInferenceSpan`` (the app's root kept);
* ``openlit-js-openai``: OpenLIT JS openlit 1.15.0 ``Openlit.init`` (its openai instrumentation, applied through
  ``instrumentations`` since the SDK is ESM-imported; metrics and events off, no pricing download) over openai
  6.32.0; its tracer provider is the app's (openlit reuses a provider with ``addSpanProcessor``);
* ``openinference-langgraph-js``: @langchain/langgraph 1.7.3 ``createReactAgent`` over @langchain/openai 1.6.0
  ``ChatOpenAI`` (@langchain/core 1.4.0), traced by @arizeai/openinference-instrumentation-langchain 4.1.1
  (``manuallyInstrument`` of @langchain/core/callbacks/manager).

Scenarios (the shared ones, tests/normalize/gen/js/README.md): healthy, cached, streaming (the second cut at
max tokens 16), tool_use, errors (a 429 then a 500 reach the app, ``maxRetries: 0`` everywhere), duplicate.
Only the ``workflow`` roots (scope fixgen.app) are the generator's. Versions: package.json / package-lock.json
here (exact); Node 20.20.2 (ai 7 and @langchain/openai ask for node >= 22 and run); requirements.txt: none
beyond the Python standard library.

Re-run (network: the npm registry only)::

    python3 tests/normalize/gen/js3/generate.py [WORKDIR]     # default /tmp/gen-js3; CAPTURE_OUT to write elsewhere

What the libraries' spans cannot carry is pinned, with their source cited, in
tests/normalize/test_captured_js3.py (GAPS) and tests/score/test_captured_scores.py (KNOWN).
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from capture import run_node

SOURCES = ("openinference-vercel-ai", "openlit-js-openai", "openinference-langgraph-js")


def main() -> None:
    work = Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/gen-js3")
    run_node(HERE, SOURCES, "js3-truth.json", work)


if __name__ == "__main__":
    main()
