"""What the server knows about the latest landed snapshot, and the responses cached for it.

`SnapshotWatcher` looks at the store for the last landed snapshot in a daemon thread: at once when the
store hears a landing (PostgreSQL LISTEN/NOTIFY, `Store.wait_for_landing`), and every `poll_seconds`
in any case (DuckDB, or a lost notification connection); an in-process ingester calls `refresh()`
right after landing. When the snapshot changes, the
watcher reloads the coin names and drops every cached response, so a response is cached exactly until
the next snapshot lands. It also reloads the API keys (`KeyRing`) on each poll.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable

from hltracker.api.auth import KeyRing
from hltracker.store import SnapshotInfo, Store

log = logging.getLogger("hltracker.api")


class ResponseCache:
    """Response bodies for the current snapshot, least recently used dropped beyond `max_bytes`."""

    def __init__(self, max_bytes: int = 256 * 1024 * 1024):
        self.max_bytes = max_bytes
        self._entries: OrderedDict[bytes, tuple[int, bytes, bytes]] = OrderedDict()  # key -> (snapshot, type, body)
        self._bytes = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: bytes, snapshot_id: int) -> tuple[bytes, bytes] | None:
        entry = self._entries.get(key)
        if entry is None or entry[0] != snapshot_id:
            self.misses += 1
            return None
        self.hits += 1
        return entry[1], entry[2]

    def put(self, key: bytes, snapshot_id: int, media_type: bytes, body: bytes) -> None:
        if len(body) > self.max_bytes // 4:
            return
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self._bytes -= len(old[2])
            self._entries[key] = (snapshot_id, media_type, body)
            self._bytes += len(body)
            while self._bytes > self.max_bytes and self._entries:
                _, dropped = self._entries.popitem(last=False)
                self._bytes -= len(dropped[2])

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._bytes = 0

    def __len__(self) -> int:
        return len(self._entries)


class SnapshotWatcher:
    def __init__(self, store: Store, cache: ResponseCache, keys: KeyRing, poll_seconds: float = 1.0):
        self.store = store
        self.cache = cache
        self.keys = keys
        self.poll_seconds = poll_seconds
        self.current: SnapshotInfo | None = None
        self.coins: dict[str, str] = {}  # lowercase -> canonical, every coin ever listed
        self._listeners: list[Callable[[SnapshotInfo], None]] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.refresh()

    @property
    def snapshot_id(self) -> int:
        return self.current.snapshot_id if self.current else 0

    def on_change(self, listener: Callable[[SnapshotInfo], None]) -> None:
        self._listeners.append(listener)

    def refresh(self) -> bool:
        """Look at the store now; True when a new snapshot was found."""
        with self._lock:
            latest = self.store.last_snapshot()
            if latest is None or (self.current and latest.snapshot_id == self.current.snapshot_id):
                return False
            coins = self.store.query("coins_known")["coin"].to_list()
            self.coins = {c.lower(): c for c in coins}
            self.current = latest
            self.cache.clear()
        for listener in self._listeners:
            listener(latest)
        return True

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="snapshot-watcher", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.store.wait_for_landing(self.poll_seconds)
                if self._stop.is_set():
                    break
                self.refresh()
                self.keys.reload()
            except Exception:  # a store hiccup must not kill the watcher; the next poll retries
                log.exception("snapshot watcher: polling the store failed")
