"""The simulator's market catalogue: structure, Hyperliquid conventions and mainnet calibration."""

from __future__ import annotations

import dataclasses

import pytest

from hltracker.sources.simulator.catalog import (
    DEX_COLLATERAL_TOKEN,
    DEX_FULL_NAMES,
    DEXES,
    MARGIN_TABLES,
    MARKETS,
    MARKETS_BY_COIN,
    markets_of,
)

# The seed's /positions/coins response example: coin -> (totalValue, count, countLong).
SEED_COINS: dict[str, tuple[float, int, int]] = {
    "BTC": (1765951118.63036, 25640, 13706),
    "ETH": (1235590741.88172, 12834, 7212),
    "HYPE": (806717586.6918, 11446, 7747),
    "SOL": (328269934.76592, 8802, 5497),
    "xyz:BRENTOIL": (281168989.75684, 2276, 1801),
    "xyz:GOLD": (176855530.61352, 3787, 3065),
    "xyz:SILVER": (120338483.02224, 2660, 2050),
    "xyz:SP500": (91016161.9192, 1431, 671),
    "XRP": (71779486.54, 3537, 1720),
    "TAO": (67034833.76916, 3278, 2349),
    "xyz:NVDA": (55668024.18784, 1954, 1256),
    "hyna:BTC": (38283167.558954, 641, 358),
    "cash:USA500": (34492601.1836, 461, 169),
    "LINK": (28718043.86628, 2423, 1484),
    "kPEPE": (25785148.565904, 944, 530),
    "xyz:TSLA": (20687021.83976, 1357, 753),
    "xyz:GOOGL": (19738477.61976, 939, 630),
    "DOGE": (20819727.59838, 2669, 1169),
    "SUI": (16777689.720792, 2533, 982),
    "flx:OIL": (6497041.27776, 276, 232),
    "xyz:AAPL": (5377829.41212, 512, 344),
    "cash:GOLD": (4069409.72214, 104, 80),
    "vntl:MAG7": (2219694.484446, 105, 47),
    "vntl:SPACEX": (1768424.6394, 338, 294),
    "km:US500": (3659844.62526, 234, 108),
    "flx:GOLD": (1360947.1584, 108, 91),
    "vntl:ANTHROPIC": (1117108.291, 220, 195),
    "hyna:ETH": (6547578.73236, 282, 139),
    "km:SILVER": (927039.43548, 78, 57),
    "flx:PALLADIUM": (348865.6896, 26, 18),
    "km:SEMI": (17186.22108, 5, 3),
}

# The seed's general-metrics example (latest point).
SEED_POSITIONS = 209394
SEED_LONG_POSITIONS = 105465
SEED_OPEN_INTEREST = 8151285532

HIP3_DEXES = DEXES[1:]
LIVE = [m for m in MARKETS if not m.is_delisted]


def test_dexes_start_with_main_and_have_names_and_collateral() -> None:
    assert DEXES[0] == "main"
    assert set(DEX_FULL_NAMES) == set(HIP3_DEXES)
    assert set(DEX_COLLATERAL_TOKEN) == set(DEXES)
    assert DEX_COLLATERAL_TOKEN["main"] == 0


def test_every_coin_is_unique() -> None:
    coins = [m.coin for m in MARKETS]
    assert len(coins) == len(set(coins))
    assert len(MARKETS_BY_COIN) == len(MARKETS)
    assert all(MARKETS_BY_COIN[m.coin] is m for m in MARKETS)


def test_hip3_coins_are_prefixed_with_their_listed_dex() -> None:
    for m in MARKETS:
        if m.dex == "main":
            assert ":" not in m.coin, m.coin
        else:
            assert m.dex in HIP3_DEXES, m.coin
            prefix, name = m.coin.split(":")
            assert prefix == m.dex and name and name == name.upper(), m.coin


def test_markets_are_grouped_by_dex_in_perp_dexs_order() -> None:
    assert [m.dex for m in MARKETS] == sorted((m.dex for m in MARKETS), key=DEXES.index)
    assert tuple(m for dex in DEXES for m in markets_of(dex)) == MARKETS
    assert all(m.dex == dex for dex in DEXES for m in markets_of(dex))


def test_markets_of_an_unknown_dex_is_an_error() -> None:
    with pytest.raises(ValueError, match="unknown dex"):
        markets_of("nope")


def test_specs_are_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        MARKETS[0].price = 1.0  # type: ignore[misc]


def test_margin_table_ids_follow_hyperliquid_convention() -> None:
    for table_id, table in MARGIN_TABLES.items():
        assert table.id == table_id
        if table_id <= 50:  # single-tier tables (3x ... 50x); the tiered ones start at 51
            assert len(table.tiers) == 1 and table.tiers[0].max_leverage == table_id
            assert table.description == f"{table_id}x"
        else:
            assert len(table.tiers) > 1
            assert table.description == f"tiered {table.tiers[0].max_leverage}x"
    assert [(t.lower_bound, t.max_leverage) for t in MARGIN_TABLES[56].tiers] == [(0.0, 40), (150e6, 20)]
    assert [(t.lower_bound, t.max_leverage) for t in MARGIN_TABLES[55].tiers] == [(0.0, 25), (100e6, 15)]


def test_margin_tiers_ascend_from_zero_with_falling_leverage() -> None:
    for table in MARGIN_TABLES.values():
        assert table.tiers[0].lower_bound == 0.0
        for lower, upper in zip(table.tiers, table.tiers[1:], strict=False):
            assert upper.lower_bound > lower.lower_bound
            assert upper.max_leverage < lower.max_leverage


