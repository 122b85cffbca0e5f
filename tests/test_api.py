"""The REST API through the real app over real HTTP: auth, rate limit, validation, cursors, downloads,
the per-snapshot cache, and consistency between endpoints on one snapshot."""

from __future__ import annotations

import csv
import io
import time
from datetime import UTC, datetime, timedelta
from itertools import pairwise

import httpx
import pytest
from conftest import HISTORY_START, HISTORY_STEP, HISTORY_STEPS, serve_app

from hltracker.api import Settings, create_app
from hltracker.api.auth import hash_key, new_key
from hltracker.ingest import Ingestor
from hltracker.model.cohorts import PNL_COHORT_IDS, SIZE_COHORT_IDS
from hltracker.sources.simulator import SimulatorSource
from hltracker.store import open_store

P = "/api/external"
LATEST = HISTORY_START + HISTORY_STEPS * HISTORY_STEP
SERIES_START = "2026-11-18T00:00:00Z"


def _nest(r: httpx.Response, status: int) -> dict:
    assert r.status_code == status, (r.status_code, r.text)
    body = r.json()
    assert set(body) == {"statusCode", "message", "error"}, body
    assert body["statusCode"] == status and isinstance(body["message"], str) and body["message"]
    return body


# --- auth ---

def test_requests_without_a_valid_key_get_a_401_in_the_nestjs_shape(api):
    with httpx.Client(base_url=api.base_url) as anonymous:
        _nest(anonymous.get(f"{P}/positions/coins"), 401)
        _nest(anonymous.get(f"{P}/positions/coins", headers={"Authorization": "Bearer hlt_nope"}), 401)
        _nest(anonymous.get(f"{P}/positions/coins", headers={"Authorization": api.key}), 401)  # no scheme
        _nest(anonymous.get(f"{P}/segments", headers={"Authorization": "Basic abc"}), 401)
        assert anonymous.get(f"{P}/health").status_code == 200  # liveness needs no key


def test_a_revoked_key_stops_working_and_keys_are_stored_hashed(store_copy):
    store = open_store(store_copy)
    key = new_key()
    store.add_api_key(hash_key(key), "to-revoke", datetime.now(UTC))
    assert key not in str(store.api_keys().to_dicts())  # only the hash is kept
    app = create_app(store, Settings(database=store_copy), poll=False)
    with serve_app(app) as url, httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}) as c:
        assert c.get(f"{P}/segments").status_code == 200
        assert store.revoke_api_key(hash_key(key), datetime.now(UTC))
        app.state.ctx.keys.reload()  # the watcher does this every poll
        _nest(c.get(f"{P}/segments"), 401)
    store.close()


def test_the_rate_limit_answers_429_with_retry_after(store_copy):
    store = open_store(store_copy)
    key = new_key()
    store.add_api_key(hash_key(key), "limited", datetime.now(UTC))
    app = create_app(store, Settings(database=store_copy, rate_limit_per_minute=3), poll=False)
    with serve_app(app) as url, httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}) as c:
        assert [c.get(f"{P}/segments").status_code for _ in range(3)] == [200, 200, 200]
        r = c.get(f"{P}/segments")
        assert r.status_code == 429
        body = r.json()
        assert body["error"] == "rate_limit_exceeded" and body["message"]
        assert isinstance(body["retry_after"], int) and body["retry_after"] >= 1
        assert r.headers["Retry-After"] == str(body["retry_after"])
    store.close()


# --- validation: a clear 4xx, never a 500 ---

