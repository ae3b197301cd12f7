"""What a call's tokens are worth: USD where the tree is priced, tokens otherwise.

A call's cost is split over its token types by price weights (genai-prices
where it knows the model, else typical ratios), so "the output of a
truncated call" has a USD value that adds up to the call's cost.
"""

from __future__ import annotations

from functools import lru_cache

from otel_tokenwatch.pipeline.call import Call
from otel_tokenwatch.pipeline.normalize.providers import PRICE_PROVIDER, provider_from_model

TYPES = ("input", "cache_read", "cache_write", "output")
DEFAULT_WEIGHTS = {"input": 1.0, "cache_read": 0.1, "cache_write": 1.25, "output": 4.0}


@lru_cache(maxsize=2048)
def price_weights(model: str | None, provider: str | None) -> tuple[dict[str, float], bool]:
    """Relative price per token type for a model, and whether genai-prices knew it."""
    if not model:
        return DEFAULT_WEIGHTS, False
    from otel_tokenwatch.pipeline.normalize.pricing import _lookup

    pid = PRICE_PROVIDER.get(provider or provider_from_model(model) or "", None)
    m = 1_000_000
    base = _lookup(model, pid, m, 0, 0, 0)
    if not base:
        return DEFAULT_WEIGHTS, False
    out = _lookup(model, pid, 0, m, 0, 0)
    cr = _lookup(model, pid, m, 0, m, 0)
    cw = _lookup(model, pid, m, 0, 0, m)
    b = float(base)
    return {"input": 1.0, "output": float(out or 0) / b if out else 4.0,
            "cache_read": float(cr) / b if cr is not None else 1.0,
            "cache_write": float(cw) / b if cw is not None else 1.0}, True


def token_split(c: Call) -> dict[str, int]:
    return {"input": c.uncached_input_tokens, "cache_read": c.cache_read_tokens or 0,
            "cache_write": c.cache_write_tokens or 0, "output": c.output_tokens or 0}


class CallUnits:
    """Units of one counted call by token type, in the tree's unit."""

    def __init__(self, c: Call, usd: bool) -> None:
        self.tokens = token_split(c)
        if usd and c.cost_usd is not None:
            w, _ = price_weights(c.model, c.provider)
            weighted = {t: w[t] * n for t, n in self.tokens.items()}
            total_w = sum(weighted.values())
            cost = float(c.cost_usd)
            self.per_type = {t: (cost * v / total_w if total_w else 0.0) for t, v in weighted.items()}
        else:
            self.per_type = {t: float(n) for t, n in self.tokens.items()}
        #: what is not yet wasted, by type (fraction of each type left, 1.0 = all)
        self.left = dict.fromkeys(TYPES, 1.0)

    @property
    def total(self) -> float:
        return sum(self.per_type.values())

    def remaining(self, types: tuple[str, ...] = TYPES) -> float:
        return sum(self.per_type[t] * self.left[t] for t in types)

    def take(self, types: tuple[str, ...] = TYPES, share: float = 1.0) -> tuple[float, dict[str, int]]:
        """Waste ``share`` of what is left of ``types``; returns (units, tokens by type)."""
        units = 0.0
        toks: dict[str, int] = {}
        for t in types:
            part = self.left[t] * share
            if part <= 0:
                continue
            units += self.per_type[t] * part
            toks[t] = round(self.tokens[t] * part)
            self.left[t] -= part
        return units, toks
