"""What every capture generator shares: the OpenTelemetry set-up, the line format and the truth file.

A generator (``tests/normalize/gen/<family>/generate.py``) runs in a venv of its own, with the
instrumentation it captures, and imports this module from its parent folder::

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from capture import Recorder, Script, JSONHandler, serve

What stays in the generator is what differs per library: its fake provider API, its truth per call,
its instrumentation and its scenarios. The line format is the shared fixtures' (``{"scenario",
"source", "otlp"}``, OTLP/JSON with lowercase hex ids; ``otlp_logs`` beside it where the library logs
too); ``tests/normalize/test_capture.py`` holds this module to it with the project's own SDK.

Set ``CAPTURE_OUT`` to a folder to write the capture and its truth there instead of
``tests/normalize/data`` (to compare a re-run with the committed files).
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

DATA = Path(__file__).resolve().parents[1] / "data"
ID_KEYS = ("traceId", "spanId", "parentSpanId")
RESOURCE = {"service.name": "support-bot", "deployment.environment": "fixture"}


def out_dir() -> Path:
    return Path(os.environ.get("CAPTURE_OUT") or DATA)


def hexify(obj: Any) -> Any:
    """protobuf's JSON mapping writes ids as base64; OTLP/JSON writes them as lowercase hex."""
    if isinstance(obj, dict):
        return {k: base64.b64decode(v).hex() if k in ID_KEYS and isinstance(v, str) and v else hexify(v)
                for k, v in obj.items()}
    if isinstance(obj, list):
        return [hexify(v) for v in obj]
    return obj


class Scrubber:
    """Machine paths inside exception stack traces become /app/... (nothing else is edited)."""

    def __init__(self, *paths: str | Path) -> None:
        found = {sys.prefix, sys.base_prefix, *(str(p) for p in paths)}
        self.paths = [re.escape(p) for p in sorted(found, key=len, reverse=True)]

    def __call__(self, text: str) -> str:
        for p in self.paths:
            text = re.sub(p + r"[^\"\s,]*?/site-packages", "/app/site-packages", text)
            text = re.sub(p, "/app", text)
        return text


def encode_spans_json(spans: list[Any]) -> dict[str, Any]:
    from google.protobuf.json_format import MessageToDict
    from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans

    return hexify(MessageToDict(encode_spans(spans), use_integers_for_enums=True))  # type: ignore[no-any-return]


def encode_logs_json(records: list[Any]) -> dict[str, Any]:
    from google.protobuf.json_format import MessageToDict
    from opentelemetry.exporter.otlp.proto.common._log_encoder import encode_logs

    return hexify(MessageToDict(encode_logs(records), use_integers_for_enums=True))  # type: ignore[no-any-return]


