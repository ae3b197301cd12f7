"""Thresholds and windows of the waste score, with waste-score.md v1.1's defaults."""

from __future__ import annotations

from dataclasses import dataclass

from otel_tokenwatch.config.build import Duration, require


@dataclass(frozen=True)
class ScoreConfig:
    loop_threshold: int = 3
    near_duplicate_min_input: int = 8000
    #: relative difference of input tokens still "near" (2%)
    near_duplicate_tolerance: float = 0.02
    #: share of captured content that must match for a near duplicate
    near_duplicate_similarity: float = 0.8
    #: a repeated prefix shorter than this is not worth caching (OpenAI caches from 1024 tokens)
    uncached_prefix_min_tokens: int = 1024
    #: cache read price / input price assumed when the model's prices are unknown
    default_cache_discount: float = 0.9
    unknown_outcome_weight: float = 0.0
    baseline_min_samples: int = 30
    baseline_window: Duration = Duration(7 * 86400.0)
    baseline_max_samples: int = 10000
    baseline_quantile: float = 0.9
    #: a tree without a reported outcome, failed calls or an error status updates baselines
    unknown_outcome_is_success: bool = True
    inflation_min_trees: int = 5
    inflation_window: Duration = Duration(3600.0)
    #: duplicates are also matched against earlier calls of the same conversation within this window
    conversation_window: Duration = Duration(3600.0)
    #: environment variable holding the fingerprint secret; unset = a random key per process (replicas sharing
    #: Redis, and a restart reading its snapshot, match earlier fingerprints only with a shared secret)
    fingerprint_key_env: str = "TOKENWATCH_FINGERPRINT_KEY"

    def validate(self, path: str) -> None:
        require(self.loop_threshold >= 1, f"{path}.loop_threshold", "must be >= 1")
        require(0 <= self.unknown_outcome_weight <= 1, f"{path}.unknown_outcome_weight", "must be in [0, 1]")
        require(0 < self.baseline_quantile < 1, f"{path}.baseline_quantile", "must be in (0, 1)")
        require(0 <= self.near_duplicate_tolerance < 1, f"{path}.near_duplicate_tolerance", "must be in [0, 1)")
        require(0 < self.near_duplicate_similarity <= 1, f"{path}.near_duplicate_similarity", "must be in (0, 1]")
        require(0 <= self.default_cache_discount <= 1, f"{path}.default_cache_discount", "must be in [0, 1]")
        require(self.baseline_min_samples >= 1, f"{path}.baseline_min_samples", "must be >= 1")
        require(self.inflation_min_trees >= 2, f"{path}.inflation_min_trees", "must be >= 2")
