"""The dashboard's routes: one per page, the login form, the live-refresh status, search.

Every page takes its view from the query string (`view.py`); `?csv=<panel>` answers that panel's rows
as CSV instead of the page. Unknown coins, cohorts and wallets are 404 pages, bad parameters 400 pages,
an empty store a 503 page that reloads itself: never a 500 for input.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote

import orjson
from fastapi import APIRouter, Request
from fastapi.templating import Jinja2Templates
from starlette.responses import JSONResponse, RedirectResponse, Response

from hltracker.api.context import ApiContext
from hltracker.api.errors import ApiError
from hltracker.api.routes import status
from hltracker.model.cohorts import COHORTS_BY_ID
from hltracker.model.wire import iso_ms
from hltracker.web import pages
from hltracker.web.auth import COOKIE, allowed, session_cookie
from hltracker.web.format import FILTERS
from hltracker.web.panels import Page
from hltracker.web.reader import ApiReader
from hltracker.web.view import WINDOWS, View

HERE = Path(__file__).resolve().parent
templates = Jinja2Templates(directory=HERE / "templates")
templates.env.filters.update(FILTERS)
templates.env.globals.update(
    cohort_names={i: c.name for i, c in COHORTS_BY_ID.items()},
    cohort_emoji={i: c.emoji for i, c in COHORTS_BY_ID.items()},
)
router = APIRouter(include_in_schema=False)

NAV = [
    ("/", "Overview"),
    ("/heatmap", "Heatmap"),
    ("/cohorts", "Cohorts"),
    ("/liquidations", "Liquidations"),
    ("/stats", "Stats"),
    ("/status", "Status"),
]
# Which view parameters a page reads (the toolbar offers only those).
USES = {
    "overview": {"window", "min"},
    "heatmap": {"window", "metric", "sort", "min"},
    "coin": {"window", "span"},
    "cohorts": {"window"},
    "cohort": {"window"},
    "liquidations": {"sort", "min", "coin"},
    "stats": {"span"},
    "wallet": set(),
    "status": set(),
}
_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")
log = logging.getLogger("hltracker.web")


def _ctx(request: Request) -> ApiContext:
    return request.app.state.ctx


def _render(request: Request, name: str, build: Callable[[ApiReader, View], Page]) -> Response:
    if not allowed(_ctx(request), request.cookies.get(COOKIE)):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target)}", status_code=303)
    return _page_response(request, name, build)


def _page_response(request: Request, name: str, build: Callable[[ApiReader, View], Page]) -> Response:
    try:
        view = View.from_query(dict(request.query_params))
        reader = ApiReader(request)
        health = reader.health()
        # A page's HTML depends only on the snapshot, the URL and the freshness: kept until the next snapshot.
        key = f"web|{request.url.path}?{request.url.query}|{health['status']}".encode()
        wanted = request.query_params.get("csv")
        hit = None if wanted is not None else _ctx(request).cache.get(key, reader.snapshot.snapshot_id)
        if hit is not None:
            return Response(hit[1], media_type=hit[0].decode())
        page = build(reader, view)
    except ApiError as exc:
        return error_page(request, exc.status, exc.message)
    if wanted is not None:
        panel = page.panel(wanted)
        if panel is None:
            return error_page(request, 404, f"Panel {wanted[:64]} not found on this page")
        filename = f"{name}-{panel.id}-{reader.snapshot.snapshot_id}.csv"
        return Response(
            panel.to_csv(),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )
    response = templates.TemplateResponse(request, "page.html", _context(request, reader, view, name, page, health))
    _ctx(request).cache.put(key, reader.snapshot.snapshot_id, b"text/html; charset=utf-8", bytes(response.body))
    return response


def _context(request: Request, reader: ApiReader, view: View, name: str, page: Page, health: dict) -> dict[str, Any]:
    ctx = _ctx(request)
    return {
        "page": page,
        "view": view,
        "name": name,
        "uses": USES[name],
        "nav": NAV,
        "windows": WINDOWS,
        "path": request.url.path,
        "health": health,
        "next_update": reader.state_status()["nextUpdate"],
        "snapshot_id": reader.snapshot.snapshot_id,
        "as_of": iso_ms(reader.snapshot.taken_at),
        "coins": reader.known_coins(),
        "poll_seconds": max(1.0, 2 * ctx.settings.poll_seconds),
        "auth": ctx.settings.dashboard_auth,
        "csv": lambda panel_id: (
            request.url.path + (view.query() or "?") + ("&" if view.query() else "") + f"csv={quote(panel_id)}"
        ),
        "link": lambda **changes: request.url.path + (view.query(**changes) or "?"),
    }


def error_page(request: Request, status_code: int, message: str) -> Response:
    ctx = _ctx(request)
    snapshot = ctx.watcher.current
    return templates.TemplateResponse(
        request,
        "error.html",
        {
            "status_code": status_code,
            "message": message,
            "nav": NAV,
            "path": request.url.path,
            "as_of": iso_ms(snapshot.taken_at) if snapshot else None,
            "snapshot_id": snapshot.snapshot_id if snapshot else "",
            "poll_seconds": max(1.0, 2 * ctx.settings.poll_seconds),
            "coins": sorted(ctx.watcher.coins.values()),
            "auth": ctx.settings.dashboard_auth,
        },
        status_code=status_code,
    )


@router.get("/")
def overview(request: Request) -> Response:
    return _render(request, "overview", pages.overview)


@router.get("/heatmap")
def heatmap(request: Request) -> Response:
    return _render(request, "heatmap", pages.heatmap)


@router.get("/coin/{coin:path}")
def coin(request: Request, coin: str) -> Response:
    return _render(request, "coin", lambda reader, view: pages.coin(reader, view, coin))


@router.get("/cohorts")
def cohorts(request: Request) -> Response:
    return _render(request, "cohorts", pages.cohorts)


@router.get("/cohorts/{id}")
def cohort(request: Request, id: str) -> Response:
    segment = id
    def build(reader: ApiReader, view: View) -> Page:
        if not segment.isdigit() or int(segment) not in COHORTS_BY_ID:
            raise ApiError(404, f"Cohort {segment[:64]} not found: cohort ids are 1 to 16")
        return pages.cohort(reader, view, int(segment))

    return _render(request, "cohort", build)


@router.get("/liquidations")
def liquidations(request: Request) -> Response:
    return _render(request, "liquidations", pages.liquidations)


@router.get("/stats")
def stats(request: Request) -> Response:
    return _render(request, "stats", pages.stats)


@router.get("/wallet/{address}")
def wallet(request: Request, address: str) -> Response:
    return _render(request, "wallet", lambda reader, view: pages.wallet(reader, view, address))


@router.get("/status")
def status_page(request: Request) -> Response:
    return _render(request, "status", pages.status_page)


@router.get("/search")
def search(request: Request, q: str = "") -> Response:
    """A coin opens its page, a 0x address its wallet, a cohort id or name its cohort; else a 404 page."""
    if not allowed(_ctx(request), request.cookies.get(COOKIE)):
        return RedirectResponse("/login", status_code=303)
    text = q.strip()[:80]
    ctx = _ctx(request)
    if _ADDRESS.match(text):
        return RedirectResponse(f"/wallet/{text.lower()}", status_code=303)
    if text.lower() in ctx.watcher.coins:
        return RedirectResponse(f"/coin/{quote(ctx.watcher.coins[text.lower()])}", status_code=303)
    for cohort_id, c in COHORTS_BY_ID.items():
        if text.lower() in (str(cohort_id), c.name.lower()):
            return RedirectResponse(f"/cohorts/{cohort_id}", status_code=303)
    return error_page(request, 404, f"Nothing matches {text!r}: search a coin (BTC), a wallet (0x...) or a cohort")


@router.get("/dashboard/status.json")
def live_status(request: Request) -> Response:
    """What the pages poll: the latest snapshot id and the health figures (`/api/external/health`)."""
    if not allowed(_ctx(request), request.cookies.get(COOKIE)):
        return JSONResponse({"statusCode": 401, "message": "Log in to the dashboard", "error": "Unauthorized"}, 401)
    health = orjson.loads(bytes(status.health(request).body))
    return JSONResponse(health, headers={"Cache-Control": "no-store"})


@router.get("/login")
def login_form(request: Request, next: str = "/") -> Response:
    return templates.TemplateResponse(
        request, "login.html", {"next": _safe_next(next), "error": None, "nav": [], "path": "/login"}
    )


@router.post("/login")
async def login(request: Request) -> Response:
    form = parse_qs((await request.body()).decode("utf-8", "replace"))
    key = (form.get("key") or [""])[0].strip()
    target = _safe_next((form.get("next") or ["/"])[0])
    cookie = session_cookie(_ctx(request), key)
    if cookie is None:
        return templates.TemplateResponse(
            request,
            "login.html",
            {"next": target, "nav": [], "path": "/login", "error": "That key is not valid"},
            status_code=401,
        )
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        COOKIE, cookie, httponly=True, samesite="strict", secure=request.url.scheme == "https", max_age=30 * 86400
    )
    return response


@router.post("/logout")
def logout() -> Response:
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE)
    return response


def _safe_next(target: str) -> str:
    """Only a path on this server (no `//host` or scheme): the login form is not an open redirect."""
    return target if target.startswith("/") and not target.startswith("//") and "\\" not in target else "/"


WARM_PAGES = (("/", "overview", pages.overview), ("/heatmap", "heatmap", pages.heatmap))


def warm_up(app) -> threading.Thread:
    """Render the default overview and heatmap of the latest snapshot in a background thread, into the
    per-snapshot cache, so the first reader after a landing does not wait for them."""

    def run() -> None:
        for path, name, build in WARM_PAGES:
            scope = {"type": "http", "app": app, "method": "GET", "path": path, "raw_path": path.encode(),
                     "query_string": b"", "headers": [], "scheme": "http", "server": ("127.0.0.1", 80),
                     "root_path": ""}
            try:
                _page_response(Request(scope), name, build)
            except Exception:  # a warm-up is an optimisation: the page is rendered on request instead
                log.exception("dashboard warm-up of %s failed", path)

    thread = threading.Thread(target=run, name="dashboard-warm-up", daemon=True)
    thread.start()
    return thread