@pytest.mark.parametrize(("path", "status", "message"), [
    (f"{P}/position-metrics/coin/BTC", 400, "start should not be empty"),
    (f"{P}/position-metrics/coin/BTC?start=yesterday", 400, "start must be a valid ISO 8601 date string"),
    (f"{P}/position-metrics/coin/BTC?start=2026-13-01", 400, "start must be a valid ISO 8601 date string"),
    (f"{P}/position-metrics/coin/BTC?start=2026-11-19&end=2026-11-18", 400, "end must not be earlier than start"),
    (f"{P}/metrics/perp-volume?start=2026-11-19&end=now", 400, "end must be a valid ISO 8601 date string"),
    (f"{P}/positions?start=1700000000000", 400, "start must be a valid ISO 8601 date string"),
    (f"{P}/positions/heatmap?openedWithin=1y", 400, "openedWithin must be one of the following values"),
    (f"{P}/segments/1/summary?positionAge=90d", 400, "positionAge must be one of the following values"),
    (f"{P}/positions?order=up", 400, "order must be one of the following values"),
    (f"{P}/positions?orderBy=address", 400, "orderBy must be one of the following values"),
    (f"{P}/positions?limit=0", 400, "limit must not be less than 1"),
    (f"{P}/positions?limit=1001", 400, "limit must not be greater than 1000"),
    (f"{P}/position-metrics/general?limit=abc", 400, "limit must be an integer number"),
    (f"{P}/1/assets/liquidation-risk?limit=501", 400, "limit must not be greater than 500"),
    (f"{P}/1/assets/liquidation-risk?offset=-1", 400, "offset must not be less than 0"),
    (f"{P}/positions?open=maybe", 400, "open must be a boolean value"),
    (f"{P}/positions?segmentId=17", 400, "segmentId must not be greater than 16"),
    (f"{P}/positions?address=0x123", 400, "address must be a 0x-prefixed"),
    (f"{P}/segments/17/summary", 404, "Segment 17 not found"),
    (f"{P}/segments/abc/bias-history", 400, "segmentId must be an integer number"),
    (f"{P}/segments/1/bias-history?limit=5", 400, "'start' query param is required"),
    (f"{P}/0/assets/liquidation-risk", 404, "Segment 0 not found"),
    (f"{P}/position-metrics/coin/BTC/position-size-bucket/11?start=2026-11-19", 404, "bucket 11 not found"),
    (f"{P}/position-metrics/coin/BTC/segment/99?start=2026-11-19", 404, "Segment 99 not found"),
    (f"{P}/position-metrics/coin/DOGECOIN2?start=2026-11-19", 404, "Coin DOGECOIN2 not found"),
    (f"{P}/positions?coin=NOPE", 404, "Coin NOPE not found"),
    (f"{P}/exports/coins/NOPE/position-metrics", 404, "Coin NOPE not found"),
    (f"{P}/exports/coins/BTC/secrets", 404, "Export file secrets not found"),
    (f"{P}/exports/passwd", 404, "Export file passwd not found"),
    (f"{P}/positions/open/coin/NOPE", 404, "Coin NOPE not found"),
    (f"{P}/no-such-route", 404, "Cannot GET"),
])
def test_bad_input_gets_a_clear_error(api, path, status, message):
    with api.client() as c:
        body = _nest(c.get(path), status)
    assert message in body["message"], body


SQL_PROBES = ["'; DROP TABLE snapshots; --", "BTC' OR '1'='1", "\" OR 1=1 --", "%27%3B--", "x UNION SELECT 1",
              "../../etc/passwd", "\\x00", "BTC;--"]


@pytest.mark.parametrize("probe", SQL_PROBES)
def test_sql_metacharacters_in_every_string_parameter_are_harmless(api, probe):
    cases = [
        (f"{P}/positions", {"coin": probe}), (f"{P}/positions", {"address": probe}),
        (f"{P}/positions", {"start": probe}), (f"{P}/positions", {"end": probe}),
        (f"{P}/positions", {"nextCursor": probe}), (f"{P}/positions", {"orderBy": probe}),
        (f"{P}/positions/heatmap", {"openedWithin": probe}),
        (f"{P}/position-metrics/coin/{probe}", {"start": SERIES_START}),
        (f"{P}/position-metrics/coin/BTC", {"start": probe}),
        (f"{P}/position-metrics/coin/BTC/segment/9", {"start": SERIES_START, "positionRecencyTimeframe": probe}),
        (f"{P}/position-metrics/general", {"nextCursor": probe}),
        (f"{P}/segments/9/summary", {"positionAge": probe}),
        (f"{P}/segments/9/bias-history", {"start": SERIES_START, "nextCursor": probe}),
        (f"{P}/exports/coins/BTC/{probe}", {}), (f"{P}/exports/{probe}", {}),
        (f"{P}/downloads/1/{probe}", {"expires": probe, "signature": probe}),
    ]
    with api.client() as c:
        for path, params in cases:
            r = c.get(path, params=params)
            assert 400 <= r.status_code < 500, (path, params, r.status_code, r.text)
        # nothing was dropped or changed
        assert c.get(f"{P}/positions/coins").status_code == 200
    assert api.store.snapshot_count() == HISTORY_STEPS + 1


