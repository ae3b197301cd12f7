"""Re-generate tests/normalize/data/{genkit-googleai,bedrock-converse-openllmetry-js}.jsonl and jsgem-truth.json.

Real spans from two Node.js libraries (``generate.mjs`` here) against the fake Gemini / Bedrock Runtime server of
``fake_server.py`` here (../js4/fake_server.py's Gemini and Converse routes, plus InvokeModel and
InvokeModelWithResponseStream; the plan protocol of ../vercel_ai/fake_server.py; loopback only), one fresh server
and one Node process per source; the served requests are folded into the truth file by ../vercel_ai/truth.py
(input includes the cache, output the reasoning):

* ``genkit-googleai``: Firebase Genkit genkit 1.42.0 (@genkit-ai/core, @genkit-ai/ai 1.42.0) over its Gemini API
  plugin @genkit-ai/google-genai 1.42.0 (``googleAI({apiKey, baseUrl})``: lib/googleai/client.js getGoogleAIUrl
  builds ``{baseUrl}/v1beta/models/{model}:generateContent`` / ``:streamGenerateContent?alt=sse``, sent by the
  global fetch). Genkit's own action spans (scope ``genkit-tracer``, ``genkit:*`` attributes: @genkit-ai/core
  lib/tracing/instrumentation.js runInNewSpan / metadataToAttributes), Genkit's NodeSDK off
  (``disableGenkitOTelInitialization``). The model span's usage is the plugin's GenerationUsage
  (lib/googleai/gemini.js: inputTokens = promptTokenCount, outputTokens = candidatesTokenCount, thoughtsTokens,
  cachedContentTokens).
* ``bedrock-converse-openllmetry-js``: OpenLLMetry JS @traceloop/instrumentation-bedrock 0.27.0 (patches
  ``BedrockRuntimeClient.prototype.send`` of @aws-sdk/client-bedrock-runtime 3.1164.0, dist/index.js
  wrapperMethod), over ConverseCommand, ConverseStreamCommand, InvokeModelCommand and
  InvokeModelWithResponseStreamCommand (Anthropic Messages bodies); ``endpoint`` the fake, static credentials,
  ``maxAttempts: 1``, HTTP/1.1 (@smithy/node-http-handler 4.14.2 NodeHttpHandler). The instrumentation reads only
  InvokeModel: its request attributes need ``input.body`` as a string (_startSpan) and its response attributes
  ``result.body`` (_endSpan), so a Converse / ConverseStream span is ``bedrock.completion`` with the provider and
  request model only.

Scenarios (the shared ones): healthy, cached (Gemini: cachedContentTokenCount and thoughtsTokenCount; Bedrock: a
cache write then reads), streaming (the second cut at max tokens 16), tool_use, errors (a 429 then a 500 reach the
app, no retries), duplicate. Versions: package.json / package-lock.json here (exact); Node 20.20.2; Python standard
library only.

Re-run (network: the npm registry only)::

    python3 tests/normalize/gen/jsgem/generate.py [WORKDIR]     # default /tmp/gen-jsgem; CAPTURE_OUT elsewhere

What the libraries' spans cannot carry is pinned, with their source cited, in tests/normalize/test_captured_jsgem.py.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from capture import run_node

SOURCES = ("genkit-googleai", "bedrock-converse-openllmetry-js")


def main() -> None:
    work = Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/gen-jsgem")
    run_node(HERE, SOURCES, "jsgem-truth.json", work, server_script=HERE / "fake_server.py")


if __name__ == "__main__":
    main()
