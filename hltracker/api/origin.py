"""Which host the server answers for, and the public base of the absolute URLs it writes.

One rule for every URL the server puts in a header (the download 302s, the trailing-slash redirect):
the base is `HLTRACKER_PUBLIC_URL` when set, else the request's scheme and Host. A Host outside
`HLTRACKER_ALLOWED_HOSTS` (patterns as Starlette's `TrustedHostMiddleware` takes them: a name, `*`,
or `*.example.com`) is refused with a 400 before any route runs, so no redirect can ever echo it.
`X-Forwarded-Proto` and `X-Forwarded-Host` count only when the connection comes from an address of
`HLTRACKER_TRUSTED_PROXIES`; from anyone else they are ignored.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.responses import RedirectResponse
from starlette.routing import Match, Router
from starlette.types import ASGIApp, Receive, Scope, Send

from hltracker.api.errors import nest_body

ORIGIN_KEY = "hltracker.origin"  # where the guard leaves the request's public base, in scope["state"]


@dataclass(frozen=True)
class HostRule:
    allowed: tuple[str, ...]
    proxies: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]
    public_url: str | None

    @classmethod
    def from_settings(cls, public_url: str | None, allowed_hosts: tuple[str, ...],
                      trusted_proxies: tuple[str, ...]) -> HostRule:
        """The rule of the settings; ValueError naming the setting when one is malformed."""
        allowed = [h.strip().lower() for h in allowed_hosts if h.strip()]
        for pattern in allowed:
            if "*" in pattern[1:] or (pattern.startswith("*") and pattern != "*" and not pattern.startswith("*.")):
                raise ValueError(f"HLTRACKER_ALLOWED_HOSTS: {pattern!r} is not a host name, '*' or '*.domain'")
        base = None
        if public_url:
            parts = urlsplit(public_url.strip())
            if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
                raise ValueError(f"HLTRACKER_PUBLIC_URL={public_url!r} must be an http(s) URL such as "
                                 "https://api.example.com (a path prefix is allowed)")
            base = f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}"
            allowed.append(parts.hostname.lower())  # the public name is always one of ours
        try:
            proxies = tuple(ipaddress.ip_network(p.strip(), strict=False) for p in trusted_proxies if p.strip())
        except ValueError as exc:
            raise ValueError(f"HLTRACKER_TRUSTED_PROXIES: {exc}") from None
        return cls(tuple(dict.fromkeys(allowed)), proxies, base)

    def allows(self, host: str) -> bool:
        return any(p == "*" or host == p or (p.startswith("*.") and host.endswith(p[1:])) for p in self.allowed)

    def trusts(self, peer: str | None) -> bool:
        if not peer or not self.proxies:
            return False
        try:
            address = ipaddress.ip_address(peer)
        except ValueError:
            return False
        return any(address in network for network in self.proxies)


def _host_name(netloc: str) -> str | None:
    """The host of a Host header value (`name`, `name:port`, `[v6]:port`), lowercase; None when malformed."""
    try:
        parts = urlsplit(f"//{netloc}")
        _ = parts.port  # raises on a bad port
    except ValueError:
        return None
    if not parts.hostname or parts.username is not None or parts.path or parts.query:
        return None
    return parts.hostname.lower()


def _last(value: str | None) -> str | None:
    """The value the nearest proxy appended to a comma-separated forwarded header."""
    if not value:
        return None
    last = value.split(",")[-1].strip()
    return last or None


class OriginGuard:
    """ASGI middleware, outermost: refuses a Host the server may not answer for and records the request's
    public base (`origin_of`). Under a trusted proxy the forwarded scheme and host replace the connection's."""

    def __init__(self, app: ASGIApp, rule: HostRule):
        self.app, self.rule = app, rule

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        scheme, netloc = scope.get("scheme", "http"), headers.get("host")
        client = scope.get("client")
        if self.rule.trusts(client[0] if client else None):
            proto = _last(headers.get("x-forwarded-proto"))
            scheme = proto.lower() if proto and proto.lower() in ("http", "https") else scheme
            netloc = _last(headers.get("x-forwarded-host")) or netloc
        host = _host_name(netloc) if netloc else None
        if host is None or not self.rule.allows(host):
            body = nest_body(400, "Invalid host header: this server does not answer for that host "
                                  "(see HLTRACKER_ALLOWED_HOSTS)")
            await _json(send, 400, body)
            return
        scope = dict(scope)
        scope["scheme"] = scheme
        scope["headers"] = [(k, v) for k, v in scope.get("headers", []) if k != b"host"] + [
            (b"host", netloc.encode("latin-1"))]
        scope["state"] = {**scope.get("state", {}), ORIGIN_KEY: self.rule.public_url or f"{scheme}://{netloc}"}
        await self.app(scope, receive, send)


def origin_of(scope: Scope) -> str:
    """The public base of the request (no trailing slash): HLTRACKER_PUBLIC_URL, else scheme://Host."""
    origin = scope.get("state", {}).get(ORIGIN_KEY)
    if origin is None:  # not behind the guard (an app mounted elsewhere): the request's own
        headers = Headers(scope=scope)
        origin = f"{scope.get('scheme', 'http')}://{headers.get('host', 'localhost')}"
    return origin


def absolute(scope: Scope, path_and_query: str) -> str:
    return origin_of(scope) + path_and_query


def slash_redirect(router: Router) -> ASGIApp:
    """The router's fallback: a 307 to the path with its trailing slash added or removed when that path
    is a route (on the public base, as every absolute URL), else the router's 404."""

    async def fallback(scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] == "http" and path != "/":
            toggled = path.rstrip("/") if path.endswith("/") else path + "/"
            probe = {**scope, "path": toggled}
            if toggled and any(route.matches(probe)[0] is not Match.NONE for route in router.routes):
                query = scope.get("query_string", b"").decode("latin-1")
                url = absolute(scope, toggled + (f"?{query}" if query else ""))
                await RedirectResponse(url, status_code=307)(scope, receive, send)
                return
        await router.not_found(scope, receive, send)

    return fallback


async def _json(send: Send, status: int, body: dict) -> None:
    import orjson

    data = orjson.dumps(body)
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())]})
    await send({"type": "http.response.body", "body": data})
