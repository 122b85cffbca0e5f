"""API keys and the per-key rate limit.

Keys are random tokens shown once at creation (`hltracker keys create`); the store keeps only their
SHA-256 (`hash_key`). The server holds the set of valid hashes in memory (`KeyRing`, reloaded by the
snapshot watcher every poll), so checking a key costs a hash and a set look-up, not a query; a revoked
key stops working within one poll interval.
"""

from __future__ import annotations

import hashlib
import math
import secrets
import threading
import time
from collections.abc import Callable

from hltracker.store import Store

KEY_PREFIX = "hlt_"


def new_key() -> str:
    """A fresh API key: `hlt_` and 43 URL-safe random characters (256 bits)."""
    return KEY_PREFIX + secrets.token_urlsafe(32)


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class KeyRing:
    """The hashes of the store's unrevoked API keys, kept in memory."""

    def __init__(self, store: Store):
        self._store = store
        self._hashes: frozenset[str] = frozenset()
        self.reload()

    def reload(self) -> None:
        keys = self._store.query("api_keys")
        self._hashes = frozenset(keys.filter(keys["revoked_at"].is_null())["key_hash"].to_list())

    def is_valid(self, key: str) -> bool:
        return hash_key(key) in self._hashes

    def is_valid_hash(self, key_hash: str) -> bool:
        """For the dashboard's session cookie, which carries the key's hash, never the key."""
        return key_hash in self._hashes


class RateLimiter:
    """A token bucket per key: `per_minute` requests a minute, bursts up to `per_minute`."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic):
        self.per_minute = per_minute
        self._rate = per_minute / 60.0
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # key hash -> (tokens, at)
        self._lock = threading.Lock()

    def take(self, key: str) -> int:
        """0 when the request may go ahead, else the seconds to wait (the `Retry-After`)."""
        if self.per_minute <= 0:
            return 0
        now = self._clock()
        with self._lock:
            tokens, at = self._buckets.get(key, (float(self.per_minute), now))
            tokens = min(float(self.per_minute), tokens + (now - at) * self._rate)
            if tokens >= 1.0:
                self._buckets[key] = (tokens - 1.0, now)
                return 0
            self._buckets[key] = (tokens, now)
            return max(1, math.ceil((1.0 - tokens) / self._rate))
