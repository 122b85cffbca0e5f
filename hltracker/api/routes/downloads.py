"""Downloadable files: the `/exports/...` routes answer a 302 to a signed URL on this server, and
`/downloads/...` serves the file while the signature holds (120 s by default), like an S3 pre-signed URL.

Files are built once per snapshot by `hltracker.exports.ExportFiles` and reused until the next one.
Behind a load balancer, the server a link lands on may not have built it: with the same secret and store,
it builds the file itself when the link names a file of the latest snapshot (404 for an older one).
"""

from __future__ import annotations

import contextlib
import pathlib
from typing import Annotated
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Path, Query, Request
from starlette.responses import FileResponse, RedirectResponse, Response

from hltracker.api.context import ApiContext, ctx_of
from hltracker.api.errors import ApiError, not_found
from hltracker.api.gate import API_PREFIX
from hltracker.api.origin import absolute
from hltracker.exports import EXPORTS, ExportError, SignatureError

router = APIRouter(tags=["Downloadable Files"])
public_router = APIRouter(tags=["Downloadable Files"])  # the signed URL is the credential: no API key

_REDIRECT = {302: {"description": "Redirect to a signed download URL on this server, valid for 120 s"}}
GONE = "The file is no longer available: request a new download link"
COIN_EXPORTS = sorted(name for name, spec in EXPORTS.items() if spec.per_coin)
GLOBAL_EXPORTS = sorted(name for name, spec in EXPORTS.items() if not spec.per_coin)


def signed_url(ctx: ApiContext, request: Request, name: str, coin: str | None) -> str:
    """The signed URL of an export file of the latest snapshot, absolute on the request's public base
    (origin.py), as an S3 pre-signed URL is; a 404 when the file does not exist for that coin."""
    snapshot = ctx.latest()
    try:
        relative = ctx.files.path_for(snapshot, name, coin)
    except ExportError as exc:
        raise not_found(str(exc)) from None
    query = urlencode(ctx.signer.sign(relative))
    return absolute(request.scope, f"{API_PREFIX}/downloads/{quote(relative)}?{query}")


def redirect_to_export(ctx: ApiContext, request: Request, name: str, coin: str | None) -> Response:
    """A 302 to the file's signed URL."""
    return RedirectResponse(signed_url(ctx, request, name, coin), status_code=302)


def local_or_rebuilt(ctx: ApiContext, relative: str) -> pathlib.Path:
    """The file of a verified link: from this server's folder, else built here when it is a file of the
    latest landed snapshot (another server made the link); a 404 "no longer available" otherwise."""
    with contextlib.suppress(ExportError):
        return ctx.files.resolve(relative)
    latest = ctx.store.last_snapshot()  # the store's, not the watcher's: it may lag the server that signed
    if latest is not None:
        with contextlib.suppress(ExportError):
            return ctx.files.rebuild_latest(relative, latest)
    raise not_found(GONE)


@router.get("/exports/coins/{coin}/{file}", status_code=302, response_class=RedirectResponse, responses=_REDIRECT,
            summary="Download a coin's file")
def coin_export(
    request: Request,
    coin: Annotated[str, Path(max_length=64, description="Coin symbol, case-insensitive.")],
    file: Annotated[str, Path(max_length=64, description="One of: " + ", ".join(COIN_EXPORTS))],
) -> Response:
    """A 302 to the file for the latest snapshot: position-metrics (2-hour samples), position-breakdown-by-size,
    position-breakdown-by-cohort (and -24h/-7d/-30d), positions, segment-metrics (and -24h/-7d/-30d),
    liquidation-heatmap."""
    ctx = ctx_of(request)
    spec = EXPORTS.get(file)
    if spec is None or not spec.per_coin:
        raise not_found(f"Export file {file[:64]} not found; per-coin files: {', '.join(COIN_EXPORTS)}")
    return redirect_to_export(ctx, request, file, ctx.coin(coin))


@router.get("/exports/{file}", status_code=302, response_class=RedirectResponse, responses=_REDIRECT,
            summary="Download a market-wide file")
def global_export(
    request: Request,
    file: Annotated[str, Path(max_length=64, description="One of: " + ", ".join(GLOBAL_EXPORTS))],
) -> Response:
    """A 302 to segments-bias-charts-data-24h or total-wallets-equity-chart-data for the latest snapshot."""
    ctx = ctx_of(request)
    spec = EXPORTS.get(file)
    if spec is None or spec.per_coin:
        raise not_found(f"Export file {file[:64]} not found; market-wide files: {', '.join(GLOBAL_EXPORTS)}")
    return redirect_to_export(ctx, request, file, None)


@public_router.get("/downloads/{path:path}", summary="A signed download (the target of the export redirects)",
            responses={200: {"description": "The file"}, 403: {"description": "Expired or bad signature"}})
def download(
    request: Request,
    path: Annotated[str, Path(description="The file, as the redirect names it.")],
    expires: Annotated[str, Query(max_length=32, description="Unix time the link expires at.")],
    signature: Annotated[str, Query(max_length=128, description="The link's signature.")],
) -> Response:
    """Serves an export file while its signature is valid; 403 after expiry or on a bad signature."""
    ctx = ctx_of(request)
    try:
        ctx.signer.verify(path, expires, signature)
    except SignatureError as exc:
        message = "Request has expired" if "expired" in str(exc) else "Signature does not match"
        raise ApiError(403, message) from None
    file = local_or_rebuilt(ctx, path)
    spec = EXPORTS.get(file.stem) or EXPORTS.get(file.name.removesuffix(file.suffix))
    media_type = spec.media_type if spec else "application/octet-stream"
    if media_type.startswith("text/"):
        media_type += "; charset=utf-8"
    return FileResponse(file, media_type=media_type)
