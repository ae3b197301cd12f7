"""Durability: requests journaled before the acknowledgement, released after delivery."""

from otel_tokenwatch.config.service import DurabilityConfig
from otel_tokenwatch.journal.journal import Journal

__all__ = ["DurabilityConfig", "Journal"]
