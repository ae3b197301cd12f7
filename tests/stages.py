"""The stages every released tree goes through, normalize, enrich and score on their default settings over one
state store, for tests that run real trees through them without a service."""

from __future__ import annotations

from otel_tokenwatch.pipeline.enrich.config import EnrichConfig
from otel_tokenwatch.pipeline.enrich.factory import FACTORY as ENRICH
from otel_tokenwatch.pipeline.normalize.factory import NormalizeConfig, NormalizeProcessor
from otel_tokenwatch.pipeline.processor import ProcessorContext, TreeProcessor
from otel_tokenwatch.pipeline.score.config import ScoreConfig
from otel_tokenwatch.pipeline.score.factory import ScoreProcessor
from otel_tokenwatch.state import MemoryStore, StateStore


def default_stages(state: StateStore | None = None) -> list[TreeProcessor]:
    """Normalize, enrich and score, in that order, sharing ``state`` (a new memory store when None)."""
    state = MemoryStore() if state is None else state
    return [NormalizeProcessor(NormalizeConfig()), ENRICH.create(EnrichConfig(), ProcessorContext(state=state)),
            ScoreProcessor(ScoreConfig(), state)]
