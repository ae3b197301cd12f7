"""`tokenwatch score`: the service's stages over files, as a user runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import FIXTURES

TW = [sys.executable, "-m", "otel_tokenwatch"]


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*TW, *args], capture_output=True, text=True, timeout=120, cwd=cwd, check=False)


def test_json_over_every_fixture_source() -> None:
    files = sorted(str(p) for p in Path(FIXTURES).glob("*.jsonl"))
    r = run("score", "--format", "json", "--no-progress", *files)
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    traces = doc["traces"]
    assert len(traces) > 100
    loops = [t for t in traces if t["workflow"] == "order-agent"]
    assert loops and all(t["waste_score"] == 1.0 and t["outcome"] == "abandoned" for t in loops)
    healthy = [t for t in traces if t["workflow"] in ("support-triage", "feedback-reply")]
    assert healthy and all(t["waste_score"] == 0.0 for t in healthy)
    s = doc["summary"]
    assert s["cost_usd"] > 0 and 0 < s["waste_share"] < 1
    assert s["wasted_usd_by_reason"]["duplicate"] > 0
    # the summary is made of the per-trace numbers, nothing else
    assert abs(sum(t["cost_usd"] for t in traces) - s["cost_usd"]) < 1e-9
    assert abs(sum(t["wasted"] for t in traces if t["units"] == "usd")
               + sum(t["waste_score"] * t["cost_usd"] for t in traces if t["units"] != "usd") - s["wasted_usd"]) < 1e-9


def test_table_and_progress_and_html(tmp_path: Path) -> None:
    src = str(Path(FIXTURES) / "openinference-openai.jsonl")
    r = run("score", src)
    assert r.returncode == 0
    assert "top reason" in r.stdout and "per success" in r.stdout and "by reason: duplicate" in r.stdout
    assert "scored" in r.stderr  # the progress line's last word, on stderr only
    out = tmp_path / "report.html"
    r = run("score", "--format", "html", "-o", str(out), "--no-progress", src)
    assert r.returncode == 0, r.stderr
    page = out.read_text()
    assert page.startswith("<!doctype html>") and "<svg" in page and "Spend per successful outcome" in page
    assert "<script" not in page and "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")


def test_unreadable_input_names_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    good = (Path(FIXTURES) / "openai-v2.jsonl").read_text().splitlines()[0]
    bad.write_text(good + "\n{this is not json\n")
    r = run("score", "--no-progress", str(bad))
    assert r.returncode == 2
    assert f"{bad}:2" in r.stderr
    r = run("score", "--no-progress", str(tmp_path / "missing.jsonl"))
    assert r.returncode == 2 and "missing.jsonl" in r.stderr


def test_score_reads_what_the_file_exporter_wrote(tmp_path: Path) -> None:
    """Round trip: the service's own output file is valid input (OTLP/JSON lines)."""
    from otel_tokenwatch.otlp.files import read
    from otel_tokenwatch.otlp.jsoncodec import dumps

    out = tmp_path / "exported.jsonl"
    with out.open("wb") as f:
        for rec in read(Path(FIXTURES) / "langfuse-openai.jsonl"):
            if rec.signal == "traces":
                f.write(dumps(rec.request) + b"\n")  # type: ignore[arg-type]
    r = run("score", "--format", "json", "--no-progress", str(out))
    assert r.returncode == 0, r.stderr
    assert len(json.loads(r.stdout)["traces"]) >= 17
    assert os.path.getsize(out) > 0


def test_json_has_the_documented_fields() -> None:
    r = run("score", "-f", "json", "--no-progress", str(Path(FIXTURES) / "openlit-openai.jsonl"))
    doc = json.loads(r.stdout)
    need = {"trace_id", "workflow", "outcome", "units", "total", "wasted", "waste_score", "reasons", "calls",
            "failed_calls", "input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens",
            "reasoning_tokens", "cost_usd"}
    assert doc["traces"] and all(need <= set(t) for t in doc["traces"])
    assert doc["workflows"] and {"workflow", "cost_usd", "cost_per_success"} <= set(doc["workflows"][0])
    loop = next(t for t in doc["traces"] if t["workflow"] == "order-agent")
    assert set(loop["reasons"]) == {"loop", "failed_outcome"} and loop["waste_score"] == 1.0
