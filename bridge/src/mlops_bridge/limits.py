"""De-duplication within a time window and a token-bucket rate limit, both bounded in memory."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable

__all__ = ["Deduplicator", "TokenBucket"]


class Deduplicator:
    """Remembers keys (fingerprint, status) for ``window`` seconds; at most ``max_entries`` of them.

    ``seen(key)`` is true when the key was recorded less than ``window`` seconds ago. Keys are only
    recorded with ``record(key)`` (once an alert is accepted), so an alert refused for another reason
    is not counted as seen. When full, the oldest key is forgotten first.
    """

    def __init__(self, window: float, max_entries: int = 10000, clock: Callable[[], float] = time.monotonic):
        self.window = window
        self.max_entries = max_entries
        self.clock = clock
        self._expiry: OrderedDict[tuple, float] = OrderedDict()
        self._lock = threading.Lock()

    def _expire(self, now: float) -> None:
        while self._expiry:
            key, expiry = next(iter(self._expiry.items()))
            if expiry > now:
                break
            del self._expiry[key]

    def seen(self, key: tuple) -> bool:
        with self._lock:
            now = self.clock()
            self._expire(now)
            return key in self._expiry

    def record(self, key: tuple) -> None:
        with self._lock:
            now = self.clock()
            self._expire(now)
            self._expiry.pop(key, None)
            self._expiry[key] = now + self.window
            while len(self._expiry) > self.max_entries:
                self._expiry.popitem(last=False)

    def __len__(self) -> int:
        with self._lock:
            return len(self._expiry)


class TokenBucket:
    """``rate_per_minute`` tokens a minute, at most ``burst`` saved up; ``take()`` spends one if there is one."""

    def __init__(self, rate_per_minute: float, burst: int, clock: Callable[[], float] = time.monotonic):
        self.rate = rate_per_minute / 60.0
        self.burst = float(burst)
        self.clock = clock
        self._tokens = float(burst)
        self._at = clock()
        self._lock = threading.Lock()

    def _refill(self) -> None:
        now = self.clock()
        self._tokens = min(self.burst, self._tokens + (now - self._at) * self.rate)
        self._at = now

    def take(self) -> bool:
        with self._lock:
            self._refill()
            if self._tokens >= 1.0:
                self._tokens -= 1.0
                return True
            return False

    @property
    def tokens(self) -> float:
        with self._lock:
            self._refill()
            return self._tokens