# --- cursors ---

def _pages(c: httpx.Client, path: str, params: dict, key: str) -> list[list[dict]]:
    pages, cursor = [], None
    while True:
        r = c.get(path, params={**params, **({"nextCursor": cursor} if cursor else {})})
        assert r.status_code == 200, r.text
        body = r.json()
        pages.append(body[key])
        cursor = body["nextCursor"]
        if cursor is None:
            return pages


@pytest.mark.parametrize(("path", "params"), [
    (f"{P}/position-metrics/coin/BTC", {"start": SERIES_START}),
    (f"{P}/position-metrics/coin/eth/segment/9", {"start": SERIES_START, "positionRecencyTimeframe": "7d"}),
    (f"{P}/position-metrics/coin/BTC/position-size-bucket/2", {"start": SERIES_START}),
    (f"{P}/position-metrics/general", {}),
    (f"{P}/metrics/perp-volume", {"start": SERIES_START}),
])
def test_paging_a_series_returns_every_row_once_newest_first(api, path, params):
    with api.client() as c:
        whole = c.get(path, params=params).json()["metrics"]
        pages = _pages(c, path, {**params, "limit": 7}, "metrics")
    assert len(whole) == HISTORY_STEPS + 1  # one row per snapshot, zero-filled where empty
    assert [len(p) for p in pages] == [7] * 7  # 49 rows: no empty last page
    rows = [row for page in pages for row in page]
    assert rows == whole
    times = [row["createdAt"] for row in rows]
    assert times == sorted(times, reverse=True) and len(set(times)) == len(times)


@pytest.mark.parametrize("params", [
    {}, {"orderBy": "pnl", "order": "desc"}, {"orderBy": "value"}, {"orderBy": "openTime", "order": "desc"},
    {"coin": "btc", "open": "false"}, {"segmentId": 8, "start": "2026-11-19T12:00:00Z"},
])
def test_paging_positions_returns_every_position_once_in_order(api, params):
    with api.client() as c:
        whole = c.get(f"{P}/positions", params=params).json()
        pages = _pages(c, f"{P}/positions", {**params, "limit": 250}, "positions")
    assert whole["nextCursor"] is None or len(whole["positions"]) == 1000
    rows = [row for page in pages for row in page]
    ids = [r["id"] for r in rows]
    assert len(ids) == len(set(ids))
    if whole["nextCursor"] is None:
        assert ids == [r["id"] for r in whole["positions"]]
    key = {"pnl": "unrealizedPnl", "value": "positionValue"}.get(params.get("orderBy", "openTime"), "openTime")
    values = [(r[key], r["id"]) for r in rows]
    descending = params.get("order", "desc" if params.get("orderBy", "openTime") != "openTime" else "asc") == "desc"
    assert values == sorted(values, reverse=descending)


def test_positions_filters_hold_for_every_row(api):
    with api.client() as c:
        some = c.get(f"{P}/positions", params={"limit": 5, "orderBy": "value"}).json()["positions"]
        wallets = sorted({p["address"] for p in some})
        rows = c.get(f"{P}/positions", params=[("address", w.upper().replace("0X", "0x")) for w in wallets]).json()
        assert rows["positions"] and {p["address"] for p in rows["positions"]} == set(wallets)
        closed = c.get(f"{P}/positions", params={"open": "false", "coin": "BTC", "limit": 50}).json()["positions"]
        assert closed and all(p["closeTime"] and p["coin"] == "BTC" for p in closed)
        fish = c.get(f"{P}/positions", params={"segmentId": 1, "open": "true", "limit": 50}).json()["positions"]
        assert fish and all(1 in p["profile"]["segments"] and p["closeTime"] is None for p in fish)
        window = c.get(f"{P}/positions", params={"start": "2026-11-19T00:00:00Z", "end": "2026-11-19T06:00:00Z",
                                                  "limit": 1000}).json()["positions"]
        assert window and all(p["openTime"] <= "2026-11-19T06:00:00.000Z" and
                              (p["closeTime"] is None or p["closeTime"] >= "2026-11-19T00:00:00.000Z") for p in window)


