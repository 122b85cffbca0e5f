"""The FastAPI application: `create_app(store, settings)`, and `app_from_env()` for uvicorn workers.

Layout: every route is under `/api/external` (HyperTracker's prefix), one router per seed page group
(`routes/`). In front of them the `Gate` middleware checks the API key, applies the per-key rate limit
and answers from the per-snapshot response cache. OpenAPI: `/docs` (Swagger UI, served locally),
`/openapi.json` and, as NestJS names it, `/api/external-json`: both public, like `/docs` that reads it
(the spec describes routes, not data). In front of everything `OriginGuard` refuses a Host the server
does not answer for (origin.py).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.security import HTTPBearer
from fastapi_offline import FastAPIOffline
from starlette.responses import JSONResponse, RedirectResponse

from hltracker import __version__
from hltracker.api import schemas
from hltracker.api.auth import KeyRing, RateLimiter
from hltracker.api.context import ApiContext
from hltracker.api.cursors import CursorSigner
from hltracker.api.errors import install_error_handlers
from hltracker.api.gate import API_PREFIX, Gate
from hltracker.api.live import ResponseCache, SnapshotWatcher
from hltracker.api.origin import HostRule, OriginGuard, slash_redirect
from hltracker.api.routes import (
    closed_trades,
    downloads,
    fills,
    fundings,
    leaderboards,
    metrics,
    positions,
    segments,
    status,
    summary,
    wallets,
)
from hltracker.api.settings import Settings
from hltracker.exports import ExportFiles, UrlSigner
from hltracker.store import Store, open_store

DESCRIPTION = """A HyperTracker-compatible API over Hyperliquid perp positions, computed by hltracker's own
pipeline. Authenticate with `Authorization: Bearer <key>` (create keys with `hltracker keys create`).
Errors use the NestJS shape `{"statusCode", "message", "error"}`; a rate-limited request gets a 429 with
`{"error": "rate_limit_exceeded", "message", "retry_after"}` and a `Retry-After` header."""

_ERRORS = {
    400: {"model": schemas.NestError, "description": "Invalid parameter"},
    401: {"model": schemas.NestError, "description": "Missing or invalid API key"},
    404: {"model": schemas.NestError, "description": "Unknown coin, segment, bucket or file"},
    429: {"model": schemas.RateLimited, "description": "Rate limit exceeded (see Retry-After)"},
    503: {"model": schemas.NestError, "description": "No snapshot has landed yet"},
}
# Answered by the HTTP edge (edge.py) before any route runs, on every route.
_EDGE_ERRORS = {
    414: {"model": schemas.NestError, "description": "The request target is longer than 16 KB"},
    431: {"model": schemas.NestError, "description": "A header over 16 KB, or headers over 64 KB in all"},
}
_ERRORS.update(_EDGE_ERRORS)
_DOWNLOAD_ERRORS = {
    **_EDGE_ERRORS,
    400: _ERRORS[400],
    403: {"model": schemas.NestError, "description": "The link expired or its signature is wrong"},
    404: {"model": schemas.NestError, "description": "The file is no longer kept"},
}
_bearer = HTTPBearer(auto_error=False, description="An API key from `hltracker keys create`.")


def create_app(store: Store, settings: Settings | None = None, *, poll: bool = True,
               close_store: bool = False, dashboard: Callable[[FastAPI], None] | None = None) -> FastAPI:
    """The app over `store`. `poll`: watch the store for new snapshots in a background thread while
    the app runs (an in-process ingester may call `app.state.ctx.watcher.refresh()` instead).
    `dashboard`: mounts the web pages at `/` (`hltracker.web.mount_dashboard`; the api layer does not
    import the web layer); without it `/` redirects to the OpenAPI page."""
    settings = settings or Settings()
    cache = ResponseCache()
    keys = KeyRing(store)
    watcher = SnapshotWatcher(store, cache, keys, settings.poll_seconds)
    files = ExportFiles(settings.resolved_export_dir(), store)
    ctx = ApiContext(store=store, settings=settings, cache=cache, keys=keys,
                     limiter=RateLimiter(settings.rate_limit_per_minute), watcher=watcher,
                     cursors=CursorSigner(settings.secret), files=files,
                     signer=UrlSigner(settings.secret, ttl_seconds=settings.download_ttl_seconds))

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        if poll:
            watcher.start()
        try:
            yield
        finally:
            watcher.stop()
            if close_store:
                store.close()

    app = FastAPIOffline(title="hltracker API", version=__version__, description=DESCRIPTION, lifespan=lifespan)
    app.state.ctx = ctx
    install_error_handlers(app)
    secured = [Depends(_bearer)]
    for router in (positions.router, metrics.router, segments.router, downloads.router, status.secured_router,
                   wallets.router, leaderboards.router, summary.router, fills.router, fundings.router,
                   closed_trades.router):
        app.include_router(router, prefix=API_PREFIX, dependencies=secured, responses=_ERRORS)
    app.include_router(status.router, prefix=API_PREFIX, responses=_EDGE_ERRORS)
    app.include_router(downloads.public_router, prefix=API_PREFIX, responses=_DOWNLOAD_ERRORS)
    app.openapi = lambda: _openapi(app)

    @app.get("/api/external-json", include_in_schema=False)
    def openapi_json() -> JSONResponse:
        return JSONResponse(app.openapi())

    if dashboard is not None:
        dashboard(app)
    else:
        @app.get("/", include_in_schema=False)
        def root() -> RedirectResponse:
            return RedirectResponse("/docs")

    # Starlette's own trailing-slash redirect echoes any Host: ours writes the public base (origin.py).
    app.router.redirect_slashes = False
    app.router.default = slash_redirect(app.router)
    app.add_middleware(Gate, keys=keys, limiter=ctx.limiter, cache=cache, watcher=watcher)
    rule = HostRule.from_settings(settings.public_url, settings.allowed_hosts, settings.trusted_proxies)
    app.add_middleware(OriginGuard, rule=rule)  # outermost: a foreign Host is refused before anything runs
    return app


def _openapi(app: FastAPI) -> dict:
    """FastAPI's spec without its 422 responses: bad input is answered 400 in the NestJS shape."""
    if app.openapi_schema is None:
        spec = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
        for operation in (op for ops in spec.get("paths", {}).values() for op in ops.values()):
            operation.get("responses", {}).pop("422", None)
        for name in ("HTTPValidationError", "ValidationError"):
            spec.get("components", {}).get("schemas", {}).pop(name, None)
        app.openapi_schema = spec
    return app.openapi_schema


def app_from_env(dashboard: Callable[[FastAPI], None] | None = None) -> FastAPI:
    """The app for `uvicorn --factory` and `hltracker serve` workers: settings from HLTRACKER_* variables.

    The store is opened read-only: several workers share a DuckDB file (DuckDB allows one writer
    process; ingest into DuckDB happens in-process, as `hltracker demo` does), and over PostgreSQL each
    worker has a pool of `HLTRACKER_DB_POOL_SIZE` connections while a separate `hltracker ingest` writes.
    """
    settings = Settings.from_env()
    store = open_store(settings.database, read_only=True, pool_size=settings.db_pool_size)
    return create_app(store, settings, close_store=True, dashboard=dashboard)
