"""`/wallets` and the leaderboards through the real app over real HTTP, on both backends: period PnL
and ranks computed by hand on a tiny hand-made history, identities across routes on the simulated
store, and bad input for every parameter."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import polars as pl
import pytest
from conftest import serve_app
from test_snapshot_files import _markets

from hltracker.api import Settings, create_app
from hltracker.api.auth import hash_key, new_key
from hltracker.ingest import Ingestor
from hltracker.model import Snapshot, conform
from hltracker.model.schemas import POSITIONS_SCHEMA
from hltracker.store import open_store

P = "/api/external"
A, B, C = "0x" + "a" * 40, "0x" + "b" * 40, "0x" + "c" * 40
T0 = datetime(2026, 10, 1, tzinfo=UTC)
# all-time perp PnL by day after T0; None: the wallet is not in that snapshot
HISTORY = {
    0: {A: 100.0, B: 50.0},
    1: {A: 150.0, B: 80.0},
    23: {A: 150.0, B: 100.0, C: 10.0},  # A unchanged: no history row; C first seen
    30: {A: 400.0, B: 450.0, C: 40.0},
    31: {A: 500.0, B: 300.0, C: 70.0},  # the latest snapshot
}


def _snapshot(day: int) -> Snapshot:
    pnl = HISTORY[day]
    accounts = conform(pl.DataFrame({
        "address": list(pnl), "perp_equity": [1000.0] * len(pnl), "spot_equity": [0.0] * len(pnl),
        "staking_equity": [0.0] * len(pnl), "vault_equity": [0.0] * len(pnl), "balance": [1000.0] * len(pnl),
        "all_time_pnl": list(pnl.values()), "perp_volume_30d": [5000.0] * len(pnl),
    }), "accounts")
    positions = conform(pl.DataFrame(schema=POSITIONS_SCHEMA), "positions")
    return Snapshot(taken_at=T0 + timedelta(days=day), source="simulator", markets=_markets(), accounts=accounts,
                    positions=positions)


@pytest.fixture
def hand_made(new_store_url):
    url = new_store_url("handmade")
    store = open_store(url)
    report = Ingestor(store).ingest(_snapshot(day) for day in HISTORY)
    assert report.landed == len(HISTORY) and not report.rejected
    key = new_key()
    store.add_api_key(hash_key(key), "t", datetime.now(UTC))
    app = create_app(store, Settings(database=url, rate_limit_per_minute=0), poll=False)
    with serve_app(app) as base, httpx.Client(base_url=base + P, headers={"Authorization": f"Bearer {key}"}) as c:
        yield c, store
    store.close()


def test_period_pnl_and_ranks_match_a_hand_computed_history(hand_made):
    client, store = hand_made
    # change-only history: A's unchanged day-23 figure wrote no row
    assert store.query("wallet_history_of", address=A)["all_time_pnl"].to_list() == [100.0, 150.0, 400.0, 500.0]
    assert store.query("wallet_history_of", address=C)["snapshot_id"].to_list() == [3, 4, 5]
    board = client.get("/leaderboards/perp-pnl", params={"limit": 25}).json()
    assert board["totalCount"] == 3
    got = {e["address"]: e for e in board["data"]}
    # day 31 minus: the snapshot nearest 24 h before (day 30), 7 d before (day 24 -> day 23, the nearer),
    # 30 d before (day 1); C, first seen on day 23, counts from its first figure for the month
    assert {a: (e["pnlDay"], e["pnlWeek"], e["pnlMonth"], e["pnlAllTime"]) for a, e in got.items()} == {
        A: (100.0, 350.0, 350.0, 500.0),  # A's day-23 figure is its day-1 row: 150
        B: (-150.0, 200.0, 220.0, 300.0),
        C: (30.0, 60.0, 60.0, 70.0),
    }
    assert got[C]["firstSeenAt"] == "2026-10-24T00:00:00.000Z"
    assert [e["address"] for e in board["data"]] == [A, B, C]  # by pnlAllTime desc
    # at day 30, B (450) led A (400): previous ranks by all-time PnL
    assert [(e["rank"], e["previousRank"]) for e in board["data"]] == [(1, 2), (2, 1), (3, 3)]
    by_day = client.get("/leaderboards/perp-pnl", params={"orderBy": "pnlDay", "limit": 25}).json()["data"]
    assert [(e["address"], e["rank"]) for e in by_day] == [(A, 1), (C, 2), (B, 3)]
    # rankBy sets the rank only; orderBy the order
    mixed = client.get("/leaderboards/perp-pnl", params={"orderBy": "pnlAllTime", "rankBy": "pnlDay",
                                                         "order": "asc", "limit": 25}).json()["data"]
    assert [(e["address"], e["rank"]) for e in mixed] == [(C, 2), (B, 3), (A, 1)]
    page = client.get("/leaderboards/perp-pnl", params={"limit": 25, "offset": 2}).json()
    assert [e["address"] for e in page["data"]] == [C] and page["totalCount"] == 3
    # the download: a signed absolute URL to the CSV of the period's board, ranked by that period
    link = client.get("/leaderboards/perp-pnl/24h/download").json()["downloadUrl"]
    assert link.startswith(f"{client.base_url.scheme}://{client.base_url.netloc.decode()}{P}/downloads/")
    csv_text = httpx.get(link).text
    lines = csv_text.splitlines()
    assert lines[0].startswith("address,rank,previousRank,") and [line.split(",")[:2] for line in lines[1:]] == [
        [A, "1"], [C, "2"], [B, "3"]]
    assert client.get("/leaderboards/perp-pnl/1y/download").status_code == 400


def _all_wallets(c: httpx.Client, **params) -> list[dict]:
    items, offset = [], 0
    while True:
        page = c.get(f"{P}/wallets", params={**params, "limit": 500, "offset": offset}).json()
        items += page["items"]
        offset += 500
        if offset >= page["totalCount"]:
            assert len(items) == page["totalCount"]
            return items


def test_wallet_open_values_sum_to_the_coin_totals_per_side(api):
    with api.client() as c:
        coins = c.get(f"{P}/positions/coins").json()
        wallets = _all_wallets(c, hasOpenPositions="true")
    assert len({w["address"] for w in wallets}) == len(wallets)  # offset pages never overlap
    assert sum(w["openLongValue"] for w in wallets) == pytest.approx(sum(r["totalValueLong"] for r in coins))
    assert sum(w["openShortValue"] for w in wallets) == pytest.approx(sum(r["totalValueShort"] for r in coins))
    assert sum(w["countOpenPositions"] for w in wallets) == sum(r["count"] for r in coins)


def test_a_wallets_open_position_count_equals_its_open_positions(api):
    with api.client() as c:
        some = c.get(f"{P}/wallets", params={"orderBy": "countOpenPositions", "limit": 5}).json()["items"]
        some += c.get(f"{P}/wallets", params={"orderBy": "closestLiqProgress", "limit": 5}).json()["items"]
        for wallet in some:
            open_ = c.get(f"{P}/positions", params={"address": wallet["address"], "open": "true"}).json()["positions"]
            assert len(open_) == wallet["countOpenPositions"] > 0
            if any(p["liquidationPrice"] is not None for p in open_):
                assert wallet["closestLiq"]["coin"] in {p["coin"] for p in open_ if p["liquidationPrice"] is not None}
            assert sum(p["positionValue"] for p in open_) == pytest.approx(wallet["openValue"])


def test_leaderboard_all_time_pnl_is_the_wallets_perp_pnl(api):
    with api.client() as c:
        board = c.get(f"{P}/leaderboards/perp-pnl", params={"limit": 100}).json()
        assert board["totalCount"] > 100
        top = board["data"]
        values = [e["pnlAllTime"] for e in top]
        assert values == sorted(values, reverse=True) and [e["rank"] for e in top] == list(range(1, 101))
        wallets = c.get(f"{P}/wallets", params={"address": [e["address"] for e in top[:40]], "limit": 500}).json()
        perp_pnl = {w["address"]: w["perpPnl"] for w in wallets["items"]}
        for entry in top[:40]:
            if entry["address"] in perp_pnl:  # /wallets lists active wallets only
                assert entry["pnlAllTime"] == perp_pnl[entry["address"]]
        assert perp_pnl
        # 24 hours of history: the week and month figures go back to the first snapshot, the day one does not
        assert any(e["pnlDay"] != e["pnlWeek"] for e in top) and all(e["pnlWeek"] == e["pnlMonth"] for e in top)


def test_biggest_positions_are_the_largest_open_positions(api):
    with api.client() as c:
        biggest = c.get(f"{P}/leaderboards/biggest-positions", params={"limit": 10}).json()
        everything = c.get(f"{P}/positions", params={"open": "true", "orderBy": "value", "limit": 10}).json()
        assert [p["id"] for p in biggest["data"]] == [p["id"] for p in everything["positions"]]
        for p, q in zip(biggest["data"], everything["positions"], strict=True):
            assert p["value"] == (q["positionValue"] if q["side"] == "long" else -q["positionValue"])
        coins = c.get(f"{P}/positions/coins").json()
        assert biggest["totalCount"] == sum(r["count"] for r in coins)
        recent = c.get(f"{P}/leaderboards/biggest-positions", params={"openedWithin": "24h"}).json()
        assert recent["totalCount"] < biggest["totalCount"]
        assert all(p["openTime"] >= "2026-11-19T00:00:00.000Z" for p in recent["data"])


@pytest.mark.parametrize(("path", "params", "message"), [
    ("/wallets", {"orderBy": "bogus"}, "orderBy must be one of the following values: address, totalEquity"),
    ("/wallets", {"order": "up"}, "order must be one of the following values: asc, desc"),
    ("/wallets", {"limit": 501}, "limit must not be greater than 500"),
    ("/wallets", {"limit": 0}, "limit must not be less than 1"),
    ("/wallets", {"offset": -1}, "offset must not be less than 0"),
    ("/wallets", {"segmentIds": "0"}, "segmentIds must be a segment id from 1 to 16"),
    ("/wallets", {"segmentIds": "fish"}, "segmentIds must be a segment id from 1 to 16"),
    ("/wallets", {"hasOpenPositions": "maybe"}, "hasOpenPositions must be a boolean value"),
    ("/wallets", {"address": "0x123"}, "address must be a 0x-prefixed 40-hex-digit wallet address"),
    ("/leaderboards/perp-pnl", {"limit": 30}, "limit must be one of the following values: 25, 50, 100"),
    ("/leaderboards/perp-pnl", {"limit": "x"}, "limit must be an integer number"),
    ("/leaderboards/perp-pnl", {"orderBy": "pnlYear"}, "orderBy must be one of the following values: pnlDay"),
    ("/leaderboards/perp-pnl", {"rankBy": "volume"}, "rankBy must be one of the following values: pnlDay"),
    ("/leaderboards/perp-pnl", {"order": "sideways"}, "order must be one of the following values: asc, desc"),
    ("/leaderboards/perp-pnl", {"offset": "-5"}, "offset must not be less than 0"),
    ("/leaderboards/biggest-positions", {"openedWithin": "1y"}, "openedWithin must be one of the following values"),
    ("/leaderboards/biggest-positions", {"limit": 101}, "limit must not be greater than 100"),
])
def test_bad_input_to_the_new_routes_is_a_400_naming_the_allowed_values(api, path, params, message):
    with api.client() as c:
        r = c.get(P + path, params=params)
    assert r.status_code == 400, (path, params, r.status_code, r.text)
    body = r.json()
    assert set(body) == {"statusCode", "message", "error"} and body["error"] == "Bad Request"
    assert message in body["message"], body["message"]


def test_an_unknown_address_is_an_empty_page_and_filters_hold(api):
    with api.client() as c:
        empty = c.get(f"{P}/wallets", params={"address": "0x" + "0" * 40}).json()
        assert empty == {"totalCount": 0, "items": []}
        whales = _all_wallets(c, segmentIds=["7", "8"])
        assert whales and all({7, 8} & set(w["segments"]) for w in whales)
        flat = c.get(f"{P}/wallets", params={"hasOpenPositions": "false", "limit": 50}).json()["items"]
        assert all(w["countOpenPositions"] == 0 and w["closestLiq"] is None for w in flat)
        by_pnl = c.get(f"{P}/wallets", params={"orderBy": "perpPnl", "order": "asc", "limit": 50}).json()["items"]
        assert [w["perpPnl"] for w in by_pnl] == sorted(w["perpPnl"] for w in by_pnl)
