"""One reader test per quirk that real-file evidence shows (docs/node-source.md, the evidence table), each
on a small MessagePack state built by hand here, so that every figure read back can be checked by eye."""

from __future__ import annotations

import copy
from pathlib import Path

import msgpack
import polars as pl
import pytest

from hltracker.sources.hyperliquid_node import NodeLayoutError, probe_layout, read_node_state, read_state_file

A = "0x" + "a1" * 20  # cross, explicit leverage
B = "0x" + "b2" * 20  # isolated
C = "0x" + "c3" * 20  # default leverage (no `l`)
D = "0x" + "d4" * 20  # unified account


def _tier(lower_usd: int, lev: int, deduction_usd: int = 0) -> dict:
    return {"lower_bound": lower_usd * 1_000_000, "max_leverage": lev,
            "maintenance_deduction": deduction_usd * 1_000_000}


def _main_dex() -> dict:
    return {
        "meta": {
            "universe": [
                {"name": "BTC", "szDecimals": 5, "marginTableId": 56},
                {"name": "ETH", "szDecimals": 4, "marginTableId": 55},
                {"name": "DOGE", "szDecimals": 0, "marginTableId": 10},  # not listed: one tier, 10x
                {"name": "HYPE", "szDecimals": 2, "marginTableId": 10},
            ],
            "marginTableIdToMarginTable": [
                [55, {"description": "tiered 25x", "margin_tiers": [_tier(0, 25), _tier(100_000_000, 15, 1_066_667)]}],
                [56, {"description": "tiered 40x", "margin_tiers": [_tier(0, 40), _tier(150_000_000, 20, 1_875_000)]}],
            ],
            "collateralToken": 0,
        },
        "user_states": {
            "users_with_positions": [A, B, C],
            "user_to_state": [
                # 0.5 BTC long at 60,000 (e = 30,000 USD), 10x cross; u = cash 40,000 - 30,000.
                [A, {"u": 10_000 * 10**6, "p": {"p": [[0, {"l": {"C": 10}, "M": 56, "f": {"a": 5, "o": 3, "c": 1},
                                                           "s": 50_000, "e": 30_000 * 10**6}]]}}],
                # 2 ETH short at 3,000, isolated 5x with 1,200 USD of collateral: u = 1,200 + 6,000.
                [B, {"u": 0, "p": {"p": [[1, {"l": {"I": {"l": 5, "u": 7_200 * 10**6}}, "M": 55,
                                              "f": {"a": 0, "o": 0, "c": 0}, "s": -20_000, "e": 6_000 * 10**6}]]},
                     "S": {"s": 12, "r": 34}, "D": 0}],
                # 100 DOGE long at 0.2, no `l` (the default), and a preference `s: null` on BTC.
                [C, {"u": 50 * 10**6, "p": {"p": [[2, {"M": 10, "f": {"a": 0, "o": 0, "c": 0}, "s": 100,
                                                       "e": 20 * 10**6}],
                                                  [0, {"s": None, "l": {"C": 3}, "M": 56}]]}}],
                [D, {"u": 100 * 10**6, "p": {"p": [[1, {"l": {"C": 20}, "M": 55, "f": {"a": 0, "o": 0, "c": 0},
                                                       "s": 10_000, "e": 3_000 * 10**6}]]}}],
            ],
        },
        # BTC 60,000 = px / 10^(6 - 5); ETH 3,000 = px / 10^2; DOGE 0.2 = px / 10^6.
        "oracle": {"pxs": [[{"px": 600_000}], [{"px": 300_000}], [{"px": 200_000}], [{"px": 400_000}]],
                   "external_perp_pxs": []},
    }


def _hip3_dex() -> dict:
    return {
        "meta": {
            "universe": [{"name": "flx:GOLD", "szDecimals": 2, "marginTableId": 20},
                         {"name": "flx:OIL", "szDecimals": 1, "marginTableId": 10, "marginMode": "noCross"}],
            "marginTableIdToMarginTable": [],
            "collateralToken": 360,  # USDH
            "pdi": 1,
        },
        "user_states": {"user_to_state": [
            # 1 GOLD long at 2,000 under the HIP-3 global asset id 100000 + 10000 x 1 + 0.
            [A, {"u": -1_000 * 10**6, "p": {"p": [[110_000, {"l": {"C": 5}, "M": 20, "f": {"a": 0, "o": 0, "c": 0},
                                                             "s": 100, "e": 2_000 * 10**6}]]}}],
            # 10 OIL short at 70, no `l` on a noCross market: isolated at the default leverage.
            [C, {"u": 0, "p": {"p": [[110_001, {"M": 10, "f": {"a": 0, "o": 0, "c": 0}, "s": -100,
                                                "e": 700 * 10**6}]]}}],
        ]},
        "oracle": {"pxs": [[{"px": 20_000_000}], [{"px": 7_000_000}]]},  # px / 10^4, px / 10^5
    }


