"""The dashboard's data: the API's own answers, computed in-process by the API's route functions.

A page never queries the store on its own for a figure the API serves: it calls the route function the
spec names for the panel (`positions.positions_heatmap`, `metrics.coin_metrics`, ...) and reads its JSON,
so a page and the API cannot disagree. Answers are kept in the API's per-snapshot response cache under
the key the API gate uses for the same request (path and query string), so the dashboard and the API
share cached bodies until the next snapshot lands. Export files (liquidation map, breakdowns, wallet
equity) are read from the same per-snapshot file cache the `/exports` routes redirect to.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import orjson
from starlette.requests import Request
from starlette.responses import Response

from hltracker.api.context import ApiContext
from hltracker.api.errors import not_found
from hltracker.api.gate import API_PREFIX, SNAPSHOT_HEADER
from hltracker.api.routes import closed_trades, downloads, fills, metrics, positions, segments, status
from hltracker.store import SnapshotInfo

MAX_SERIES_PAGES = 20  # a chart follows nextCursor for at most 20 pages of 1000 snapshots
FILLS_PAGE = 1000
MAX_FILL_PAGES = 10  # a wallet's recent fills: at most 10 pages of 1000 fills per UTC day


class ApiReader:
    """One page request's view of the API, at the snapshot that was latest when the page started."""

    def __init__(self, request: Request):
        self.request = request
        self.ctx: ApiContext = request.app.state.ctx
        self.snapshot: SnapshotInfo = self.ctx.latest()  # a 503 ApiError while the store is empty
        # The routes are called with a request without the page's query string: some routes also read
        # `address[]` / `coin[]` from it, which the cache key below does not hold.
        self.route_request = Request({**request.scope, "query_string": b""}, request.receive)

    def call(self, path: str, query: dict[str, Any], route: Callable[..., Response], **kwargs: Any) -> Any:
        """The JSON answer of `route(**kwargs)`, which serves GET `path?query` (the cache key)."""
        clean = {k: v for k, v in query.items() if v is not None}
        key = (API_PREFIX + path + "?" + urlencode(clean, doseq=True)).encode()
        sid = self.snapshot.snapshot_id
        hit = self.ctx.cache.get(key, sid)
        if hit is not None:
            return orjson.loads(hit[1])
        response = route(self.route_request, **kwargs)
        body = bytes(response.body)
        if response.headers.get(SNAPSHOT_HEADER.decode()) == str(sid):
            self.ctx.cache.put(key, sid, b"application/json", body)
        return orjson.loads(body)

    # --- the routes the pages read -------------------------------------------------------------

    def heatmap(self, window: str) -> list[dict]:
        return self.call(
            "/positions/heatmap", {"openedWithin": window}, positions.positions_heatmap, opened_within=window
        )["heatmap"]

    def coins(self) -> list[dict]:
        return self.call("/positions/coins", {}, positions.positions_coins)

    def general(self, start: str) -> list[dict]:
        return self._series("/position-metrics/general", {"start": start}, metrics.general, start=start)

    def perp_volume(self, start: str) -> list[dict]:
        return self._series("/metrics/perp-volume", {"start": start}, metrics.perp_volume, start=start)

    def coin_metrics(self, coin: str, start: str) -> list[dict]:
        return self._series(
            f"/position-metrics/coin/{coin}", {"start": start}, metrics.coin_metrics, coin=coin, start=start
        )

    def segment_summary(self, segment_id: int, window: str) -> dict:
        return self.call(
            f"/segments/{segment_id}/summary",
            {"positionAge": window},
            segments.segment_summary,
            segment_id=segment_id,
            position_age=window,
        )

    def bias_history(self, segment_id: int, window: str) -> dict:
        return self.call(
            f"/segments/{segment_id}/bias-history",
            {"positionRecencyTimeframe": window},
            segments.bias_history,
            segment_id=segment_id,
            position_recency_timeframe=window,
        )

    def liquidation_risk(self, segment_id: int) -> list[dict]:
        """Every item of the cohort's liquidation risk (all pages of 500)."""
        items: list[dict] = []
        offset = 0
        while True:
            page = self.call(
                f"/{segment_id}/assets/liquidation-risk",
                {"offset": offset, "limit": 500},
                segments.liquidation_risk,
                segment_id=segment_id,
                offset=offset,
                limit=500,
            )
            items += page["items"]
            offset += 500
            if offset >= page["totalCount"] or not page["items"]:
                return items

    def positions(
        self,
        *,
        coin: str | None = None,
        address: str | None = None,
        segment_id: int | None = None,
        open: bool | None = None,
        order_by: str = "value",
        order: str = "desc",
        limit: int = 100,
    ) -> list[dict]:
        query = {
            "limit": limit,
            "coin": coin,
            "address": address,
            "open": _bool(open),
            "segmentId": segment_id,
            "orderBy": order_by,
            "order": order,
        }
        return self.call(
            "/positions",
            query,
            positions.positions,
            limit=limit,
            coin=coin,
            address=[address] if address else None,
            open=open,
            segment_id=segment_id,
            order_by=order_by,
            order=order,
            next_cursor=None,
            start=None,
            end=None,
        )["positions"]

    def fills(self, address: str, start: str, end: str) -> list[dict]:
        """Every fill of the wallet in [start, end] (one UTC day), oldest first, following nextCursor."""
        rows: list[dict] = []
        cursor = None
        for _ in range(MAX_FILL_PAGES):
            page = self.call(
                "/fills",
                {"start": start, "end": end, "address": address, "limit": FILLS_PAGE, "nextCursor": cursor},
                fills.fills,
                start=start,
                end=end,
                address=[address],
                coin=None,
                side=None,
                dir=None,
                limit=FILLS_PAGE,
                next_cursor=cursor,
            )
            rows += page["fills"]
            cursor = page.get("nextCursor")
            if not cursor:
                break
        return rows

    def closed_trades(self, address: str, limit: int = 100) -> list[dict]:
        """The wallet's trades closed in the 7 days before the snapshot (the route's default), newest first."""
        return self.call(
            "/closed-trades",
            {"address": address, "limit": limit},
            closed_trades.closed_trades,
            address=address,
            start_time=None,
            end_time=None,
            coin=None,
            limit=limit,
            next_cursor=None,
        )["trades"]

    def closed_trades_summary(self, address: str, interval: str = "all") -> dict:
        return self.call(
            "/closed-trades/summary",
            {"address": address, "interval": interval},
            closed_trades.closed_trades_summary,
            address=address,
            interval=interval,
        )

    def health(self) -> dict:
        return orjson.loads(bytes(status.health(self.request).body))

    def state_status(self) -> dict:
        return self.call("/hypertracker/state/status", {}, status.state_status)

    def export(self, name: str, coin: str | None = None) -> Any:
        """The JSON export file `name` (for `coin`) of this snapshot, as `/exports/...` serves it."""
        files = self.ctx.files
        try:
            relative = files.path_for(self.snapshot, name, coin)
            return orjson.loads(files.resolve(relative).read_bytes())
        except downloads.ExportError as exc:  # an unknown file or coin
            raise not_found(str(exc)) from None

    def canonical_coin(self, text: str) -> str:
        return self.ctx.coin(text)

    def known_coins(self) -> list[str]:
        return sorted(self.ctx.watcher.coins.values(), key=str.lower)

    def _series(self, path: str, query: dict, route: Callable[..., Response], **kwargs: Any) -> list[dict]:
        """Every row of a time series (newest first), following nextCursor."""
        rows: list[dict] = []
        cursor = None
        for _ in range(MAX_SERIES_PAGES):
            page = self.call(path, {**query, "nextCursor": cursor}, route, next_cursor=cursor, **kwargs)
            rows += page["metrics"]
            cursor = page.get("nextCursor")
            if not cursor:
                break
        return rows


def _bool(value: bool | None) -> str | None:
    return None if value is None else str(value).lower()

