"""Capture the Azure AI Foundry Agents SDK's own tracing (PyPI ``azure-ai-agents``) against a fake Agents service.

Every span in the output but the trace roots was emitted by the SDK's own ``AIAgentsInstrumentor``
(azure/ai/agents/telemetry/_ai_agents_instrumentor.py; ``AIAgentsInstrumentor().instrument()`` with
``AZURE_TRACING_GEN_AI_CONTENT_RECORDING_ENABLED=true``) and by azure-core's ``DistributedTracingPolicy`` (one
HTTP span per request), both through azure-core-tracing-opentelemetry
(``settings.tracing_implementation = "opentelemetry"``), wrapping a real ``AgentsClient`` that talked HTTP to a
fake Foundry Agents REST API (v1) on 127.0.0.1 started by this script. The client is given the project endpoint
``https://acme-support.services.ai.azure.com/api/projects/support`` (bearer tokens are refused over plain HTTP by
azure-core's BearerTokenCredentialPolicy), a fake credential (``get_token`` returns an ``AccessToken``), and a
transport (azure-core's RequestsTransport) that sends each request of that host to the fake over plain HTTP,
so that the SDK and azure-core see Foundry's host; ``retry_total=0``.

The fake keeps agents, threads, messages, runs and run steps. A run is one scripted plan (``SCRIPT``): its model
calls (run steps, each with its own ``usage``: prompt / completion / total tokens; a step of kind ``tool_calls``
asks for ``get_order_status`` and the run waits in ``requires_action`` until the tool outputs are submitted), the
polls it stays ``queued`` / ``in_progress`` for, and how it ends: ``completed``, ``incomplete``
(``incomplete_details.reason`` max_completion_tokens) or ``failed`` (``last_error`` rate_limit_exceeded /
server_error, no usage). A completed or incomplete run's ``usage`` is the sum of its steps'. ``stream: true``
answers with the service's server-sent events (thread.run.created ... thread.message.delta ...
thread.run.step.completed, thread.run.completed / thread.run.incomplete, done). The truth counts one model call
per run step that reached the model (a failed run: one failed call, no usage), as the fake billed it.

Scenarios (one trace each, under the app's ``workflow`` root): ``healthy`` (an agent with a function tool,
a thread, two messages and two runs: the first created and polled by the app with ``runs.get``, the second by
``runs.create_and_process``, then read once more with ``runs.get``; run steps and messages listed), ``cached`` (an agent with long instructions, two runs
on one thread: the Agents API reports no cached tokens, RunCompletionUsage has prompt / completion / total only),
``streaming`` (two ``runs.stream`` runs, the second cut by ``max_completion_tokens``: incomplete), ``tool_use``
(``create_and_process`` with ``enable_auto_function_calls``: a tool_calls step, the SDK runs the function and
submits its output, a message_creation step; steps listed), ``errors`` (two runs that fail: rate_limit_exceeded,
then server_error) and ``duplicate`` (the same question on two new threads, the same answer twice).

Source (one process):

* ``azure-ai-agents``  azure-ai-agents 1.1.0 (the newest release; 1.2.0b6 is a preview), azure-core 1.41.0,
                       azure-core-tracing-opentelemetry 1.0.0b13, opentelemetry-sdk 1.45.2

Re-run (Python 3.11; a venv under /tmp, never the project's .venv; exact versions in requirements.txt)::

    cd tests/normalize/gen/azagents
    python3 -m venv /tmp/venv-azagents && /tmp/venv-azagents/bin/pip install -r requirements.txt
    /tmp/venv-azagents/bin/python generate.py

It writes ``tests/normalize/data/azure-ai-agents.jsonl`` and ``tests/normalize/data/azagents-truth.json``.
``loopback_only`` (../capture.py) refuses any connection beyond loopback; a run prints what was refused.
"""

from __future__ import annotations

import copy
import json
import os
import re
import sys
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from capture import JSONHandler, Recorder, Script, serve
from langtrace.generate import REFUSED, loopback_only

SOURCE = "azure-ai-agents"
TRUTH_FILE = HERE.parent.parent / "data" / "azagents-truth.json"
HOST = "acme-support.services.ai.azure.com"
ENDPOINT = f"https://{HOST}/api/projects/support"
MODEL = "gpt-4o-mini"  # the project's deployment the agent names; the service echoes it as the run's model
SYSTEM = "You are a support assistant for ACME. Answer briefly and politely."
BIG = SYSTEM + "\nPOLICY: " + "Refunds are processed within 5 business days of approval. " * 60
Q1, Q2 = "Where is order A-1001?", "And order A-1002?"
os.environ["AZURE_TRACING_GEN_AI_CONTENT_RECORDING_ENABLED"] = "true"


