"""The shipped Prometheus rules: valid, and each one unit-tested by promtool."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.conftest import need

RULES_DIR = Path(__file__).resolve().parents[2] / "collector-config" / "prometheus"

pytestmark = pytest.mark.server


def test_promtool_check_rules() -> None:
    promtool = need("promtool")
    r = subprocess.run([promtool, "check", "rules", str(RULES_DIR / "tokenwatch-rules.yaml")],
                       check=False, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "SUCCESS: 16 rules found" in r.stdout


def test_promtool_unit_tests_cover_every_rule() -> None:
    import yaml

    promtool = need("promtool")
    r = subprocess.run([promtool, "test", "rules", "tokenwatch-rules.test.yaml"], cwd=RULES_DIR,
                       check=False, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    rules = yaml.safe_load((RULES_DIR / "tokenwatch-rules.yaml").read_text())
    names = {r.get("record") or r.get("alert") for g in rules["groups"] for r in g["rules"]}
    tests = (RULES_DIR / "tokenwatch-rules.test.yaml").read_text()
    untested = sorted(n for n in names if n not in tests)
    assert not untested, f"rules without a unit test: {untested}"


def test_documented_prometheus_names_are_the_scraped_names() -> None:
    """Every declared metric, recorded once, appears on the scrape under the README's name."""
    from otel_tokenwatch import semconv
    from otel_tokenwatch.telemetry.selfmetrics import SelfTelemetry

    tel = SelfTelemetry()
    for name, m in semconv.METRICS.items():
        labels = {k: "x" for k in m.labels}
        if m.instrument == "gauge":
            def one(labels: dict[str, str] = labels) -> list[tuple[float, dict[str, str]]]:
                return [(1.0, labels)]

            tel.observe(name, one)
        elif m.instrument == "histogram":
            tel.record(name, 1.0, labels)
        else:
            tel.add(name, 1, labels)
    text = tel.prometheus_text().decode()
    for m in semconv.METRICS.values():
        suffix = "_bucket" if m.instrument == "histogram" else ""
        names = {line.split("{")[0].split(" ")[0] for line in text.splitlines() if not line.startswith("#")}
        assert m.prometheus_name + suffix in names, m.name
    tel.shutdown()


def test_promtool_check_config_of_the_shipped_prometheus_yml() -> None:
    """The example scrape config is valid and loads the rules file it names (relative to itself)."""
    promtool = need("promtool")
    r = subprocess.run([promtool, "check", "config", str(RULES_DIR / "prometheus.yml")],
                       check=False, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "tokenwatch-rules.yaml" in r.stdout and "SUCCESS" in r.stdout
