"""Market catalogue of the built-in market simulator: every perp market it lists, per dex.

Each market has a reference USD price, Hyperliquid's ``szDecimals`` and margin table, a daily
log-return volatility, and the targets of the ``mainnet`` profile: total open interest in USD
(both sides summed, as ``totalValue`` in ``/positions/coins``), the number of open positions and
the share of them that are long, by count.

Where the numbers come from:

- Tickers, dex names, margin tables and margin modes are modelled on Hyperliquid's ``perpDexs`` /
  ``meta`` responses of 2025-2026 (``reference/hyperliquid-data-notes.md`` §1.3, §1.4, §3.1,
  §3.7). The per-coin ``szDecimals``, leverage, listing order and HIP-3 line-ups are a fixed,
  plausible snapshot, not a live copy: the real lists drift.
- The open interest and position counts of the 31 coins of the ``/positions/coins`` response
  example in the seed page (rows marked ``# seed``) are copied exactly: ``oi_usd = totalValue``,
  ``positions = count``, ``long_share = countLong / count``.
- Every other live market gets a power-law tail by popularity rank (bigger caps first, down to a
  few dozen positions and ~$100k), with long shares of 0.45-0.65, scaled so that the catalogue sums
  to the seed's general-metrics example: 209,394 open positions and 8.151e9 USD of open interest. The
  tail's long shares are then scaled by one factor (to 0.35-0.51) so that the catalogue counts the
  example's 105,465 long positions (`_with_seed_long_count`).
- Prices are illustrative reference levels for March 2026 (BTC 67,800, ETH 2,240), daily
  volatilities are typical of each asset class, and the collateral token indices of the HIP-3
  dexes are illustrative.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import NamedTuple

# perpDexs order: element 0 is the main dex, then the HIP-3 dexes in deployment order.
DEXES: tuple[str, ...] = ("main", "xyz", "flx", "vntl", "hyna", "km", "cash")

DEX_FULL_NAMES: dict[str, str] = {
    "xyz": "XYZ",
    "flx": "Felix Exchange",
    "vntl": "Ventuals",
    "hyna": "HyENA",
    "km": "Markets by Kinetiq",
    "cash": "dreamcash",
}

# Spot token index of each dex's collateral (``collateralToken`` of its meta). 0 is USDC; the
# USDH, USDE and USDT indices are illustrative.
DEX_COLLATERAL_TOKEN: dict[str, int] = {
    "main": 0,  # USDC
    "xyz": 0,  # USDC
    "flx": 360,  # USDH
    "vntl": 360,  # USDH
    "hyna": 235,  # USDE
    "km": 0,  # USDC
    "cash": 268,  # USDT
}

STRICT = "strictIsolated"  # isolated only, margin cannot be removed
NO_CROSS = "noCross"  # isolated only, margin can be removed


@dataclass(frozen=True)
class MarginTier:
    lower_bound: float  # notional USD where this tier starts
    max_leverage: int


@dataclass(frozen=True)
class MarginTable:
    id: int
    description: str  # e.g. "tiered 40x" or "20x"
    tiers: tuple[MarginTier, ...]


def _single(max_leverage: int) -> MarginTable:
    """Table ids up to 50: one tier, with ``max_leverage == id``."""
    return MarginTable(max_leverage, f"{max_leverage}x", (MarginTier(0.0, max_leverage),))


def _tiered(table_id: int, first: int, bound: float, second: int) -> MarginTable:
    tiers = (MarginTier(0.0, first), MarginTier(bound, second))
    return MarginTable(table_id, f"tiered {first}x", tiers)


MARGIN_TABLES: dict[int, MarginTable] = {
    **{lev: _single(lev) for lev in (3, 5, 10, 20, 25, 40, 50)},
    51: _tiered(51, 10, 3_000_000.0, 5),  # ARB, BNB, DOT, JUP, kSHIB, MKR, ONDO, PAXG, TON, TRX, XPL
    52: _tiered(52, 10, 20_000_000.0, 5),  # HYPE, DOGE, kPEPE, LINK, SUI, AAVE, ENA, ZEC, ...
    53: _tiered(53, 20, 40_000_000.0, 10),  # XRP
    54: _tiered(54, 20, 70_000_000.0, 10),  # SOL
    55: _tiered(55, 25, 100_000_000.0, 15),  # ETH
    56: _tiered(56, 40, 150_000_000.0, 20),  # BTC
}


@dataclass(frozen=True)
class MarketSpec:
    coin: str  # "BTC" on the main dex; "xyz:GOLD" on HIP-3 (lowercase dex prefix + ":" + COIN)
    dex: str  # "main" or the HIP-3 dex name
    price: float  # reference USD price
    sz_decimals: int
    margin_table_id: int  # key into MARGIN_TABLES
    max_leverage: int  # == first tier of its margin table
    daily_vol: float  # daily log-return standard deviation
    oi_usd: float  # target open interest in USD, both sides summed (mainnet profile)
    positions: int  # target number of open positions, both sides (mainnet profile)
    long_share: float  # fraction of those positions that are long, by count
    is_delisted: bool = False
    only_isolated: bool = False
    margin_mode: str | None = None  # None, "strictIsolated" or "noCross"


class _Row(NamedTuple):
    name: str
    price: float
    sz_decimals: int
    table: int
    daily_vol: float
    oi_usd: float
    positions: int
    longs: int
    delisted: bool
    mode: str | None


def _r(
    name: str,
    price: float,
    sz_decimals: int,
    table: int,
    daily_vol: float,
    oi_usd: float = 0.0,
    positions: int = 0,
    longs: int = 0,
    *,
    delisted: bool = False,
    mode: str | None = None,
) -> _Row:
    """One catalogue row: name, price, szDecimals, margin table, daily vol, OI, positions, longs."""
    return _Row(name, price, sz_decimals, table, daily_vol, oi_usd, positions, longs, delisted, mode)


def _build(dex: str, rows: list[_Row]) -> tuple[MarketSpec, ...]:
    return tuple(
        MarketSpec(
            coin=row.name if dex == "main" else f"{dex}:{row.name}",
            dex=dex,
            price=float(row.price),
            sz_decimals=row.sz_decimals,
            margin_table_id=row.table,
            max_leverage=MARGIN_TABLES[row.table].tiers[0].max_leverage,
            daily_vol=row.daily_vol,
            oi_usd=float(row.oi_usd),
            positions=row.positions,
            long_share=row.longs / row.positions if row.positions else 0.5,
            is_delisted=row.delisted,
            only_isolated=row.mode is not None,
            margin_mode=row.mode,
        )
        for row in rows
    )


# Rows: name, price, szDecimals, margin table id, daily vol, OI USD, positions, long positions.
# "# seed": figures copied from the seed's /positions/coins example. Delisted markets keep their
# universe slot (as on Hyperliquid, so asset indices never shift) with zero targets.

# Main dex, in (approximate) listing order, as in meta.universe.
_MAIN = _build(
    "main",
    [
        _r("BTC", 67_800.0, 5, 56, 0.025, 1_765_951_118.63036, 25_640, 13_706),  # seed
        _r("ETH", 2_240.0, 4, 55, 0.035, 1_235_590_741.88172, 12_834, 7_212),  # seed
        _r("ATOM", 2.45, 2, 10, 0.055, 17_450_007, 1_206, 751),
        _r("MATIC", 0.3754, 1, 20, 0.06, delisted=True),
        _r("DYDX", 0.31, 1, 10, 0.07, 3_386_618, 276, 144),
        _r("SOL", 140.0, 2, 54, 0.045, 328_269_934.76592, 8_802, 5_497),  # seed
        _r("AVAX", 13.2, 2, 52, 0.055, 64_389_112, 2_317, 1_159),
        _r("BNB", 640.0, 3, 51, 0.03, 102_838_805, 2_041, 1_097),
        _r("APE", 0.42, 1, 5, 0.07, 3_222_713, 283, 132),
        _r("OP", 0.52, 1, 10, 0.065, 20_439_858, 1_127, 549),
        _r("LTC", 78.0, 2, 52, 0.045, 62_867_223, 2_445, 1_157),
        _r("ARB", 0.31, 1, 51, 0.06, 37_054_619, 1_387, 863),
        _r("DOGE", 0.162, 0, 52, 0.055, 20_819_727.59838, 2_669, 1_169),  # seed
        _r("INJ", 6.9, 1, 10, 0.065, 27_042_445, 1_553, 735),
        _r("SUI", 2.1, 1, 52, 0.06, 16_777_689.720792, 2_533, 982),  # seed
        _r("kPEPE", 0.0068, 0, 52, 0.075, 25_785_148.565904, 944, 530),  # seed
        _r("CRV", 0.48, 1, 52, 0.065, 31_748_861, 1_682, 994),
        _r("LDO", 0.72, 1, 10, 0.065, 19_697_835, 1_093, 679),
        _r("LINK", 13.6, 1, 52, 0.05, 28_718_043.86628, 2_423, 1_484),  # seed
        _r("STX", 0.52, 1, 10, 0.065, 9_630_105, 580, 357),
        _r("RNDR", 7.2, 1, 20, 0.07, delisted=True),
        _r("CFX", 0.082, 0, 5, 0.07, 2_033_974, 218, 99),
        _r("FTM", 0.68, 0, 50, 0.07, delisted=True),
        _r("GMX", 9.8, 2, 5, 0.06, 4_575_656, 376, 204),
        _r("SNX", 0.82, 1, 5, 0.07, 2_460_303, 221, 109),
        _r("XRP", 2.05, 0, 53, 0.045, 71_779_486.54, 3_537, 1_720),  # seed
        _r("BCH", 410.0, 3, 52, 0.045, 40_671_876, 1_622, 902),
        _r("APT", 3.1, 2, 52, 0.06, 33_606_782, 1_249, 674),
        _r("AAVE", 185.0, 2, 52, 0.055, 86_630_303, 2_799, 1_263),
        _r("COMP", 34.0, 2, 5, 0.06, 3_202_512, 258, 142),
        _r("MKR", 1_450.0, 4, 51, 0.05, 18_039_018, 1_041, 497),
        _r("WLD", 0.68, 1, 52, 0.07, 49_456_784, 2_349, 1_485),
        _r("HPOS", 0.11, 0, 50, 0.1, delisted=True),
        _r("RLB", 0.06, 0, 50, 0.09, delisted=True),
        _r("UNIBOT", 9.5, 2, 50, 0.09, delisted=True),
        _r("YGG", 0.11, 0, 3, 0.08, 2_073_587, 157, 75),
        _r("TRX", 0.27, 0, 51, 0.03, 34_022_830, 1_408, 827),
        _r("kSHIB", 0.0112, 0, 51, 0.06, 32_861_340, 1_161, 651),
        _r("UNI", 6.2, 1, 52, 0.06, 37_652_460, 1_725, 859),
        _r("SEI", 0.17, 0, 10, 0.07, 20_913_419, 1_076, 664),
        _r("RUNE", 0.95, 1, 5, 0.07, 3_962_826, 232, 144),
        _r("OX", 0.004, 0, 50, 0.1, delisted=True),
        _r("FRIEND", 0.9, 1, 50, 0.1, delisted=True),
        _r("SHIA", 0.0052, 0, 50, 0.1, delisted=True),
        _r("CYBER", 0.95, 1, 3, 0.08, 1_609_535, 178, 105),
        _r("ZRO", 1.55, 1, 5, 0.065, 4_147_182, 448, 267),
        _r("DOT", 2.9, 1, 51, 0.055, 37_370_820, 1_332, 742),
        _r("BANANA", 9.5, 1, 3, 0.08, 1_333_515, 179, 88),
        _r("TRB", 24.0, 2, 5, 0.075, 1_615_855, 140, 83),
        _r("OGN", 0.045, 0, 3, 0.08, 1_463_897, 182, 116),
        _r("RDNT", 0.016, 0, 3, 0.09, 1_394_266, 134, 84),
        _r("ARK", 0.32, 0, 3, 0.08, 885_001, 197, 126),
        _r("BNT", 0.45, 0, 3, 0.07, 1_797_102, 150, 82),
        _r("REQ", 0.1, 0, 3, 0.07, 1_474_792, 139, 90),
        _r("BIGTIME", 0.028, 0, 3, 0.09, 986_092, 170, 103),
        _r("KAS", 0.055, 0, 5, 0.06, 2_628_691, 180, 83),
        _r("ORBS", 0.016, 0, 3, 0.08, 1_095_875, 178, 111),
        _r("BLUR", 0.05, 0, 5, 0.08, 1_942_599, 195, 122),
        _r("TIA", 1.05, 1, 10, 0.07, 28_764_574, 1_383, 866),
        _r("BSV", 21.0, 2, 3, 0.06, 1_192_783, 144, 87),
        _r("ADA", 0.62, 0, 52, 0.055, 69_180_742, 1_817, 897),
        _r("TON", 1.9, 1, 51, 0.05, 45_215_950, 1_781, 971),
        _r("MINA", 0.14, 0, 3, 0.07, 1_034_671, 152, 81),
        _r("POLYX", 0.07, 0, 3, 0.07, 817_521, 150, 70),
        _r("GAS", 2.4, 1, 3, 0.07, 1_291_341, 155, 100),
        _r("PENDLE", 2.6, 0, 5, 0.07, 10_719_755, 756, 398),
        _r("STG", 0.14, 0, 3, 0.07, 1_237_174, 122, 79),
        _r("FET", 0.42, 0, 5, 0.075, 14_204_681, 763, 483),
        _r("NEAR", 2.1, 1, 52, 0.06, 39_315_843, 2_056, 963),
        _r("MEME", 0.0018, 0, 3, 0.09, 1_038_534, 112, 64),
        _r("ORDI", 5.1, 2, 5, 0.08, 6_272_119, 544, 293),
        _r("NEO", 4.2, 2, 3, 0.06, 940_542, 119, 65),
        _r("ZEN", 8.5, 2, 3, 0.07, 1_084_580, 133, 72),
        _r("FIL", 1.6, 1, 5, 0.06, 6_570_059, 557, 338),
        _r("PYTH", 0.08, 0, 5, 0.07, 1_617_001, 231, 131),
        _r("SUSHI", 0.52, 1, 3, 0.07, 950_550, 132, 66),
        _r("ILV", 8.2, 2, 3, 0.08, 871_458, 148, 70),
        _r("IMX", 0.38, 1, 5, 0.07, 2_130_868, 309, 145),
        _r("kBONK", 0.0105, 0, 52, 0.08, 48_950_503, 1_562, 782),
        _r("GMT", 0.028, 0, 3, 0.08, 792_089, 113, 58),
        _r("SUPER", 0.42, 0, 3, 0.08, 768_181, 95, 53),
        _r("USTC", 0.009, 0, 3, 0.09, 640_699, 112, 63),
        _r("NFTI", 0.002, 0, 3, 0.1, delisted=True),
        _r("JUP", 0.31, 0, 51, 0.065, 38_864_489, 1_168, 701),
        _r("kLUNC", 0.045, 0, 3, 0.07, 1_095_369, 87, 49),
        _r("RSR", 0.0065, 0, 3, 0.07, 1_964_954, 227, 117),
        _r("GALA", 0.0112, 0, 5, 0.07, 2_757_647, 266, 142),
        _r("JTO", 0.82, 0, 5, 0.07, 6_557_134, 516, 270),
        _r("NTRN", 0.07, 0, 3, 0.08, 743_158, 91, 52),
        _r("ACE", 0.32, 2, 3, 0.09, 743_546, 82, 53),
        _r("MAV", 0.035, 0, 3, 0.08, 737_178, 86, 44),
        _r("WIF", 0.52, 0, 10, 0.09, 19_105_925, 1_111, 542),
        _r("CAKE", 2.3, 1, 5, 0.06, 3_716_151, 398, 199),
        _r("PEOPLE", 0.014, 0, 3, 0.09, 757_208, 102, 49),
        _r("ENS", 12.5, 2, 5, 0.065, 14_175_482, 829, 439),
        _r("ETC", 14.2, 2, 10, 0.05, 19_210_416, 756, 363),
        _r("XAI", 0.022, 1, 3, 0.09, 615_225, 103, 56),
        _r("MANTA", 0.14, 1, 3, 0.08, 565_841, 99, 56),
        _r("UMA", 1.05, 1, 3, 0.07, 438_850, 109, 69),
        _r("ONDO", 0.68, 0, 51, 0.06, 61_792_965, 1_593, 854),
        _r("ALT", 0.019, 0, 3, 0.09, 662_507, 106, 54),
        _r("ZETA", 0.11, 1, 3, 0.08, 613_507, 128, 71),
        _r("DYM", 0.12, 1, 3, 0.09, 840_939, 84, 51),
        _r("MAVIA", 0.09, 1, 3, 0.09, 673_268, 100, 53),
        _r("W", 0.055, 1, 3, 0.08, 440_766, 76, 42),
        _r("PANDORA", 420.0, 2, 3, 0.12, delisted=True),
        _r("STRK", 0.11, 1, 5, 0.075, 7_771_374, 443, 277),
        _r("PIXEL", 0.013, 0, 3, 0.09, 437_601, 85, 42),
        _r("AI", 0.07, 1, 3, 0.09, 541_482, 89, 56),
        _r("TAO", 265.0, 3, 10, 0.06, 67_034_833.76916, 3_278, 2_349),  # seed
        _r("AR", 4.6, 2, 5, 0.07, 6_327_539, 362, 189),
        _r("kFLOKI", 0.058, 0, 5, 0.09, 9_324_555, 861, 423),
        _r("BOME", 0.0011, 0, 3, 0.1, 342_978, 122, 76),
        _r("ETHFI", 0.62, 1, 5, 0.075, 11_604_552, 563, 290),
        _r("ENA", 0.31, 0, 52, 0.07, 141_100_019, 2_887, 1_601),
        _r("MNT", 0.92, 1, 5, 0.055, 5_393_134, 506, 232),
        _r("TNSR", 0.12, 1, 3, 0.09, 464_885, 89, 54),
        _r("SAGA", 0.09, 1, 3, 0.09, 474_495, 84, 54),
        _r("MERL", 0.11, 0, 3, 0.09, 382_064, 66, 35),
        _r("HBAR", 0.145, 0, 5, 0.055, 13_879_068, 701, 381),
        _r("POPCAT", 0.12, 0, 5, 0.1, 18_711_105, 835, 513),
        _r("OMNI", 1.9, 2, 3, 0.09, 340_955, 68, 42),
        _r("EIGEN", 0.62, 2, 5, 0.08, 9_258_648, 768, 468),
        _r("REZ", 0.006, 0, 3, 0.09, 322_808, 86, 54),
        _r("NOT", 0.0012, 0, 3, 0.08, 519_637, 76, 48),
        _r("TURBO", 0.0021, 0, 5, 0.1, 1_579_047, 242, 119),
        _r("BRETT", 0.021, 0, 5, 0.1, 2_859_303, 223, 121),
        _r("IO", 0.32, 1, 3, 0.09, 2_078_587, 230, 137),
        _r("ZK", 0.042, 0, 5, 0.08, 2_665_345, 295, 181),
        _r("BLAST", 0.0019, 0, 3, 0.09, 359_156, 65, 34),
        _r("LISTA", 0.18, 0, 3, 0.08, 431_295, 57, 30),
        _r("MEW", 0.0018, 0, 3, 0.1, 297_346, 63, 34),
        _r("RENDER", 2.05, 1, 5, 0.07, 15_570_605, 901, 524),
        _r("kDOGS", 0.045, 0, 3, 0.09, 257_451, 55, 25),
        _r("POL", 0.13, 0, 5, 0.06, 3_217_977, 259, 156),
        _r("CATI", 0.06, 0, 3, 0.09, 329_024, 59, 32),
        _r("CELO", 0.17, 0, 3, 0.07, 278_768, 61, 36),
        _r("HMSTR", 0.00032, 0, 3, 0.1, 374_734, 49, 23),
        _r("SCR", 0.14, 1, 3, 0.08, 210_939, 51, 25),
        _r("NEIROETH", 0.035, 0, 3, 0.11, 335_010, 46, 24),
        _r("kNEIRO", 0.12, 1, 5, 0.11, 7_855_247, 410, 195),
        _r("GOAT", 0.045, 0, 3, 0.11, 245_592, 52, 29),
        _r("MOODENG", 0.072, 0, 5, 0.11, 10_713_416, 933, 506),
        _r("GRASS", 0.42, 1, 5, 0.08, 7_734_867, 336, 152),
        _r("PURR", 0.12, 0, 3, 0.08, 6_176_235, 470, 260),
        _r("PNUT", 0.09, 1, 5, 0.1, 6_074_269, 437, 204),
        _r("XLM", 0.24, 0, 10, 0.05, 10_300_404, 791, 490),
        _r("CHILLGUY", 0.025, 0, 3, 0.11, 215_022, 64, 38),
        _r("SAND", 0.16, 0, 5, 0.065, 3_022_528, 262, 121),
        _r("IOTA", 0.12, 0, 3, 0.065, 288_016, 49, 24),
        _r("ALGO", 0.14, 0, 5, 0.06, 3_183_970, 272, 135),
        _r("HYPE", 38.0, 2, 52, 0.055, 806_717_586.6918, 11_446, 7_747),  # seed
        _r("ME", 0.32, 1, 3, 0.09, 2_273_807, 212, 137),
        _r("MOVE", 0.055, 0, 5, 0.09, 2_495_373, 226, 110),
        _r("VIRTUAL", 0.72, 1, 5, 0.09, 20_162_268, 1_048, 476),
        _r("PENGU", 0.0105, 0, 5, 0.09, 22_625_305, 1_258, 721),
        _r("USUAL", 0.03, 1, 3, 0.09, 2_124_381, 172, 84),
        _r("FARTCOIN", 0.32, 1, 52, 0.1, 103_941_649, 2_182, 1_025),
        _r("AIXBT", 0.045, 0, 5, 0.1, 3_074_664, 221, 102),
        _r("ZEREBRO", 0.018, 0, 3, 0.12, 257_077, 39, 21),
        _r("BIO", 0.065, 0, 3, 0.09, 190_954, 49, 24),
        _r("GRIFFAIN", 0.018, 0, 3, 0.12, 170_621, 46, 23),
        _r("SPX", 0.42, 1, 5, 0.1, 13_536_718, 651, 401),
        _r("S", 0.11, 0, 5, 0.07, 10_020_483, 721, 351),
        _r("MORPHO", 1.6, 1, 5, 0.07, 9_361_981, 694, 371),
        _r("TRUMP", 5.2, 1, 52, 0.08, 52_916_350, 1_987, 1_245),
        _r("MELANIA", 0.12, 1, 3, 0.1, 267_387, 36, 21),
        _r("ANIME", 0.008, 0, 3, 0.1, 164_632, 42, 22),
        _r("VINE", 0.03, 0, 3, 0.12, 218_692, 34, 20),
        _r("VVV", 2.4, 2, 3, 0.09, 184_569, 38, 20),
        _r("JELLY", 0.3, 0, 3, 0.15, delisted=True),
        _r("BERA", 0.9, 1, 5, 0.08, 13_887_379, 679, 411),
        _r("TST", 0.02, 0, 3, 0.11, 158_622, 39, 18),
        _r("LAYER", 0.2, 0, 3, 0.09, 126_152, 34, 18),
        _r("IP", 2.2, 1, 5, 0.08, 12_555_997, 760, 380),
        _r("OM", 0.08, 1, 3, 0.09, 142_171, 35, 17),
        _r("KAITO", 0.62, 0, 5, 0.08, 8_191_623, 500, 263),
        _r("NIL", 0.12, 0, 3, 0.09, 128_766, 36, 20),
        _r("PAXG", 3_250.0, 3, 51, 0.01, 26_169_233, 1_439, 711),
        _r("PROMPT", 0.08, 0, 3, 0.09, 172_473, 32, 19),
        _r("BABY", 0.03, 0, 3, 0.09, 111_617, 46, 25),
        _r("WCT", 0.09, 0, 3, 0.09, 159_050, 31, 20),
        _r("HYPER", 0.14, 0, 3, 0.09, 6_093_023, 597, 387),
        _r("ZORA", 0.05, 0, 3, 0.1, 123_978, 41, 19),
        _r("INIT", 0.12, 0, 3, 0.09, 123_510, 34, 17),
        _r("DOOD", 0.0045, 0, 3, 0.1, 134_085, 42, 23),
        _r("LAUNCHCOIN", 0.045, 0, 3, 0.12, 82_758, 35, 19),
        _r("NXPC", 0.35, 0, 3, 0.09, 156_898, 25, 12),
        _r("SOPH", 0.021, 0, 3, 0.1, 102_554, 33, 18),
        _r("RESOLV", 0.07, 0, 3, 0.09, 2_755_044, 241, 116),
        _r("SYRUP", 0.32, 0, 5, 0.07, 6_495_878, 450, 267),
        _r("PUMP", 0.0032, 0, 52, 0.09, 112_231_447, 2_456, 1_431),
        _r("PROVE", 0.42, 0, 3, 0.09, 4_560_604, 360, 198),
        _r("YZY", 0.32, 0, 3, 0.12, 4_142_891, 350, 205),
        _r("XPL", 0.17, 0, 51, 0.09, 214_550_712, 3_523, 1_663),
        _r("WLFI", 0.12, 0, 10, 0.08, 68_068_099, 2_446, 1_537),
        _r("LINEA", 0.0085, 0, 3, 0.09, 9_121_435, 625, 373),
        _r("SKY", 0.062, 0, 5, 0.06, 5_828_876, 670, 431),
        _r("ASTER", 0.72, 0, 10, 0.09, 116_204_432, 3_360, 1_989),
        _r("AVNT", 0.42, 0, 3, 0.1, 8_741_663, 506, 300),
        _r("STBL", 0.06, 0, 3, 0.11, 4_531_631, 285, 164),
        _r("0G", 1.05, 0, 3, 0.1, 7_370_049, 698, 422),
        _r("HEMI", 0.018, 0, 3, 0.11, 2_983_537, 279, 181),
        _r("APEX", 0.42, 0, 3, 0.1, 3_264_051, 424, 270),
        _r("2Z", 0.11, 0, 3, 0.1, 3_910_996, 354, 212),
        _r("ZEC", 265.0, 2, 52, 0.08, 256_737_417, 4_701, 2_883),
        _r("MON", 0.025, 0, 5, 0.1, 8_731_633, 532, 323),
        _r("MET", 0.32, 0, 3, 0.1, 4_155_148, 405, 233),
        _r("MEGA", 0.18, 0, 3, 0.1, 4_252_549, 389, 214),
    ],
)

# xyz (XYZ): US equities, indices, metals, energy, FX and bonds.
_XYZ = _build(
    "xyz",
    [
        _r("XYZ100", 24_500.0, 4, 20, 0.014, 58_412_306, 1_630, 848, mode=STRICT),
        _r("TSLA", 400.0, 3, 10, 0.035, 20_687_021.83976, 1_357, 753),  # seed
        _r("NVDA", 180.0, 3, 10, 0.03, 55_668_024.18784, 1_954, 1_256),  # seed
        _r("GOLD", 3_250.0, 4, 20, 0.01, 176_855_530.61352, 3_787, 3_065),  # seed
        _r("HOOD", 95.0, 3, 10, 0.04, 3_108_442, 391, 236),
        _r("PLTR", 150.0, 3, 10, 0.035, 6_127_905, 562, 351),
        _r("META", 650.0, 3, 10, 0.025, 4_213_768, 308, 181),
        _r("AAPL", 250.0, 3, 10, 0.018, 5_377_829.41212, 512, 344),  # seed
        _r("MSFT", 450.0, 3, 10, 0.018, 3_604_117, 273, 160),
        _r("GOOGL", 300.0, 3, 10, 0.022, 19_738_477.61976, 939, 630),  # seed
        _r("AMZN", 220.0, 3, 10, 0.022, 4_806_352, 357, 219),
        _r("COIN", 260.0, 3, 10, 0.045, 3_912_580, 418, 246),
        _r("MSTR", 180.0, 3, 10, 0.05, 5_631_249, 607, 352),
        _r("SILVER", 33.0, 2, 20, 0.02, 120_338_483.02224, 2_660, 2_050),  # seed
        _r("SP500", 6_700.0, 3, 20, 0.012, 91_016_161.9192, 1_431, 671),  # seed
        _r("CL", 66.0, 2, 20, 0.022, 24_516_873, 981, 628),
        _r("BRENTOIL", 70.0, 2, 20, 0.021, 281_168_989.75684, 2_276, 1_801),  # seed
        _r("COPPER", 4.8, 2, 10, 0.015, 6_804_221, 288, 187),
        _r("EUR", 1.16, 1, 20, 0.005, 2_207_634, 139, 71, mode=NO_CROSS),
        _r("TLT", 88.0, 2, 10, 0.008, 1_093_318, 94, 43, mode=NO_CROSS),
        _r("CRCL", 85.0, 2, 10, 0.06, delisted=True),
    ],
)

# flx (Felix Exchange, USDH collateral): commodities and a few equities.
_FLX = _build(
    "flx",
    [
        _r("OIL", 66.0, 2, 10, 0.022, 6_497_041.27776, 276, 232),  # seed
        _r("GOLD", 3_250.0, 3, 10, 0.01, 1_360_947.1584, 108, 91),  # seed
        _r("SILVER", 33.0, 2, 10, 0.02, 718_290, 64, 41),
        _r("PALLADIUM", 1_020.0, 3, 5, 0.022, 348_865.6896, 26, 18),  # seed
        _r("PLATINUM", 1_010.0, 3, 5, 0.02, 211_473, 22, 14),
        _r("NVDA", 180.0, 3, 10, 0.03, 548_106, 48, 31, mode=NO_CROSS),
        _r("TSLA", 400.0, 3, 10, 0.035, 483_915, 57, 33, mode=NO_CROSS),
        _r("COPPER", 4.8, 2, 5, 0.015, delisted=True),
    ],
)

# vntl (Ventuals, USDH collateral): pre-IPO companies and thematic indices.
_VNTL = _build(
    "vntl",
    [
        _r("MAG7", 62.5, 2, 10, 0.018, 2_219_694.484446, 105, 47),  # seed
        _r("SPACEX", 420.0, 2, 3, 0.03, 1_768_424.6394, 338, 294, mode=STRICT),  # seed
        _r("ANTHROPIC", 183.0, 2, 3, 0.035, 1_117_108.291, 220, 195, mode=STRICT),  # seed
        _r("OPENAI", 500.0, 2, 3, 0.035, 862_741, 193, 125, mode=STRICT),
        _r("GOLD", 3_250.0, 3, 10, 0.01, 312_608, 35, 22),
        _r("SEMIS", 80.0, 2, 5, 0.028, 118_942, 18, 11, mode=NO_CROSS),
    ],
)

# hyna (HyENA, USDE collateral): crypto majors.
_HYNA = _build(
    "hyna",
    [
        _r("BTC", 67_800.0, 5, 20, 0.025, 38_283_167.558954, 641, 358),  # seed
        _r("ETH", 2_240.0, 4, 20, 0.035, 6_547_578.73236, 282, 139),  # seed
        _r("SOL", 140.0, 2, 10, 0.045, 2_403_519, 161, 92),
        _r("HYPE", 38.0, 2, 10, 0.055, 3_117_284, 212, 137),
        _r("XRP", 2.05, 0, 10, 0.045, 621_037, 71, 38),
        _r("ZEC", 265.0, 2, 5, 0.08, 1_048_776, 96, 58),
    ],
)

# km (Markets by Kinetiq): indices and metals.
_KM = _build(
    "km",
    [
        _r("US500", 6_700.0, 3, 20, 0.012, 3_659_844.62526, 234, 108),  # seed
        _r("USTECH", 24_500.0, 4, 20, 0.014, 1_904_385, 122, 63),
        _r("SMALL2000", 2_350.0, 3, 10, 0.016, 417_219, 41, 22, mode=NO_CROSS),
        _r("GOLD", 3_250.0, 3, 20, 0.01, 843_550, 66, 42),
        _r("SILVER", 33.0, 2, 10, 0.02, 927_039.43548, 78, 57),  # seed
        _r("SEMI", 300.0, 2, 10, 0.028, 17_186.22108, 5, 3, mode=NO_CROSS),  # seed
        _r("BABA", 130.0, 2, 10, 0.035, delisted=True),
    ],
)

# cash (dreamcash, USDT collateral): indices, metals and equities.
_CASH = _build(
    "cash",
    [
        _r("USA500", 6_700.0, 3, 20, 0.012, 34_492_601.1836, 461, 169),  # seed
        _r("GOLD", 3_250.0, 3, 20, 0.01, 4_069_409.72214, 104, 80),  # seed
        _r("SILVER", 33.0, 2, 10, 0.02, 1_352_806, 88, 57),
        _r("HOOD", 95.0, 3, 10, 0.04, 1_204_113, 141, 87, mode=STRICT),
        _r("TSLA", 400.0, 3, 10, 0.035, 917_552, 109, 64),
        _r("NVDA", 180.0, 3, 10, 0.03, 708_934, 84, 52),
    ],
)

_BY_DEX: dict[str, tuple[MarketSpec, ...]] = {
    "main": _MAIN,
    "xyz": _XYZ,
    "flx": _FLX,
    "vntl": _VNTL,
    "hyna": _HYNA,
    "km": _KM,
    "cash": _CASH,
}

# Main dex first, then each HIP-3 dex in DEXES order.
# The 31 coins of the seed's /positions/coins example (the rows marked "# seed" above).
SEED_EXAMPLE_COINS = frozenset({
    "BTC", "ETH", "HYPE", "SOL", "xyz:BRENTOIL", "xyz:GOLD", "xyz:SILVER", "xyz:SP500", "XRP", "TAO",
    "xyz:NVDA", "hyna:BTC", "cash:USA500", "LINK", "kPEPE", "xyz:TSLA", "xyz:GOOGL", "DOGE", "SUI",
    "flx:OIL", "xyz:AAPL", "cash:GOLD", "vntl:MAG7", "vntl:SPACEX", "km:US500", "flx:GOLD",
    "vntl:ANTHROPIC", "hyna:ETH", "km:SILVER", "flx:PALLADIUM", "km:SEMI",
})
# countLong of the seed's general-metrics example: 105,465 of its 209,394 open positions are long (0.504).
SEED_LONG_POSITIONS = 105_465


def _with_seed_long_count(by_dex: dict[str, tuple[MarketSpec, ...]]) -> dict[str, tuple[MarketSpec, ...]]:
    """The tail markets' long shares scaled by one factor so that the whole catalogue counts the seed's
    general-metrics long positions. The seed coins keep their own shares (0.596 together), so the tail's
    0.45-0.65 (by count) becomes 0.35-0.51: left as listed, the market's long share was 0.57, not 0.504."""
    specs = [spec for dex in DEXES for spec in by_dex[dex]]
    seed_longs = sum(s.positions * s.long_share for s in specs if s.coin in SEED_EXAMPLE_COINS)
    tail_longs = sum(s.positions * s.long_share for s in specs if s.coin not in SEED_EXAMPLE_COINS)
    k = (SEED_LONG_POSITIONS - seed_longs) / tail_longs
    return {
        dex: tuple(spec if spec.coin in SEED_EXAMPLE_COINS or not spec.positions
                   else replace(spec, long_share=spec.long_share * k) for spec in specs_of_dex)
        for dex, specs_of_dex in by_dex.items()
    }


_BY_DEX = _with_seed_long_count(_BY_DEX)
MARKETS: tuple[MarketSpec, ...] = tuple(spec for dex in DEXES for spec in _BY_DEX[dex])
MARKETS_BY_COIN: dict[str, MarketSpec] = {spec.coin: spec for spec in MARKETS}


def markets_of(dex: str) -> tuple[MarketSpec, ...]:
    """The markets of one dex (``"main"`` or a HIP-3 dex name), in universe order."""
    try:
        return _BY_DEX[dex]
    except KeyError:
        raise ValueError(f"unknown dex {dex!r}; expected one of {', '.join(DEXES)}") from None
