"""Re-generate tests/normalize/data/{openlit-js-anthropic,openlit-js-bedrock,openlit-js-cohere}.jsonl and oljs-truth.json.

Real spans from OpenLIT's TypeScript SDK (npm ``openlit`` 1.15.0, ``Openlit.init``) over three more providers than
its OpenAI one (tests/normalize/gen/js3), made by ``generate.mjs`` here against the fake server of
../jsmore/fake_server.py (Anthropic Messages and the plan protocol of ../vercel_ai/fake_server.py, Bedrock Runtime
of ../jsgem/fake_server.py, Cohere v1 Chat; loopback only), one fresh server and one Node process per source; the
served requests are folded into the truth file by ../vercel_ai/truth.py (input includes the cache, output the
reasoning). Each instrumentation is applied by hand to the module the app loads (``instrumentations: {name:
module}``: its manualPatch), openlit reusing the app's tracer provider (as js3); metrics and log events off, an
empty pricing file (no pricing download); generate.mjs refuses any connection off loopback.

* ``openlit-js-anthropic``: openlit's anthropic instrumentation over @anthropic-ai/sdk 1.16.0 (its ESM build,
  ``Messages.prototype.create``; ``stream: true`` for streaming), ``maxRetries: 0``;
* ``openlit-js-bedrock``: its bedrock instrumentation over @aws-sdk/client-bedrock-runtime 3.1164.0
  (``BedrockRuntimeClient.prototype.send``; it traces ConverseCommand / ConverseStreamCommand only, so InvokeModel
  is not driven), ``endpoint`` the fake, static credentials, ``maxAttempts: 1``, HTTP/1.1 (@smithy/node-http-handler
  4.14.2);
* ``openlit-js-cohere``: its cohere instrumentation over cohere-ai 8.1.0 ``CohereClient`` (``chat`` / ``chatStream``,
  the v1 Chat API), ``baseUrl`` the fake, ``maxRetries: 0``.

Scenarios (the shared ones): healthy, cached (Anthropic: a cache write then reads; Bedrock Converse likewise with a
cachePoint; Cohere: meta.cached_tokens), streaming (the second cut at max tokens 16), tool_use (the app's
``tool.get_order_status`` span between the two calls), errors (a 429 then a 500 reach the app, no retries),
duplicate. Content capture on (``traceContent: true``). Versions: package.json / package-lock.json here (exact);
Node 20.20.2; Python standard library only.

Re-run (network: the npm registry only)::

    python3 tests/normalize/gen/oljs/generate.py [WORKDIR]     # default /tmp/gen-oljs; CAPTURE_OUT to write elsewhere

What the library's spans cannot carry is pinned, with its source cited, in tests/normalize/test_captured_oljs.py.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from capture import run_node

SOURCES = ("openlit-js-anthropic", "openlit-js-bedrock", "openlit-js-cohere")


def main() -> None:
    work = Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/gen-oljs")
    run_node(HERE, SOURCES, "oljs-truth.json", work, server_script=HERE.parent / "jsmore" / "fake_server.py")


if __name__ == "__main__":
    main()
