"""The ASGI middleware in front of every `/api/external` route: API key, rate limit, response cache.

It runs before FastAPI's routing, so a cached response for the current snapshot is answered here with
a key check, a token-bucket step and one dictionary look-up. A route marks a response cacheable by
sending the `X-Snapshot-Id` header of the snapshot it was computed from; the gate keeps the body while
that snapshot is still the latest.
"""

from __future__ import annotations

import re

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hltracker.api.auth import KeyRing, RateLimiter, hash_key
from hltracker.api.errors import nest_body, rate_limit_body
from hltracker.api.live import ResponseCache, SnapshotWatcher

API_PREFIX = "/api/external"
# Routes open without a key, matched exactly: liveness for load balancers, and the signed downloads
# (`/downloads/<snapshot>/<file>`: their URL is the credential; the route itself checks the signature).
PUBLIC_PATHS = frozenset({f"{API_PREFIX}/health"})
_DOWNLOAD = re.compile(rf"^{re.escape(API_PREFIX)}/downloads/[^/]+(/[^/]+)+$")
SNAPSHOT_HEADER = b"x-snapshot-id"


def is_gated(path: str) -> bool:
    """Whether a path needs the API key: everything under `/api/external/` but the public routes. The
    spec (`/openapi.json`, `/api/external-json`) and `/docs` are public by one rule: they are not data."""
    if not (path == API_PREFIX or path.startswith(API_PREFIX + "/")):
        return False
    return not (path in PUBLIC_PATHS or _DOWNLOAD.match(path))


class Gate:
    def __init__(self, app: ASGIApp, keys: KeyRing, limiter: RateLimiter, cache: ResponseCache,
                 watcher: SnapshotWatcher):
        self.app = app
        self.keys = keys
        self.limiter = limiter
        self.cache = cache
        self.watcher = watcher

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if not is_gated(path):
            await self.app(scope, receive, send)
            return
        token = _bearer(scope)
        if token is None or not self.keys.is_valid(token):
            message = "Unauthorized: send a valid API key as 'Authorization: Bearer <key>'"
            await _send_json(send, 401, nest_body(401, message))
            return
        wait = self.limiter.take(hash_key(token))
        if wait:
            await _send_json(send, 429, rate_limit_body(self.limiter.per_minute, wait),
                             [(b"retry-after", str(wait).encode())])
            return
        if scope["method"] != "GET":
            await self.app(scope, receive, send)
            return
        key = path.encode() + b"?" + scope.get("query_string", b"")
        snapshot_id = self.watcher.snapshot_id
        hit = self.cache.get(key, snapshot_id)
        if hit is not None:
            media_type, body = hit
            await _send(send, 200, body, [(b"content-type", media_type), (SNAPSHOT_HEADER, str(snapshot_id).encode())])
            return
        await self.app(scope, receive, _Recorder(send, self.cache, key, snapshot_id))


class _Recorder:
    """Passes a response through and keeps its body when the route marked it cacheable."""

    def __init__(self, send: Send, cache: ResponseCache, key: bytes, snapshot_id: int):
        self.send, self.cache, self.key, self.snapshot_id = send, cache, key, snapshot_id
        self.keep = False
        self.media_type = b"application/json"
        self.chunks: list[bytes] = []

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = dict(message.get("headers", []))
            self.keep = (message["status"] == 200 and self.snapshot_id > 0
                         and headers.get(SNAPSHOT_HEADER) == str(self.snapshot_id).encode())
            self.media_type = headers.get(b"content-type", self.media_type)
        elif message["type"] == "http.response.body" and self.keep:
            self.chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                self.cache.put(self.key, self.snapshot_id, self.media_type, b"".join(self.chunks))
        await self.send(message)


def _bearer(scope: Scope) -> str | None:
    for name, value in scope.get("headers", []):
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").strip().partition(" ")
            token = token.strip()
            return token if scheme.lower() == "bearer" and token else None
    return None


async def _send(send: Send, status: int, body: bytes, headers: list[tuple[bytes, bytes]]) -> None:
    headers = [*headers, (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _send_json(send: Send, status: int, body: dict, extra: list[tuple[bytes, bytes]] | None = None) -> None:
    await _send(send, status, orjson.dumps(body), [(b"content-type", b"application/json"), *(extra or [])])
