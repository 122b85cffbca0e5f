"""Typed records of the main answers: frozen dataclasses read from (and written back to) the JSON.

Field names are the server's camelCase keys in snake_case (`entryPrice` -> `entry_price`,
`perpVolume30d` -> `perp_volume_30d`, `countTraders24HoursAgo` -> `count_traders_24_hours_ago`); the
rule is `camel()` below. Times are `datetime` in UTC; nested objects are records too. A key the class
does not know (HyperTracker may send more than hltracker) is kept in `extra`; a key the server did not
send is None. `to_json()` gives the JSON object back (every field; one the server did not send as
null). Standard library only (DESIGN.md section 1).
"""

from __future__ import annotations

import dataclasses
import functools
import types
import typing
from datetime import UTC, datetime
from typing import Any

from .params import iso_utc


def camel(name: str) -> str:
    """`entry_price` -> `entryPrice`, `perp_volume_30d` -> `perpVolume30d`: the server's key of a field."""
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def parse_time(value: str) -> datetime:
    """`2026-11-18T00:00:00.000Z` (or any ISO 8601 with an offset; naive is UTC) as an aware UTC datetime."""
    moment = datetime.fromisoformat(value)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _plain(hint: Any) -> tuple[str, Any]:
    """How a field is read: ("time", None), ("record", cls), ("records", cls) or ("json", None)."""
    args = [a for a in typing.get_args(hint) if a is not type(None)]
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        return _plain(args[0]) if len(args) == 1 else ("json", None)
    if hint is datetime:
        return "time", None
    if isinstance(hint, type) and issubclass(hint, Record):
        return "record", hint
    if typing.get_origin(hint) is list and args and isinstance(args[0], type) and issubclass(args[0], Record):
        return "records", args[0]
    return "json", None


@functools.cache
def _fields(cls: type[Record]) -> tuple[tuple[str, str, str, Any], ...]:
    """(field, key, how, record class) of each field of `cls` but `extra`."""
    hints = typing.get_type_hints(cls)
    return tuple((f.name, camel(f.name), *_plain(hints[f.name]))
                 for f in dataclasses.fields(cls) if f.name != "extra")


def _read(how: str, kind: Any, value: Any) -> Any:
    if value is None or how == "json":
        return value
    if how == "time":
        return parse_time(value)
    if how == "record":
        return kind.from_json(value)
    return [kind.from_json(v) for v in value]


def _write(how: str, value: Any) -> Any:
    if value is None or how == "json":
        return value
    if how == "time":
        return iso_utc(value)
    if how == "record":
        return value.to_json()
    return [v.to_json() for v in value]


@dataclasses.dataclass(frozen=True)
class Record:
    """The base of the records: `from_json(obj)`, `to_json()`, and `extra` for unknown keys."""

    @classmethod
    def from_json(cls, body: dict[str, Any]):
        if not isinstance(body, dict):
            raise TypeError(f"{cls.__name__} is read from a JSON object, not {type(body).__name__}")
        fields = _fields(cls)
        known = {key for _, key, _, _ in fields}
        values = {name: _read(how, kind, body.get(key)) for name, key, how, kind in fields}
        return cls(**values, extra={k: v for k, v in body.items() if k not in known})

    def to_json(self) -> dict[str, Any]:
        body = {key: _write(how, getattr(self, name)) for name, key, how, _ in _fields(type(self))}
        return {**body, **self.extra}


def _extra() -> Any:
    return dataclasses.field(default_factory=dict, repr=False, kw_only=True)


record = dataclasses.dataclass(frozen=True)


# --- positions (`positions`, `biggest_positions`) ---
@record
class PositionProfile(Record):
    address: str
    segments: list[int]
    extra: dict[str, Any] = _extra()


@record
class Position(Record):
    """A row of `GET /positions`: one position lifecycle."""

    id: str
    address: str
    coin: str
    dex: str
    side: str
    size: float
    entry_price: float
    mark_price: float
    mid_price: float | None
    premium_price: float | None
    position_value: float
    liquidation_price: float | None
    unrealized_pnl: float
    funding: float
    cross_leverage: int
    isolated_leverage: int
    max_leverage: int
    asset_max_leverage: int
    sz_decimals: int
    open_time: datetime
    close_time: datetime | None
    created_at: datetime
    updated_at: datetime
    profile: PositionProfile | None
    extra: dict[str, Any] = _extra()


@record
class CoinTotals(Record):
    """A row of `GET /positions/coins`: a coin's open value and counts."""

    coin: str
    total_value: float
    total_value_long: float
    total_value_short: float
    count: int
    count_long: int
    count_short: int
    extra: dict[str, Any] = _extra()


@record
class HeatmapCell(Record):
    """A cohort's figures in one coin: a cell of a heatmap row."""

    segment_id: int
    coin: str
    total_value: float
    total_long_value: float
    total_short_value: float
    count: int
    count_long: int
    count_short: int
    bias: float | None
    extra: dict[str, Any] = _extra()


@record
class HeatmapRow(Record):
    """A row of `GET /positions/heatmap`: a coin and its cohort cells."""

    coin: str
    total_value: float
    total_long_value: float
    total_short_value: float
    count: int
    count_long: int
    count_short: int
    segments: list[HeatmapCell]
    extra: dict[str, Any] = _extra()


@record
class GeneralMetrics(Record):
    """A row of `GET /position-metrics/general`: the whole market at one snapshot."""

    id: int
    created_at: datetime
    count: int
    count_long: int
    count_short: int
    open_interest: float
    open_interest_long: float
    open_interest_short: float
    perp_equity: float
    count_in_profit: int
    extra: dict[str, Any] = _extra()


