"""The shipped Collector pipelines, tokenwatch configs and dashboard are consistent with what exists."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from otel_tokenwatch.config import from_mapping

ROOT = Path(__file__).resolve().parents[2] / "collector-config"


@pytest.mark.parametrize("path", sorted((ROOT / "otelcol").glob("*.yaml")), ids=lambda p: p.name)
def test_collector_pipelines_are_well_formed(path: Path) -> None:
    """The Collector binary cannot be installed here: check the structure its config loader checks."""
    doc = yaml.safe_load(path.read_text())
    assert set(doc) <= {"receivers", "processors", "exporters", "connectors", "extensions", "service"}
    for name, pipe in doc["service"]["pipelines"].items():
        assert name.split("/")[0] in ("traces", "metrics", "logs")
        for kind in ("receivers", "processors", "exporters"):
            for cid in pipe.get(kind, []):
                assert cid in (doc.get(kind) or {}), f"{path.name}: {name} uses undefined {kind[:-1]} {cid}"
    used = {c for p in doc["service"]["pipelines"].values() for k in ("receivers", "exporters") for c in p.get(k, [])}
    assert used == set(doc.get("receivers", {})) | set(doc.get("exporters", {})), f"{path.name}: unused components"
    for cid, exp in (doc.get("exporters") or {}).items():
        if cid.startswith("otlp"):
            assert exp.get("endpoint"), f"{path.name}: {cid} has no endpoint"


@pytest.mark.parametrize("path", sorted((ROOT / "tokenwatch").glob("*.yaml")), ids=lambda p: p.name)
def test_tokenwatch_configs_load(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOKENWATCH_OUTCOME_TOKEN", "t")
    monkeypatch.setenv("TOKENWATCH_REDIS_URL", "redis://127.0.0.1:6379/0")
    cfg = from_mapping(yaml.safe_load(path.read_text()), str(path))
    assert "traces" in cfg.service.pipelines


def test_dashboard_queries_use_metrics_and_rules_that_exist() -> None:
    from otel_tokenwatch import semconv

    dash = json.loads((ROOT / "grafana" / "tokenwatch-dashboard.json").read_text())
    exprs = [t["expr"] for p in dash["panels"] for t in p["targets"]]
    assert len(exprs) >= 10
    rules = yaml.safe_load((ROOT / "prometheus" / "tokenwatch-rules.yaml").read_text())
    recorded = {r["record"] for g in rules["groups"] for r in g["rules"] if "record" in r}
    scraped = set()
    for m in semconv.METRICS.values():
        scraped.add(m.prometheus_name)
        if m.instrument == "histogram":
            scraped |= {m.prometheus_name + s for s in ("_bucket", "_sum", "_count")}
    for e in exprs:
        for name in re.findall(r"tokenwatch[_:][A-Za-z0-9_:]+", e):
            assert name in scraped or name in recorded, f"dashboard uses {name}, which nothing produces"


def test_kubernetes_manifests(monkeypatch: pytest.MonkeyPatch) -> None:
    docs = list(yaml.safe_load_all((ROOT / "kubernetes" / "tokenwatch.yaml").read_text()))
    kinds = {(d["kind"], d["metadata"]["name"]) for d in docs}
    assert {("Deployment", "tokenwatch"), ("Service", "tokenwatch-headless"), ("ConfigMap", "tokenwatch-config"),
            ("Deployment", "tokenwatch-redis")} <= kinds
    headless = next(d for d in docs if d["metadata"]["name"] == "tokenwatch-headless")
    assert headless["spec"]["clusterIP"] == "None"
    dep = next(d for d in docs if d["kind"] == "Deployment" and d["metadata"]["name"] == "tokenwatch")
    c = dep["spec"]["template"]["spec"]["containers"][0]
    assert c["readinessProbe"]["httpGet"]["path"] == "/readyz" and c["resources"]["requests"]["cpu"]
    cm = next(d for d in docs if d["kind"] == "ConfigMap")
    cfg = from_mapping(yaml.safe_load(cm["data"]["tokenwatch.yaml"]), "configmap")
    assert cfg.service.state.redis_url.startswith("redis://")
    lb = yaml.safe_load((ROOT / "otelcol" / "loadbalancing-to-tokenwatch-replicas.yaml").read_text())
    host = lb["exporters"]["loadbalancing"]["resolver"]["dns"]["hostname"]
    assert host.startswith("tokenwatch-headless.observability")


@pytest.mark.parametrize("k8s", ["1.29.0", "1.37.0"])
def test_kubernetes_manifests_match_the_api_schemas(k8s: str) -> None:
    """kubectl cannot be installed here; kubernetes-validate holds the API server's own OpenAPI schemas, so
    every resource is checked as `kubectl --dry-run` would, strictly: an unknown or misspelled key fails."""
    import kubernetes_validate

    docs = list(yaml.safe_load_all((ROOT / "kubernetes" / "tokenwatch.yaml").read_text()))
    for d in docs:
        kubernetes_validate.validate(d, k8s, strict=True)
    dep = next(d for d in docs if d["kind"] == "Deployment" and d["metadata"]["name"] == "tokenwatch")
    c = dep["spec"]["template"]["spec"]["containers"][0]
    c["readinesProbe"] = c.pop("readinessProbe")  # the check itself catches what a review might miss
    with pytest.raises(kubernetes_validate.ValidationError, match="readinesProbe"):
        kubernetes_validate.validate(dep, k8s, strict=True)


def test_compose_file() -> None:
    doc = yaml.safe_load((ROOT / "compose" / "docker-compose.yaml").read_text())
    assert {"otel-collector", "tokenwatch-1", "tokenwatch-2", "redis", "jaeger", "prometheus"} <= set(doc["services"])
    for name in ("otelcol-compose.yaml", "prometheus-compose.yml", "Dockerfile"):
        assert (ROOT / "compose" / name).exists()
    col = yaml.safe_load((ROOT / "compose" / "otelcol-compose.yaml").read_text())
    assert col["exporters"]["loadbalancing"]["routing_key"] == "traceID"
    # the image builds the compiled wire reader: setup.py and a C compiler in the build stage
    docker = (ROOT / "compose" / "Dockerfile").read_text()
    assert "setup.py" in docker and "gcc" in docker and "COPY --from=build" in docker
