"""The `Snapshot`: the exchange state at one instant, as every source hands it to the engine.

    Snapshot(taken_at, source, markets, accounts, positions, fills=None, height=None, fundings=None)

`validate_snapshot` checks a snapshot against the contract and raises `SnapshotError` naming every
problem it found; a snapshot that fails is rejected whole.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

import polars as pl

from hltracker.model.schemas import FRAME_KEYS, FRAME_SCHEMAS, LEVERAGE_TYPES, NULLABLE


class SnapshotError(ValueError):
    """A snapshot that breaks the contract; `problems` lists each reason."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("invalid snapshot: " + "; ".join(problems))


@dataclass(frozen=True)
class Snapshot:
    taken_at: datetime  # UTC, timezone-aware
    source: str
    markets: pl.DataFrame
    accounts: pl.DataFrame
    positions: pl.DataFrame
    fills: pl.DataFrame | None = None
    height: int | None = None
    extra: dict[str, str] = field(default_factory=dict)  # source-specific facts (profile, seed, ...)
    fundings: pl.DataFrame | None = None  # optional: funding payments since the previous snapshot

    def frames(self) -> dict[str, pl.DataFrame]:
        """The frames present, by name."""
        out = {"markets": self.markets, "accounts": self.accounts, "positions": self.positions}
        if self.fills is not None:
            out["fills"] = self.fills
        if self.fundings is not None:
            out["fundings"] = self.fundings
        return out

    @property
    def taken_at_ms(self) -> int:
        return int(self.taken_at.timestamp() * 1000)


def conform(df: pl.DataFrame, name: str) -> pl.DataFrame:
    """Select and cast `df` to the named schema (columns in contract order)."""
    schema = FRAME_SCHEMAS[name]
    return df.select([pl.col(c).cast(t) for c, t in schema.items()])


def schema_problems(name: str, df: pl.DataFrame, expected: pl.Schema) -> list[str]:
    """How `df` differs from `expected` (missing, mistyped and unexpected columns; order is free)."""
    problems = []
    for col, dtype in expected.items():
        if col not in df.schema:
            problems.append(f"{name}: missing column {col!r}")
        elif df.schema[col] != dtype:
            problems.append(f"{name}.{col}: expected {dtype}, got {df.schema[col]}")
    extra = [c for c in df.columns if c not in expected]
    if extra:
        problems.append(f"{name}: unexpected columns {extra}")
    return problems


def _null_problems(name: str, df: pl.DataFrame) -> list[str]:
    problems = []
    for col in FRAME_SCHEMAS[name]:
        if col in NULLABLE[name]:
            continue
        n = df.get_column(col).null_count()
        if n:
            problems.append(f"{name}.{col}: {n} null value(s)")
    return problems


def _duplicate_problems(name: str, df: pl.DataFrame) -> list[str]:
    key = FRAME_KEYS.get(name)
    if not key or df.height == 0:
        return []
    dups = df.group_by(key).len().filter(pl.col("len") > 1)
    if dups.height:
        sample = dups.head(3).select(key).rows()
        return [f"{name}: {dups.height} duplicate {'x'.join(key)} key(s), e.g. {sample}"]
    return []


def _value_problems(snap: Snapshot) -> list[str]:
    problems = []
    m, p = snap.markets, snap.positions
    for col in ("mark_price", "oracle_price"):
        bad = m.filter(pl.col(col).is_nan() | (pl.col(col) <= 0))
        if bad.height:
            problems.append(f"markets.{col}: {bad.height} NaN or non-positive price(s), e.g. {bad['coin'][0]}")
    bad_lev = m.filter(pl.col("max_leverage") < 1)
    if bad_lev.height:
        problems.append(f"markets.max_leverage: {bad_lev.height} value(s) below 1")
    if p.height:
        for col in ("szi", "entry_price", "position_value"):
            bad = p.filter(pl.col(col).is_nan() | pl.col(col).is_infinite())
            if bad.height:
                problems.append(f"positions.{col}: {bad.height} NaN or infinite value(s)")
        if p.filter(pl.col("szi") == 0).height:
            problems.append("positions.szi: zero-size rows (only non-zero positions are listed)")
        if p.filter(pl.col("entry_price") <= 0).height:
            problems.append("positions.entry_price: non-positive entry price(s)")
        bad_type = p.filter(~pl.col("leverage_type").is_in(list(LEVERAGE_TYPES)))
        if bad_type.height:
            problems.append(f"positions.leverage_type: values outside {LEVERAGE_TYPES}")
        unknown = p.join(m.select("coin"), on="coin", how="anti")
        if unknown.height:
            coins = unknown["coin"].unique().head(5).to_list()
            problems.append(f"positions.coin: {unknown.height} row(s) in unknown market(s) {coins}")
        wrong_dex = p.join(m.select("coin", pl.col("dex").alias("market_dex")), on="coin").filter(
            pl.col("dex") != pl.col("market_dex"))
        if wrong_dex.height:
            problems.append(f"positions.dex: {wrong_dex.height} row(s) whose dex differs from their market's, "
                            f"e.g. {wrong_dex['coin'][0]} on {wrong_dex['dex'][0]!r}")
        orphans = p.join(snap.accounts.select("address"), on="address", how="anti")
        if orphans.height:
            problems.append(f"positions.address: {orphans.height} row(s) of wallets missing from accounts, "
                            f"e.g. {orphans['address'][0]}")
    bad_addr = snap.accounts.filter(~pl.col("address").str.contains(r"^0x[0-9a-f]{40}$"))
    if bad_addr.height:
        problems.append(f"accounts.address: {bad_addr.height} address(es) not lowercase 0x hex")
    return problems


def validate_snapshot(snap: Snapshot) -> Snapshot:
    """Return `snap` unchanged if it honours the contract, else raise `SnapshotError`."""
    problems: list[str] = []
    if snap.taken_at.tzinfo is None or snap.taken_at.utcoffset() != UTC.utcoffset(None):
        problems.append(f"taken_at must be UTC and timezone-aware, got {snap.taken_at!r}")
    schema_ok = True
    for name, df in snap.frames().items():
        found = schema_problems(name, df, FRAME_SCHEMAS[name])
        schema_ok = schema_ok and not found
        problems += found
    if schema_ok:
        for name, df in snap.frames().items():
            problems += _null_problems(name, df)
            problems += _duplicate_problems(name, df)
        problems += _value_problems(snap)
    if problems:
        raise SnapshotError(problems)
    return snap
