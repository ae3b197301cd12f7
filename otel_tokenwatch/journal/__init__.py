"""Durability: requests journaled before the acknowledgement, released after delivery."""

from otel_tokenwatch.journal.journal import DurabilityConfig, Journal

__all__ = ["DurabilityConfig", "Journal"]