def step(prompt: int, completion: int, text: str | None = None, tool: dict[str, Any] | None = None) -> dict[str, Any]:
    """One model call of a run: a message_creation step answering ``text``, or a tool_calls step asking ``tool``."""
    return {"prompt": prompt, "completion": completion, "text": text, "tool": tool}


def plan(*steps: dict[str, Any], polls: int = 1, end: str = "completed", error: str | None = None) -> dict[str, Any]:
    return {"steps": list(steps), "polls": polls, "end": end, "error": error}


ORDER = {"name": "get_order_status", "arguments": json.dumps({"order_id": "A-1001"})}
SCENARIO_PLANS: dict[str, list[dict[str, Any]]] = {
    "healthy": [plan(step(412, 64, "Order A-1001 shipped yesterday and arrives Friday."), polls=2),
                plan(step(498, 51, "Order A-1002 is still being packed."))],
    "cached": [plan(step(9200, 120, "Refunds take 5 business days.")),
               plan(step(9260, 110, "Order A-1001 shipped."))],
    "streaming": [plan(step(640, 48, "Your order A-1001 shipped yesterday and arrives Friday.")),
                  plan(step(700, 64, "Here is every shipment event recorded for order A-1002 so far"),
                       end="incomplete")],
    "tool_use": [plan(step(380, 22, tool=ORDER), step(455, 48, "Order A-1001 has shipped."))],
    "errors": [plan(end="failed", error="rate_limit_exceeded"), plan(end="failed", error="server_error")],
    "duplicate": [plan(step(520, 30, "Order A-1001 shipped yesterday.")),
                  plan(step(520, 30, "Order A-1001 shipped yesterday."))],
}
ERROR_MESSAGES = {"rate_limit_exceeded": "Rate limit is exceeded. Try again in 20 seconds.",
                  "server_error": "Sorry, something went wrong."}


class Truth:
    """What the fake billed, per scenario: each run step that reached the model is one call."""

    def __init__(self) -> None:
        self.by_scenario: dict[str, dict[str, Any]] = {}
        self.scenario = ""

    def begin(self, scenario: str) -> None:
        self.scenario = scenario
        self.by_scenario.setdefault(scenario, {
            "calls": 0, "failed": 0, "input": 0, "output": 0, "cache_read": 0, "cache_write": 0, "reasoning": 0,
            "models": [], "runs": [], "steps": []})

    def run(self, p: dict[str, Any]) -> None:
        t = self.by_scenario[self.scenario]
        usage = [sum(s["prompt"] for s in p["steps"]), sum(s["completion"] for s in p["steps"])]
        t["runs"].append({"status": p["end"], "usage": usage if p["steps"] else None, "error": p["error"],
                          "steps": len(p["steps"])})
        if p["end"] == "failed":
            t["calls"] += 1
            t["failed"] += 1
            return
        for s in p["steps"]:
            t["calls"] += 1
            t["input"] += s["prompt"]
            t["output"] += s["completion"]
            t["models"].append([MODEL, MODEL])
            t["steps"].append("tool_calls" if s["tool"] else "message_creation")


TRUTH_NOW = Truth()
SCRIPT = Script()  # the plans of the runs the scenario starts next


def _usage(steps: list[dict[str, Any]]) -> dict[str, int] | None:
    if not steps:
        return None
    p, c = sum(s["prompt"] for s in steps), sum(s["completion"] for s in steps)
    return {"prompt_tokens": p, "completion_tokens": c, "total_tokens": p + c}


