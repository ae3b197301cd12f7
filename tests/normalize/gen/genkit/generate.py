"""Re-generate tests/normalize/data/genkit-openai.jsonl and genkit-truth.json.

Real Firebase Genkit spans: genkit 1.42.0 (@genkit-ai/core, @genkit-ai/ai 1.42.0) records every action it runs as
an OpenTelemetry span of its own (scope ``genkit-tracer``; attributes genkit:name, genkit:type, genkit:path,
genkit:metadata:subtype, genkit:input / genkit:output as JSON: @genkit-ai/core lib/tracing/instrumentation.js
runInNewSpan / metadataToAttributes), over its OpenAI-compatible model plugin @genkit-ai/compat-oai 1.42.0
(``openAICompatible({name: 'openai', baseURL, maxRetries: 0, fetch})``, the openai npm SDK underneath), driven by
``generate.mjs`` here against the fake OpenAI server of ../vercel_ai/fake_server.py (loopback only). Genkit's own
NodeSDK set-up is turned off (``disableGenkitOTelInitialization``), so its spans reach the generator's provider
and in-memory exporter. The served requests are folded into the truth file by ../vercel_ai/truth.py (input
includes the cache, output the reasoning).

Source: ``genkit-openai``. Scenarios (the shared ones): healthy (two calls, each in a Genkit flow), cached
(``prompt_tokens_details.cached_tokens`` and ``completion_tokens_details.reasoning_tokens`` served), streaming
(``generateStream``, the second cut at maxOutputTokens 16), tool_use (one generate: Genkit runs the tool and calls
the model again), errors (a 429 then a 500 reach the app, no SDK retries), duplicate. Content: Genkit always writes
the request and response on its spans. Versions: package.json / package-lock.json here (exact); Node 20.20.2;
Python standard library only.

Re-run (network: the npm registry only)::

    python3 tests/normalize/gen/genkit/generate.py [WORKDIR]     # default /tmp/gen-genkit; CAPTURE_OUT elsewhere

What the library's spans cannot carry is pinned, with its source cited, in tests/normalize/test_captured_genkit.py.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from capture import run_node

SOURCES = ("genkit-openai",)


def main() -> None:
    work = Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/gen-genkit")
    run_node(HERE, SOURCES, "genkit-truth.json", work)


if __name__ == "__main__":
    main()