def _doc() -> dict:
    return {"exchange": {
        "locus": {
            "cls": [_main_dex(), _hip3_dex()],
            "scl": {"user_states": [[A, {"b": [[0, {"t": 250 * 10**8}], [150, {"t": 2 * 10**8}], [7, {"t": 5}]]}],
                                    [D, {"b": [[0, {"t": 10_000 * 10**8}]]}]]},
            "ctx": {"initial_height": 1, "height": 942_770_000, "round": 5, "time": "2026-04-01T21:37:58.542650736",
                    "next_oid": 9},
            "ust": [[A, {}], [D, {"a": "u"}]],
            "chn": "Mainnet",
        },
        "perp_dexs": [{"books": [], "funding_tracker": {}, "twap_tracker": {}, "perp_to_annotation": []}] * 2,
    }}


def _write(tmp_path: Path, doc: dict, name: str = "942770000.rmp") -> Path:
    path = tmp_path / name
    path.write_bytes(msgpack.packb(doc))
    return path


MARKS = pl.DataFrame({"coin": ["BTC", "ETH", "DOGE", "flx:GOLD", "flx:OIL", "HYPE"],
                      "mark_price": [61_000.0, 2_900.0, 0.21, 2_100.0, 71.0, 40.0], "funding_rate": [1e-5] * 6})


def _markets() -> pl.DataFrame:
    from hltracker.model.schemas import MARKETS_SCHEMA
    frame = MARKS.with_columns(oracle_price=pl.col("mark_price"))
    return frame.with_columns(*(pl.lit(None).cast(t).alias(c) for c, t in MARKETS_SCHEMA.items()
                                if c not in frame.columns))


@pytest.fixture
def state(tmp_path):
    return read_node_state(_write(tmp_path, _doc()))


def _pos(state, address: str, coin: str) -> dict:
    return state.positions.filter((pl.col("address") == address) & (pl.col("coin") == coin)).row(0, named=True)


def test_camel_case_universe_keys_are_read(state, tmp_path):
    main = state.dex("main")
    assert [(m.coin, m.sz_decimals, m.margin_table_id) for m in main.markets] == [
        ("BTC", 5, 56), ("ETH", 4, 55), ("DOGE", 0, 10), ("HYPE", 2, 10)]
    doc = _doc()
    doc["exchange"]["locus"]["cls"][0]["meta"]["universe"][1] = {"name": "ETH", "sz_decimals": 4, "margin_table_id": 55}
    with pytest.raises(NodeLayoutError, match=r"exchange\.locus\.cls\[0\]\.meta\.universe\[1\]: expected key "
                                              r"'marginTableId'"):
        read_node_state(_write(tmp_path, doc, "1.rmp"))


def test_margin_tables_have_integer_bounds_scaled_by_1e6_and_give_the_max_leverage(state):
    btc = state.dex("main").margin_tables[56]
    assert [(t.lower_bound, t.max_leverage, t.maintenance_deduction) for t in btc] == [
        (0.0, 40, 0.0), (150_000_000.0, 20, 1_875_000.0)]
    assert [m.max_leverage for m in state.dex("main").markets] == [40, 25, 10, 10]  # DOGE, HYPE: the implicit 10x table
    assert [t.max_leverage for t in state.dex("flx").margin_tables[20]] == [20]


def test_an_unlisted_margin_table_of_50_or_more_stops_with_its_key_path(tmp_path):
    doc = _doc()
    doc["exchange"]["locus"]["cls"][0]["meta"]["universe"][2]["marginTableId"] = 57
    with pytest.raises(NodeLayoutError, match=r"cls\[0\]\.meta\.universe\[2\]\.marginTableId: table 57"):
        read_node_state(_write(tmp_path, doc))


def test_oracle_prices_are_integers_scaled_by_10_to_the_6_minus_sz_decimals(state):
    assert [m.oracle_price for m in state.dex("main").markets] == [60_000.0, 3_000.0, 0.2, 40.0]
    assert [m.oracle_price for m in state.dex("flx").markets] == [2_000.0, 70.0]


def test_user_states_may_carry_s_and_d_which_are_not_unknown_keys(state):
    assert state.unknown_keys == {}
    assert state.users.filter(pl.col("address") == B)["u"].to_list() == [0]


