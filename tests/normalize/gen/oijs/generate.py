"""Re-generate tests/normalize/data/{openinference-js-mcp,openinference-langchain-js-anthropic}.jsonl and oijs-truth.json.

Real spans from OpenInference JS instrumentations not captured elsewhere, made by ``generate.mjs`` here against the
fake OpenAI / Anthropic server of ../vercel_ai/fake_server.py (Chat Completions and Messages, JSON and SSE, 429 /
500 with the providers' error JSON; the plan protocol of its docstring; loopback only), one fresh server and one
Node process per source; the served requests are folded into the truth file by ../vercel_ai/truth.py (input
includes the cache, output the reasoning). Every instrumentation is registered by ``manuallyInstrument(module)``.

* ``openinference-js-mcp``: @arizeai/openinference-instrumentation-mcp 0.2.33 over @modelcontextprotocol/sdk 1.32.2,
  an MCP client (``Client``) and server (``McpServer`` "acme-orders", one tool ``get_order_status``) in this one
  process, in an agent loop whose Chat Completions calls go through @arizeai/openinference-instrumentation-openai
  4.2.7 over openai 6.32.0 (``maxRetries: 0``); the tools offered to the model are the server's (``tools/list``).
  The MCP instrumentation makes no spans: it injects the caller's context into each JSON-RPC request's
  ``params._meta`` and extracts it around the server's handler (dist/src/mcp.js), through the global W3C
  propagator the app sets (as an OTel Node SDK does). It wraps the SSE, stdio and Streamable HTTP transports only
  (not InMemoryTransport), and a stdio client spawns its server as a subprocess, so client and server speak
  Streamable HTTP over 127.0.0.1 here. The server's tool handler traces itself (``tool.get_order_status``, scope
  ``fixgen.mcp-server``): a child of the caller's span through the propagated context (without the
  instrumentation it is a trace of its own: the http server's requests run outside the caller's context).
* ``openinference-langchain-js-anthropic``: @arizeai/openinference-instrumentation-langchain 4.1.1 over
  @langchain/core 1.4.0 and @langchain/anthropic 1.5.11 ``ChatAnthropic`` alone (``maxRetries: 0``; its
  @anthropic-ai/sdk), tool calling through ``bindTools`` and a LangChain ``tool`` (OpenInference TOOL span).

Scenarios (the shared ones): healthy (a tool call, then a follow-up question), cached (OpenAI: cached_tokens and
one reasoning model; Anthropic: a cache write, then reads, one with more new input than cache), streaming (the
second cut at max tokens 16), tool_use, errors (a 429 then a 500 reach the app, no retries), duplicate. Every MCP
scenario opens its MCP session inside the root. Versions: package.json / package-lock.json here (exact); Node
20.20.2; Python standard library only (requirements.txt). Not captured: BeeAI (beeai-framework and
@arizeai/openinference-instrumentation-beeai; see the report in tests/normalize/test_captured_oijs.py).

Re-run (network: the npm registry only)::

    python3 tests/normalize/gen/oijs/generate.py [WORKDIR]     # default /tmp/gen-oijs; CAPTURE_OUT elsewhere

What the libraries' spans cannot carry is pinned, with their source cited, in tests/normalize/test_captured_oijs.py.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from capture import run_node

SOURCES = ("openinference-js-mcp", "openinference-langchain-js-anthropic")


def main() -> None:
    work = Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/gen-oijs")
    run_node(HERE, SOURCES, "oijs-truth.json", work)


if __name__ == "__main__":
    main()
