"""The dashboard's pages against the API (no browser): every figure on a page is the API's answer for the
same snapshot, every CSV link serves its panel's rows, unknown things are 404 pages, bad input 400s."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from conftest import copy_store, serve_app
from web_pages import chart_option, csv_links, csv_rows, heat_cells, heat_rows, number, tiles

from hltracker.api import Settings, create_app
from hltracker.api.auth import hash_key, new_key
from hltracker.model.wire import iso_ms
from hltracker.store import open_store
from hltracker.web import mount_dashboard
from hltracker.web.pages import COHORT_ORDER, FILLS_SHOWN, day_windows

WINDOWS = ("all", "24h", "7d", "30d")


@dataclass
class Dashboard:
    web: httpx.Client  # no key: what a browser sends
    api: httpx.Client  # with the key
    taken_at: datetime


@pytest.fixture(scope="module")
def dash(landed_template_url, request, tmp_path_factory) -> Iterator[Dashboard]:
    url = copy_store(landed_template_url, "web", request)
    store = open_store(url)
    key = new_key()
    store.add_api_key(hash_key(key), "web tests", datetime.now(UTC))
    settings = Settings(database=url, export_dir=tmp_path_factory.mktemp("web") / "exports", rate_limit_per_minute=0,
                        dashboard_auth="open")
    app = create_app(store, settings, dashboard=mount_dashboard)
    with serve_app(app) as base:
        web = httpx.Client(base_url=base, timeout=120)
        api = httpx.Client(base_url=base + "/api/external", headers={"Authorization": f"Bearer {key}"}, timeout=120,
                           follow_redirects=True)
        yield Dashboard(web, api, store.last_snapshot().taken_at)
        web.close()
        api.close()
    store.close()


def _page(dash: Dashboard, path: str) -> str:
    answer = dash.web.get(path)
    assert answer.status_code == 200, (path, answer.text[:500])
    assert answer.headers["content-type"].startswith("text/html")
    return answer.text


@pytest.mark.parametrize("window", WINDOWS)
def test_heatmap_cells_are_the_heatmap_route_for_every_window(dash, window):
    html = _page(dash, f"/heatmap?window={window}")
    expected = dash.api.get("/positions/heatmap", params={"openedWithin": window}).json()["heatmap"]
    assert heat_rows(html) == [row["coin"] for row in expected]  # default order: the route's, by value
    cells = heat_cells(html)
    assert len(cells) == 16 * len(expected)  # a cohort without positions shows an empty cell
    for row in expected:
        present = {cell["segmentId"] for cell in row["segments"]}
        for sid in set(range(1, 17)) - present:
            assert cells[(row["coin"], sid)]["data-count"] == "0" and cells[(row["coin"], sid)]["data-bias"] == ""
        for cell in row["segments"]:
            shown = cells[(row["coin"], cell["segmentId"])]
            assert number(shown["data-bias"]) == cell["bias"]
            assert number(shown["data-value"]) == cell["totalValue"]
            assert number(shown["data-long-value"]) == cell["totalLongValue"]
            assert int(shown["data-count"]) == cell["count"]


def test_switching_the_age_window_changes_the_cells(dash):
    assert heat_cells(_page(dash, "/heatmap?window=all")) != heat_cells(_page(dash, "/heatmap?window=24h"))


def test_heatmap_csv_is_its_cells_and_keeps_the_view(dash):
    html = _page(dash, "/heatmap?window=7d&sort=name")
    link = csv_links(html)["heatmap"]
    assert "window=7d" in link and "sort=name" in link
    answer = dash.web.get(link)
    assert answer.headers["content-type"].startswith("text/csv")
    rows = csv_rows(answer.text)
    expected = dash.api.get("/positions/heatmap", params={"openedWithin": "7d"}).json()["heatmap"]
    assert len(rows) == sum(len(row["segments"]) for row in expected)  # the panel's rows: the cells with positions
    by_key = {(r["coin"], int(r["segmentId"])): r for r in rows}
    for row in expected:
        for cell in row["segments"]:
            got = by_key[(row["coin"], cell["segmentId"])]
            assert float(got["totalValue"]) == cell["totalValue"] and int(got["count"]) == cell["count"]
    assert list(dict.fromkeys(r["coin"] for r in rows)) == sorted((r["coin"] for r in expected), key=str.lower)


def test_heatmap_sorts_and_filters_on_min_open_interest(dash):
    expected = dash.api.get("/positions/heatmap").json()["heatmap"]
    floor = expected[len(expected) // 2]["totalValue"]
    shown = heat_rows(_page(dash, f"/heatmap?min={floor}"))
    assert shown == [r["coin"] for r in expected if r["totalValue"] >= floor]
    by_bias = heat_rows(_page(dash, "/heatmap?sort=bias"))
    share = {r["coin"]: abs(r["totalLongValue"] / r["totalValue"] - 0.5) for r in expected}
    assert [round(share[c], 3) for c in by_bias] == sorted((round(share[c], 3) for c in by_bias), reverse=True)


def test_every_panel_has_a_csv_link_serving_its_rows(dash):
    pages = ["/", "/heatmap", "/coin/BTC", "/cohorts", "/cohorts/4", "/liquidations", "/stats", "/status"]
    for path in pages:
        links = csv_links(_page(dash, path))
        assert links, path
        for panel, link in links.items():
            answer = dash.web.get(link)
            assert answer.status_code == 200, (path, panel)
            assert answer.headers["content-type"].startswith("text/csv")
            assert answer.text.count("\n") >= 1, (path, panel)


def test_overview_tiles_and_coins_are_the_api_figures(dash):
    html = _page(dash, "/")
    start = iso_ms(dash.taken_at - timedelta(days=7))
    latest = dash.api.get("/position-metrics/general", params={"start": start}).json()["metrics"][0]
    shown = tiles(html)
    for key in ("openInterest", "openInterestLong", "openInterestShort", "count", "perpEquity"):
        assert shown[key] == latest[key], key
    assert shown["percentInProfit"] == latest["countInProfit"] / latest["count"]
    volume = dash.api.get("/metrics/perp-volume", params={"start": start}).json()["metrics"][0]
    assert shown["volume"] == volume["volume"]
    coins = csv_rows(dash.web.get(csv_links(html)["coins"]).text)
    expected = dash.api.get("/positions/coins").json()
    assert [r["coin"] for r in coins] == [c["coin"] for c in expected]
    assert [float(r["totalValue"]) for r in coins] == [c["totalValue"] for c in expected]


def test_coin_charts_are_the_coin_routes(dash):
    html = _page(dash, "/coin/btc?span=all&window=24h")  # any case: the canonical coin
    option = chart_option(html, "history")
    metrics = dash.api.get("/position-metrics/coin/BTC", params={"start": "1970-01-01T00:00:00.000Z"}).json()["metrics"]
    metrics.reverse()
    long_oi, short_oi, count = option["series"]
    assert long_oi["data"] == [[m["createdAt"], m["totalPositionValueLong"]] for m in metrics]
    short = [[m["createdAt"], m["totalPositionValue"] - m["totalPositionValueLong"]] for m in metrics]
    assert short_oi["data"] == short
    assert count["data"] == [[m["createdAt"], m["positionCount"]] for m in metrics]
    cohorts = dash.api.get("/exports/coins/BTC/position-breakdown-by-cohort-24h").json()["breakdownByCohort"]
    bias = {c["segmentId"]: c["bias"] for c in cohorts}
    assert chart_option(html, "cohorts")["series"][0]["data"] == [bias[s] for s in COHORT_ORDER]
    bins = dash.api.get("/exports/coins/BTC/liquidation-heatmap").json()
    liq = chart_option(html, "liqmap")["series"]
    assert liq[0]["data"] == [b["liquidationValueLong"] for b in bins["heatmap"]]
    assert liq[1]["data"] == [b["liquidationValueShort"] for b in bins["heatmap"]]
    assert "markLine" in liq[0]  # the mark price line
    cumulative = [a if a is not None else b for a, b in zip(liq[2]["data"], liq[3]["data"], strict=True)]
    assert cumulative == [b["cumulativeValue"] for b in bins["heatmap"]]
    positions = csv_rows(dash.web.get(csv_links(html)["positions"]).text)
    expected = dash.api.get("/positions", params={"coin": "BTC", "open": "true", "orderBy": "value",
                                                  "order": "desc", "limit": 100}).json()["positions"]
    assert [(r["address"], float(r["positionValue"])) for r in positions] == \
        [(p["address"], p["positionValue"]) for p in expected]


def test_cohort_pages_are_the_segment_routes(dash):
    html = _page(dash, "/cohorts?window=7d")
    series = chart_option(html, "bias")["series"]
    assert len(series) == 16
    for sid, line in zip(COHORT_ORDER, series, strict=True):
        history = dash.api.get(f"/segments/{sid}/bias-history", params={"positionRecencyTimeframe": "7d"}).json()
        assert line["data"] == sorted([h[0], h[1]] for h in history["history"])
    one = _page(dash, "/cohorts/4")
    summary = dash.api.get("/segments/4/summary").json()
    shown = tiles(one)
    assert shown["Traders"] == summary["summary"]["countTraders"]
    assert shown["Open value"] == summary["openPerpsSummary"]["totalValue"]
    assert shown["24 hours ago"] == summary["countTraders24HoursAgo"]
    risk = csv_rows(dash.web.get(csv_links(one)["risk"]).text)
    expected = dash.api.get("/4/assets/liquidation-risk").json()["items"]
    assert [(r["coin"], float(r["riskValue"])) for r in risk] == [(i["coin"], i["riskValue"]) for i in expected]


def test_liquidation_matrix_is_the_risk_route_of_every_cohort(dash):
    html = _page(dash, "/liquidations")
    rows = csv_rows(dash.web.get(csv_links(html)["matrix"]).text)
    got = {(r["coin"], int(r["segmentId"])): float(r["percentRisk"]) if r["percentRisk"] else None for r in rows}
    expected = {}
    for sid in COHORT_ORDER:
        for item in dash.api.get(f"/{sid}/assets/liquidation-risk").json()["items"]:
            expected[(item["coin"], sid)] = item["percentRisk"]
    assert got == expected
    assert "option-liqmap" in html


def test_stats_charts_are_the_equity_file_and_the_volume_route(dash):
    html = _page(dash, "/stats?span=all")
    equity = dash.api.get("/exports/total-wallets-equity-chart-data", follow_redirects=True).json()
    perp = chart_option(html, "equity")["series"][0]
    assert perp["data"] == [[row[0], row[2]] for row in equity["history"]["data"]]
    metrics = dash.api.get("/metrics/perp-volume", params={"start": "1970-01-01T00:00:00.000Z"}).json()["metrics"]
    last_of_day: dict[str, float] = {}
    for m in reversed(metrics):
        last_of_day[m["createdAt"][:10]] = m["volume"]
    assert chart_option(html, "volume")["series"][0]["data"] == [last_of_day[d] for d in sorted(last_of_day)]


def test_wallet_page_is_the_positions_route(dash):
    largest = dash.api.get("/positions", params={"open": "true", "limit": 1, "orderBy": "value"}).json()
    address = largest["positions"][0]["address"]
    html = _page(dash, f"/wallet/{address.upper().replace('0X', '0x')}")
    rows = csv_rows(dash.web.get(csv_links(html)["open"]).text)
    expected = dash.api.get("/positions", params={"address": address, "open": "true", "orderBy": "value",
                                                  "order": "desc", "limit": 100}).json()["positions"]
    assert sorted((r["coin"], float(r["positionValue"])) for r in rows) == \
        sorted((p["coin"], p["positionValue"]) for p in expected)


@pytest.mark.parametrize("path", ["/coin/NOSUCHCOIN", "/cohorts/0", "/cohorts/17", "/cohorts/whale",
                                  "/wallet/0x" + "ab" * 20, "/wallet/not-an-address", "/heatmap?csv=nopanel",
                                  "/search?q=nothing-like-this"])
def test_unknown_coins_cohorts_and_wallets_are_404_pages(dash, path):
    answer = dash.web.get(path, follow_redirects=True)
    assert answer.status_code == 404
    assert answer.headers["content-type"].startswith("text/html") and "Not found" in answer.text


@pytest.mark.parametrize("query", ["window=1y", "span=2d", "metric=pnl", "sort=up", "min=-5", "min=lots"])
def test_bad_view_parameters_are_400_pages(dash, query):
    answer = dash.web.get(f"/heatmap?{query}")
    assert answer.status_code == 400 and "Bad request" in answer.text


def test_search_finds_coins_wallets_and_cohorts(dash):
    assert dash.web.get("/search?q=eth").headers["location"] == "/coin/ETH"
    assert dash.web.get("/search?q=Smart Money").headers["location"] == "/cohorts/9"
    assert dash.web.get("/search?q=0x" + "AB" * 20).headers["location"] == "/wallet/0x" + "ab" * 20


def test_status_page_and_live_status_show_the_health_figures(dash):
    health = dash.api.get("/health").json()
    live = dash.web.get("/dashboard/status.json").json()
    assert live["snapshotId"] == health["snapshotId"] and live["lastSnapshotAt"] == health["lastSnapshotAt"]
    html = _page(dash, "/status")
    assert f'data-name="snapshotId">{health["snapshotId"]}<' in html
    assert health["lastSnapshotAt"] in html


def test_a_landing_renders_the_overview_and_heatmap_ahead_of_the_first_reader(store_copy, tmp_path):
    from conftest import HISTORY_START, HISTORY_STEP, HISTORY_STEPS

    from hltracker.ingest import Ingestor
    from hltracker.sources.simulator import SimulatorSource

    store = open_store(store_copy)
    app = create_app(store, Settings(database=store_copy, export_dir=tmp_path, dashboard_auth="open"), poll=False,
                     dashboard=mount_dashboard)
    ctx = app.state.ctx
    src = SimulatorSource(profile="small", seed=0, steps=HISTORY_STEPS + 1, step=HISTORY_STEP, start=HISTORY_START)
    *_, following = src.snapshots()
    assert Ingestor(store).offer(following) and ctx.watcher.refresh()
    sid = ctx.watcher.snapshot_id
    keys = [f"web|{path}?|ok".encode() for path in ("/", "/heatmap")] + \
           [f"web|{path}?|stale".encode() for path in ("/", "/heatmap")]
    deadline = datetime.now(UTC) + timedelta(seconds=120)
    while sum(ctx.cache.get(k, sid) is not None for k in keys) < 2:
        assert datetime.now(UTC) < deadline, "the warm-up did not render the pages"
        time.sleep(0.1)
    with serve_app(app) as base:
        page = httpx.get(base + "/heatmap", timeout=60)
        assert page.status_code == 200 and f'data-snapshot-id="{sid}"' in page.text
        cached = next(ctx.cache.get(k, sid) for k in keys[1::2] if ctx.cache.get(k, sid) is not None)
        assert page.content == cached[1]
    store.close()


def test_the_server_start_renders_the_overview_and_heatmap_ahead_of_the_first_reader(store_copy, tmp_path):
    store = open_store(store_copy)
    app = create_app(store, Settings(database=store_copy, export_dir=tmp_path, dashboard_auth="open"), poll=False,
                     dashboard=mount_dashboard)
    ctx = app.state.ctx
    sid = ctx.watcher.snapshot_id
    keys = [f"web|{path}?|{status}".encode() for status in ("ok", "stale") for path in ("/", "/heatmap")]
    assert not any(ctx.cache.get(k, sid) for k in keys)  # creating the app renders nothing: the start does
    with serve_app(app) as base:
        deadline = datetime.now(UTC) + timedelta(seconds=120)
        while sum(ctx.cache.get(k, sid) is not None for k in keys) < 2:  # before any request is sent
            assert datetime.now(UTC) < deadline, "the start-up warm-up did not render the pages"
            time.sleep(0.1)
        cached = {k: ctx.cache.get(k, sid)[1] for k in keys if ctx.cache.get(k, sid) is not None}
        for path in ("/", "/heatmap"):
            page = httpx.get(base + path, timeout=60)
            assert page.status_code == 200 and f'data-snapshot-id="{sid}"' in page.text
            assert page.content in (cached.get(f"web|{path}?|ok".encode()), cached.get(f"web|{path}?|stale".encode()))
    store.close()


def test_an_empty_store_gives_503_pages_that_reload_themselves(tmp_path):
    with open_store(":memory:") as store:
        app = create_app(store, Settings(export_dir=tmp_path, dashboard_auth="open"), poll=False,
                         dashboard=mount_dashboard)
        with serve_app(app) as base:
            for path in ("/", "/heatmap", "/coin/BTC", "/stats", "/status"):
                answer = httpx.get(base + path, timeout=30)
                assert answer.status_code == 503 and "location.reload" in answer.text, path
            assert httpx.get(base + "/dashboard/status.json", timeout=30).json()["status"] == "empty"


def _recent_fills(dash: Dashboard, address: str) -> list[dict]:
    """`/fills` over the 24 hours before the snapshot (one request per UTC day), newest first."""
    out = []
    for start, end in day_windows(dash.taken_at - timedelta(hours=24), dash.taken_at):
        day, cursor = [], None
        while True:
            query = {"address": address, "start": start, "end": end, "limit": 1000, "nextCursor": cursor}
            page = dash.api.get("/fills", params={k: v for k, v in query.items() if v}).json()
            day += page["fills"]
            if not (cursor := page["nextCursor"]):
                break
        out += reversed(day)
    return out[:FILLS_SHOWN]


def test_wallet_page_fills_trades_and_summary_are_the_fill_routes(dash):
    liquidated = dash.api.get("/fills/liquidation").json()["fills"]
    address = next(f["address"] for f in liquidated
                   if dash.api.get("/closed-trades", params={"address": f["address"]}).json()["trades"])
    html = _page(dash, f"/wallet/{address}")
    links = csv_links(html)
    fills = csv_rows(dash.web.get(links["fills"]).text)
    expected = _recent_fills(dash, address)
    assert expected and any(f["fillType"] == "liquidation" for f in expected)
    assert [(r["time"], r["coin"], r["dir"], float(r["px"]), float(r["sz"]), float(r["closedPnl"]), float(r["fee"]),
             r["liquidation"] == "True") for r in fills] == \
        [(f["time"], f["coin"], f["dir"], f["px"], f["sz"], f["closedPnl"], f["fee"], f["fillType"] == "liquidation")
         for f in expected]
    assert html.count('<span class="flag">liquidation</span>') == sum(
        f["fillType"] == "liquidation" for f in expected) + sum(
        t["liquidated"] for t in dash.api.get("/closed-trades", params={"address": address}).json()["trades"])
    trades = csv_rows(dash.web.get(links["trades"]).text)
    api_trades = dash.api.get("/closed-trades", params={"address": address}).json()["trades"]
    assert [(r["coin"], r["direction"], r["openTime"] or None, r["closeTime"], float(r["size"]),
             float(r["avgEntryPrice"]), float(r["avgExitPrice"]), float(r["netPnl"]), r["liquidated"] == "True")
            for r in trades] == \
        [(t["coin"], t["direction"], t["openTime"], t["closeTime"], t["size"], t["avgEntryPrice"], t["avgExitPrice"],
          t["netPnl"], t["liquidated"]) for t in api_trades]
    summary = dash.api.get("/closed-trades/summary", params={"address": address}).json()
    shown = tiles(html)
    for key in ("winRate", "profitFactor", "expectancy", "netPnl", "totalTrades"):
        assert shown[key] == summary[key], key
    (row,) = csv_rows(dash.web.get(links["summary"]).text)
    assert float(row["netPnl"]) == summary["netPnl"] and int(row["totalTrades"]) == summary["totalTrades"]


def test_a_wallet_without_fills_shows_the_empty_states(dash):
    candidates = dash.api.get("/positions", params={"open": "true", "orderBy": "value", "order": "asc",
                                                    "limit": 200}).json()["positions"]
    summary = "/closed-trades/summary"
    address = next(p["address"] for p in candidates if not _recent_fills(dash, p["address"])
                   and dash.api.get(summary, params={"address": p["address"]}).json()["totalTrades"] == 0)
    html = _page(dash, f"/wallet/{address}")
    for message in ("No fills in the 24 hours before the snapshot.", "No trades closed in the 7 days before the "
                    "snapshot.", "No closed trades rebuilt from fills yet."):
        assert message in html
    links = csv_links(html)
    assert {"fills", "trades", "summary"} <= links.keys()
    for panel in ("fills", "trades", "summary"):
        assert csv_rows(dash.web.get(links[panel]).text) == [], panel


def test_a_page_query_string_does_not_reach_the_api_cache(dash):
    """`address[]` on a wallet page is not passed to the routes, whose cached answers the API serves."""
    wallets = [p["address"] for p in dash.api.get("/positions", params={"open": "true", "orderBy": "value",
                                                                          "limit": 40}).json()["positions"]]
    mine, other = wallets[-1], next(w for w in wallets if w != wallets[-1])
    _page(dash, f"/wallet/{mine}?address[]={other}")
    answer = dash.api.get("/positions", params={"limit": 100, "address": mine, "open": "true", "orderBy": "value",
                                                "order": "desc"}).json()["positions"]
    assert answer and {p["address"] for p in answer} == {mine}
