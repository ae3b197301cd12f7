"""The capture generators' shared module (tests/normalize/gen/capture.py), run with the project's own SDK: what
it writes must be the shared fixtures' line format, read back by the service's own reader into the trees it
recorded, and its fake-server parts must answer over loopback."""

from __future__ import annotations

import importlib.util
import json
import sys
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from tests.enrich.trees import trees_of

GEN = Path(__file__).parent / "gen"


def _capture() -> Any:
    spec = importlib.util.spec_from_file_location("capture", GEN / "capture.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


capture = _capture()


class Truth:
    def __init__(self, calls: int = 1) -> None:
        self.calls = calls
        self.by_scenario: dict[str, dict[str, int]] = {}

    def begin(self, scenario: str) -> None:
        self.by_scenario[scenario] = {"calls": self.calls}


def recorder(source: str, truth: Truth, truth_file: Path = capture.DATA / "demo-truth.json", **kw: Any) -> Any:
    tp = TracerProvider(resource=Resource.create(capture.RESOURCE))
    spans = InMemorySpanExporter()
    tp.add_span_processor(SimpleSpanProcessor(spans))
    return capture.Recorder(source, truth_file, truth.begin, lambda: truth.by_scenario, GEN,
                            tracer_provider=tp, spans=spans, **kw)


def record(rec: Any, scenario: str) -> None:
    with rec.root(scenario, "support"), \
            rec.app.start_as_current_span("chat demo", attributes={"gen_ai.usage.input_tokens": 12}) as s:
        try:
            raise RuntimeError(f"failed in {sys.prefix}/lib/python3.11/site-packages/demo/client.py")
        except RuntimeError as exc:
            s.record_exception(exc)
    rec.flush(scenario)


def test_lines_are_the_shared_fixtures_format_and_read_back_as_recorded(tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CAPTURE_OUT", str(tmp_path))
    rec = recorder("demo-source", Truth())
    record(rec, "healthy")
    record(rec, "errors")
    rec.write()

    lines = [json.loads(x) for x in (tmp_path / "demo-source.jsonl").read_text().splitlines()]
    assert [(x["scenario"], x["source"]) for x in lines] == [("healthy", "demo-source"), ("errors", "demo-source")]
    spans = [s for rs in lines[0]["otlp"]["resourceSpans"] for ss in rs["scopeSpans"] for s in ss["spans"]]
    by_name = {s["name"]: s for s in spans}
    root, child = by_name["workflow"], by_name["chat demo"]
    assert len(root["traceId"]) == 32 and len(root["spanId"]) == 16
    assert int(root["traceId"], 16) and child["parentSpanId"] == root["spanId"]  # hex, not base64
    assert isinstance(root["startTimeUnixNano"], str)  # int64 as a string, as OTLP/JSON writes it
    text = json.dumps(lines)
    assert sys.prefix not in text and "/app/site-packages/demo/client.py" in text
    # the service's own file reader assembles what was recorded: one tree per scenario, rooted at workflow
    got = trees_of(tmp_path / "demo-source.jsonl")
    assert [(sc, t.root().view.name, len(t.spans)) for sc, t in got] == [("healthy", "workflow", 2),  # type: ignore[union-attr]
                                                                           ("errors", "workflow", 2)]
    truth = json.loads((tmp_path / "demo-truth.json").read_text())
    assert truth == {"scenarios": {"healthy": {"calls": 1}, "errors": {"calls": 1}}, "sources": ["demo-source"]}


def test_a_source_that_saw_another_truth_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CAPTURE_OUT", str(tmp_path))
    for source, family in (("a", None), ("b", None), ("c", "demo"), ("d", "demo")):
        rec = recorder(source, Truth())
        record(rec, "healthy")
        rec.write(family, {"versions": {"demo": "1.0"}})
    truth = json.loads((tmp_path / "demo-truth.json").read_text())
    assert truth["sources"] == ["a", "b"] and truth["demo"]["sources"] == ["c", "d"]
    assert truth["demo"]["versions"] == {"demo": "1.0"}
    other = recorder("e", Truth(calls=2))
    record(other, "healthy")
    with pytest.raises(SystemExit, match="truth differs"):
        other.write("demo")
    # a truth file of the caller's own (outside tests/normalize/data) is written where it says
    own = recorder("f", Truth(), truth_file=tmp_path / "own" / "truth.json")
    (tmp_path / "own").mkdir()
    record(own, "healthy")
    own.write()
    assert json.loads((tmp_path / "own" / "truth.json").read_text())["sources"] == ["f"]


def test_fake_server_parts_answer_over_loopback() -> None:
    script = capture.Script()
    script[:] = [{"answer": 1}, {"answer": 2}]
    seen: list[Any] = []

    class Handler(capture.JSONHandler):
        def do_POST(self) -> None:
            seen.append(self.read_json())
            self.send_json(200, {**script.next(), "id": script.id("msg_01")}, {"request-id": "req_1"})

    srv = capture.serve(Handler)
    try:
        url = f"http://127.0.0.1:{srv.server_address[1]}/v1/chat"
        answers = []
        for n in range(2):
            req = urllib.request.Request(url, data=json.dumps({"n": n}).encode(), method="POST")
            with urllib.request.urlopen(req, timeout=5) as resp:
                assert resp.headers["request-id"] == "req_1"
                answers.append(json.loads(resp.read()))
    finally:
        srv.shutdown()
        srv.server_close()
    assert seen == [{"n": 0}, {"n": 1}]
    assert [a["answer"] for a in answers] == [1, 2]
    assert answers[0]["id"] != answers[1]["id"] and answers[0]["id"].startswith("msg_01")
    assert not script, f"unused answers: {script}"
