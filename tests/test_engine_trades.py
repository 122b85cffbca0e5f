"""Closed trades rebuilt from fills (engine/trades.py), on the hand-made history of trade_history.py.

Every figure below was worked out by hand in that module's docstring: open, add, partial close, a flip
(a close plus an open in one fill), a liquidation, a trade still open, and fills of a position opened
before any fill was seen. The history is fed in two batches (the open trades carried between them, as
the store carries them across a restart) and in one, and both give the same trades.
"""

from __future__ import annotations

import hashlib

import polars as pl
import pytest
from trade_history import BEFORE_T1, BEFORE_T2, T0, T1, T2, A, B, C, L, fills, ms

from hltracker.engine.trades import rebuild
from hltracker.model.outputs import CLOSED_TRADES_SCHEMA, OPEN_TRADES_SCHEMA, STORED_FILLS_SCHEMA

APPROX = {"rel": 1e-12, "abs": 1e-12}


def trade_hash(address: str, coin: str, minute: int) -> str:
    return hashlib.sha256(f"{address}|main|{coin}|{ms(T0) + minute * 60_000}".encode()).hexdigest()


def in_two_batches(funding: pl.DataFrame | None = None):
    first = rebuild(fills(BEFORE_T1), None, None, ms(T1))
    second = rebuild(fills(BEFORE_T2), first.open_trades, ms(T1), ms(T2), funding)
    return first, second


def test_the_first_batch_opens_and_adds_and_leaves_the_trades_open():
    first, _ = in_two_batches()
    assert first.closed_trades.height == 0
    rows = {r["address"]: r for r in first.open_trades.to_dicts()}
    assert set(rows) == {A, B}  # C's fill reduces a position opened before any fill: no trade
    a = rows[A]
    assert a["hash"] == trade_hash(A, "BTC", 1) and a["direction"] == "long" and a["open_time"] == T0.replace(minute=1)
    assert (a["size"], a["max_size"], a["entry_size"], a["entry_notional"]) == (4.0, 4.0, 4.0, 420.0)
    assert a["fees"] == pytest.approx(0.4, **APPROX) and a["fill_count"] == 2 and a["funding"] is None
    assert rows[B]["direction"] == "short" and rows[B]["size"] == 10.0


def test_partial_close_flip_and_liquidation_give_the_hand_computed_trades():
    _, second = in_two_batches()
    trades = {r["hash"]: r for r in second.closed_trades.to_dicts()}
    assert set(trades) == {trade_hash(A, "BTC", 1), trade_hash(A, "BTC", 12), trade_hash(B, "ETH", 3)}
    long_ = trades[trade_hash(A, "BTC", 1)]
    assert long_["direction"] == "long" and long_["close_time"] == T0.replace(minute=12)
    assert long_["size"] == 4.0 and long_["max_size"] == 4.0
    assert long_["entry_price"] == pytest.approx(105.0, **APPROX)
    assert long_["exit_price"] == pytest.approx(127.5, **APPROX)
    assert long_["closed_pnl"] == pytest.approx(90.0, **APPROX)
    assert long_["fees"] == pytest.approx(0.8, **APPROX)  # 0.2 + 0.2 + 0.1 + 3/5 of the flip's 0.5
    assert long_["net_pnl"] == pytest.approx(89.2, **APPROX)
    assert long_["volume"] == pytest.approx(930.0, **APPROX)
    assert long_["fill_count"] == 4 and long_["liquidated"] is False and long_["funding"] is None

    short = trades[trade_hash(A, "BTC", 12)]  # opened by the flip, closed by A's liquidation
    assert short["direction"] == "short" and short["open_time"] == T0.replace(minute=12)
    assert short["close_time"] == T0.replace(minute=13) and short["liquidated"] is True
    assert (short["size"], short["entry_price"], short["exit_price"]) == (2.0, 130.0, 140.0)
    assert short["closed_pnl"] == -20.0 and short["fees"] == pytest.approx(0.2, **APPROX)
    assert short["net_pnl"] == pytest.approx(-20.2, **APPROX) and short["volume"] == 540.0
    assert short["fill_count"] == 2

    eth = trades[trade_hash(B, "ETH", 3)]  # opened in the first batch, closed in the second
    assert (eth["direction"], eth["size"], eth["entry_price"], eth["exit_price"]) == ("short", 10.0, 10.0, 9.0)
    assert eth["net_pnl"] == pytest.approx(9.9, **APPROX) and eth["fill_count"] == 2
    assert eth["open_time"] == T0.replace(minute=3) and eth["close_time"] == T0.replace(minute=14)

    still_open = {r["address"]: r for r in second.open_trades.to_dicts()}
    assert set(still_open) == {B, L}  # B's new long; the liquidator's short is its own, not liquidated
    assert still_open[B]["hash"] == trade_hash(B, "ETH", 15) and still_open[B]["direction"] == "long"
    assert still_open[L]["direction"] == "short" and still_open[L]["size"] == 2.0


