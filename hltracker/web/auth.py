"""Who may see the dashboard: `HLTRACKER_DASHBOARD_AUTH` (or `serve --dashboard-auth`).

- `key` (the default, safe on a public address): a login form asks for an API key once; the answer is
  a session cookie holding the key's SHA-256 and an HMAC of it under `HLTRACKER_SECRET` (never the key
  itself), HttpOnly and SameSite=Strict. It stays valid while the key is not revoked.
- `open`: anyone who reaches the server sees the dashboard (what `hltracker demo` uses on 127.0.0.1).
The API routes always need `Authorization: Bearer <key>`; the cookie opens only the dashboard's pages.
"""

from __future__ import annotations

import hashlib
import hmac

from hltracker.api.auth import hash_key
from hltracker.api.context import ApiContext

COOKIE = "hltracker_dashboard"
MODES = ("key", "open")


def session_cookie(ctx: ApiContext, key: str) -> str | None:
    """The cookie value for a valid API key, None for a wrong one."""
    if not ctx.keys.is_valid(key):
        return None
    digest = hash_key(key)
    return f"{digest}.{_mac(ctx, digest)}"


def allowed(ctx: ApiContext, cookie: str | None) -> bool:
    if ctx.settings.dashboard_auth == "open":
        return True
    if not cookie or "." not in cookie:
        return False
    digest, _, mac = cookie.partition(".")
    return hmac.compare_digest(mac, _mac(ctx, digest)) and ctx.keys.is_valid_hash(digest)


def _mac(ctx: ApiContext, digest: str) -> str:
    return hmac.new(ctx.settings.secret, b"dashboard|" + digest.encode(), hashlib.sha256).hexdigest()
