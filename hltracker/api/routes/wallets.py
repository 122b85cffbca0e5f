"""`GET /wallets` (beyond the seeds, reference notes 2.7 and 5): active wallets with their profile,
filtered by cohort, open positions and address, ordered by a documented column, offset-paged."""

from __future__ import annotations

from typing import Annotated, Literal

import polars as pl
from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from hltracker.api import schemas
from hltracker.api.context import ctx_of
from hltracker.api.errors import bad_request
from hltracker.api.params import addresses
from hltracker.api.responses import iso, json_response, records
from hltracker.model.cohorts import COHORTS_BY_ID

router = APIRouter(tags=["Wallets & Leaderboards"])

# orderBy -> the column of the wallets_by_<column>_<order> queries (store/queries.py)
WALLET_ORDER_BY = {
    "address": "address", "totalEquity": "total_equity", "earliestActivityAt": "earliest_activity_at",
    "perpPnl": "all_time_pnl", "perpEquity": "perp_equity", "perpBias": "perp_bias", "openValue": "open_value",
    "sumUpnl": "unrealized_pnl", "closestLiqProgress": "closest_liq_progress",
    "countOpenPositions": "count_open_positions", "exposureRatio": "exposure_ratio",
}
WalletOrderBy = Literal["address", "totalEquity", "earliestActivityAt", "perpPnl", "perpEquity", "perpBias",
                        "openValue", "sumUpnl", "closestLiqProgress", "countOpenPositions", "exposureRatio"]
Order = Literal["asc", "desc"]
Offset = Annotated[int, Query(ge=0, le=10_000_000, description="Items to skip.")]

WALLET_FIELDS: dict[str, str | pl.Expr] = {
    "address": "address",
    "segments": pl.concat_list(pl.col("size_segment_id").cast(pl.Int64), pl.col("pnl_segment_id").cast(pl.Int64))
    .list.drop_nulls(),
    "totalEquity": "total_equity", "perpEquity": "perp_equity", "spotEquity": "spot_equity",
    "stakingEquity": "staking_equity", "vaultEquity": "vault_equity", "balance": "balance",
    "perpPnl": "all_time_pnl", "perpVolume30d": "perp_volume_30d", "perpBias": "perp_bias",
    "exposureRatio": "exposure_ratio", "openValue": "open_value", "openLongValue": "open_long_value",
    "openShortValue": "open_short_value", "sumUpnl": "unrealized_pnl",
    "countOpenPositions": pl.col("count_open_positions").fill_null(0).cast(pl.Int64),
    "closestLiq": pl.when(pl.col("closest_liq_coin").is_not_null())
    .then(pl.struct(pl.col("closest_liq_coin").alias("coin"), pl.col("closest_liq_progress").alias("progress"))),
    "earliestActivityAt": iso("earliest_activity_at"),
}


def segment_ids(values: list[str]) -> list[int] | None:
    """Cohort ids from repeated `segmentIds=`, `segmentIds[]=` or comma-separated values; a 400 naming the
    allowed ids for anything else."""
    found = [part.strip() for v in values for part in v.split(",") if part.strip()]
    if not found:
        return None
    ids = []
    for text in found:
        if not text.isdigit() or int(text) not in COHORTS_BY_ID:
            raise bad_request(f"each value in segmentIds must be a segment id from 1 to 16, got {text[:20]!r}")
        ids.append(int(text))
    return sorted(set(ids))


@router.get("/wallets", response_model=schemas.WalletsPage, summary="Active wallets with their profile")
def wallets(
    request: Request,
    segment_ids_param: Annotated[list[str] | None, Query(alias="segmentIds", description="Only wallets in any of "
                                                         "these cohorts (repeat, or comma-separate; 1-16).")] = None,
    has_open_positions: Annotated[bool | None, Query(alias="hasOpenPositions", description="true: only wallets "
                                                     "with an open position; false: only those without.")] = None,
    address: Annotated[list[str] | None, Query(description="One or more wallet addresses (repeat, or "
                                                "comma-separate).")] = None,
    order_by: Annotated[WalletOrderBy, Query(alias="orderBy", description="Sort column.")] = "totalEquity",
    order: Annotated[Order, Query(description="Sort direction (default desc).")] = "desc",
    limit: Annotated[int, Query(ge=1, le=500, description="Items to return, 1-500 (default 100).")] = 100,
    offset: Offset = 0,
) -> Response:
    """Every active wallet (an open position or 30-day perp volume) at the latest snapshot, with its
    cohorts, equity, all-time perp PnL, bias, exposure, open value, uPnL, riskiest position and the first
    snapshot that saw it. Nulls sort last in either direction; `address` breaks ties."""
    ctx = ctx_of(request)
    snapshot = ctx.latest()
    filters = {
        "addresses": addresses([*(address or []), *request.query_params.getlist("address[]")]),
        "segment_ids": segment_ids([*(segment_ids_param or []), *request.query_params.getlist("segmentIds[]")]),
        "has_open_positions": has_open_positions,
    }
    page = ctx.store.query(f"wallets_by_{WALLET_ORDER_BY[order_by]}_{order}", **filters, limit=limit, offset=offset)
    total = int(ctx.store.query("wallets_count", **filters)["count"][0])
    return json_response({"totalCount": total, "items": records(page, WALLET_FIELDS)}, snapshot.snapshot_id)
