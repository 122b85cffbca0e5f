"""`ApiContext`: everything a route needs, built once per app (`request.app.state.ctx`)."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request

from hltracker.api.auth import KeyRing, RateLimiter
from hltracker.api.cursors import CursorSigner
from hltracker.api.errors import ApiError, not_found
from hltracker.api.live import ResponseCache, SnapshotWatcher
from hltracker.api.settings import Settings
from hltracker.exports import ExportFiles, UrlSigner
from hltracker.model.cohorts import COHORTS_BY_ID
from hltracker.model.size_buckets import SIZE_BUCKETS_BY_ID
from hltracker.store import SnapshotInfo, Store


@dataclass
class ApiContext:
    store: Store
    settings: Settings
    cache: ResponseCache
    keys: KeyRing
    limiter: RateLimiter
    watcher: SnapshotWatcher
    cursors: CursorSigner
    files: ExportFiles
    signer: UrlSigner

    def latest(self) -> SnapshotInfo:
        """The latest landed snapshot; a 503 while the store is still empty."""
        snapshot = self.watcher.current
        if snapshot is None:
            raise ApiError(503, "No snapshot has landed yet; ingest is starting", {"Retry-After": "5"})
        return snapshot

    def coin(self, text: str) -> str:
        """The canonical name of a coin given in any case (`btc` -> `BTC`, `XYZ:gold` -> `xyz:GOLD`)."""
        canonical = self.watcher.coins.get(text.strip().lower())
        if canonical is None:
            raise not_found(f"Coin {text[:64]} not found")
        return canonical


def ctx_of(request: Request) -> ApiContext:
    return request.app.state.ctx


def check_segment(segment_id: int) -> int:
    if segment_id not in COHORTS_BY_ID:
        raise not_found(f"Segment {segment_id} not found: segment ids are 1 to 16 (GET /api/external/segments)")
    return segment_id


def check_size_bucket(bucket_id: int) -> int:
    if bucket_id not in SIZE_BUCKETS_BY_ID:
        raise not_found(f"Position size bucket {bucket_id} not found: bucket ids are 1 to 10")
    return bucket_id
