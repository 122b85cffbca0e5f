"""The `Snapshot`: the exchange state at one instant, as every source hands it to the engine.

    Snapshot(taken_at, source, markets, accounts, positions, fills=None, height=None, fundings=None)

`validate_snapshot` checks a snapshot against the contract and raises `SnapshotError` naming every
problem it found (each offending column, with an example row); a snapshot that fails is rejected whole.
Beyond the schema: non-nullable columns hold no null, keys are unique, every float column is finite (no
NaN, no +-inf; nullable columns may be null, never NaN), prices, sizes and leverages keep their sign
rules (SIGN_RULES), and positions refer to known markets and wallets.
"""

from __future__ import annotations

from collections.abc import Callable
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


# Prices and sizes, their sign rules: column -> (the test a non-null value passes, how it reads). NaN and
# infinities are `_finite_problems`' (a NaN compares greater than everything in Polars, so these pass it).
SIGN_RULES: dict[str, dict[str, tuple[Callable[[pl.Expr], pl.Expr], str]]] = {
    "markets": {
        "mark_price": (lambda c: c > 0, "> 0"),
        "oracle_price": (lambda c: c > 0, "> 0"),
        "mid_price": (lambda c: c > 0, "> 0"),
        "open_interest": (lambda c: c >= 0, ">= 0"),
        "day_ntl_volume": (lambda c: c >= 0, ">= 0"),
        "max_leverage": (lambda c: c >= 1, ">= 1"),
    },
    "accounts": {
        "perp_volume_30d": (lambda c: c >= 0, ">= 0"),
    },
    "positions": {
        "szi": (lambda c: c != 0, "non-zero (only open positions are listed)"),
        "entry_price": (lambda c: c > 0, "> 0"),
        "position_value": (lambda c: c >= 0, ">= 0"),
        "liquidation_price": (lambda c: c > 0, "> 0 (null when there is none)"),
        "leverage": (lambda c: c >= 1, ">= 1"),
        "max_leverage": (lambda c: c >= 1, ">= 1"),
    },
    "fills": {
        "px": (lambda c: c > 0, "> 0"),
        "sz": (lambda c: c > 0, "> 0"),
        "liquidation_mark_px": (lambda c: c > 0, "> 0"),
    },
}

# The columns that name a row in an example, for frames without a natural key.
_EXAMPLE_KEYS: dict[str, tuple[str, ...]] = {"fills": ("time", "address", "coin")}


def _example_row(name: str, df: pl.DataFrame, bad: pl.Expr) -> str:
    """'row 12 (coin='BTC')': the first row of `df` where `bad` holds, by index and key."""
    key = [c for c in FRAME_KEYS.get(name, _EXAMPLE_KEYS.get(name, ())) if c in df.columns]
    first = df.with_row_index("_row").filter(bad).head(1)
    named = ", ".join(f"{c}={first[c][0]!r}" for c in key)
    return f"row {first['_row'][0]}" + (f" ({named})" if named else "")


def _finite_problems(name: str, df: pl.DataFrame) -> list[str]:
    """Every float column holds finite numbers only: no NaN, no +-inf (a null is a null's business)."""
    problems = []
    floats = [c for c, t in df.schema.items() if t.is_float()]
    if not floats or df.height == 0:
        return problems
    counts = df.select(
        *[pl.col(c).is_nan().sum().alias(f"nan:{c}") for c in floats],
        *[pl.col(c).is_infinite().sum().alias(f"inf:{c}") for c in floats],
    ).row(0, named=True)
    for col in floats:
        nan, inf = counts[f"nan:{col}"], counts[f"inf:{col}"]
        if nan or inf:
            what = ", ".join(part for part in (f"{nan} NaN" if nan else "", f"{inf} infinite" if inf else "")
                             if part)
            example = _example_row(name, df, ~pl.col(col).is_finite())
            problems.append(f"{name}.{col}: {what} value(s), only finite numbers are allowed, e.g. {example}")
    return problems


def _sign_problems(name: str, df: pl.DataFrame) -> list[str]:
    """Prices, sizes and leverages of `df` against SIGN_RULES (nulls and NaN are checked elsewhere)."""
    problems = []
    for col, (valid, reads) in SIGN_RULES.get(name, {}).items():
        if col not in df.columns or df.height == 0:
            continue
        bad = ~valid(pl.col(col)) & pl.col(col).is_not_null()
        n = df.select(bad.sum()).item()
        if n:
            problems.append(f"{name}.{col}: {n} value(s) not {reads}, e.g. {_example_row(name, df, bad)}")
    return problems


def _value_problems(snap: Snapshot) -> list[str]:
    problems = []
    m, p = snap.markets, snap.positions
    if p.height:
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
            problems += _finite_problems(name, df)
            problems += _sign_problems(name, df)
        problems += _value_problems(snap)
    if problems:
        raise SnapshotError(problems)
    return snap