class Service:
    """The Agents service's state: agents, threads with their messages, runs with their steps."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.agents: dict[str, dict[str, Any]] = {}
        self.threads: dict[str, list[dict[str, Any]]] = {}
        self.runs: dict[str, dict[str, Any]] = {}

    @staticmethod
    def now() -> int:
        return int(time.time())

    def message(self, thread_id: str, role: str, text: str, run: dict[str, Any] | None = None,
                status: str = "completed") -> dict[str, Any]:
        m = {"id": SCRIPT.id("msg_"), "object": "thread.message", "created_at": self.now(), "thread_id": thread_id,
             "status": status, "incomplete_details": {"reason": "max_tokens"} if status == "incomplete" else None,
             "completed_at": self.now() if status != "in_progress" else None, "incomplete_at": None, "role": role,
             "content": [{"type": "text", "text": {"value": text, "annotations": []}}], "attachments": [],
             "agent_id": run["assistant_id"] if run else None, "run_id": run["id"] if run else None,
             "metadata": {}}
        self.threads[thread_id].append(m)
        return m

    def new_run(self, thread_id: str, body: dict[str, Any]) -> dict[str, Any]:
        p = SCRIPT.next(body)
        TRUTH_NOW.run(p)
        agent = self.agents[body["assistant_id"]]
        rid = SCRIPT.id("run_")
        run = {"id": rid, "object": "thread.run", "thread_id": thread_id, "assistant_id": agent["id"],
               "status": "queued", "required_action": None, "last_error": None, "model": body.get("model") or MODEL,
               "instructions": agent["instructions"], "tools": agent["tools"], "created_at": self.now(),
               "expires_at": None, "started_at": None, "completed_at": None, "cancelled_at": None, "failed_at": None,
               "incomplete_details": None, "usage": None, "temperature": 1.0, "top_p": 1.0,
               "max_prompt_tokens": body.get("max_prompt_tokens"),
               "max_completion_tokens": body.get("max_completion_tokens"), "truncation_strategy":
                   {"type": "auto", "last_messages": None}, "tool_choice": "auto", "parallel_tool_calls": True,
               "response_format": "auto", "tool_resources": {}, "metadata": {}}
        self.runs[rid] = {"run": run, "plan": p, "next": 0, "polls": p["polls"], "steps": []}
        return run

    def _step(self, r: dict[str, Any], s: dict[str, Any]) -> dict[str, Any]:
        run = r["run"]
        usage = {"prompt_tokens": s["prompt"], "completion_tokens": s["completion"],
                 "total_tokens": s["prompt"] + s["completion"]}
        base = {"id": SCRIPT.id("step_"), "object": "thread.run.step", "agent_id": run["assistant_id"],
                "thread_id": run["thread_id"], "run_id": run["id"], "created_at": self.now(), "expired_at": None,
                "cancelled_at": None, "failed_at": None, "last_error": None, "metadata": {}, "usage": usage}
        if s["tool"]:
            call = {"id": SCRIPT.id("call_"), "type": "function", "function": {**s["tool"], "output": None}}
            return {**base, "type": "tool_calls", "status": "completed", "completed_at": self.now(),
                    "step_details": {"type": "tool_calls", "tool_calls": [call]}}
        incomplete = r["plan"]["end"] == "incomplete"
        msg = self.message(run["thread_id"], "assistant", s["text"], run, "incomplete" if incomplete else "completed")
        # a step's status has no "incomplete" (RunStepStatus): the step ends, its message is the one cut
        return {**base, "type": "message_creation", "status": "completed", "completed_at": self.now(),
                "step_details": {"type": "message_creation", "message_creation": {"message_id": msg["id"]}}}

    def advance(self, rid: str) -> dict[str, Any]:
        """One poll: the run moves on (after its scripted polls in progress) to its next wait or its end."""
        r = self.runs[rid]
        run = r["run"]
        if run["status"] in ("completed", "failed", "incomplete", "requires_action"):
            return run
        if r["polls"] > 0:
            r["polls"] -= 1
            run["status"], run["started_at"] = "in_progress", run["started_at"] or self.now()
            return run
        self.finish(r)
        return run

    def finish(self, r: dict[str, Any]) -> None:
        """Run the plan's steps until a tool call waits for its output or the run ends."""
        run, p = r["run"], r["plan"]
        run["started_at"] = run["started_at"] or self.now()
        if p["end"] == "failed":
            run.update(status="failed", failed_at=self.now(),
                       last_error={"code": p["error"], "message": ERROR_MESSAGES[p["error"]]})
            return
        while r["next"] < len(p["steps"]):
            s = p["steps"][r["next"]]
            r["next"] += 1
            st = self._step(r, s)
            r["steps"].append(st)
            if s["tool"]:
                run.update(status="requires_action", required_action={
                    "type": "submit_tool_outputs", "submit_tool_outputs": {
                        "tool_calls": [{"id": c["id"], "type": "function", "function": {
                            "name": c["function"]["name"], "arguments": c["function"]["arguments"]}}
                            for c in st["step_details"]["tool_calls"]]}})
                return
        run["usage"] = _usage(p["steps"])
        if p["end"] == "incomplete":
            run.update(status="incomplete", incomplete_details={"reason": "max_completion_tokens"})
        else:
            run.update(status="completed", completed_at=self.now())

    def submit(self, rid: str, outputs: list[dict[str, Any]]) -> dict[str, Any]:
        r = self.runs[rid]
        run = r["run"]
        assert run["status"] == "requires_action", run["status"]
        for st in r["steps"]:
            for c in st["step_details"].get("tool_calls", []):
                out = next((o["output"] for o in outputs if o["tool_call_id"] == c["id"]), None)
                c["function"]["output"] = out
        run.update(status="queued", required_action=None)
        r["polls"] = 1
        return run


