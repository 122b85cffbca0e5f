"""The dashboard: HyperTracker's pages over the API's own answers, served by the API's app at `/`.

`mount_dashboard(app)` adds the pages and the static bundle (built from `web/` by the package build,
see docs/dashboard.md); `app_from_env()` is the `hltracker serve` worker factory with the dashboard.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from starlette.staticfiles import StaticFiles

from hltracker.api import app as api_app

STATIC = Path(__file__).resolve().parent / "static"
BUNDLE = STATIC / "dist" / "dashboard.js"


def mount_dashboard(app: FastAPI) -> None:
    if not BUNDLE.exists():
        raise RuntimeError(
            f"the dashboard bundle {BUNDLE} is missing: build it with `npm ci && npm run build` "
            "in web/ (pip install runs both; docs/dashboard.md)"
        )
    from hltracker.web.routes import router, warm_up

    app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    # Each landing: the default overview and heatmap are rendered ahead of the first reader.
    app.state.ctx.watcher.on_change(lambda snapshot: warm_up(app))
    # And the server's start: the snapshot already in the store is rendered too (in the background, so
    # the server accepts requests at once; a request that comes first renders the page itself).
    inner = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(app_: FastAPI) -> AsyncIterator:
        async with inner(app_) as state:
            if app.state.ctx.watcher.current is not None:
                app.state.warm_up = warm_up(app)
            yield state

    app.router.lifespan_context = lifespan


def app_from_env() -> FastAPI:
    """`hltracker serve`'s worker factory: the API of `api.app_from_env` with the dashboard at `/`."""
    return api_app.app_from_env(dashboard=mount_dashboard)