def test_a_tampered_or_foreign_cursor_is_a_400(api):
    with api.client() as c:
        first = c.get(f"{P}/position-metrics/coin/BTC", params={"start": SERIES_START, "limit": 5}).json()
        cursor = first["nextCursor"]
        payload, _, mac = cursor.partition(".")
        forged = "eyJiZWZvcmUiOiIyMDk5LTAxLTAxVDAwOjAwOjAwKzAwOjAwIn0" + "." + mac
        for bad in (forged, payload + "." + mac[:-2] + "AA", "not-a-cursor", cursor + "x"):
            _nest(c.get(f"{P}/position-metrics/coin/BTC", params={"start": SERIES_START, "nextCursor": bad}), 400)
        # the same cursor on another coin, another route or other filters is foreign
        _nest(c.get(f"{P}/position-metrics/coin/ETH", params={"start": SERIES_START, "nextCursor": cursor}), 400)
        _nest(c.get(f"{P}/metrics/perp-volume", params={"start": SERIES_START, "nextCursor": cursor}), 400)
        _nest(c.get(f"{P}/position-metrics/coin/BTC", params={"start": "2026-11-18T01:00:00Z",
                                                              "nextCursor": cursor}), 400)
        ok = c.get(f"{P}/position-metrics/coin/BTC", params={"start": SERIES_START, "limit": 5, "nextCursor": cursor})
        assert ok.status_code == 200


# --- downloads ---

def test_downloads_redirect_to_a_signed_url_that_expires(store_copy, tmp_path):
    store = open_store(store_copy)
    key = new_key()
    store.add_api_key(hash_key(key), "dl", datetime.now(UTC))
    app = create_app(store, Settings(database=store_copy, download_ttl_seconds=1.0,
                                     export_dir=tmp_path / "exports"), poll=False)
    with serve_app(app) as url, httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}) as c:
        r = c.get(f"{P}/exports/coins/btc/position-breakdown-by-size")
        assert r.status_code == 302
        location = r.headers["location"]
        assert location.startswith(f"{url}{P}/downloads/") and "signature=" in location and "expires=" in location
        with httpx.Client(base_url=url) as anonymous:  # the signed URL is the credential
            assert anonymous.get(location).json()["coin"] == "BTC"
            time.sleep(2.1)
            assert _nest(anonymous.get(location), 403)["message"] == "Request has expired"
    store.close()


def test_a_bad_signature_or_a_path_escape_never_serves_a_file(api):
    ctx = api.app.state.ctx
    with api.client() as c:
        location = c.get(f"{P}/exports/total-wallets-equity-chart-data").headers["location"]
        path, _, query = location.partition("?")
        params = dict(httpx.QueryParams(query))
        assert c.get(location).status_code == 200
        _nest(c.get(path, params={**params, "signature": "0" * 64}), 403)
        _nest(c.get(path, params={**params, "expires": str(int(params["expires"]) + 60)}), 403)
        other = path.replace("total-wallets-equity-chart-data", "segments-bias-charts-data-24h")
        _nest(c.get(other, params=params), 403)  # a signature is for one file only
        for escape in ("../../../../etc/passwd", "1/../../api.duckdb", "%2e%2e/%2e%2e/etc/passwd", "/etc/passwd"):
            signed = ctx.signer.sign(escape)  # even a correctly signed escape is refused
            r = c.get(f"{P}/downloads/{escape}", params=signed)
            assert r.status_code in (403, 404) and "root:" not in r.text, (escape, r.status_code)


