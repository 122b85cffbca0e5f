"""One engine run: (snapshot, previous state) -> every figure the store keeps for that snapshot."""

from __future__ import annotations

import polars as pl

from hltracker.engine import heatmap, lifecycle, liquidation, positions, profiles, segments, series, trades
from hltracker.engine.finite import finite_result
from hltracker.model import Snapshot
from hltracker.model.outputs import OPEN_POSITIONS_SCHEMA, EngineResult, EngineState
from hltracker.model.schemas import empty_frame


def run(snapshot: Snapshot, previous: EngineState | None) -> EngineResult:
    """Compute profiles, lifecycles, series and current-only outputs for one validated snapshot.

    Pure: no I/O and no clock. The next run starts from `next_state(result)`. A figure that comes out NaN or
    +-inf from valid inputs is null (engine/finite.py says why and where).
    """
    taken_ms = snapshot.taken_at_ms
    priced = positions.priced_positions(snapshot.positions, snapshot.markets)
    every_wallet = profiles.wallet_profiles(snapshot.accounts, priced)
    # Inactive wallets (no position, no 30-day volume) belong to no cohort: they count in the market-wide
    # equity figures and nowhere else, so only active wallets go on.
    wallets = every_wallet.filter("is_active")
    current = positions.with_profiles(priced, wallets)
    tracked = lifecycle.track(
        current.select(*[c for c in OPEN_POSITIONS_SCHEMA.names()
                         if c not in ("id", "open_time", "created_at", "updated_at")], "source_open_time"),
        previous.open_positions if previous else None,
        taken_ms,
        int(previous.taken_at.timestamp() * 1000) if previous else None,
        snapshot.fills,
    )
    open_pos = tracked.open_positions
    seen_funding = pl.concat([open_pos.select("id", "funding"), tracked.closed_positions.select("id", "funding")])
    rebuilt = trades.rebuild(
        snapshot.fills, previous.open_trades if previous else None,
        int(previous.taken_at.timestamp() * 1000) if previous else None, taken_ms, seen_funding,
    )
    coins, cells = heatmap.heatmap(open_pos, taken_ms)
    segment_series, top_assets = segments.segment_figures(open_pos, wallets, taken_ms)
    return finite_result(EngineResult(
        taken_at=snapshot.taken_at,
        markets=snapshot.markets,
        wallets=wallets.sort("address"),
        open_positions=open_pos,
        closed_positions=tracked.closed_positions,
        coin_series=series.coin_series(open_pos),
        coin_segment_series=series.coin_segment_series(open_pos, taken_ms),
        coin_bucket_series=series.coin_bucket_series(open_pos),
        general_series=series.general_series(open_pos, every_wallet),
        wallet_equity_series=series.wallet_equity_series(every_wallet),
        perp_volume_series=series.perp_volume_series(snapshot.markets),
        segment_series=segment_series,
        heatmap_coins=coins,
        heatmap_cells=cells,
        segment_top_assets=top_assets,
        liquidation_risk=liquidation.liquidation_risk(open_pos),
        liquidation_bins=liquidation.liquidation_bins(open_pos, snapshot.markets),
        fills=rebuilt.fills,
        fundings=_fundings(snapshot),
        closed_trades=rebuilt.closed_trades,
        open_trades=rebuilt.open_trades,
    ))


def _fundings(snapshot: Snapshot) -> pl.DataFrame:
    """The snapshot's funding payments in time order (the order their store ids follow); empty when the
    source gives none."""
    if snapshot.fundings is None:
        return empty_frame("fundings")
    return snapshot.fundings.sort("time", "address", "coin", maintain_order=True)


def next_state(result: EngineResult) -> EngineState:
    """The state the next run starts from: this snapshot's open lifecycles and open trades."""
    return EngineState(taken_at=result.taken_at, open_positions=result.open_positions,
                       open_trades=result.open_trades)



