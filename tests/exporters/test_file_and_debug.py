"""The file exporter rotates by size and keeps max_backups; debug prints what passes."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from otel_tokenwatch.config.build import build
from otel_tokenwatch.exporters.contract import ExporterContext, ExportItem
from otel_tokenwatch.exporters.debug import FACTORY as DEBUG
from otel_tokenwatch.exporters.file import FACTORY as FILE
from otel_tokenwatch.otlp.files import read
from tests.relay.spans import make_traces


def requests(n: int) -> list[bytes]:
    from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans

    return [encode_spans(t).SerializeToString() for t in make_traces(n)]


async def test_rotation_keeps_backups_and_every_line_is_readable(tmp_path: Path) -> None:
    path = tmp_path / "traces.jsonl"
    cfg = build(FILE.config_class, {"path": str(path), "rotation": {"max_megabytes": 1, "max_backups": 2},
                                    "batch": {"flush_timeout": 0, "max_bytes": "64KiB"}}, "exporters.file")
    exp = FILE.create(cfg, ExporterContext(id="file", signal="traces", data_dir=str(tmp_path)))
    await exp.start()
    done = []
    reqs = requests(150)
    for _ in range(6):  # several MB in total
        for r in reqs:
            exp.offer(ExportItem(r, 1, done.append))
        await asyncio.sleep(0)
    await exp.shutdown(30)
    files = sorted(tmp_path.glob("traces*.jsonl"))
    assert len(files) == 3  # the current file and two backups
    assert all(f.stat().st_size <= 2**20 + 200_000 for f in files)
    assert all(ok for ok in done) and len(done) == 6 * len(reqs)
    for f in files:
        assert all(rec.signal == "traces" for rec in read(f))


async def test_debug_prints_spans_with_tokenwatch_attributes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = build(DEBUG.config_class, {"verbosity": "normal"}, "exporters.debug")
    exp = DEBUG.create(cfg, ExporterContext(id="debug", signal="traces", data_dir=str(tmp_path)))
    await exp.start()
    exp.offer(ExportItem(requests(1)[0], 3))
    await exp.shutdown(5)
    err = capsys.readouterr().err
    assert "'workflow-0'" in err and len(err.splitlines()) >= 3
