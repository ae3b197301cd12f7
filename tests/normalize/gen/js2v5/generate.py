"""Re-generate tests/normalize/data/langfuse-js-openai-5.jsonl and js2v5-truth.json.

Langfuse JS v5, the newest release beside js2's v4 (``langfuse-js-openai``, 4.6.1), so both stay tested: the
same app, ``../js2/generate.mjs`` (its Langfuse runner, one script for both), run with this folder's exact
packages against the fake OpenAI server of ``../vercel_ai/fake_server.py`` (loopback only; the script's
loopback guard refuses anything else); the served requests are folded into the truth file by
``../vercel_ai/truth.py`` (input includes the cache, output the reasoning):

* ``langfuse-js-openai-5``: @langfuse/openai 5.11.1 ``observeOpenAI`` over openai 6.32.0, spans made by
  @langfuse/tracing 5.11.1 and exported by @langfuse/otel 5.11.1 ``LangfuseSpanProcessor`` (its ``exporter``
  parameter: the in-memory exporter instead of Langfuse's OTLP endpoint) with its default ``shouldExportSpan``
  (dist/index.mjs isDefaultExportSpan: Langfuse-scope, ``gen_ai.*`` or known LLM instrumentation spans only),
  as an app that passes none gets it: the generator's ``workflow`` root (scope fixgen.app) is not exported,
  and markAppRootCandidate marks each generation under it ``langfuse.internal.is_app_root``.

Scenarios (the shared ones, tests/normalize/gen/js/README.md): healthy, cached, streaming (the second cut at
max tokens 16), tool_use, errors (a 429 then a 500 reach the app, ``maxRetries: 0``), duplicate. Versions:
package.json / package-lock.json here (exact); Node 20.20.2; requirements.txt: none beyond the Python standard
library.

Re-run (network: the npm registry only)::

    python3 tests/normalize/gen/js2v5/generate.py [WORKDIR]     # default /tmp/gen-js2v5; CAPTURE_OUT to write elsewhere

What the spans cannot carry is pinned, with the library's source cited, in
tests/normalize/test_captured_js2v5.py.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from capture import run_node

SOURCES = ("langfuse-js-openai-5",)


def main() -> None:
    work = Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/gen-js2v5")
    run_node(HERE, SOURCES, "js2v5-truth.json", work, script=HERE.parent / "js2" / "generate.mjs")


if __name__ == "__main__":
    main()
