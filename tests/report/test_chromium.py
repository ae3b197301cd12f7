"""The HTML report and the status page render in a real headless Chromium (Debian's package)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import FIXTURES, need, running, service_config

pytestmark = pytest.mark.server


def dump_dom(url: str, tmp: Path) -> str:
    chromium = need("chromium")
    r = subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                        "--disable-background-networking", "--disable-component-update", "--disable-sync",
                        f"--user-data-dir={tmp / 'chromium-profile'}", "--dump-dom", url],
                       capture_output=True, text=True, timeout=90, check=False)
    assert r.returncode == 0, r.stderr[-2000:]
    return r.stdout


def test_report_renders_and_shows_the_worst_tree_reason(tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    src = str(Path(FIXTURES) / "openinference-openai.jsonl")
    r = subprocess.run([sys.executable, "-m", "otel_tokenwatch", "score", "-f", "html", "-o", str(out),
                        "--no-progress", src], capture_output=True, text=True, timeout=120, check=False)
    assert r.returncode == 0, r.stderr
    dom = dump_dom(out.as_uri(), tmp_path)
    assert "<svg" in dom and "Where the spend went" in dom
    # the first row of "Most wasteful traces" is the worst tree: huge_prompt_repeated, wasted as duplicate
    table = dom.split("Most wasteful traces", 1)[1]
    first_row = re.search(r"<tr><td><code>[0-9a-f]{32}</code></td>(.*?)</tr>", table, re.DOTALL)
    assert first_row is not None
    assert "contract-qa" in first_row.group(1) and ">duplicate<" in first_row.group(1)


async def test_status_page_renders(tmp_path: Path) -> None:
    import asyncio

    cfg = service_config(tmp_path, exporters={"file": {"path": str(tmp_path / "o.jsonl")}})
    async with running(cfg) as svc:
        dom = await asyncio.to_thread(dump_dom, f"http://{svc.admin.endpoint}/", tmp_path)
    assert "tokenwatch" in dom and "Pipelines" in dom and "file (traces)" in dom and "ready" in dom