class Recorder:
    """Spans (and log records) of one source, one line per scenario, and the fake server's truth.

    ``truth_file`` is the family's truth file (in tests/normalize/data, or a path of the caller's own);
    ``begin`` is called with the scenario as its root span starts (the generator's truth keeps its
    numbers per scenario); ``truth`` is read when the file is written. ``tracer_provider`` and ``spans``
    for libraries that build the global provider themselves (Logfire); ``collect`` for libraries that
    export over OTLP themselves (MLflow): it returns the scenario's OTLP/JSON request body; ``settle``
    seconds are waited before a flush, for libraries that end spans on a thread after the call returns.
    """

    def __init__(self, source: str, truth_file: str | Path, begin: Callable[[str], None],
                 truth: Callable[[], dict[str, Any]], here: str | Path, *, logs: bool = False,
                 tracer_provider: Any = None, spans: Any = None, collect: Callable[[], dict[str, Any]] | None = None,
                 settle: float = 0.0) -> None:
        from opentelemetry import trace
        from opentelemetry.sdk.trace.export import SimpleSpanProcessor
        from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

        self.source, self.truth_file = source, truth_file
        self._begin, self._truth, self._collect, self._settle = begin, truth, collect, settle
        self.scrub = Scrubber(here)
        self.lines: list[str] = []
        self.lp: Any = None
        self.logs: Any = None
        self.spans = spans if spans is not None else InMemorySpanExporter()
        if tracer_provider is not None:
            self.tp = tracer_provider
        else:
            from opentelemetry.sdk.resources import Resource
            from opentelemetry.sdk.trace import TracerProvider

            resource = Resource.create(RESOURCE)
            self.tp = TracerProvider(resource=resource)
            if collect is None:
                self.tp.add_span_processor(SimpleSpanProcessor(self.spans))
            trace.set_tracer_provider(self.tp)
            if logs:
                self._logs(resource)
        self.app = self.tp.get_tracer("fixgen.app", "1.0.0")

    def _logs(self, resource: Any) -> None:
        try:
            from opentelemetry import _logs
            from opentelemetry.sdk._logs import LoggerProvider
            from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor
        except ImportError:  # an SDK without the logs API: spans only
            return
        self.lp = LoggerProvider(resource=resource)
        self.logs = InMemoryLogRecordExporter()
        self.lp.add_log_record_processor(SimpleLogRecordProcessor(self.logs))
        _logs.set_logger_provider(self.lp)

    def root(self, scenario: str, workflow: str) -> Any:
        """The trace's root span, as in the shared fixtures: ``workflow`` of scope ``fixgen.app``."""
        self._begin(scenario)
        return self.app.start_as_current_span("workflow", attributes={"app.workflow": workflow,
                                                                      "app.scenario": scenario})

    def flush(self, scenario: str) -> None:
        if self._settle:
            time.sleep(self._settle)
        self.tp.force_flush()
        if self._collect is not None:
            otlp = self._collect()
        else:
            spans = list(self.spans.get_finished_spans())
            self.spans.clear()
            otlp = encode_spans_json(spans)
        line: dict[str, Any] = {"scenario": scenario, "source": self.source, "otlp": otlp}
        if self.lp is not None:
            self.lp.force_flush()
            records = list(self.logs.get_finished_logs())
            self.logs.clear()
            if records:
                line["otlp_logs"] = encode_logs_json(records)
        self.lines.append(self.scrub(json.dumps(line, separators=(",", ":"))))

    def write(self, family: str | None = None, extra: dict[str, Any] | None = None) -> None:
        """The capture file, and the truth merged into the truth file: every source of a fake API must
        have seen the same truth (the same scenarios, the same answers). ``family`` keeps it under that key
        (one truth file for several fake APIs, or one entry per source), else at the top; ``extra`` is
        written beside it (the versions that made it)."""
        out = out_dir()
        out.mkdir(parents=True, exist_ok=True)
        (out / f"{self.source}.jsonl").write_text("\n".join(self.lines) + "\n")
        path = Path(self.truth_file)
        if path.parent == DATA:  # the committed truth: CAPTURE_OUT takes it elsewhere with the capture
            path = out / path.name
        truth = json.loads(path.read_text()) if path.exists() else {}
        entry = truth.setdefault(family, {}) if family else truth
        mine = self._truth()
        if entry.get("scenarios", mine) != mine:
            raise SystemExit(f"{self.source}: the fake server's truth differs from an earlier source's:\n"
                             f"{json.dumps(entry['scenarios'], indent=1)}\nvs\n{json.dumps(mine, indent=1)}")
        entry["scenarios"] = mine
        entry["sources"] = sorted(set(entry.get("sources", [])) | {self.source})
        entry.update(extra or {})
        path.write_text(json.dumps(truth, indent=1, sort_keys=True) + "\n")


class Script:
    """The answers a fake server gives next, in order, and ids unique within a run."""

    def __init__(self) -> None:
        self.steps: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        self._seq = 0

    def __setitem__(self, index: slice, steps: list[dict[str, Any]]) -> None:
        """``SCRIPT[:] = [...]``: a scenario's answers."""
        with self.lock:
            self.steps[index] = steps

    def __len__(self) -> int:
        return len(self.steps)

    def __repr__(self) -> str:
        return repr(self.steps)

    def next(self, request: Any = None) -> dict[str, Any]:
        """The next answer (``request``: what was asked, named in the error when the script ran out)."""
        with self.lock:
            if not self.steps:
                raise RuntimeError(f"no scripted answer left for {json.dumps(request)[:400]}")
            return self.steps.pop(0)

    def id(self, prefix: str) -> str:
        """``prefix`` (the provider's own, e.g. ``msg_01``), a sequence number and the time: unique per run."""
        with self.lock:
            self._seq += 1
            return f"{prefix}{self._seq:04d}{int(time.time() * 1e6) % 10**12:012d}"