# --- cohorts (`segments`, `segment_summary`) ---
@record
class TopAsset(Record):
    """A coin of a cohort summary's `topAssets`: the cohort's figures in it."""

    coin: str
    total_value: float
    total_long_value: float
    total_short_value: float
    count: int
    count_long: int
    count_short: int
    bias: float | None
    extra: dict[str, Any] = _extra()


@record
class Segment(Record):
    """A cohort of `GET /segments`; `criteria` stays a dict (its keys depend on the category)."""

    id: int
    name: str
    category: str
    emoji: str
    criteria: dict[str, Any]
    extra: dict[str, Any] = _extra()


@record
class SideTotals(Record):
    count: int
    value: float
    extra: dict[str, Any] = _extra()


@record
class BySide(Record):
    long: SideTotals
    short: SideTotals
    extra: dict[str, Any] = _extra()


@record
class OpenPerpsSummary(Record):
    perp_bias: float | None
    exposure_ratio: float | None
    count_open_positions: int
    count_traders_in_position: int
    count_traders_in_profit: int
    total_value: float
    total_long_value: float
    total_active_perp_equity: float
    by_side: BySide
    total_perp_equity: float
    count_assets: int
    extra: dict[str, Any] = _extra()


@record
class CohortFigures(Record):
    count_traders: int
    count_traders_in_position: int
    perp_bias: float | None
    position_value: float
    position_long_value: float
    position_short_value: float
    exposure_ratio: float | None
    active_perp_equity: float
    perp_equity: float
    extra: dict[str, Any] = _extra()


@record
class SegmentSummary(Record):
    """`GET /segments/{segmentId}/summary`."""

    segment: Segment
    position_age: str
    created_at: datetime
    open_perps_summary: OpenPerpsSummary
    summary: CohortFigures
    count_traders_24_hours_ago: int | None
    top_assets: list[TopAsset]
    extra: dict[str, Any] = _extra()


# --- wallets and leaderboards ---
@record
class ClosestLiquidation(Record):
    coin: str
    progress: float
    extra: dict[str, Any] = _extra()


@record
class Wallet(Record):
    """A row of `GET /wallets`."""

    address: str
    segments: list[int]
    total_equity: float | None
    perp_equity: float | None
    spot_equity: float | None
    staking_equity: float | None
    vault_equity: float | None
    balance: float | None
    perp_pnl: float | None
    perp_volume_30d: float | None
    perp_bias: float | None
    exposure_ratio: float | None
    open_value: float
    open_long_value: float
    open_short_value: float
    sum_upnl: float
    count_open_positions: int
    closest_liq: ClosestLiquidation | None
    earliest_activity_at: datetime | None
    extra: dict[str, Any] = _extra()


@record
class PerpPnlEntry(Record):
    """A row of `GET /leaderboards/perp-pnl`."""

    address: str
    rank: int
    previous_rank: int | None
    perp_equity: float | None
    open_value: float | None
    open_value_long: float | None
    exposure_ratio: float | None
    bias: float | None
    pnl_day: float | None
    pnl_week: float | None
    pnl_month: float | None
    pnl_all_time: float | None
    volume_month: float | None
    first_seen_at: datetime
    extra: dict[str, Any] = _extra()


@record
class BiggestPositionProfile(Record):
    total_equity: float | None
    perp_equity: float | None
    pnl: float | None
    segments: list[int]
    wallet_leverage: float | None
    extra: dict[str, Any] = _extra()


@record
class BiggestPosition(Record):
    """A row of `GET /leaderboards/biggest-positions`; `value` is signed (negative for a short)."""

    id: str
    side: str
    address: str
    dex: str
    coin: str
    value: float
    size: float
    entry_price: float
    mark_price: float
    unrealized_pnl: float
    funding: float
    liquidation_price: float | None
    liquidation_progress: float | None
    cross_leverage: int
    isolated_leverage: int
    open_time: datetime
    close_time: datetime | None
    profile: BiggestPositionProfile | None
    extra: dict[str, Any] = _extra()


# --- fills, fundings, closed trades ---
@record
class Fill(Record):
    """A row of `GET /fills`, `/fills/liquidation` and `/closed-trades/{hash}/fills`."""

    address: str
    coin: str
    dex: str
    fill_type: str
    px: float
    sz: float
    side: str
    dir: str
    time: datetime
    start_position: float
    closed_pnl: float
    fee: float
    crossed: bool
    tid: int
    hash: str
    liquidated_user: str | None
    liquidation_mark_px: float | None
    liquidation_method: str | None
    trade_hash: str | None
    flip_trade_hash: str | None
    extra: dict[str, Any] = _extra()


@record
class Funding(Record):
    """A row of `GET /fundings`: one funding payment (`usdc` positive when received)."""

    address: str
    coin: str
    dex: str
    time: datetime
    usdc: float
    szi: float
    funding_rate: float
    extra: dict[str, Any] = _extra()


@record
class ClosedTrade(Record):
    """A row of `GET /closed-trades` (and `GET /closed-trades/{hash}`): a position from open to close."""

    hash: str
    address: str
    coin: str
    dex: str
    direction: str
    open_time: datetime
    close_time: datetime
    duration_ms: int
    size: float
    max_size: float
    avg_entry_price: float
    avg_exit_price: float | None
    closed_pnl: float
    fees: float
    funding: float
    net_pnl: float
    volume: float
    fill_count: int
    liquidated: bool
    extra: dict[str, Any] = _extra()


RECORDS = (Position, PositionProfile, CoinTotals, HeatmapRow, HeatmapCell, GeneralMetrics, Segment, SegmentSummary,
           OpenPerpsSummary, CohortFigures, TopAsset, BySide, SideTotals, Wallet, ClosestLiquidation, PerpPnlEntry,
           BiggestPosition, BiggestPositionProfile, Fill, Funding, ClosedTrade)