def test_files_are_built_once_per_snapshot_and_reused(api):
    ctx = api.app.state.ctx
    with api.client() as c:
        first = c.get(f"{P}/exports/coins/BTC/segment-metrics").headers["location"].partition("?")[0]
        relative = first.removeprefix(f"{api.base_url}{P}/downloads/")
        built = ctx.files.resolve(relative).stat()
        second = c.get(f"{P}/exports/coins/btc/segment-metrics").headers["location"].partition("?")[0]
    assert second == first
    again = ctx.files.resolve(relative).stat()
    assert (again.st_ino, again.st_mtime_ns) == (built.st_ino, built.st_mtime_ns)


def test_open_positions_are_csv_unless_json_is_asked_for(api):
    with api.client() as c:
        coins = {row["coin"]: row for row in c.get(f"{P}/positions/coins").json()}
        r = c.get(f"{P}/positions/open/coin/btc", headers={"Accept": "text/csv"}, follow_redirects=True)
        assert r.headers["content-type"].startswith("text/csv")
        rows = list(csv.reader(io.StringIO(r.text)))
        assert rows[0] == [
            "id", "address", "coin", "side", "dex", "size", "value", "entryPrice", "unrealizedPnl", "funding",
            "liquidationPrice", "liquidationProgress", "crossLeverage", "isolatedLeverage", "openTime",
            "profile_totalEquity", "profile_perpEquity", "profile_countOpenPositions", "profile_pnl",
            "profile_balance", "profile_perpPnlSegmentId", "profile_sizeSegmentId"]
        assert len(rows) - 1 == coins["BTC"]["count"]
        for accept in (None, "*/*", "text/csv", "text/csv, application/json;q=0.5"):  # CSV, HyperTracker's file
            r = c.get(f"{P}/positions/open/coin/btc", headers={"Accept": accept} if accept else {},
                      follow_redirects=True)
            assert r.headers["content-type"].startswith("text/csv"), accept
            assert r.text.startswith("id,address,coin,side,"), accept
        as_json = c.get(f"{P}/positions/open/coin/BTC", headers={"Accept": "application/json"},
                        follow_redirects=True).json()
        assert len(as_json) == coins["BTC"]["count"]
        assert sum(1 for p in as_json if p["side"] == "long") == coins["BTC"]["countLong"]
        assert sum(p["value"] for p in as_json) == pytest.approx(coins["BTC"]["totalValue"])


# --- the per-snapshot cache ---

def test_responses_are_cached_until_the_next_snapshot_lands(store_copy):
    store = open_store(store_copy)
    key = new_key()
    store.add_api_key(hash_key(key), "cache", datetime.now(UTC))
    app = create_app(store, Settings(database=store_copy), poll=False)
    ctx = app.state.ctx
    with serve_app(app) as url, httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}) as c:
        first = c.get(f"{P}/positions/coins")
        hits = ctx.cache.hits
        second = c.get(f"{P}/positions/coins")
        assert ctx.cache.hits == hits + 1 and second.content == first.content
        assert second.headers["x-snapshot-id"] == str(HISTORY_STEPS + 1)
        # land the next snapshot: the simulator continues where the landed history stopped
        src = SimulatorSource(profile="small", seed=0, steps=HISTORY_STEPS + 1, step=HISTORY_STEP,
                              start=HISTORY_START)
        report = Ingestor(store).ingest(src.snapshots())
        assert report.landed == 1
        assert ctx.watcher.refresh()
        third = c.get(f"{P}/positions/coins")
        assert third.headers["x-snapshot-id"] == str(HISTORY_STEPS + 2)
        assert third.content != first.content
        series = c.get(f"{P}/position-metrics/coin/BTC", params={"start": SERIES_START}).json()["metrics"]
        assert series[0]["createdAt"] == "2026-11-20T01:00:00.000Z"
    store.close()


# --- consistency across endpoints on one snapshot ---

