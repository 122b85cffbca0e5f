"""DuckDB and PostgreSQL answer every API route identically for the same ingested snapshots.

The same two days of simulated history are ingested into a DuckDB file and into a PostgreSQL database;
two apps with the same secret and the same API key serve them, and every route of the OpenAPI spec is
asked the same questions on both: series paged to the end through `nextCursor`, `/positions` under
every ordering and filter, every cohort, size bucket and export file. Status, media type and body must
be byte-identical; downloads are followed and the files compared byte by byte. The only fields left
out are wall-clock ones: `lagSeconds` and `lastLandedAt` (when each store happened to land).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

import httpx
import orjson
import pytest
from conftest import BACKENDS, copy_store, landed_template, serve_app

from hltracker.api import Settings, create_app
from hltracker.api.auth import hash_key, new_key
from hltracker.exports import EXPORTS
from hltracker.model.cohorts import PNL_COHORT_IDS, SIZE_COHORT_IDS
from hltracker.model.size_buckets import SIZE_BUCKET_IDS
from hltracker.store import open_store

P = "/api/external"
SERIES_START = "2026-11-18T00:00:00Z"
SERIES_END = "2026-11-21T00:00:00Z"  # an explicit end: the default (now) is echoed in the bodies
WALL_CLOCK_FIELDS = ("lagSeconds", "lastLandedAt")
SEGMENTS = sorted(SIZE_COHORT_IDS + PNL_COHORT_IDS)


@dataclass
class Twins:
    clients: dict[str, httpx.Client]
    asked: set[str]  # the OpenAPI path templates asked so far

    def ask(
        self, path: str, params: dict | None = None, headers: dict | None = None, now_fields: tuple[str, ...] = ()
    ) -> dict[str, httpx.Response]:
        """The same request to both backends; asserts identical answers and returns them. `now_fields`: body
        fields that echo the wall clock (a default `end` of now), left out of the comparison."""
        answers = {b: c.get(path, params=params, headers=headers) for b, c in self.clients.items()}
        duck, pg = answers["duckdb"], answers["postgres"]
        where = f"{path} {params or ''} {headers or ''}"
        assert duck.status_code == pg.status_code, (where, duck.status_code, pg.status_code, pg.text[:500])
        assert duck.headers.get("content-type") == pg.headers.get("content-type"), where
        assert duck.headers.get("x-snapshot-id") == pg.headers.get("x-snapshot-id"), where
        if duck.status_code == 302:
            assert _without_signature(duck.headers["location"]) == _without_signature(pg.headers["location"]), where
            files = {b: self.clients[b].get(answers[b].headers["location"]) for b in answers}
            assert files["duckdb"].status_code == files["postgres"].status_code == 200, where
            assert files["duckdb"].content == files["postgres"].content, f"downloaded file differs: {where}"
            assert files["duckdb"].headers["content-type"] == files["postgres"].headers["content-type"], where
            self.asked.add(_without_signature(duck.headers["location"]))
        elif now_fields or any(f in duck.text for f in WALL_CLOCK_FIELDS):
            assert _without(duck, now_fields) == _without(pg, now_fields), where
        else:
            assert duck.content == pg.content, f"body differs: {where}\n{_first_difference(duck, pg)}"
        self.asked.add(path)
        return answers

    def pages(self, path: str, params: dict, key: str) -> int:
        """Page through a listing on both backends (the cursors must agree too); returns the row count."""
        rows, cursor = 0, None
        for _ in range(1000):
            answer = self.ask(path, {**params, **({"nextCursor": cursor} if cursor else {})})["duckdb"]
            assert answer.status_code == 200, answer.text
            body = answer.json()
            rows += len(body[key])
            cursor = body.get("nextCursor")
            if not cursor:
                return rows
        raise AssertionError(f"{path}: paging did not end")


def _without_signature(location: str) -> str:
    return urlsplit(location).path


def _without(response: httpx.Response, fields: tuple[str, ...]) -> dict:
    body = response.json()
    return {k: v for k, v in body.items() if k not in (*WALL_CLOCK_FIELDS, *fields)}


def _first_difference(a: httpx.Response, b: httpx.Response) -> str:
    left, right = a.content, b.content
    at = next((i for i, (x, y) in enumerate(zip(left, right, strict=False)) if x != y), min(len(left), len(right)))
    window = slice(max(at - 80, 0), at + 80)
    return f"at byte {at}: duckdb {left[window]!r}\n    postgres {right[window]!r}"


@pytest.fixture(scope="module")
def twins(request, tmp_path_factory) -> Iterator[Twins]:
    key, secret = new_key(), b"the same secret on both servers!"
    with ExitStack() as stack:
        clients = {}
        for backend in BACKENDS:
            url = copy_store(landed_template(backend, request), f"agree_{backend}", request)
            store = stack.enter_context(open_store(url))
            store.add_api_key(hash_key(key), "twins", datetime.now(UTC))
            settings = Settings(database=url, secret=secret, rate_limit_per_minute=0,
                                export_dir=tmp_path_factory.mktemp(f"exports_{backend}"))
            base = stack.enter_context(serve_app(create_app(store, settings)))
            clients[backend] = stack.enter_context(
                httpx.Client(base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=60)
            )
        yield Twins(clients, set())


@pytest.fixture(scope="module")
def coins(twins) -> list[str]:
    listed = twins.ask(f"{P}/positions/coins")["duckdb"].json()
    names = [row["coin"] for row in listed]
    assert len(names) > 10 and any(":" in n for n in names), names  # HIP-3 coins are among them
    return names


def test_latest_snapshot_routes_agree(twins, coins):
    for path in (f"{P}/positions/coins", f"{P}/segments", f"{P}/health", f"{P}/hypertracker/state/status"):
        twins.ask(path)
    for within in (None, "24h", "7d", "30d"):
        twins.ask(f"{P}/positions/heatmap", {"openedWithin": within} if within else None)
    for segment in SEGMENTS:
        for age in (None, "24h", "7d", "30d"):
            twins.ask(f"{P}/segments/{segment}/summary", {"positionAge": age} if age else None)
        twins.ask(f"{P}/{segment}/assets/liquidation-risk")
        twins.ask(f"{P}/{segment}/assets/liquidation-risk", {"offset": 3, "limit": 5})


def test_series_agree_page_by_page(twins, coins):
    assert twins.pages(f"{P}/position-metrics/general", {"end": SERIES_END, "limit": 7}, "metrics") == 49
    window = {"start": SERIES_START, "end": SERIES_END}
    assert twins.pages(f"{P}/metrics/perp-volume", {**window, "limit": 10}, "metrics") == 49
    for coin in coins:
        twins.pages(f"{P}/position-metrics/coin/{coin}", {**window, "limit": 20}, "metrics")
    for coin in coins[:3] + [c for c in coins if ":" in c][:1]:
        for segment in SEGMENTS:
            params = {"start": SERIES_START, "end": SERIES_END, "limit": 25, "positionRecencyTimeframe": "7d"}
            twins.pages(f"{P}/position-metrics/coin/{coin}/segment/{segment}", params, "metrics")
        for bucket in SIZE_BUCKET_IDS:
            twins.pages(f"{P}/position-metrics/coin/{coin}/position-size-bucket/{bucket}",
                        {"start": SERIES_START, "end": SERIES_END, "limit": 25}, "metrics")
    for segment in SEGMENTS:
        twins.ask(f"{P}/segments/{segment}/bias-history", now_fields=("start", "end"))  # 60 days back from now
        twins.pages(f"{P}/segments/{segment}/bias-history", {"start": SERIES_START, "end": SERIES_END, "limit": 20},
                    "history")


def test_positions_agree_under_every_ordering_and_filter(twins, coins):
    for order_by in ("openTime", "pnl", "value", "size", "funding", "updatedAt"):
        for order in ("asc", "desc"):
            twins.pages(f"{P}/positions", {"orderBy": order_by, "order": order, "limit": 1000}, "positions")
    some = twins.ask(f"{P}/positions", {"coin": coins[0], "limit": 5})["duckdb"].json()["positions"]
    addresses = sorted({p["address"] for p in some})
    for params in (
        {"coin": coins[0]}, {"coin": coins[1].lower()}, {"open": "true"}, {"open": "false"},
        {"segmentId": 3}, {"segmentId": 12}, {"address": addresses},
        {"start": "2026-11-19T00:00:00Z", "end": "2026-11-19T06:00:00Z"}, {"end": "2026-11-18T12:00:00Z"},
        {"start": "2026-11-19T12:00:00Z", "open": "false", "orderBy": "value"},
    ):
        twins.pages(f"{P}/positions", {**params, "limit": 300}, "positions")


def test_exports_and_downloads_agree_file_by_file(twins, coins):
    for name, spec in EXPORTS.items():
        if name.startswith("open-positions"):
            continue  # served through /positions/open/coin/{coin} below
        for coin in (coins[:2] + [c for c in coins if ":" in c][:1]) if spec.per_coin else [None]:
            path = f"{P}/exports/coins/{coin}/{name}" if coin else f"{P}/exports/{name}"
            assert twins.ask(path)["duckdb"].status_code == 302, path
    for coin in coins[:3]:
        twins.ask(f"{P}/positions/open/coin/{coin}")
        twins.ask(f"{P}/positions/open/coin/{coin}", headers={"Accept": "text/csv"})


def test_wallets_and_leaderboards_agree(twins):
    """Beyond the seeds (issue 15): every ordering and filter of /wallets, every sort and rank of the
    perp-PnL leaderboard, every window of the biggest positions."""
    for order_by in ("address", "totalEquity", "earliestActivityAt", "perpPnl", "perpEquity", "perpBias",
                     "openValue", "sumUpnl", "closestLiqProgress", "countOpenPositions", "exposureRatio"):
        for order in ("asc", "desc"):
            twins.ask(f"{P}/wallets", {"orderBy": order_by, "order": order, "limit": 500})
            twins.ask(f"{P}/wallets", {"orderBy": order_by, "order": order, "limit": 500, "offset": 1500})
    some = twins.ask(f"{P}/wallets", {"limit": 5})["duckdb"].json()["items"]
    for params in ({"segmentIds": ["7", "8"]}, {"segmentIds": "12,3"}, {"hasOpenPositions": "true"},
                   {"hasOpenPositions": "false"}, {"address": [w["address"] for w in some]}):
        twins.ask(f"{P}/wallets", {**params, "limit": 500})
    for order_by in ("pnlDay", "pnlWeek", "pnlMonth", "pnlAllTime"):
        for rank_by in ("pnlDay", "pnlAllTime"):
            for order in ("asc", "desc"):
                twins.ask(f"{P}/leaderboards/perp-pnl", {"orderBy": order_by, "rankBy": rank_by, "order": order,
                                                          "limit": 100, "offset": 40})
    for period in ("24h", "7d", "30d", "all"):
        path = f"{P}/leaderboards/perp-pnl/{period}/download"
        links = {b: c.get(path).json()["downloadUrl"] for b, c in twins.clients.items()}
        assert _without_signature(links["duckdb"]) == _without_signature(links["postgres"])
        files = {b: twins.clients[b].get(link) for b, link in links.items()}
        assert files["duckdb"].status_code == 200 and files["duckdb"].content == files["postgres"].content, period
        twins.asked.update({path, _without_signature(links["duckdb"])})
    for within in ("24h", "7d", "30d", "all"):
        twins.ask(f"{P}/leaderboards/biggest-positions", {"openedWithin": within})
        twins.ask(f"{P}/leaderboards/biggest-positions", {"openedWithin": within, "limit": 7, "offset": 30})


def test_market_summaries_agree(twins, coins):
    twins.ask(f"{P}/state/summary")
    twins.ask(f"{P}/segments/bias")
    for coin in [*[c for c in coins if ":" not in c][:3], next(c for c in coins if ":" in c)]:  # HIP-3: a 404
        for window in (None, "24h", "7d"):
            twins.ask(f"{P}/perps/coin/{coin}/segment-metrics",
                      {"positionRecencyTimeframe": window} if window else None)


def test_errors_agree(twins):
    for path, params in (
        (f"{P}/position-metrics/coin/NOPE", {"start": SERIES_START}), (f"{P}/positions", {"coin": "NOPE"}),
        (f"{P}/positions", {"start": "yesterday"}), (f"{P}/segments/99/summary", None),
        (f"{P}/positions", {"nextCursor": "forged.cursor"}),
    ):
        assert twins.ask(path, params)["duckdb"].status_code in (400, 404)


def test_fills_and_closed_trades_agree(twins):
    newest = twins.pages(f"{P}/fills/liquidation", {"limit": 50}, "fills")
    assert newest > 20
    assert twins.pages(f"{P}/fills/liquidation", {"start": SERIES_START, "limit": 40}, "fills") == newest
    for params in ({"coin": "BTC"}, {"side": "B", "start": "2026-11-19", "end": "2026-11-20"}):
        twins.pages(f"{P}/fills/liquidation", {**params, "limit": 25}, "fills")
    liquidated = twins.ask(f"{P}/fills/liquidation", {"limit": 1000})["duckdb"].json()["fills"]
    wallets = sorted({f["address"] for f in liquidated})[:10]
    twins.pages(f"{P}/fills", {"address": wallets, "start": "2026-11-19", "limit": 30}, "fills")
    twins.pages(f"{P}/fills", {"address": wallets[:3], "start": "2026-11-18T12:00:00Z", "coin": "BTC,ETH",
                               "side": "A", "limit": 10}, "fills")
    hashes = []
    for wallet in wallets:
        window = {"address": wallet, "startTime": "2026-11-18", "endTime": "2026-11-21", "limit": 3}
        twins.pages(f"{P}/closed-trades", window, "trades")
        listed = twins.ask(f"{P}/closed-trades", {**window, "limit": 500})["duckdb"].json()["trades"]
        hashes += [t["hash"] for t in listed]
        for interval in ("all", "30d", "last50"):
            twins.ask(f"{P}/closed-trades/summary", {"address": wallet, "interval": interval})
    assert hashes
    for trade_hash in hashes[:20]:
        twins.ask(f"{P}/closed-trades/{trade_hash}")
        twins.pages(f"{P}/closed-trades/{trade_hash}/fills", {"limit": 2}, "fills")
    for wallet in wallets[:3]:
        twins.pages(f"{P}/fundings", {"address": wallet, "startTime": "2026-11-18", "endTime": "2026-11-20",
                                      "limit": 40}, "fundings")
    twins.pages(f"{P}/fundings", {"address": wallets, "startTime": "2026-11-19", "endTime": "2026-11-20",
                                  "coin": "BTC,ETH", "limit": 100}, "fundings")
    for path, params in ((f"{P}/fills", {"start": SERIES_START}), (f"{P}/closed-trades/nothex", None),
                         (f"{P}/fundings", {"address": wallets[0], "startTime": "2026-10-01"}),
                         (f"{P}/closed-trades/summary", {"address": wallets[0], "interval": "1d"})):
        assert twins.ask(path, params)["duckdb"].status_code == 400


def test_every_route_of_the_spec_was_compared(twins):
    """Runs last (pytest keeps file order): the tests above must have asked every route of the spec."""
    spec = orjson.loads(twins.clients["duckdb"].get("/openapi.json").content)
    templates = {path: re.compile("^" + re.sub(r"\{[^}]+\}", "[^?]+", path) + "$") for path in spec["paths"]}
    covered = {t for t, pattern in templates.items() for path in twins.asked if pattern.match(path)}
    assert covered == set(templates), f"routes never compared: {sorted(set(templates) - covered)}"