def test_a_null_or_zero_size_is_a_leverage_preference_not_a_position(state, tmp_path):
    held = state.positions.filter(pl.col("address") == C)["coin"].to_list()
    assert sorted(held) == ["DOGE", "flx:OIL"]  # not BTC, whose entry has `s: null`
    doc = _doc()
    doc["exchange"]["locus"]["cls"][0]["user_states"]["user_to_state"][0][1]["p"]["p"][0][1]["s"] = 0
    assert read_node_state(_write(tmp_path, doc)).positions.filter(pl.col("address") == A)["coin"].to_list() == [
        "flx:GOLD"]


def test_an_account_mode_no_evidence_names_is_handled_as_shared_collateral_and_noted(tmp_path):
    doc = _doc()
    doc["exchange"]["locus"]["ust"][0] = [A, {"a": "x", "other": [1, 2]}]
    state = read_node_state(_write(tmp_path, doc))
    assert sorted(state.account_modes.rows()) == [(A, "unknown:x"), (D, "unified")]
    assert any("account mode(s) no evidence names {\"'x'\": 1}" in n for n in state.notes)


def test_cross_and_isolated_leverage_read_with_the_isolated_raw_usd_in_i_u(state):
    a = _pos(state, A, "BTC")
    assert (a["leverage"], a["isolated"], a["default_leverage"], a["iso_raw_usd"]) == (10, False, False, None)
    assert (a["szi"], a["entry_ntl"], a["funding_all"], a["funding_open"], a["funding_change"]) == (
        0.5, 30_000 * 10**6, 5, 3, 1)
    b = _pos(state, B, "ETH")
    assert (b["leverage"], b["isolated"], b["iso_raw_usd"], b["szi"]) == (5, True, 7_200 * 10**6, -2.0)


def test_without_l_the_default_leverage_follows_the_markets_margin_mode_and_table(state, tmp_path):
    doge = _pos(state, C, "DOGE")  # normal market, table 10x: cross at min(10, 20)
    assert (doge["leverage"], doge["isolated"], doge["default_leverage"]) == (10, False, True)
    oil = _pos(state, C, "flx:OIL")  # noCross market: isolated, at min(10, 20)
    assert (oil["leverage"], oil["isolated"], oil["default_leverage"], oil["iso_raw_usd"]) == (10, True, True, None)
    assert any("isolated position(s) with the default leverage" in n for n in state.notes)
    snap = read_state_file(_write(tmp_path, _doc(), "2.rmp"), _markets)
    row = snap.positions.filter(pl.col("coin") == "flx:OIL").row(0, named=True)
    assert row["margin_used"] is None and row["liquidation_price"] is None and row["leverage_type"] == "isolated"


def test_hip3_asset_ids_are_global_and_checked_against_the_dexs_universe(state, tmp_path):
    gold = _pos(state, A, "flx:GOLD")
    assert (gold["asset_raw"], gold["asset"], gold["dex_index"], gold["szi"]) == (110_000, 0, 1, 1.0)
    assert state.dex("flx").asset_id(1) == 110_001
    for bad, why in ((120_000, "pdi in the id 2, the dex's 1"), (110_005, "index 5")):
        doc = _doc()
        doc["exchange"]["locus"]["cls"][1]["user_states"]["user_to_state"][0][1]["p"]["p"][0][0] = bad
        with pytest.raises(NodeLayoutError) as err:
            read_node_state(_write(tmp_path, doc, f"{bad}.rmp"))
        assert f"exchange.locus.cls[1].user_states.user_to_state[0][1].p.p[0][0]: asset id {bad}" in str(err.value)
        assert why in str(err.value)


def test_spot_is_a_list_of_pairs_with_token_balances_in_their_decimals(state, tmp_path):
    assert sorted(state.spot.filter(pl.col("address") == A).select("token", "total").rows()) == [
        (0, 250 * 10**8), (7, 5), (150, 2 * 10**8)]
    snap = read_state_file(_write(tmp_path, _doc(), "3.rmp"), _markets)
    spot = dict(snap.accounts.select("address", "spot_equity").rows())
    assert spot[A] == pytest.approx(250.0 + 2 * 40.0)  # USDC at 1, HYPE at its mark; token 7 is not priced


def test_account_modes_come_from_ust_and_shared_collateral_wallets_have_no_cross_liquidation_price(state, tmp_path):
    assert state.account_modes.rows() == [(D, "unified")]
    snap = read_state_file(_write(tmp_path, _doc(), "4.rmp"), _markets)
    liq = dict(snap.positions.filter(pl.col("coin") == "ETH").select("address", "liquidation_price").rows())
    assert liq[D] is None and liq[B] is not None
    assert "1 wallet(s) in shared-collateral account modes (unified 1; 1 with positions)" in snap.extra["notes"]


