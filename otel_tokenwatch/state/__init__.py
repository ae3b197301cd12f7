"""State that outlives a tree: baselines, inflation windows, early outcomes (memory or Redis)."""

from otel_tokenwatch.state.store import MemoryStore, StateStore

__all__ = ["MemoryStore", "StateStore"]
