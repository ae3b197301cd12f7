"""Prices from the genai-prices package (pinned), with overrides from the config.

Lookups are cached per (provider, model): the package resolves model names
with regex rules, which is too slow to repeat for every call.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from typing import Any

from otel_tokenwatch.pipeline.call import Call
from otel_tokenwatch.pipeline.normalize.providers import PRICE_PROVIDER, provider_from_model

log = logging.getLogger("otel_tokenwatch.pricing")
PER_MILLION = Decimal(1_000_000)


@dataclass(frozen=True)
class PriceOverride:
    """USD per million tokens for one model (exact name), e.g. your negotiated or self-hosted price."""

    model: str = ""
    input: float = 0.0
    output: float = 0.0
    cache_read: float | None = None
    cache_write: float | None = None

    def validate(self, path: str) -> None:
        from otel_tokenwatch.config.build import require

        require(bool(self.model), f"{path}.model", "missing")
        require(self.input >= 0 and self.output >= 0, path, "prices must be >= 0")


class Pricer:
    def __init__(self, overrides: list[PriceOverride] | None = None) -> None:
        self.overrides = {o.model: o for o in overrides or []}
        try:
            import genai_prices

            self.source = f"genai-prices {getattr(genai_prices, '__version__', '')}".strip()
        except ImportError:  # pragma: no cover - a declared dependency
            self.source = "none"
            return
        # the price tables are built on first use (~15,000 objects): now, while the service starts, so
        # that its garbage collector freezes them with the rest of start-up instead of walking them
        # in the first collections under load (a 17-24 ms pause, the p99 of added latency)
        _known("gpt-4o-mini", "openai")

    def price(self, call: Call) -> tuple[Decimal | None, str | None]:
        """(USD, which price list) for a call with usage, or (None, None) when no price is known."""
        model = call.model
        if not model or not call.has_usage:
            return None, None
        inp, out = call.input_tokens or 0, call.output_tokens or 0
        cr, cw = call.cache_read_tokens or 0, call.cache_write_tokens or 0
        o = self.overrides.get(model) or (self.overrides.get(call.request_model or "") if call.request_model else None)
        if o is not None:
            uncached = max(0, inp - cr - cw)
            total = (Decimal(str(o.input)) * uncached + Decimal(str(o.output)) * out
                     + Decimal(str(o.cache_read if o.cache_read is not None else o.input)) * cr
                     + Decimal(str(o.cache_write if o.cache_write is not None else o.input)) * cw) / PER_MILLION
            return total, "config"
        provider = call.provider or provider_from_model(model)
        # a provider without a semconv name (openrouter, together, fireworks: providers.provider_at_host) is
        # genai-prices' own id; one genai-prices does not know is looked up under any provider (_known)
        pid = PRICE_PROVIDER.get(provider, provider) if provider else None
        got = _lookup(model, pid, inp, out, cr, cw)
        if got is None and call.request_model and call.request_model != model:
            got = _lookup(call.request_model, pid, inp, out, cr, cw)
        if got is None:
            return None, None
        return got, self.source


@lru_cache(maxsize=4096)
def _known(model: str, provider: str | None) -> tuple[bool, str | None]:
    """Whether genai-prices knows the model (with this provider, else with any)."""
    from genai_prices import Usage, calc_price

    for pid in ((provider, None) if provider else (None,)):
        try:
            calc_price(Usage(input_tokens=1, output_tokens=1), model_ref=model, provider_id=pid)
            return True, pid
        except (LookupError, ValueError, KeyError):
            continue
    return False, None


@lru_cache(maxsize=4096)
def _unit_prices(model: str, pid: str | None) -> tuple[Decimal, Decimal, Decimal, Decimal] | None:
    """USD per token (uncached input, output, cache read, cache write) when the model's price is linear.

    genai-prices resolves a model with regular expressions and walks tiers on every call (about
    0.2 ms); for the common linear price we compute once and multiply. Tiered prices (a higher rate
    past a context size) are detected by pricing two sizes, and keep the full calculation.
    """
    from genai_prices import Usage, calc_price

    def at(n: int, **kw: int) -> Decimal:
        usage: Any = Usage(input_tokens=kw.get("i", 0) * n, output_tokens=kw.get("o", 0) * n,
                           cache_read_tokens=(kw.get("r", 0) * n) or None, cache_write_tokens=(kw.get("w", 0) * n) or None)
        return Decimal(str(calc_price(usage, model_ref=model, provider_id=pid).total_price))

    try:
        small = (at(1000, i=1), at(1000, o=1), at(1000, i=1, r=1), at(1000, i=1, w=1))
        big = (at(400_000, i=1), at(400_000, o=1))
    except (LookupError, ValueError, KeyError):
        return None
    if big[0] * 1000 != small[0] * 400_000 or big[1] * 1000 != small[1] * 400_000:
        return None  # tiered: no shortcut
    i, o = small[0] / 1000, small[1] / 1000
    return i, o, small[2] / 1000, small[3] / 1000


def _lookup(model: str, provider: str | None, inp: int, out: int, cr: int, cw: int) -> Decimal | None:
    ok, pid = _known(model, provider)
    if not ok:
        return None
    units = _unit_prices(model, pid)
    if units is not None:
        i, o, r, w = units
        return i * max(0, inp - cr - cw) + o * out + r * cr + w * cw
    from genai_prices import Usage, calc_price

    usage: Any = Usage(input_tokens=inp, output_tokens=out, cache_read_tokens=cr or None,
                       cache_write_tokens=cw or None)
    try:
        return Decimal(str(calc_price(usage, model_ref=model, provider_id=pid).total_price))
    except (LookupError, ValueError, KeyError) as e:
        log.debug("no price", extra={"model": model, "error": str(e)})
        return None