SERVICE = Service()
PREFIX = "/api/projects/support"


def _sse(event: str, data: Any) -> bytes:
    return f"event: {event}\ndata: {data if isinstance(data, str) else json.dumps(data)}\n\n".encode()


class AgentsHandler(JSONHandler):
    """The Foundry Agents REST API (v1) under the project's path; 404 for anything else."""

    def _route(self) -> tuple[list[str], dict[str, list[str]]] | None:
        u = urlsplit(self.path)
        if not u.path.startswith(PREFIX + "/") or "api-version=v1" not in u.query:
            self.send_json(404, {"error": {"code": "NotFound", "message": f"no route {u.path}"}})
            return None
        return u.path[len(PREFIX) + 1:].split("/"), parse_qs(u.query)

    def do_DELETE(self) -> None:
        got = self._route()
        if got is None:
            return
        parts, _ = got
        with SERVICE.lock:
            SERVICE.agents.pop(parts[1], None)
        self.send_json(200, {"id": parts[1], "object": "assistant.deleted", "deleted": True})

    def do_GET(self) -> None:
        got = self._route()
        if got is None:
            return
        parts, query = got
        with SERVICE.lock:
            if len(parts) == 4 and parts[0] == "threads" and parts[2] == "runs":
                self.send_json(200, SERVICE.advance(parts[3]))
            elif len(parts) == 5 and parts[4] == "steps":
                self._list(SERVICE.runs[parts[3]]["steps"], query)
            elif len(parts) == 3 and parts[2] == "messages":
                self._list(SERVICE.threads[parts[1]], query)
            else:
                self.send_json(404, {"error": {"code": "NotFound", "message": self.path}})

    def _list(self, items: list[dict[str, Any]], query: dict[str, list[str]]) -> None:
        """A page of a list (newest first unless ``order=asc``; all after the ``after`` cursor; the page after
        the last is empty, with no last_id, which ends the SDK's pager)."""
        if query.get("order", ["desc"])[0] != "asc":
            items = list(reversed(items))
        after = query.get("after", [None])[0]
        if after is not None:
            ids = [i["id"] for i in items]
            items = items[ids.index(after) + 1:] if after in ids else []
        self.send_json(200, {"object": "list", "data": items, "first_id": items[0]["id"] if items else None,
                             "last_id": items[-1]["id"] if items else None, "has_more": False})

    def do_POST(self) -> None:
        got = self._route()
        if got is None:
            return
        parts, _ = got
        body = self.read_json()
        with SERVICE.lock:
            if parts == ["assistants"]:
                aid = SCRIPT.id("asst_")
                agent = {"id": aid, "object": "assistant", "created_at": SERVICE.now(), "name": body.get("name"),
                         "description": body.get("description"), "model": body["model"],
                         "instructions": body.get("instructions"), "tools": body.get("tools") or [],
                         "tool_resources": {}, "temperature": 1.0, "top_p": 1.0, "response_format": "auto",
                         "metadata": {}}
                SERVICE.agents[aid] = agent
                self.send_json(200, agent)
            elif parts == ["threads"]:
                tid = SCRIPT.id("thread_")
                SERVICE.threads[tid] = []
                self.send_json(200, {"id": tid, "object": "thread", "created_at": SERVICE.now(),
                                     "tool_resources": {}, "metadata": {}})
            elif len(parts) == 3 and parts[2] == "messages":
                content = body["content"] if isinstance(body["content"], str) else json.dumps(body["content"])
                self.send_json(200, SERVICE.message(parts[1], body.get("role", "user"), content))
            elif len(parts) == 3 and parts[2] == "runs":
                run = SERVICE.new_run(parts[1], body)
                if body.get("stream"):
                    self._stream(run["id"])
                else:
                    self.send_json(200, run)
            elif len(parts) == 5 and parts[4] == "submit_tool_outputs":
                run = SERVICE.submit(parts[3], body["tool_outputs"])
                if body.get("stream"):
                    self._stream(run["id"])
                else:
                    self.send_json(200, run)
            else:
                self.send_json(404, {"error": {"code": "NotFound", "message": self.path}})

    def _stream(self, rid: str) -> None:
        """The run from queued to its end (or its wait for tool outputs) as the service streams it."""
        r = SERVICE.runs[rid]
        run = r["run"]
        chunks = [_sse("thread.run.created", dict(run))]
        run.update(status="in_progress", started_at=SERVICE.now())
        chunks.append(_sse("thread.run.in_progress", dict(run)))
        r["polls"] = 0
        before = len(r["steps"])
        SERVICE.finish(r)
        for st in r["steps"][before:]:
            st_open = {**st, "status": "in_progress", "completed_at": None, "usage": None}
            chunks.append(_sse("thread.run.step.created", st_open))
            chunks.append(_sse("thread.run.step.in_progress", st_open))
            if st["type"] == "message_creation":
                msg = next(m for m in SERVICE.threads[run["thread_id"]]
                           if m["id"] == st["step_details"]["message_creation"]["message_id"])
                chunks.append(_sse("thread.message.created", {**msg, "status": "in_progress", "content": []}))
                chunks.append(_sse("thread.message.in_progress", {**msg, "status": "in_progress", "content": []}))
                words = re.findall(r"\S+\s*", msg["content"][0]["text"]["value"])
                for n, w in enumerate(words):
                    chunks.append(_sse("thread.message.delta", {"id": msg["id"], "object": "thread.message.delta",
                                                                "delta": {"content": [{"index": 0, "type": "text",
                                                                                       "text": {"value": w}}]}}))
                    del n
                chunks.append(_sse("thread.message.incomplete" if msg["status"] == "incomplete"
                                   else "thread.message.completed", msg))
            chunks.append(_sse("thread.run.step.completed", st))
        event = {"requires_action": "thread.run.requires_action", "completed": "thread.run.completed",
                 "incomplete": "thread.run.incomplete", "failed": "thread.run.failed"}[run["status"]]
        chunks.append(_sse(event, dict(run)))
        chunks.append(_sse("done", "[DONE]"))
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("cache-control", "no-cache")
        self.send_header("transfer-encoding", "chunked")
        self.end_headers()
        for c in chunks:
            self.wfile.write(f"{len(c):x}\r\n".encode() + c + b"\r\n")
        self.wfile.write(b"0\r\n\r\n")