def test_coin_totals_agree_across_heatmap_coins_and_series(api):
    with api.client() as c:
        coins = {row["coin"]: row for row in c.get(f"{P}/positions/coins").json()}
        heatmap = {row["coin"]: row for row in c.get(f"{P}/positions/heatmap").json()["heatmap"]}
        assert set(heatmap) == set(coins)
        # a cohort without positions in a coin has no cell (programs compute bias * 100 on every cell)
        assert all(cell["count"] > 0 and cell["bias"] is not None for h in heatmap.values() for cell in h["segments"])
        assert any(len(h["segments"]) < 16 for h in heatmap.values())
        values = [row["totalValue"] for row in coins.values()]
        assert values == sorted(values, reverse=True)
        for coin in ("BTC", "ETH", *list(coins)[-3:]):
            h, o = heatmap[coin], coins[coin]
            latest = c.get(f"{P}/position-metrics/coin/{coin}", params={"start": SERIES_START, "limit": 1})
            m = latest.json()["metrics"][0]
            assert m["createdAt"] == "2026-11-20T00:00:00.000Z"
            assert h["count"] == o["count"] == m["positionCount"]
            assert h["countLong"] == o["countLong"] == m["positionCountLong"]
            assert h["totalValue"] == pytest.approx(o["totalValue"]) == pytest.approx(m["totalPositionValue"])
            assert h["totalLongValue"] == pytest.approx(o["totalValueLong"])
            assert o["totalValueLong"] == pytest.approx(o["totalValueShort"])  # both sides of OI balance
            for axis in (SIZE_COHORT_IDS, PNL_COHORT_IDS):
                cells = [s for s in h["segments"] if s["segmentId"] in axis]
                assert sum(s["count"] for s in cells) == h["count"]
                assert sum(s["totalValue"] for s in cells) == pytest.approx(h["totalValue"])
            for cell in h["segments"]:
                expected = round(cell["totalLongValue"] / cell["totalValue"], 3) if cell["totalValue"] else None
                assert cell["bias"] == expected


def test_breakdown_exports_sum_to_the_coin_totals(api):
    with api.client() as c:
        coin = {row["coin"]: row for row in c.get(f"{P}/positions/coins").json()}["BTC"]
        by_size = c.get(f"{P}/exports/coins/BTC/position-breakdown-by-size", follow_redirects=True).json()
        by_cohort = c.get(f"{P}/exports/coins/BTC/position-breakdown-by-cohort", follow_redirects=True).json()
    buckets = by_size["breakdownBySize"]
    assert [b["sizeSegmentId"] for b in buckets] == list(range(1, 11))
    assert sum(b["positionCount"] for b in buckets) == coin["count"]
    assert sum(b["totalPositionValue"] for b in buckets) == pytest.approx(coin["totalValue"])
    assert sum(b["totalPositionValueLong"] for b in buckets) == pytest.approx(coin["totalValueLong"])
    for axis in (SIZE_COHORT_IDS, PNL_COHORT_IDS):
        rows = [r for r in by_cohort["breakdownByCohort"] if r["segmentId"] in axis]
        assert sum(r["positionCount"] for r in rows) == coin["count"]


def test_cohort_bias_follows_design_3_4(api):
    with api.client() as c:
        for sid in (1, 7, 9, 12, 16):
            summary = c.get(f"{P}/segments/{sid}/summary").json()
            s = summary["summary"]
            history = c.get(f"{P}/segments/{sid}/bias-history",
                            params={"start": "2026-11-19T23:30:00Z"}).json()
            timestamp, bias, exposure, value, long_value, short_value, equity = history["history"][0]
            assert timestamp == summary["createdAt"] == "2026-11-20T00:00:00.000Z"
            assert value == pytest.approx(long_value + short_value) == pytest.approx(s["positionValue"])
            if equity:
                assert bias == pytest.approx((long_value - short_value) / equity)
                assert exposure == pytest.approx(value / equity)
                assert s["perpBias"] == pytest.approx(bias)
            assert s["activePerpEquity"] <= s["perpEquity"] + 1e-6
            top = summary["topAssets"]
            assert len(top) <= 10 and [a["totalValue"] for a in top] == sorted((a["totalValue"] for a in top),
                                                                               reverse=True)


