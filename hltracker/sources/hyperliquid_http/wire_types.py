"""The info API's responses as typed structs: the boundary where JSON becomes Python.

Every number the API sends as a string ("szi": "-0.00785") decodes to an exact `Decimal`; the
conversion to floats happens once, in `parse.py`, after the sums. Responses have grown keys over the
years (`cumFunding`, `maxLeverage`, `time`, `marginTables` are missing in the 2023 recordings; 2023
positions carry `maxTradeSzs`), so every key that is not in the oldest shapes has a default and unknown
keys are ignored. Shapes: reference notes 1.3-1.10 and 1.14.
"""

from __future__ import annotations

from decimal import Decimal

import msgspec


class _Wire(msgspec.Struct, rename="camel", frozen=True):
    """camelCase on the wire, snake_case here; extra keys are ignored (msgspec's default)."""


# ----- perpDexs / metaAndAssetCtxs / allMids --------------------------------------------------------


class PerpDex(_Wire):
    name: str
    full_name: str | None = None
    deployer: str | None = None


class AssetMeta(_Wire):
    name: str
    sz_decimals: int
    max_leverage: int | None = None  # missing in no recording so far, but not promised
    margin_table_id: int | None = None
    only_isolated: bool = False
    margin_mode: str | None = None  # "strictIsolated" | "noCross"
    is_delisted: bool = False

    @property
    def isolated_only(self) -> bool:
        return self.only_isolated or self.margin_mode in ("strictIsolated", "noCross")


class MarginTier(_Wire):
    lower_bound: Decimal
    max_leverage: int


class MarginTable(_Wire):
    margin_tiers: list[MarginTier]
    description: str = ""


class Meta(_Wire):
    universe: list[AssetMeta]
    margin_tables: list[tuple[int, MarginTable]] = []
    collateral_token: int = 0


class AssetCtx(_Wire):
    mark_px: Decimal
    oracle_px: Decimal
    funding: Decimal = Decimal(0)
    open_interest: Decimal | None = None
    prev_day_px: Decimal | None = None
    day_ntl_vlm: Decimal | None = None
    premium: Decimal | None = None
    mid_px: Decimal | None = None
    impact_pxs: list[Decimal] | None = None
    day_base_vlm: Decimal | None = None


MetaAndAssetCtxs = tuple[Meta, list[AssetCtx]]
AllMids = dict[str, Decimal]

# ----- clearinghouseState ---------------------------------------------------------------------------


class MarginSummary(_Wire):
    account_value: Decimal
    total_ntl_pos: Decimal = Decimal(0)
    total_raw_usd: Decimal = Decimal(0)
    total_margin_used: Decimal = Decimal(0)


class Leverage(_Wire):
    type: str  # "cross" | "isolated"
    value: int
    raw_usd: Decimal | None = None  # isolated only


class CumFunding(_Wire):
    all_time: Decimal
    since_open: Decimal
    since_change: Decimal


class Position(_Wire):
    coin: str
    szi: Decimal
    leverage: Leverage
    entry_px: Decimal | None  # null on an empty row of the SDK's example
    position_value: Decimal
    unrealized_pnl: Decimal | None = None
    return_on_equity: Decimal | None = None
    liquidation_px: Decimal | None = None  # null (or "NaN" in old examples) when there is none
    margin_used: Decimal | None = None
    max_leverage: int | None = None
    cum_funding: CumFunding | None = None


class AssetPosition(_Wire):
    position: Position
    type: str = "oneWay"


class ClearinghouseState(_Wire):
    margin_summary: MarginSummary
    asset_positions: list[AssetPosition]
    cross_margin_summary: MarginSummary | None = None
    cross_maintenance_margin_used: Decimal | None = None
    withdrawable: Decimal | None = None
    time: int | None = None  # server ms; missing in 2023


# ----- spot, vaults, staking, portfolio -------------------------------------------------------------


class SpotBalance(_Wire):
    coin: str
    token: int
    total: Decimal
    hold: Decimal = Decimal(0)
    entry_ntl: Decimal = Decimal(0)


class SpotClearinghouseState(_Wire):
    balances: list[SpotBalance]


class VaultEquity(_Wire):
    vault_address: str
    equity: Decimal
    locked_until_timestamp: int | None = None


class DelegatorSummary(_Wire):
    delegated: Decimal
    undelegated: Decimal = Decimal(0)
    total_pending_withdrawal: Decimal = Decimal(0)
    n_pending_withdrawals: int = 0


class PortfolioWindow(_Wire):
    account_value_history: list[tuple[int, Decimal]]
    pnl_history: list[tuple[int, Decimal]]
    vlm: Decimal = Decimal(0)


Portfolio = list[tuple[str, PortfolioWindow]]

# ----- the leaderboard file (stats-data.hyperliquid.xyz/Mainnet/leaderboard) ------------------------


class WindowPerformance(_Wire):
    pnl: Decimal
    roi: Decimal | None = None
    vlm: Decimal | None = None


class LeaderboardRow(_Wire):
    eth_address: str
    account_value: Decimal
    window_performances: list[tuple[str, WindowPerformance]] = []
    display_name: str | None = None


class Leaderboard(_Wire):
    leaderboard_rows: list[LeaderboardRow]
