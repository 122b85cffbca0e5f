"""One method per route, shared by `Client` and `AsyncClient`.

Each method only describes its request (a `Call`); the client class sends it, so a sync client returns
the answer and an async one a coroutine of it. The routes of HyperTracker's seed pages come first; its
other routes (wallets, leaderboards, fills, fundings, closed trades: reference notes section 5) and the
`/health` probe follow under "beyond the seed pages".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal

from . import records as r
from .params import query

When = datetime | date | str
Window = Literal["24h", "7d", "30d", "all"]
Many = str | list[str] | tuple[str, ...] | None


@dataclass(frozen=True)
class Call:
    """A GET of `path` (under /api/external) and how to read its answer."""

    path: str
    params: dict[str, Any] = field(default_factory=dict)
    kind: Literal["json", "page", "download", "download_url"] = "json"
    key: str | None = None  # the list of a page answer; None for a bare JSON array
    accept: str | None = None  # the Accept header of a download
    record: type[r.Record] | None = None  # the typed record of the answer (of each item of a page)

    def query(self) -> list[tuple[str, str]]:
        return query(self.params)


def _page(path: str, key: str | None, record: type[r.Record] | None = None, **params: Any) -> Call:
    return Call(path, params, "page", key, record=record)


def _series(start, end, limit, next_cursor, **more) -> dict[str, Any]:
    return {"start": start, "end": end, "limit": limit, "nextCursor": next_cursor, **more}


class Routes:
    """The routes. `_call` is the subclass's: it sends a `Call` and reads the answer."""

    def _call(self, call: Call) -> Any:  # pragma: no cover - always overridden
        raise NotImplementedError

    def paginate(self, method, **params):  # pragma: no cover - always overridden
        raise NotImplementedError

    # --- Positions & market data (HyperTracker) ---
    def positions(self, *, coin: str | None = None, address: Many = None, start: When | None = None,
                  end: When | None = None, open: bool | None = None, segment_id: int | None = None,
                  order_by: str | None = None, order: str | None = None, limit: int | None = None,
                  next_cursor: str | None = None):
        """`GET /positions`: one record per position lifecycle, a `Page` with `next_cursor`."""
        return self._call(_page("/positions", "positions", r.Position, coin=coin, address=address, start=start, end=end,
                                open=open, segmentId=segment_id, orderBy=order_by, order=order, limit=limit,
                                nextCursor=next_cursor))

    def position_coins(self):
        """`GET /positions/coins`: every coin with open positions (a `Page`, no paging)."""
        return self._call(_page("/positions/coins", None, r.CoinTotals))

    def heatmap(self, *, opened_within: Window | None = None):
        """`GET /positions/heatmap`: a `Page` of coins, each with its cohort cells."""
        return self._call(_page("/positions/heatmap", "heatmap", r.HeatmapRow, openedWithin=opened_within))

    def open_positions_file(self, coin: str, *, format: Literal["csv", "json"] = "csv"):
        """`GET /positions/open/coin/{coin}`: the 302 followed, a `Download` of CSV or JSON."""
        accept = "application/json" if format == "json" else "text/csv"
        return self._call(Call(f"/positions/open/coin/{coin}", kind="download", accept=accept))

    # --- Position metrics and volume (HyperTracker) ---
    def general_metrics(self, *, start: When | None = None, end: When | None = None, limit: int | None = None,
                        next_cursor: str | None = None):
        """`GET /position-metrics/general`: a `Page` of snapshots, newest first."""
        return self._call(_page("/position-metrics/general", "metrics", r.GeneralMetrics,
                                **_series(start, end, limit, next_cursor)))

    def coin_metrics(self, coin: str, *, start: When, end: When | None = None, limit: int | None = None,
                     next_cursor: str | None = None):
        """`GET /position-metrics/coin/{coin}`."""
        return self._call(_page(f"/position-metrics/coin/{coin}", "metrics",
                                **_series(start, end, limit, next_cursor)))

    def coin_segment_metrics(self, coin: str, segment: int, *, start: When, end: When | None = None,
                             position_recency_timeframe: Window | None = None, limit: int | None = None,
                             next_cursor: str | None = None):
        """`GET /position-metrics/coin/{coin}/segment/{segment}`."""
        return self._call(_page(f"/position-metrics/coin/{coin}/segment/{segment}", "metrics",
                                **_series(start, end, limit, next_cursor,
                                          positionRecencyTimeframe=position_recency_timeframe)))

    def coin_size_bucket_metrics(self, coin: str, size_bucket_id: int, *, start: When, end: When | None = None,
                                 limit: int | None = None, next_cursor: str | None = None):
        """`GET /position-metrics/coin/{coin}/position-size-bucket/{sizeBucketId}`."""
        return self._call(_page(f"/position-metrics/coin/{coin}/position-size-bucket/{size_bucket_id}", "metrics",
                                **_series(start, end, limit, next_cursor)))

    def perp_volume(self, *, start: When, end: When | None = None, limit: int | None = None,
                    next_cursor: str | None = None):
        """`GET /metrics/perp-volume`."""
        return self._call(_page("/metrics/perp-volume", "metrics", **_series(start, end, limit, next_cursor)))

    # --- Cohorts (HyperTracker) ---
    def segments(self):
        """`GET /segments`: the 16 cohorts (a `Page`)."""
        return self._call(_page("/segments", None, r.Segment))

    def segment_summary(self, segment_id: int, *, position_age: Window | None = None) -> dict:
        """`GET /segments/{segmentId}/summary` (a dict; a `SegmentSummary` when typed)."""
        return self._call(Call(f"/segments/{segment_id}/summary", {"positionAge": position_age},
                               record=r.SegmentSummary))

    def bias_history(self, segment_id: int, *, start: When | None = None, end: When | None = None,
                     position_recency_timeframe: Window | None = None, limit: int | None = None,
                     next_cursor: str | None = None):
        """`GET /segments/{segmentId}/bias-history`: a `Page` of rows named by `historySnapshotStructure`."""
        return self._call(_page(f"/segments/{segment_id}/bias-history", "history",
                                **_series(start, end, limit, next_cursor,
                                          positionRecencyTimeframe=position_recency_timeframe)))

    def liquidation_risk(self, segment_id: int, *, offset: int | None = None, limit: int | None = None):
        """`GET /{segmentId}/assets/liquidation-risk`: a `Page` with `total_count` (offset paging)."""
        return self._call(_page(f"/{segment_id}/assets/liquidation-risk", "items", offset=offset, limit=limit))

    # --- Downloadable files (HyperTracker) ---
    def coin_export(self, coin: str, file: str):
        """`GET /exports/coins/{coin}/{file}`: the 302 followed, a `Download`."""
        return self._call(Call(f"/exports/coins/{coin}/{file}", kind="download"))

    def export(self, file: str):
        """`GET /exports/{file}`: the 302 followed, a `Download`."""
        return self._call(Call(f"/exports/{file}", kind="download"))

    def state_status(self) -> dict:
        """`GET /hypertracker/state/status`."""
        return self._call(Call("/hypertracker/state/status"))

    # --- beyond the seed pages: HyperTracker's other routes, and /health ---
    def health(self) -> dict:
        """`GET /health` (no key needed)."""
        return self._call(Call("/health"))

    def wallets(self, *, segment_ids: list[int] | None = None, has_open_positions: bool | None = None,
                address: Many = None, order_by: str | None = None, order: str | None = None,
                limit: int | None = None, offset: int | None = None):
        """`GET /wallets`: a `Page` with `total_count` (offset paging)."""
        return self._call(_page("/wallets", "items", r.Wallet, segmentIds=segment_ids,
                                hasOpenPositions=has_open_positions, address=address, orderBy=order_by,
                                order=order, limit=limit, offset=offset))

    def perp_pnl_leaderboard(self, *, order_by: str | None = None, rank_by: str | None = None,
                             order: str | None = None, limit: int | None = None, offset: int | None = None):
        """`GET /leaderboards/perp-pnl`: a `Page` with `total_count` (offset paging)."""
        return self._call(_page("/leaderboards/perp-pnl", "data", r.PerpPnlEntry, orderBy=order_by, rankBy=rank_by,
                                order=order, limit=limit, offset=offset))

    def perp_pnl_leaderboard_file(self, period: Literal["all", "30d", "7d", "24h"]):
        """`GET /leaderboards/perp-pnl/{period}/download`: its `downloadUrl` fetched, a CSV `Download`."""
        return self._call(Call(f"/leaderboards/perp-pnl/{period}/download", kind="download_url"))

    def biggest_positions(self, *, opened_within: Window | None = None, limit: int | None = None,
                          offset: int | None = None):
        """`GET /leaderboards/biggest-positions`: a `Page` with `total_count` (offset paging)."""
        return self._call(_page("/leaderboards/biggest-positions", "data", r.BiggestPosition,
                                openedWithin=opened_within, limit=limit, offset=offset))

    def state_summary(self) -> dict:
        """`GET /state/summary`."""
        return self._call(Call("/state/summary"))

    def coin_segment_week(self, coin: str, *, position_recency_timeframe: Window | None = None) -> dict:
        """`GET /perps/coin/{coin}/segment-metrics`: per cohort, the latest snapshot, then 12-hour samples (7 days)."""
        return self._call(Call(f"/perps/coin/{coin}/segment-metrics",
                               {"positionRecencyTimeframe": position_recency_timeframe}))

    def segments_bias(self) -> dict:
        """`GET /segments/bias` (deprecated by HyperTracker, still served)."""
        return self._call(Call("/segments/bias"))

    def fills(self, *, address: Many, start: When, end: When | None = None, coin: Many = None,
              side: str | None = None, dir: str | None = None, limit: int | None = None,
              next_cursor: str | None = None):
        """`GET /fills`: a `Page`, oldest first."""
        return self._call(_page("/fills", "fills", r.Fill, address=address, start=start, end=end, coin=coin, side=side,
                                dir=dir, limit=limit, nextCursor=next_cursor))

    def liquidation_fills(self, *, coin: str | None = None, address: Many = None, side: str | None = None,
                          start: When | None = None, end: When | None = None, limit: int | None = None,
                          next_cursor: str | None = None):
        """`GET /fills/liquidation`: a `Page`."""
        return self._call(_page("/fills/liquidation", "fills", r.Fill, coin=coin, address=address, side=side,
                                start=start, end=end, limit=limit, nextCursor=next_cursor))

    def fundings(self, *, address: Many, start_time: When | None = None, end_time: When | None = None,
                 coin: Many = None, limit: int | None = None, next_cursor: str | None = None):
        """`GET /fundings`: a `Page` of funding payments, oldest first."""
        return self._call(_page("/fundings", "fundings", r.Funding, address=address, startTime=start_time,
                                endTime=end_time, coin=coin, limit=limit, nextCursor=next_cursor))

    def closed_trades(self, *, address: str, start_time: When | None = None, end_time: When | None = None,
                      coin: str | None = None, limit: int | None = None, next_cursor: str | None = None):
        """`GET /closed-trades`: a `Page`, newest close first."""
        return self._call(_page("/closed-trades", "trades", r.ClosedTrade, address=address, startTime=start_time,
                                endTime=end_time, coin=coin, limit=limit, nextCursor=next_cursor))

    def closed_trades_summary(self, *, address: str, interval: str | None = None) -> dict:
        """`GET /closed-trades/summary`."""
        return self._call(Call("/closed-trades/summary", {"address": address, "interval": interval}))

    def closed_trade(self, hash: str) -> dict:
        """`GET /closed-trades/{hash}` (a dict; a `ClosedTrade` when typed)."""
        return self._call(Call(f"/closed-trades/{hash}", record=r.ClosedTrade))

    def trade_fills(self, hash: str, *, limit: int | None = None, next_cursor: str | None = None):
        """`GET /closed-trades/{hash}/fills`: a `Page`."""
        return self._call(_page(f"/closed-trades/{hash}/fills", "fills", r.Fill, limit=limit, nextCursor=next_cursor))

    # --- every row of a paged route, following `nextCursor` (or `offset` up to `totalCount`) ---
    def iter_positions(self, **params):
        return self.paginate(self.positions, **params)

    def iter_general_metrics(self, **params):
        return self.paginate(self.general_metrics, **params)

    def iter_fills(self, **params):
        return self.paginate(self.fills, **params)

    def iter_fundings(self, **params):
        return self.paginate(self.fundings, **params)

    def iter_closed_trades(self, **params):
        return self.paginate(self.closed_trades, **params)

    def iter_wallets(self, **params):
        return self.paginate(self.wallets, **params)


def next_params(page, params: dict[str, Any]) -> dict[str, Any] | None:
    """The parameters of the page after `page`, or None at the end."""
    if page.next_cursor:
        return {**params, "next_cursor": page.next_cursor}
    if page.total_count is not None and page.items:
        offset = params.get("offset") or 0
        if offset + len(page.items) < page.total_count:
            return {**params, "offset": offset + len(page.items)}
    return None
