"""Re-generate tests/normalize/data/{vercel-ai-v5-google,vercel-ai-google,vercel-ai-bedrock}.jsonl and js4-truth.json.

Real spans from the Vercel AI SDK (Node.js, ``generate.mjs`` here) over two more providers, against the fake
Gemini / Bedrock Runtime server of ``fake_server.py`` here (the plan protocol of ../vercel_ai/fake_server.py,
the wire formats of ../gemini_langchain and ../bedrock's fake servers; loopback only), one fresh server and one
Node process per source; the served requests are folded into the truth file by ../vercel_ai/truth.py (input
includes the cache, output the reasoning):

* ``vercel-ai-v5-google``: ai 5.0.277 (npm alias ``ai-v5``) over @ai-sdk/google 2.0.108 (alias
  ``ai-sdk-google-v2``), legacy ``ai.*`` telemetry through ``experimental_telemetry: {isEnabled: true}``;
* ``vercel-ai-google``: ai 7.0.173 over @ai-sdk/google 4.0.121, telemetry by @ai-sdk/otel 1.0.173
  ``registerTelemetry(new OpenTelemetry())`` (its defaults);
* ``vercel-ai-bedrock``: ai 7.0.173 over @ai-sdk/amazon-bedrock 5.0.101 (Converse / ConverseStream, dummy
  credentials, SigV4-signed to the loopback ``baseURL``), same telemetry.

Scenarios (the shared ones): healthy, cached (Gemini: cachedContentTokenCount and thoughtsTokenCount; Bedrock:
cacheWriteInputTokens then cacheReadInputTokens), streaming (the second cut at max tokens 16), tool_use,
errors (a 429 then a 500 reach the app, ``maxRetries: 0``), duplicate. Versions: package.json /
package-lock.json here (exact); Node 20.20.2; Python standard library only.

Re-run (network: the npm registry only)::

    python3 tests/normalize/gen/js4/generate.py [WORKDIR]     # default /tmp/gen-js4; CAPTURE_OUT to write elsewhere

What the libraries' spans cannot carry is pinned, with their source cited, in tests/normalize/test_captured_js4.py.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from capture import run_node

SOURCES = ("vercel-ai-v5-google", "vercel-ai-google", "vercel-ai-bedrock")


def main() -> None:
    work = Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/gen-js4")
    run_node(HERE, SOURCES, "js4-truth.json", work, server_script=HERE / "fake_server.py")


if __name__ == "__main__":
    main()
