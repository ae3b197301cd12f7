"""Re-generate tests/normalize/data/{openinference-js-bedrock,openllmetry-js-together,openllmetry-js-cohere}.jsonl
and jsmore-truth.json.

Real spans from three Node.js instrumentations (``generate.mjs`` here) against the fake server of ``fake_server.py``
here (../jsgem/fake_server.py's Bedrock Runtime routes, ../vercel_ai/fake_server.py's OpenAI-shaped chat, and a
Cohere v1 Chat route; the plan protocol of ../vercel_ai/fake_server.py; loopback only), one fresh server and one
Node process per source; the served requests are folded into the truth file by ../vercel_ai/truth.py (input
includes the cache, output the reasoning). Every instrumentation is registered by ``manuallyInstrument(module)``.

* ``openinference-js-bedrock``: @arizeai/openinference-instrumentation-bedrock 0.5.1 (patches
  ``BedrockRuntimeClient.prototype.send`` of @aws-sdk/client-bedrock-runtime 3.1164.0, dist/src/instrumentation.js)
  over ConverseCommand, ConverseStreamCommand, InvokeModelCommand and InvokeModelWithResponseStreamCommand
  (Anthropic Messages bodies); ``endpoint`` the fake, static credentials, ``maxAttempts: 1``, HTTP/1.1
  (@smithy/node-http-handler 4.14.2).
* ``openllmetry-js-together``: @traceloop/instrumentation-together 0.27.0 over together-ai 0.52.0
  (``chat.completions.create``, ``baseURL`` the fake's ``/v1``, ``maxRetries: 0``), model
  ``meta-llama/Llama-3.3-70B-Instruct-Turbo``; the fake answers OpenAI's Chat Completions shape (a streamed answer
  ends with a usage chunk, as Together's does).
* ``openllmetry-js-cohere``: @traceloop/instrumentation-cohere 0.27.0 over cohere-ai 8.1.0 ``CohereClient``
  (the v1 Chat API the instrumentation wraps: ``chat`` / ``chatStream``; ``baseUrl`` the fake, ``maxRetries: 0``),
  model ``command-r-plus-08-2024``.

Scenarios (the shared ones): healthy, cached (Bedrock: a cache write then reads; Together: prompt_tokens_details
cached_tokens; Cohere: meta.cached_tokens), streaming (the second cut at max tokens 16), tool_use (the app's
``tool.get_order_status`` span between the two calls), errors (a 429 then a 500 reach the app, no retries),
duplicate. Content capture on (OpenLLMetry ``traceContent: true``; OpenInference's default). Versions:
package.json / package-lock.json here (exact); Node 20.20.2; Python standard library only.

Re-run (network: the npm registry only)::

    python3 tests/normalize/gen/jsmore/generate.py [WORKDIR]     # default /tmp/gen-jsmore; CAPTURE_OUT elsewhere

What the libraries' spans cannot carry is pinned, with their source cited, in tests/normalize/test_captured_jsmore.py.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from capture import run_node

SOURCES = ("openinference-js-bedrock", "openllmetry-js-together", "openllmetry-js-cohere")


def main() -> None:
    work = Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/gen-jsmore")
    run_node(HERE, SOURCES, "jsmore-truth.json", work, server_script=HERE / "fake_server.py")


if __name__ == "__main__":
    main()