def test_max_leverage_is_the_first_tier_of_its_margin_table() -> None:
    for m in MARKETS:
        assert m.margin_table_id in MARGIN_TABLES, m.coin
        assert m.max_leverage == MARGIN_TABLES[m.margin_table_id].tiers[0].max_leverage, m.coin


def test_known_main_dex_leverage_and_size_decimals() -> None:
    expected = {"BTC": (56, 5), "ETH": (55, 4), "SOL": (54, 2), "XRP": (53, 0), "HYPE": (52, 2)}
    for coin, (table_id, sz_decimals) in expected.items():
        spec = MARKETS_BY_COIN[coin]
        assert (spec.margin_table_id, spec.sz_decimals) == (table_id, sz_decimals)
    for coin in ("DOGE", "kPEPE", "LINK", "SUI", "AAVE", "ENA", "ZEC"):
        assert MARKETS_BY_COIN[coin].margin_table_id == 52
    for coin in ("ARB", "BNB", "DOT", "JUP", "kSHIB", "PAXG", "TON", "TRX", "XPL"):
        assert MARKETS_BY_COIN[coin].margin_table_id == 51


def test_hip3_leverage_is_single_tier_up_to_20x() -> None:
    for m in MARKETS:
        if m.dex != "main":
            assert len(MARGIN_TABLES[m.margin_table_id].tiers) == 1 and 3 <= m.max_leverage <= 20, m.coin


def test_prices_leave_room_for_the_size_decimals() -> None:
    # Hyperliquid allows at most 6 - szDecimals price decimals: keep at least 3 significant ticks.
    for m in MARKETS:
        assert m.price > 0 and 0 <= m.sz_decimals <= 5, m.coin
        assert m.price * 10 ** (6 - m.sz_decimals) >= 100, m.coin


def test_daily_volatility_is_plausible() -> None:
    for m in MARKETS:
        assert 0.003 <= m.daily_vol <= 0.2, m.coin
    assert MARKETS_BY_COIN["BTC"].daily_vol < MARKETS_BY_COIN["ETH"].daily_vol
    assert MARKETS_BY_COIN["xyz:GOLD"].daily_vol < MARKETS_BY_COIN["BTC"].daily_vol


def test_every_only_isolated_market_has_a_margin_mode() -> None:
    isolated = [m for m in MARKETS if m.only_isolated]
    assert len(isolated) >= 5
    for m in MARKETS:
        if m.only_isolated:
            assert m.margin_mode in ("strictIsolated", "noCross"), m.coin
        else:
            assert m.margin_mode is None, m.coin


def test_delisted_markets_have_zero_targets() -> None:
    delisted = [m for m in MARKETS if m.is_delisted]
    assert 8 <= sum(m.dex == "main" for m in delisted) <= 15
    assert any(m.dex != "main" for m in delisted)
    for m in delisted:
        assert m.oi_usd == 0.0 and m.positions == 0, m.coin


def test_live_markets_have_positive_targets_and_a_long_share() -> None:
    for m in LIVE:
        assert m.oi_usd > 0 and m.positions > 0, m.coin
        assert 0.0 < m.long_share < 1.0, m.coin
        if m.coin not in SEED_COINS:
            # the listed 0.45-0.65, scaled by one factor to the seed's long count (next test)
            assert 0.35 <= m.long_share <= 0.51, m.coin
            assert m.oi_usd >= 50_000 and m.positions >= 10, m.coin


def test_the_catalogue_counts_the_seed_general_metrics_long_positions() -> None:
    """105,465 of the 209,394 positions of the seed's general-metrics example are long (0.504)."""
    longs = sum(m.positions * m.long_share for m in MARKETS)
    assert abs(longs - SEED_LONG_POSITIONS) < 1.0


def test_seed_example_coins_match_the_seed_figures_exactly() -> None:
    for coin, (total_value, count, count_long) in SEED_COINS.items():
        spec = MARKETS_BY_COIN[coin]
        assert not spec.is_delisted, coin
        assert spec.oi_usd == total_value, coin
        assert spec.positions == count, coin
        assert spec.long_share == count_long / count, coin
    assert MARKETS_BY_COIN["BTC"].positions == 25640
    assert MARKETS_BY_COIN["BTC"].oi_usd == 1765951118.63036
    assert MARKETS_BY_COIN["ETH"].positions == 12834


def test_totals_match_the_seed_general_metrics_within_3_percent() -> None:
    positions = sum(m.positions for m in MARKETS)
    open_interest = sum(m.oi_usd for m in MARKETS)
    print(f"catalogue totals: {positions} positions, {open_interest:,.2f} USD open interest")
    assert abs(positions - SEED_POSITIONS) <= 0.03 * SEED_POSITIONS
    assert abs(open_interest - SEED_OPEN_INTEREST) <= 0.03 * SEED_OPEN_INTEREST


def test_tail_markets_are_smaller_for_obscure_coins() -> None:
    assert MARKETS_BY_COIN["AAVE"].oi_usd > MARKETS_BY_COIN["BLUR"].oi_usd
    assert MARKETS_BY_COIN["ENA"].positions > MARKETS_BY_COIN["ORBS"].positions
    assert min(m.positions for m in LIVE if m.dex == "main") < 100


def test_catalogue_covers_the_main_dex_and_all_hip3_dexes() -> None:
    live_main = [m for m in LIVE if m.dex == "main"]
    live_hip3 = [m for m in LIVE if m.dex != "main"]
    assert len(live_main) >= 180
    assert len(live_hip3) >= 35
    assert {m.dex for m in live_hip3} == set(HIP3_DEXES)
    for coin in ("BTC", "ETH", "HYPE", "SOL", "kPEPE", "FARTCOIN", "PUMP", "XPL", "ZEC", "PAXG"):
        assert coin in MARKETS_BY_COIN
