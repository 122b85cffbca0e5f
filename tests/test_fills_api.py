"""The fill and closed-trade routes through the real app over real HTTP, on both backends.

Two parts:
- the hand-made history of trade_history.py (open, add, partial close, flip, liquidation), ingested as
  two snapshots into a fresh store: every figure of /fills, /fills/liquidation, /closed-trades, the
  summary, /closed-trades/{hash} and its fills is checked against the values worked out by hand there;
  bad input for every new parameter is a 400 (or a 404 for an unknown coin or trade) in NestJS shape;
- the simulated two days of the shared `api` store: the liquidation fills of a window are exactly the
  position lifecycles that ended in a liquidation in it, and each one's rebuilt trade ended in it.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import httpx
import polars as pl
import pytest
from conftest import serve_app
from stores import table_contents
from trade_history import BEFORE_T1, BEFORE_T2, T0, T1, T2, A, B, C, L, fills, ms

from hltracker.api import Settings, create_app
from hltracker.api.auth import hash_key, new_key
from hltracker.engine import position_id
from hltracker.ingest import Ingestor
from hltracker.model import Snapshot, conform
from hltracker.store import open_store

P = "/api/external"
DAY = "2026-05-04"
APPROX = {"rel": 1e-12, "abs": 1e-12}
TRADE_1 = position_id(A, "main", "BTC", ms(T0 + timedelta(minutes=1)))  # long: open, add, partial close, flip
TRADE_2 = position_id(A, "main", "BTC", ms(T0 + timedelta(minutes=12)))  # short: opened by the flip, liquidated
TRADE_3 = position_id(B, "main", "ETH", ms(T0 + timedelta(minutes=3)))  # short, closed
OPEN_TRADE = position_id(B, "main", "ETH", ms(T0 + timedelta(minutes=15)))  # B's long, still open


def _markets() -> pl.DataFrame:
    return conform(pl.DataFrame({
        "coin": ["BTC", "ETH"], "dex": ["main", "main"], "mark_price": [140.0, 9.0], "oracle_price": [140.0, 9.0],
        "mid_price": [140.0, 9.0], "premium": [0.0, 0.0], "funding_rate": [0.0, 0.0], "open_interest": [5.0, 10.0],
        "day_ntl_volume": [1e6, 1e5], "max_leverage": [40, 25], "sz_decimals": [5, 4], "is_delisted": [False] * 2,
        "only_isolated": [False] * 2,
    }), "markets")


def _accounts() -> pl.DataFrame:
    who = [A, B, C, L]
    return conform(pl.DataFrame({
        "address": who, "perp_equity": [10_000.0] * 4, "spot_equity": [0.0] * 4, "staking_equity": [0.0] * 4,
        "vault_equity": [0.0] * 4, "balance": [0.0] * 4, "all_time_pnl": [0.0] * 4, "perp_volume_30d": [1e4] * 4,
    }), "accounts")


def _positions(rows: list[tuple]) -> pl.DataFrame:
    """(address, coin, szi, entry, open minute or None) -> positions with funding since open 0."""
    return conform(pl.DataFrame({
        "address": [r[0] for r in rows], "coin": [r[1] for r in rows], "dex": ["main"] * len(rows),
        "szi": [r[2] for r in rows], "entry_price": [r[3] for r in rows],
        "position_value": [abs(r[2]) * r[3] for r in rows], "unrealized_pnl": [0.0] * len(rows),
        "liquidation_price": [None] * len(rows), "leverage_type": ["cross"] * len(rows), "leverage": [5] * len(rows),
        "margin_used": [0.0] * len(rows), "max_leverage": [40] * len(rows), "funding_since_open": [0.0] * len(rows),
        "open_time": [T0 + timedelta(minutes=r[4]) if r[4] is not None else None for r in rows],
    }, schema_overrides={"open_time": pl.Datetime("ms", "UTC")}), "positions")


def hand_snapshots() -> list[Snapshot]:
    first = Snapshot(T1, "hand", _markets(), _accounts(),
                     _positions([(A, "BTC", 4.0, 105.0, 1), (B, "ETH", -10.0, 10.0, 3), (C, "BTC", 3.0, 90.0, None)]),
                     fills=fills(BEFORE_T1))
    second = Snapshot(T2, "hand", _markets(), _accounts(),
                      _positions([(B, "ETH", 3.0, 9.0, 15), (L, "BTC", -2.0, 140.0, 13), (C, "BTC", 3.0, 90.0, None)]),
                      fills=fills(BEFORE_T2))
    return [first, second]


@pytest.fixture(scope="module")
def hand(new_store_url):
    """The hand-made history landed in a fresh store on this backend, served over loopback."""
    url = new_store_url("hand_trades")
    store = open_store(url)
    report = Ingestor(store).ingest(hand_snapshots())
    assert report.landed == 2 and not report.rejected
    key = new_key()
    store.add_api_key(hash_key(key), "hand", datetime.now(UTC))
    with serve_app(create_app(store, Settings(database=url, rate_limit_per_minute=0))) as base, \
            httpx.Client(base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=60) as client:
        yield client
    store.close()


def _ok(r: httpx.Response) -> dict:
    assert r.status_code == 200, r.text
    return r.json()


def _nest(r: httpx.Response, status: int, message: str) -> None:
    assert r.status_code == status, (r.status_code, r.text)
    body = r.json()
    assert set(body) == {"statusCode", "message", "error"} and body["statusCode"] == status, body
    assert message in body["message"], body


# --- /fills ---

def test_fills_of_two_wallets_over_one_day_oldest_first_with_their_trades(hand):
    body = _ok(hand.get(f"{P}/fills", params={"address": [A, B], "start": DAY}))
    got = [(f["address"], f["time"][11:16], f["dir"]) for f in body["fills"]]
    assert got == [(A, "09:01", "Open Long"), (A, "09:02", "Open Long"), (B, "09:03", "Open Short"),
                   (A, "09:11", "Close Long"), (A, "09:12", "Long > Short"), (A, "09:13", "Close Short"),
                   (B, "09:14", "Close Short"), (B, "09:15", "Open Long")]
    assert body["nextCursor"] is None
    flip = body["fills"][4]
    assert (flip["tradeHash"], flip["flipTradeHash"]) == (TRADE_1, TRADE_2)
    assert (flip["px"], flip["sz"], flip["startPosition"], flip["closedPnl"], flip["fee"]) == (
        130.0, 5.0, 3.0, 75.0, 0.5)
    liquidation = body["fills"][5]
    assert liquidation["fillType"] == "liquidation" and liquidation["liquidatedUser"] == A
    assert liquidation["liquidationMarkPx"] == 141.0 and liquidation["liquidationMethod"] == "backstop"
    assert body["fills"][0]["fillType"] == "trade" and body["fills"][0]["liquidatedUser"] is None
    # the two sides of the liquidation share the fill hash, as they share a tid (and a transaction on Hyperliquid)
    sides = _ok(hand.get(f"{P}/fills", params={"address": [A, L], "start": DAY, "dir": "Close Short"}))["fills"]
    both = _ok(hand.get(f"{P}/fills", params={"address": L, "start": DAY}))["fills"] + sides
    assert {f["hash"] for f in both} == {"0x" + hashlib.sha256(b"BTC|7").hexdigest()} and len(both) == 2
    assert len({f["hash"] for f in body["fills"]}) == 8
    # the fill of C's position opened before any fill seen belongs to no trade
    c_fills = _ok(hand.get(f"{P}/fills", params={"address[]": C, "start": DAY}))["fills"]
    assert [f["tradeHash"] for f in c_fills] == [None]


def test_fills_filters_and_cursor_pages(hand):
    base = {"address": f"{A},{B}", "start": f"{DAY}T09:00:00Z", "end": f"{DAY}T23:59:59Z"}
    eth = _ok(hand.get(f"{P}/fills", params={**base, "coin": "eth"}))["fills"]
    assert [f["time"][14:16] for f in eth] == ["03", "14", "15"]
    sells = _ok(hand.get(f"{P}/fills", params={**base, "side": "A"}))["fills"]
    assert {f["side"] for f in sells} == {"A"} and len(sells) == 3
    flips = _ok(hand.get(f"{P}/fills", params={**base, "dir": "Long > Short"}))["fills"]
    assert [f["tid"] for f in flips] == [1012]
    window = _ok(hand.get(f"{P}/fills", params={**base, "start": f"{DAY}T09:05:00Z", "end": f"{DAY}T09:13:00Z"}))
    assert [f["time"][14:16] for f in window["fills"]] == ["11", "12", "13"]
    seen, cursor = [], None
    for _ in range(5):
        page = _ok(hand.get(f"{P}/fills", params={**base, "limit": 3, **({"nextCursor": cursor} if cursor else {})}))
        seen += [f["hash"] for f in page["fills"]]
        cursor = page["nextCursor"]
        if not cursor:
            break
    everything = _ok(hand.get(f"{P}/fills", params=base))["fills"]
    assert seen == [f["hash"] for f in everything] and len(seen) == 8


# --- /fills/liquidation ---

def test_liquidation_fills_list_only_the_liquidated_wallets_own_fill(hand):
    newest = _ok(hand.get(f"{P}/fills/liquidation"))["fills"]
    assert [(f["address"], f["coin"], f["time"]) for f in newest] == [(A, "BTC", "2026-05-04T09:13:00.000Z")]
    assert newest[0]["closedPnl"] == -20.0 and newest[0]["tradeHash"] == TRADE_2
    assert _ok(hand.get(f"{P}/fills/liquidation", params={"coin": "btc", "start": DAY}))["fills"] == newest
    assert _ok(hand.get(f"{P}/fills/liquidation", params={"coin": "ETH"}))["fills"] == []
    assert _ok(hand.get(f"{P}/fills/liquidation", params={"address": L}))["fills"] == []
    assert _ok(hand.get(f"{P}/fills/liquidation", params={"side": "A"}))["fills"] == []
    later = {"start": f"{DAY}T09:14:00Z", "end": f"{DAY}T10:00:00Z"}
    assert _ok(hand.get(f"{P}/fills/liquidation", params=later))["fills"] == []


# --- /closed-trades ---

def test_closed_trades_are_the_hand_computed_ones_newest_close_first(hand):
    body = _ok(hand.get(f"{P}/closed-trades", params={"address": A, "startTime": DAY, "endTime": f"{DAY}T23:00:00Z"}))
    assert [t["hash"] for t in body["trades"]] == [TRADE_2, TRADE_1] and body["nextCursor"] is None
    short, long_ = body["trades"]
    assert long_ == {
        "hash": TRADE_1, "address": A, "coin": "BTC", "dex": "main", "direction": "long",
        "openTime": "2026-05-04T09:01:00.000Z", "closeTime": "2026-05-04T09:12:00.000Z", "durationMs": 660_000,
        "size": 4.0, "maxSize": 4.0, "avgEntryPrice": 105.0, "avgExitPrice": 127.5, "closedPnl": 90.0,
        "fees": pytest.approx(0.8, **APPROX), "funding": 0.0, "netPnl": pytest.approx(89.2, **APPROX),
        "volume": 930.0, "fillCount": 4, "liquidated": False,
    }
    assert short["direction"] == "short" and short["liquidated"] is True and short["funding"] is None
    assert (short["size"], short["avgEntryPrice"], short["avgExitPrice"], short["closedPnl"]) == (
        2.0, 130.0, 140.0, -20.0)
    assert short["netPnl"] == pytest.approx(-20.2, **APPROX) and short["durationMs"] == 60_000
    # the default window is the 7 days before the latest snapshot; paging by one
    first = _ok(hand.get(f"{P}/closed-trades", params={"address": A, "limit": 1}))
    assert [t["hash"] for t in first["trades"]] == [TRADE_2] and first["nextCursor"]
    second = _ok(hand.get(f"{P}/closed-trades", params={"address": A, "limit": 1, "nextCursor": first["nextCursor"]}))
    assert [t["hash"] for t in second["trades"]] == [TRADE_1] and second["nextCursor"] is None
    b = _ok(hand.get(f"{P}/closed-trades", params={"address": B, "coin": "eth"}))["trades"]
    assert [(t["hash"], t["netPnl"]) for t in b] == [(TRADE_3, pytest.approx(9.9, **APPROX))]
    assert _ok(hand.get(f"{P}/closed-trades", params={"address": A, "coin": "ETH"}))["trades"] == []


def test_one_trade_and_its_fills(hand):
    trade = _ok(hand.get(f"{P}/closed-trades/{TRADE_1.upper()}"))
    assert trade["hash"] == TRADE_1 and trade["netPnl"] == pytest.approx(89.2, **APPROX)
    fills_1 = _ok(hand.get(f"{P}/closed-trades/{TRADE_1}/fills"))
    assert [f["time"][14:16] for f in fills_1["fills"]] == ["01", "02", "11", "12"]
    paged = _ok(hand.get(f"{P}/closed-trades/{TRADE_1}/fills", params={"limit": 3}))
    rest = _ok(hand.get(f"{P}/closed-trades/{TRADE_1}/fills", params={"limit": 3, "nextCursor": paged["nextCursor"]}))
    assert paged["fills"] + rest["fills"] == fills_1["fills"] and rest["nextCursor"] is None
    fills_2 = _ok(hand.get(f"{P}/closed-trades/{TRADE_2}/fills"))["fills"]
    assert [(f["time"][14:16], f["dir"]) for f in fills_2] == [("12", "Long > Short"), ("13", "Close Short")]
    _nest(hand.get(f"{P}/closed-trades/{OPEN_TRADE}"), 404, "not found")  # still open: not a closed trade
    _nest(hand.get(f"{P}/closed-trades/{OPEN_TRADE}/fills"), 404, "not found")


def test_summary_figures_are_the_hand_computed_ones(hand):
    body = _ok(hand.get(f"{P}/closed-trades/summary", params={"address": A}))
    assert body == {
        "address": A, "interval": "all", "startTime": None, "endTime": "2026-05-04T09:20:00.000Z",
        "totalTrades": 2, "winningTrades": 1, "losingTrades": 1, "liquidatedTrades": 1, "winRate": 0.5,
        "netPnl": pytest.approx(69.0, **APPROX), "totalWinningPnl": pytest.approx(89.2, **APPROX),
        "totalLosingPnl": pytest.approx(-20.2, **APPROX), "profitFactor": pytest.approx(89.2 / 20.2, **APPROX),
        "avgGain": pytest.approx(89.2, **APPROX), "avgLoss": pytest.approx(-20.2, **APPROX),
        "payoffRatio": pytest.approx(89.2 / 20.2, **APPROX), "expectancy": pytest.approx(34.5, **APPROX),
        "expectancyPct": pytest.approx(34.5 / 340.0, **APPROX), "avgTradeSize": 340.0, "totalVolume": 1470.0,
        "totalFees": pytest.approx(1.0, **APPROX), "totalFunding": 0.0, "avgDurationMs": 360_000.0,
        "coins": [{"coin": "BTC", "totalTrades": 2, "winningTrades": 1, "losingTrades": 1, "winRate": 0.5,
                   "netPnl": pytest.approx(69.0, **APPROX), "volume": 1470.0, "volumeSharePct": 1.0}],
    }
    for interval in ("30d", "last50"):
        other = _ok(hand.get(f"{P}/closed-trades/summary", params={"address": A, "interval": interval}))
        assert {k: other[k] for k in ("totalTrades", "netPnl", "winRate")} == {
            k: body[k] for k in ("totalTrades", "netPnl", "winRate")}
    b = _ok(hand.get(f"{P}/closed-trades/summary", params={"address": B}))
    assert (b["totalTrades"], b["losingTrades"], b["profitFactor"], b["avgLoss"], b["payoffRatio"]) == (
        1, 0, None, None, None)
    nobody = _ok(hand.get(f"{P}/closed-trades/summary", params={"address": "0x" + "9" * 40}))
    assert (nobody["totalTrades"], nobody["winRate"], nobody["expectancy"], nobody["coins"]) == (0, None, None, [])


# --- bad input: a clear 4xx for every new parameter ---

ELEVEN = [f"0x{i:040x}" for i in range(1, 12)]


@pytest.mark.parametrize(("path", "params", "status", "message"), [
    ("/fills", {"start": DAY}, 400, "address should not be empty"),
    ("/fills", {"address": ELEVEN, "start": DAY}, 400, "address must contain no more than 10 elements"),
    ("/fills", {"address": "0x123", "start": DAY}, 400, "address must be a 0x-prefixed 40-hex-digit wallet address"),
    ("/fills", {"address": A}, 400, "start should not be empty"),
    ("/fills", {"address": A, "start": "yesterday"}, 400, "start must be a valid ISO 8601 date string"),
    ("/fills", {"address": A, "start": DAY, "end": "2026-05-05T00:00:00Z"}, 400,
     "End date must be within the same day as the start date"),
    ("/fills", {"address": A, "start": f"{DAY}T10:00:00Z", "end": f"{DAY}T09:00:00Z"}, 400,
     "end must not be earlier than start"),
    ("/fills", {"address": A, "start": DAY, "side": "X"}, 400, "side must be one of the following values: B, A"),
    ("/fills", {"address": A, "start": DAY, "dir": "Sideways"}, 400, "dir must be one of the following values"),
    ("/fills", {"address": A, "start": DAY, "limit": 1001}, 400, "limit must not be greater than 1000"),
    ("/fills", {"address": A, "start": DAY, "limit": 0}, 400, "limit must not be less than 1"),
    ("/fills", {"address": A, "start": DAY, "coin": "NOPE"}, 404, "Coin NOPE not found"),
    ("/fills", {"address": A, "start": DAY, "nextCursor": "forged.cursor"}, 400, "nextCursor is invalid"),
    ("/fills/liquidation", {"coin[]": "BTC"}, 400, "coin must be a string"),
    ("/fills/liquidation", {"coin": "NOPE"}, 404, "Coin NOPE not found"),
    ("/fills/liquidation", {"end": DAY}, 400, "start should not be empty when end is given"),
    ("/fills/liquidation", {"start": "2026-01-01", "end": DAY}, 400, "end must be at most 3 months (92 days)"),
    ("/fills/liquidation", {"side": "sell"}, 400, "side must be one of the following values: B, A"),
    ("/fills/liquidation", {"address": "0xnope"}, 400, "address must be a 0x-prefixed"),
    ("/fills/liquidation", {"address": f"{A},{B}"}, 400, "address must be a single wallet address"),
    ("/fills/liquidation", {"limit": 5000}, 400, "limit must not be greater than 1000"),
    ("/fills/liquidation", {"nextCursor": "x.y"}, 400, "nextCursor is invalid"),
    ("/closed-trades", {}, 400, "address should not be empty"),
    ("/closed-trades", {"address": A, "startTime": "2026-03-01", "endTime": DAY}, 400,
     "endTime - startTime can not be longer then 1 month"),
    ("/closed-trades", {"address": A, "startTime": DAY, "endTime": "2026-05-01"}, 400,
     "endTime must not be earlier than startTime"),
    ("/closed-trades", {"address": A, "startTime": "1714000000000"}, 400,
     "startTime must be a valid ISO 8601 date string"),
    ("/closed-trades", {"address": A, "limit": 501}, 400, "limit must not be greater than 500"),
    ("/closed-trades", {"address": A, "coin": "NOPE"}, 404, "Coin NOPE not found"),
    ("/closed-trades", {"address": A, "nextCursor": "forged.cursor"}, 400, "nextCursor is invalid"),
    ("/closed-trades/summary", {}, 400, "address should not be empty"),
    ("/closed-trades/summary", {"address": A, "interval": "7d"}, 400,
     "interval must be one of the following values: all, 365d, 180d, 90d, 30d, last50"),
    ("/closed-trades/not-a-hash", {}, 400, "hash must be a closed trade hash: 64 hexadecimal digits"),
    ("/closed-trades/" + "0" * 64, {}, 404, f"Closed trade {'0' * 64} not found"),
    ("/closed-trades/" + "g" * 64 + "/fills", {}, 400, "hash must be a closed trade hash"),
    (f"/closed-trades/{TRADE_1}/fills", {"limit": 501}, 400, "limit must not be greater than 500"),
    (f"/closed-trades/{TRADE_1}/fills", {"nextCursor": "forged.cursor"}, 400, "nextCursor is invalid"),
])
def test_bad_input_gets_a_clear_error(hand, path, params, status, message):
    _nest(hand.get(P + path, params=params), status, message)


def test_a_cursor_of_other_filters_is_refused(hand):
    first = _ok(hand.get(f"{P}/fills", params={"address": A, "start": DAY, "limit": 1}))
    other = hand.get(f"{P}/fills", params={"address": B, "start": DAY, "limit": 1, "nextCursor": first["nextCursor"]})
    _nest(other, 400, "nextCursor is invalid")
    trades = _ok(hand.get(f"{P}/closed-trades", params={"address": A, "limit": 1}))
    _nest(hand.get(f"{P}/closed-trades", params={"address": B, "nextCursor": trades["nextCursor"]}), 400,
          "nextCursor is invalid")


# --- the simulated history: liquidation fills and liquidated positions are one set ---

WINDOW = ("2026-11-18T00:00:00Z", "2026-11-20T12:00:00Z")


def test_liquidation_fills_of_a_window_equal_the_positions_that_ended_in_liquidation(api):
    with api.client() as client:
        liquidations, cursor = [], None
        for _ in range(100):
            params = {"start": WINDOW[0], "end": WINDOW[1], "limit": 200, **({"nextCursor": cursor} if cursor else {})}
            page = _ok(client.get(f"{P}/fills/liquidation", params=params))
            liquidations += page["fills"]
            cursor = page["nextCursor"]
            if not cursor:
                break
        assert len(liquidations) > 20 and [f["time"] for f in liquidations] == sorted(f["time"] for f in liquidations)
        start, end = (datetime.fromisoformat(w) for w in WINDOW)
        lifecycles = api.store.query(
            "positions_by_open_time_asc", start=start, end=None, coin=None, addresses=None, open=False,
            segment_id=None, after_id=None, after_value=None, limit=10**7,
        ).filter(pl.col("closed_by_liquidation") & (pl.col("close_time") >= start) & (pl.col("close_time") <= end))
        from_fills = {(f["address"], f["coin"], f["time"]) for f in liquidations}
        from_positions = {(r["address"], r["coin"], r["close_time"].strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z")
                          for r in lifecycles.iter_rows(named=True)}
        assert len(from_fills) == len(liquidations)
        assert from_fills == from_positions
        # every liquidation fill that closed a rebuilt trade closed it as liquidated, at that fill
        rebuilt = [f for f in liquidations if f["tradeHash"]]
        assert rebuilt
        for f in rebuilt:
            trade = _ok(client.get(f"{P}/closed-trades/{f['tradeHash']}"))
            assert trade["liquidated"] is True and trade["closeTime"] == f["time"] and trade["address"] == f["address"]
        wallets = sorted({f["address"] for f in liquidations})
        flagged = 0
        for wallet in wallets:
            trades = _ok(client.get(f"{P}/closed-trades", params={
                "address": wallet, "startTime": WINDOW[0], "endTime": WINDOW[1], "limit": 500}))["trades"]
            flagged += sum(t["liquidated"] for t in trades)
        assert flagged == len(rebuilt)


def test_a_restart_between_snapshots_continues_the_same_trades(new_store_url):
    """The open part of a trade lives in the store (`open_trades`), so an ingest restarted between the two
    snapshots lands exactly the rows of an uninterrupted one, and re-ingesting changes nothing."""
    snapshots = hand_snapshots()
    straight, restarted = new_store_url("trades_straight"), new_store_url("trades_restarted")
    with open_store(straight) as store:
        Ingestor(store).ingest(snapshots)
    for snapshot in snapshots:  # a new process for each snapshot: state from the store only
        with open_store(restarted) as store:
            assert Ingestor(store).offer(snapshot)
    with open_store(restarted) as store:
        assert Ingestor(store).ingest(snapshots).skipped == 2
        assert store.query("closed_trade", hash=TRADE_3).height == 1  # opened before the restart, closed after
    left, right = table_contents(straight, drop_wall_clock=True), table_contents(restarted, drop_wall_clock=True)
    for table in ("fills", "closed_trades", "open_trades", "open_positions", "closed_positions"):
        assert left[table].height and left[table].equals(right[table]), table
