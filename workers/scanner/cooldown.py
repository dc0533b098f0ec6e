"""One gap, one run: a pair of legs that was started is not started again until its
cooldown has passed, however many evaluations keep finding the same gap meanwhile."""

from __future__ import annotations


class Cooldown:
    """Per key (the pair's legs), the last start; ``claim`` answers whether a start is due
    now and records it when it is (a claim is the start: ask only when about to start)."""

    def __init__(self, window_ms: int) -> None:
        if window_ms < 0:
            raise ValueError("the cooldown window cannot be negative")
        self.window_ms = window_ms
        self._started: dict[str, int] = {}

    def claim(self, key: str, now_ms: int) -> bool:
        last = self._started.get(key)
        if last is not None and now_ms - last < self.window_ms:
            return False
        self._started[key] = now_ms
        return True

    def release(self, key: str) -> None:
        """Forget a claim whose start failed: the next evaluation may try again."""
        self._started.pop(key, None)

    def remaining_ms(self, key: str, now_ms: int) -> int:
        last = self._started.get(key)
        return 0 if last is None else max(0, self.window_ms - (now_ms - last))