def get_order_status(order_id: str) -> str:
    """Look up the shipping status of an order.

    :param order_id: The order's id.
    :return: The order's status as JSON.
    """
    return json.dumps({"order_id": order_id, "status": "shipped" if order_id == "A-1001" else "packing"})


def client(port: int) -> Any:
    from azure.ai.agents import AgentsClient
    from azure.core.credentials import AccessToken
    from azure.core.pipeline.transport import RequestsTransport

    class Credential:
        """A fake Entra ID credential: any scope, a token an hour long."""

        def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
            return AccessToken("fake-entra-token", int(time.time()) + 3600)

    class ToFake(RequestsTransport):  # type: ignore[misc]
        """Foundry's host, sent to the fake over plain HTTP."""

        def send(self, request: Any, **kwargs: Any) -> Any:
            sent = copy.copy(request)  # the pipeline's request (its spans' url) keeps Foundry's host
            sent.url = request.url.replace(f"https://{HOST}", f"http://127.0.0.1:{port}", 1)
            return super().send(sent, **kwargs)

    return AgentsClient(endpoint=ENDPOINT, credential=Credential(), transport=ToFake(), retry_total=0)


def run() -> None:
    from azure.core.settings import settings

    settings.tracing_implementation = "opentelemetry"
    rec = Recorder(SOURCE, TRUTH_FILE, TRUTH_NOW.begin, lambda: TRUTH_NOW.by_scenario, HERE)
    from azure.ai.agents.models import AgentEventHandler, FunctionTool, ListSortOrder, ToolSet
    from azure.ai.agents.telemetry import AIAgentsInstrumentor

    AIAgentsInstrumentor().instrument()
    srv = serve(AgentsHandler)
    agents = client(srv.server_address[1])
    functions = FunctionTool({get_order_status})
    toolset = ToolSet()
    toolset.add(functions)
    agents.enable_auto_function_calls(toolset)
    rec.spans.clear()  # its span (AgentsClient.enable_auto_function_calls, a trace of its own) is set-up, no scenario's

    def agent(instructions: str = SYSTEM) -> Any:
        return agents.create_agent(model=MODEL, name="support-agent", instructions=instructions,
                                   tools=functions.definitions)

    def ask(thread_id: str, text: str) -> None:
        agents.messages.create(thread_id=thread_id, role="user", content=text)

    def listed(thread_id: str, run_id: str) -> None:
        for _ in agents.run_steps.list(thread_id=thread_id, run_id=run_id):
            pass
        for _ in agents.messages.list(thread_id=thread_id, order=ListSortOrder.ASCENDING):
            pass

    def process(thread_id: str, agent_id: str) -> Any:
        return agents.runs.create_and_process(thread_id=thread_id, agent_id=agent_id, polling_interval=0)

    class Handler(AgentEventHandler):  # type: ignore[misc]
        def on_message_delta(self, delta: Any) -> None:
            self.text = getattr(self, "text", "") + (delta.text or "")

    def scenario(name: str, body: Any) -> None:
        SCRIPT[:] = list(SCENARIO_PLANS[name])
        with rec.root(name, f"support.{name}"):
            body()
        assert not SCRIPT, f"{name}: unused plans {SCRIPT}"
        rec.flush(name)

    def healthy() -> None:
        a = agent()
        t = agents.threads.create()
        ask(t.id, Q1)
        r = agents.runs.create(thread_id=t.id, agent_id=a.id)
        while r.status in ("queued", "in_progress", "requires_action"):
            r = agents.runs.get(thread_id=t.id, run_id=r.id)
        assert r.status == "completed", r.status
        listed(t.id, r.id)
        ask(t.id, Q2)
        r = process(t.id, a.id)
        assert r.status == "completed", r.status
        # the app reads the finished run again (its usage, for its own log): one more get_thread_run span with
        # the run's usage, beside the create_and_process span that reported it
        assert agents.runs.get(thread_id=t.id, run_id=r.id).usage.total_tokens == 549
        listed(t.id, r.id)
        agents.delete_agent(a.id)

    def cached() -> None:
        a = agent(BIG)
        t = agents.threads.create()
        for q in ("How long do refunds take?", Q1):
            ask(t.id, q)
            assert process(t.id, a.id).status == "completed"
        agents.delete_agent(a.id)

    def streaming() -> None:
        a = agent()
        t = agents.threads.create()
        for q, limit in ((Q1, None), ("List every shipment event of order A-1002.", 64)):
            ask(t.id, q)
            with agents.runs.stream(thread_id=t.id, agent_id=a.id, max_completion_tokens=limit,
                                    event_handler=Handler()) as stream:
                stream.until_done()
        agents.delete_agent(a.id)

    def tool_use() -> None:
        a = agent()
        t = agents.threads.create()
        ask(t.id, Q1)
        r = process(t.id, a.id)
        assert r.status == "completed", r.status
        listed(t.id, r.id)
        agents.delete_agent(a.id)

    def errors() -> None:
        a = agent()
        t = agents.threads.create()
        for q in (Q1, Q2):
            ask(t.id, q)
            r = process(t.id, a.id)
            assert r.status == "failed", r.status
        agents.delete_agent(a.id)

    def duplicate() -> None:
        a = agent()
        for _ in range(2):
            t = agents.threads.create()
            ask(t.id, Q1)
            assert process(t.id, a.id).status == "completed"
        agents.delete_agent(a.id)

    for name, body in (("healthy", healthy), ("cached", cached), ("streaming", streaming), ("tool_use", tool_use),
                       ("errors", errors), ("duplicate", duplicate)):
        scenario(name, body)
    srv.shutdown()
    from importlib.metadata import version

    rec.write(extra={"versions": {n: version(n) for n in (
        "azure-ai-agents", "azure-core", "azure-core-tracing-opentelemetry", "opentelemetry-sdk")}})


if __name__ == "__main__":
    loopback_only()
    run()
    print(f"{SOURCE}: connections refused beyond loopback: {REFUSED or 'none'}")
