"""/fundings through the real app over real HTTP, on both backends (the shared `api` store: two days of the
`small` simulator): the payments served for a wallet and window are exactly the simulator's `fundings`
frames' rows in it, paging through `nextCursor` to the end has no gap and no duplicate, and bad input is a
400 in NestJS shape naming what is wrong."""

from __future__ import annotations

from datetime import datetime

import httpx
import polars as pl
import pytest
from conftest import HISTORY_START, HISTORY_STEP, HISTORY_STEPS

from hltracker.sources.simulator import SimulatorSource

P = "/api/external"
WINDOW = ("2026-11-18T06:00:00Z", "2026-11-19T18:30:00Z")
A = "0x" + "a" * 40


@pytest.fixture(scope="module")
def simulated_fundings() -> pl.DataFrame:
    """Every funding payment the simulator handed over with the snapshots the `api` store landed."""
    src = SimulatorSource(profile="small", seed=0, steps=HISTORY_STEPS, step=HISTORY_STEP, start=HISTORY_START)
    return pl.concat([s.fundings for s in src.snapshots() if s.fundings is not None])


def _ok(r: httpx.Response) -> dict:
    assert r.status_code == 200, r.text
    return r.json()


def _all_pages(client: httpx.Client, params: dict) -> list[dict]:
    rows, cursor = [], None
    for _ in range(1000):
        page = _ok(client.get(f"{P}/fundings", params={**params, **({"nextCursor": cursor} if cursor else {})}))
        assert len(page["fundings"]) <= params["limit"]
        rows += page["fundings"]
        cursor = page["nextCursor"]
        if not cursor:
            return rows
    raise AssertionError("paging did not end")


def _expected(frame: pl.DataFrame, wallets: list[str], coins: list[str] | None = None) -> pl.DataFrame:
    start, end = (datetime.fromisoformat(w) for w in WINDOW)
    return frame.filter(pl.col("address").is_in(wallets) & pl.col("time").is_between(start, end)
                        & (pl.col("coin").is_in(coins) if coins else pl.lit(True)))


def _key(row: dict) -> tuple:
    return (row["address"], row["coin"], row["time"], row["usdc"], row["szi"], row["fundingRate"])


def _keys(frame: pl.DataFrame) -> list[tuple]:
    return [(r["address"], r["coin"], r["time"].strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z", r["usdc"], r["szi"],
             r["funding_rate"]) for r in frame.iter_rows(named=True)]


def test_served_payments_are_the_simulators_for_the_wallets_and_window(api, simulated_fundings):
    # three wallets with a few dozen payments each (the busiest have thousands: dozens of coins every hour)
    counts = simulated_fundings.group_by("address").len().sort("len", "address")
    wallets = counts.filter(pl.col("len").is_between(20, 60))["address"].head(3).to_list()
    expected = _expected(simulated_fundings, wallets)
    assert len(wallets) == 3 and 30 < expected.height <= 500, "the simulator pays funding over the window"
    with api.client() as client:
        # paging in small pages: every payment once, oldest first, none missing
        served = _all_pages(client, {"address": wallets, "startTime": WINDOW[0], "endTime": WINDOW[1], "limit": 7})
        assert len({_key(r) for r in served}) == len(served)
        assert sorted(map(_key, served)) == sorted(_keys(expected))
        assert [r["time"] for r in served] == sorted(r["time"] for r in served)
        assert sum(r["usdc"] for r in served) == pytest.approx(expected["usdc"].sum(), rel=1e-12)
        # one page of the largest size gives the same rows in the same order
        whole = _ok(client.get(f"{P}/fundings", params={"address": wallets, "startTime": WINDOW[0],
                                                        "endTime": WINDOW[1], "limit": 500}))
        assert whole["nextCursor"] is None and whole["fundings"] == served
        # a coin filter (case-insensitive) keeps that coin's payments only
        coin = expected["coin"].mode().sort()[0]
        by_coin = _all_pages(client, {"address": wallets[0], "startTime": WINDOW[0], "endTime": WINDOW[1],
                                      "coin": coin.lower(), "limit": 500})
        assert sorted(map(_key, by_coin)) == sorted(_keys(_expected(simulated_fundings, wallets[:1], [coin])))


def test_a_wallet_without_payments_gets_an_empty_page(api):
    with api.client() as client:
        body = _ok(client.get(f"{P}/fundings", params={"address": A, "startTime": WINDOW[0], "endTime": WINDOW[1]}))
    assert body == {"fundings": [], "nextCursor": None}


@pytest.mark.parametrize(("params", "message"), [
    ({}, "address should not be empty"),
    ({"address": [f"0x{i:040x}" for i in range(11)]}, "address must contain no more than 10 elements"),
    ({"address": "0xnope"}, "address must be a 0x-prefixed"),
    ({"address": A, "startTime": "2026-10-01", "endTime": "2026-11-19"}, "cannot be longer than 1 month"),
    ({"address": A, "startTime": "2026-11-19", "endTime": "2026-11-18"}, "endTime must not be earlier than startTime"),
    ({"address": A, "startTime": "1763424000000"}, "startTime must be a valid ISO 8601 date string"),
    ({"address": A, "limit": 501}, "limit must not be greater than 500"),
    ({"address": A, "limit": 0}, "limit must not be less than 1"),
    ({"address": A, "nextCursor": "forged.cursor"}, "nextCursor is invalid"),
])
def test_bad_input_gets_a_clear_error(api, params, message):
    with api.client() as client:
        r = client.get(f"{P}/fundings", params=params)
    assert r.status_code == 400, (r.status_code, r.text)
    body = r.json()
    assert set(body) == {"statusCode", "message", "error"} and body["statusCode"] == 400, body
    assert message in (body["message"] if isinstance(body["message"], str) else " ".join(body["message"])), body


def test_a_cursor_of_other_wallets_is_refused(api, simulated_fundings):
    wallets = simulated_fundings["address"].unique().sort().head(2).to_list()
    with api.client() as client:
        first = _ok(client.get(f"{P}/fundings", params={"address": wallets[0], "startTime": WINDOW[0],
                                                        "endTime": WINDOW[1], "limit": 1}))
        assert first["nextCursor"]
        other = client.get(f"{P}/fundings", params={"address": wallets[1], "startTime": WINDOW[0],
                                                    "endTime": WINDOW[1], "nextCursor": first["nextCursor"]})
    assert other.status_code == 400 and "nextCursor is invalid" in other.text
