"""Recent volatility of a price, measured from the mid prices a scanner sees: the figure the
transfer-mode price risk is charged at (``PriceRisk.sigma_per_sqrt_s``).

Contract of :class:`EwmaVolatility` (pure, no clock of its own):

- ``observe(t_ms, price)`` takes samples in time order; a sample no later than the last one,
  or a price that is not positive, is ignored (answers False).
- Each step from the previous sample gives a log return ``r = ln(p / p_prev)`` over
  ``dt`` seconds, i.e. a variance rate ``r**2 / dt`` per second.
- The estimate is the exponentially weighted mean of those rates, weighted by time: a step
  of ``dt`` seconds moves it by ``w = 1 - 2 ** (-dt / half_life_s)`` towards its own rate
  (the first step sets it). Irregular sampling is fine: a longer step weighs more.
- ``sigma`` is the square root (relative move per square-root second: 0.0001 is 1 bp per
  sqrt s), None until ``min_returns`` steps were seen. Over ``T`` seconds in flight the
  asset's price moves by about ``sigma * sqrt(T)`` (one standard deviation).

A series whose every step moves the same ``|r|`` every ``dt`` seconds answers exactly
``|r| / sqrt(dt)``, whatever the half-life.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field


@dataclass
class EwmaVolatility:
    half_life_s: float = 60.0
    min_returns: int = 10
    returns: int = field(default=0, init=False)
    _variance: float = field(default=0.0, init=False)  # per second
    _last: tuple[int, float] | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        if self.half_life_s <= 0 or self.min_returns < 1:
            raise ValueError("the half-life must be positive and at least one return is needed")

    def observe(self, t_ms: int, price: float) -> bool:
        """Take one sample; True when it made a step (it was later and its price positive)."""
        if not price > 0 or not math.isfinite(price):
            return False
        if self._last is None:
            self._last = (t_ms, price)
            return False
        last_ms, last_price = self._last
        if t_ms <= last_ms:
            return False
        dt = (t_ms - last_ms) / 1000
        rate = math.log(price / last_price) ** 2 / dt
        weight = 1.0 if self.returns == 0 else 1 - 2 ** (-dt / self.half_life_s)
        self._variance += weight * (rate - self._variance)
        self.returns += 1
        self._last = (t_ms, price)
        return True

    @property
    def sigma(self) -> float | None:
        """Relative volatility per square-root second; None until ``min_returns`` steps."""
        return math.sqrt(self._variance) if self.returns >= self.min_returns else None