class JSONHandler(BaseHTTPRequestHandler):
    """A quiet HTTP/1.1 handler that reads and answers JSON (a fake provider API builds on it)."""

    protocol_version = "HTTP/1.1"

    def log_message(self, *args: Any) -> None:  # quiet
        pass

    def read_json(self) -> Any:
        n = int(self.headers.get("content-length") or 0)
        return json.loads(self.rfile.read(n) or b"{}")

    def send_json(self, status: int, obj: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)


def serve(handler: type[BaseHTTPRequestHandler]) -> ThreadingHTTPServer:
    """The fake server on a free loopback port, answering on a daemon thread."""
    srv = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def run_node(here: Path, sources: tuple[str, ...], truth_file: str, work: Path,
             env: dict[str, str] | None = None, server_script: Path | None = None,
             script: Path | None = None) -> None:
    """A Node.js generator's run (tests/normalize/gen/js2, js3): ``generate.mjs`` with the exact packages of
    ``package.json`` / ``package-lock.json`` (``npm ci`` in ``work``, never the checkout), one fresh fake server
    (../vercel_ai/fake_server.py) and one Node process per source, machine paths scrubbed, the per-source truth
    merged by ../vercel_ai/truth.py. ``env``: what the libraries need beyond no host or process resource
    detectors (their anonymous usage pings off). ``server_script``: a fake server script of the same protocol instead
    (tests/normalize/gen/js4/fake_server.py: Gemini and Bedrock). ``script``: another folder's ``generate.mjs``,
    run with this folder's packages (tests/normalize/gen/js2v5: js2's script over a newer release)."""
    server_py = server_script or here.parent / "vercel_ai" / "fake_server.py"
    truth_py = here.parent / "vercel_ai" / "truth.py"
    raw = work / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    for f in raw.glob("*.truth.json"):
        f.unlink()
    for name in ("package.json", "package-lock.json"):
        shutil.copy(here / name, work / name)
    shutil.copy(script or here / "generate.mjs", work / "generate.mjs")
    shutil.copy(here.parent / "capture.mjs", work / "capture.mjs")  # the Node generators' shared helpers
    subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=work, check=True, stdout=subprocess.DEVNULL)
    data = out_dir()
    run_env = {**os.environ, "OTEL_NODE_RESOURCE_DETECTORS": "none", **(env or {})}
    scrub = Scrubber(work)
    for source in sources:
        port = free_port()
        log_path = raw / f"{source}.server.log"
        log = log_path.open("w")
        server = subprocess.Popen([sys.executable, str(server_py), str(port)], stdout=log, stderr=subprocess.STDOUT)
        try:
            for _ in range(50):
                if "READY" in log_path.read_text():
                    break
                time.sleep(0.1)
            out = raw / f"{source}.jsonl"
            subprocess.run(["node", "generate.mjs", source, str(port), str(out), str(raw / f"{source}.truth.json")],
                           cwd=work, env=run_env, check=True, timeout=300)
            (data / f"{source}.jsonl").write_text(scrub(out.read_text()))
        finally:
            server.terminate()
            server.wait()
            log.close()
    subprocess.run([sys.executable, str(truth_py), str(raw), str(data / truth_file)], check=True)


#: every connection a library tried to open beyond loopback (none may succeed: the guard refuses them)
REFUSED: list[str] = []


def loopback_only() -> None:
    """Refuse every name lookup and connection that is not to loopback, and keep what was tried: the libraries'
    own calls home (release checks, error reporting, their clouds' exporters) fail at once and are reported."""
    real_getaddrinfo, real_connect = socket.getaddrinfo, socket.socket.connect

    def getaddrinfo(host: Any, *args: Any, **kw: Any) -> Any:
        if str(host) not in ("localhost", "127.0.0.1", "::1"):
            REFUSED.append(f"lookup {host}")
            raise socket.gaierror(socket.EAI_NONAME, f"loopback only: {host}")
        return real_getaddrinfo(host, *args, **kw)

    def connect(self: socket.socket, address: Any) -> Any:
        if isinstance(address, tuple) and not str(address[0]).startswith(("127.", "::1", "localhost")):
            REFUSED.append(f"connect {address[0]}")
            raise ConnectionRefusedError(f"loopback only: {address[0]}")
        return real_connect(self, address)

    socket.getaddrinfo = getaddrinfo  # type: ignore[assignment]
    socket.socket.connect = connect  # type: ignore[method-assign]
