"""Workflow, team and outcome resolution on the fixtures' real spans, in precedence order."""

from __future__ import annotations

import pytest

from otel_tokenwatch import semconv
from otel_tokenwatch.config.build import build
from otel_tokenwatch.pipeline.enrich.config import EnrichConfig
from otel_tokenwatch.pipeline.enrich.factory import FACTORY
from otel_tokenwatch.pipeline.processor import ProcessorContext
from otel_tokenwatch.state import MemoryStore
from tests.enrich.trees import fixture_trees

SOURCES = ["openai-v2.jsonl", "openai-v2-latest.jsonl", "openinference-openai.jsonl", "openllmetry-openai.jsonl",
           "openlit-openai.jsonl", "langfuse-openai.jsonl"]


def enrich(settings: dict | None = None):  # type: ignore[no-untyped-def]
    cfg = build(EnrichConfig, settings or {}, "processors.enrich")
    return FACTORY.create(cfg, ProcessorContext(state=MemoryStore()))


@pytest.mark.parametrize("source", SOURCES)
def test_workflow_team_outcome_from_fixture_attributes(source: str) -> None:
    stage = enrich()
    trees = fixture_trees(source)
    assert trees
    seen_sources = set()
    for scenario, tree in trees:
        stage.process(tree)
        root = tree.root()
        assert root is not None
        wf, src = root.get(semconv.WORKFLOW), root.get(semconv.WORKFLOW_SOURCE)
        assert wf == root.attrs["app.workflow"]
        if "gen_ai.workflow.name" in root.attrs:
            assert src == "gen_ai.workflow.name"
        else:
            assert src == "app.workflow"
        seen_sources.add(src)
        assert root.get(semconv.TEAM) == "unknown"  # the fixtures name no team
        if root.attrs.get("app.outcome") == "gave_up":
            assert (root.get(semconv.OUTCOME), root.get(semconv.OUTCOME_SOURCE)) == ("abandoned",
                                                                                       "attribute:app.outcome")
            assert tree.facts["outcome"] == "abandoned"
        else:
            assert root.get(semconv.OUTCOME) == "unknown"
    assert seen_sources == {"gen_ai.workflow.name", "app.workflow"}


def test_precedence_rules_then_root_name_and_status() -> None:
    trees = fixture_trees("openai-v2.jsonl")
    stage = enrich({"workflow": {"attributes": [], "rules": [
        {"workflow": "bot-chat", "service": "support-.*", "span_name": "chat .*", "regex": True}]},
        "team": {"services": {"support-bot": "customer-care"}},
        "outcome": {"attributes": []}})
    for scenario, tree in trees:
        stage.process(tree)
        root = tree.root()
        assert root is not None
        if "gen_ai.workflow.name" in root.attrs:  # well-known keys beat rules
            assert root.get(semconv.WORKFLOW_SOURCE) == "gen_ai.workflow.name"
        else:
            assert (root.get(semconv.WORKFLOW), root.get(semconv.WORKFLOW_SOURCE)) == ("bot-chat", "rule[0]")
        assert (root.get(semconv.TEAM), root.get(semconv.TEAM_SOURCE)) == ("customer-care", "services")
        if root.span.status.code == 2:  # without outcome attributes the root's status decides
            assert (root.get(semconv.OUTCOME), root.get(semconv.OUTCOME_SOURCE)) == ("failure", "status")
    stage = enrich({"workflow": {"attributes": []}})
    _, tree = next(t for t in fixture_trees("openai-v2.jsonl") if "gen_ai.workflow.name" not in t[1].root().attrs)
    stage.process(tree)
    assert (tree.root().get(semconv.WORKFLOW), tree.root().get(semconv.WORKFLOW_SOURCE)) == ("workflow",
                                                                                             "root_span_name")


def test_team_from_resource_attribute() -> None:
    from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans

    from otel_tokenwatch.pipeline.assemble.assembler import AssembleConfig, Assembler
    from tests.relay.spans import make_traces  # SDK-made spans with a resource we control

    spans = make_traces(1)[0]
    req = encode_spans(spans)
    from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

    req.resource_spans[0].resource.attributes.append(KeyValue(key="service.namespace",
                                                              value=AnyValue(string_value="payments")))
    asm = Assembler(AssembleConfig())
    asm.add(req, 0.0, None)
    tree = asm.flush(0.0)[0]
    enrich({"team": {"services": {"support-bot": "customer-care"}}}).process(tree)
    assert (tree.root().get(semconv.TEAM), tree.root().get(semconv.TEAM_SOURCE)) == ("payments",
                                                                                     "service.namespace")


def test_bad_rule_config_names_the_key() -> None:
    from otel_tokenwatch.config.build import ConfigError

    with pytest.raises(ConfigError, match=r"processors.enrich.workflow.rules\[0\].workflow: missing"):
        build(EnrichConfig, {"workflow": {"rules": [{"service": "x"}]}}, "processors.enrich")