def test_each_fill_names_its_trades_and_a_flip_names_both():
    first, second = in_two_batches()
    stored = pl.concat([first.fills, second.fills])
    assert stored.schema == STORED_FILLS_SCHEMA and stored.height == len(BEFORE_T1) + len(BEFORE_T2)
    by_minute = {(r["address"], r["time"].minute): r for r in stored.to_dicts()}
    flip = by_minute[(A, 12)]
    assert flip["trade_hash"] == trade_hash(A, "BTC", 1) and flip["flip_trade_hash"] == trade_hash(A, "BTC", 12)
    assert by_minute[(A, 13)]["trade_hash"] == trade_hash(A, "BTC", 12)
    assert by_minute[(C, 4)]["trade_hash"] is None  # position opened before the first fill seen
    assert {r["flip_trade_hash"] for r in stored.to_dicts() if r["dir"] != "Long > Short"} == {None}
    assert stored["time"].is_sorted()


def test_two_batches_with_the_state_carried_equal_one_batch():
    _, second = in_two_batches()
    whole = rebuild(fills(BEFORE_T1 + BEFORE_T2), None, None, ms(T2))
    assert whole.closed_trades.equals(second.closed_trades)
    assert whole.open_trades.equals(second.open_trades)


def test_rerunning_a_batch_gives_the_same_frames():
    first, second = in_two_batches()
    again = rebuild(fills(BEFORE_T2), first.open_trades, ms(T1), ms(T2))
    assert again.fills.equals(second.fills) and again.closed_trades.equals(second.closed_trades)


def test_fills_outside_the_window_are_not_taken_twice():
    first = rebuild(fills(BEFORE_T1), None, None, ms(T1))
    # a source that repeats the first batch's fills in the second snapshot
    repeated = rebuild(fills(BEFORE_T1 + BEFORE_T2), first.open_trades, ms(T1), ms(T2))
    _, second = in_two_batches()
    assert repeated.fills.equals(second.fills)
    assert repeated.closed_trades.equals(second.closed_trades)
    assert rebuild(fills(BEFORE_T2), None, None, ms(T1)).fills.height == 0  # all after `until`


def test_funding_comes_from_the_lifecycle_with_the_same_id_and_enters_net_pnl():
    funding = pl.DataFrame({"id": [trade_hash(A, "BTC", 1), trade_hash(B, "ETH", 15)], "funding": [1.5, 0.25]})
    _, second = in_two_batches(funding)
    long_ = second.closed_trades.filter(pl.col("hash") == trade_hash(A, "BTC", 1)).row(0, named=True)
    assert long_["funding"] == 1.5 and long_["net_pnl"] == pytest.approx(89.2 - 1.5, **APPROX)
    opened = second.open_trades.filter(pl.col("address") == B).row(0, named=True)
    assert opened["funding"] == 0.25


def test_no_fills_keep_the_open_trades_and_empty_frames_have_the_schemas():
    first, _ = in_two_batches()
    quiet = rebuild(None, first.open_trades, ms(T1), ms(T2))
    assert quiet.open_trades.equals(first.open_trades)
    assert quiet.fills.schema == STORED_FILLS_SCHEMA and quiet.fills.height == 0
    assert quiet.closed_trades.schema == CLOSED_TRADES_SCHEMA and quiet.open_trades.schema == OPEN_TRADES_SCHEMA