def test_each_dex_names_its_collateral_token(state, tmp_path):
    assert [(d.name, d.pdi, d.collateral_token) for d in state.dexes] == [("main", 0, 0), ("flx", 1, 360)]
    snap = read_state_file(_write(tmp_path, _doc(), "5.rmp"), _markets)
    assert snap.extra["collateral"] == "main:0,flx:360"


def test_the_perp_figures_follow_the_exchanges_rules(tmp_path):
    snap = read_state_file(_write(tmp_path, _doc()), _markets)
    a = snap.positions.filter((pl.col("address") == A) & (pl.col("coin") == "BTC")).row(0, named=True)
    assert a["entry_price"] == pytest.approx(60_000.0) and a["position_value"] == pytest.approx(30_500.0)
    assert a["unrealized_pnl"] == pytest.approx(500.0) and a["margin_used"] == pytest.approx(3_050.0)
    b = snap.positions.filter(pl.col("address") == B).row(0, named=True)
    assert b["margin_used"] == pytest.approx(1_200.0 + 200.0)  # collateral + uPnL of the short
    accounts = dict(snap.accounts.select("address", "perp_equity").rows())
    # A: main 10,000 + 30,000 + 500 uPnL; flx -1,000 + 2,000 + 100 uPnL.
    assert accounts[A] == pytest.approx(40_500.0 + 1_100.0)
    assert snap.height == 942_770_000 and snap.taken_at.isoformat() == "2026-04-01T21:37:58.542650+00:00"


def test_an_unknown_key_is_counted_per_key_path_and_never_fatal(tmp_path):
    doc = _doc()
    users = doc["exchange"]["locus"]["cls"][0]["user_states"]["user_to_state"]
    users[0][1]["Z"] = 1
    users[1][1]["Z"] = 2
    users[0][1]["p"]["p"][0][1]["q"] = 0
    doc["exchange"]["locus"]["cls"][0]["meta"]["universe"][0]["growthMode"] = "x"
    path = _write(tmp_path, doc)
    state = read_node_state(path)
    assert state.unknown_keys == {
        "exchange.locus.cls[].user_states.user_to_state[][1].Z": 2,
        "exchange.locus.cls[].user_states.user_to_state[][1].p.p[][1].q": 1,
        "exchange.locus.cls[].meta.universe[].growthMode": 1,
    }
    snap = read_state_file(path, _markets)
    assert "exchange.locus.cls[].user_states.user_to_state[][1].Z x2" in snap.extra["unknown_keys"]
    assert snap.positions.height == 6


@pytest.mark.parametrize(("edit", "message"), [
    (lambda d: d["exchange"]["locus"]["cls"][0]["user_states"]["user_to_state"][1][1]["p"]["p"][0][1].pop("e"),
     "exchange.locus.cls[0].user_states.user_to_state[1][1].p.p[0][1]: expected key 'e'"),
    (lambda d: d["exchange"]["locus"]["cls"][1]["user_states"]["user_to_state"][0][1].pop("u"),
     "exchange.locus.cls[1].user_states.user_to_state[0][1]: expected key 'u'"),
    (lambda d: d["exchange"]["locus"]["cls"][0]["meta"].pop("marginTableIdToMarginTable"),
     "exchange.locus.cls[0].meta: expected key 'marginTableIdToMarginTable'"),
    (lambda d: d["exchange"]["locus"]["cls"][0]["user_states"]["user_to_state"][0][1]["p"]["p"][0][1]
     .update(l={"I": {"l": 3, "r": 5}}),
     "exchange.locus.cls[0].user_states.user_to_state[0][1].p.p[0][1].l.I: expected key 'u'"),
    (lambda d: d["exchange"]["locus"]["cls"][0]["oracle"]["pxs"].pop(),
     "exchange.locus.cls[0].oracle.pxs: 3 entries for 4 markets"),
], ids=["position-e", "user-u", "margin-tables", "isolated-u", "oracle-length"])
def test_a_missing_required_key_stops_with_its_key_path(tmp_path, edit, message):
    doc = copy.deepcopy(_doc())
    edit(doc)
    path = _write(tmp_path, doc)
    with pytest.raises(NodeLayoutError) as err:
        read_node_state(path)
    assert message in str(err.value) and str(path) in str(err.value)


def test_the_probe_recognises_the_evidenced_layout_and_only_it(tmp_path):
    assert probe_layout(_write(tmp_path, _doc())).layout == "2026"
    verbose = {"exchange": {"context": {"height": 1, "time": "2025-01-01T00:00:00"},
                            "perp_dexs": [{"clearinghouse": {"meta": {}, "user_states": {}}}]}}
    with pytest.raises(NodeLayoutError, match=r"exchange: expected key 'locus'"):
        probe_layout(_write(tmp_path, verbose, "2.rmp"))