def test_bias_history_without_start_is_two_hourly_and_without_page_keys(api):
    with api.client() as c:
        body = c.get(f"{P}/segments/9/bias-history").json()
    assert "nextCursor" not in body and "pageStart" not in body
    stamps = [row[0] for row in body["history"]]
    assert stamps[0] == "2026-11-20T00:00:00.000Z"
    rest = [datetime.fromisoformat(s.replace("Z", "+00:00")) for s in stamps[1:]]
    assert rest and all(t.hour % 2 == 0 and t.minute == 0 for t in rest)
    assert all(a - b == timedelta(hours=2) for a, b in pairwise(rest))


def test_liquidation_risk_is_sorted_and_offset_pages(api):
    with api.client() as c:
        whole = c.get(f"{P}/16/assets/liquidation-risk").json()
        page = c.get(f"{P}/16/assets/liquidation-risk", params={"offset": 3, "limit": 4}).json()
    assert whole["totalCount"] == len(whole["items"]) and page["totalCount"] == whole["totalCount"]
    assert page["items"] == whole["items"][3:7]
    risks = [i["percentRisk"] for i in whole["items"]]
    assert risks == sorted(risks, reverse=True)
    for item in whole["items"]:
        assert item["percentRisk"] == pytest.approx(100 * item["riskValue"] / item["totalValue"])


def test_state_status_and_health_report_the_latest_snapshot(api):
    with api.client() as c:
        status = c.get(f"{P}/hypertracker/state/status").json()
        health = c.get(f"{P}/health").json()
    assert status["lastUpdate"] == health["lastSnapshotAt"] == "2026-11-20T00:00:00.000Z"
    assert status["nextUpdate"] == "2026-11-20T01:00:00.000Z" and status["intervalSeconds"] == 3600
    assert health["snapshotId"] == HISTORY_STEPS + 1 and health["lagSeconds"] > 0


def test_an_empty_store_answers_503_until_the_first_snapshot(new_store_url):
    url = new_store_url("empty")
    store = open_store(url)
    key = new_key()
    store.add_api_key(hash_key(key), "k", datetime.now(UTC))
    app = create_app(store, Settings(database=url), poll=False)
    with serve_app(app) as url, httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}) as c:
        _nest(c.get(f"{P}/positions/coins"), 503)
        assert c.get(f"{P}/health").json()["status"] == "empty"
        assert c.get(f"{P}/segments").status_code == 200  # static definitions need no data
    store.close()


# --- OpenAPI ---

def test_openapi_describes_every_route_and_docs_are_served_locally(api):
    with api.client() as c:
        spec = c.get("/openapi.json").json()
        assert c.get("/api/external-json").json() == spec
        docs = c.get("/docs")
    assert docs.status_code == 200 and "swagger" in docs.text.lower() and "cdn.jsdelivr" not in docs.text
    routes = {
        "/positions", "/positions/coins", "/positions/heatmap", "/positions/open/coin/{coin}",
        "/position-metrics/general", "/position-metrics/coin/{coin}", "/position-metrics/coin/{coin}/segment/{segment}",
        "/position-metrics/coin/{coin}/position-size-bucket/{sizeBucketId}", "/metrics/perp-volume", "/segments",
        "/segments/{segmentId}/summary", "/segments/{segmentId}/bias-history", "/{segmentId}/assets/liquidation-risk",
        "/exports/coins/{coin}/{file}", "/exports/{file}", "/downloads/{path}", "/health",
        "/hypertracker/state/status",
        "/fills", "/fills/liquidation", "/fundings", "/closed-trades", "/closed-trades/summary",
        "/closed-trades/{hash}",
        "/closed-trades/{hash}/fills",
        "/wallets", "/leaderboards/perp-pnl", "/leaderboards/perp-pnl/{period}/download",
        "/leaderboards/biggest-positions", "/perps/coin/{coin}/segment-metrics", "/segments/bias", "/state/summary",
    }
    assert {p.removeprefix(P) for p in spec["paths"]} == routes
    for path, ops in spec["paths"].items():
        op = ops["get"]
        assert op.get("summary") and op.get("description"), path
        for param in op.get("parameters", []):
            assert param.get("description") or param["in"] == "header" or param["name"] == "path", (path, param)
    assert "HTTPBearer" in spec["components"]["securitySchemes"]
