"""Signed downloads behind a load balancer: two API servers over one store, each with its own export folder
and the same secret. A link made by one is served by the other (built there when it is of the latest
snapshot, byte for byte the same file), a tampered link stays a 403, and a link of an older snapshot is a 404
on the server that never built it. Plus the strict parsing of export paths (the coin slug's inverse)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from conftest import HISTORY_START, HISTORY_STEP, HISTORY_STEPS, serve_app

from hltracker.api import Settings, create_app
from hltracker.api.auth import hash_key, new_key
from hltracker.exports import EXPORTS, ExportError, coin_slug
from hltracker.exports.files import coin_from_slug, parse_relative_path
from hltracker.ingest import Ingestor
from hltracker.sources.simulator import SimulatorSource
from hltracker.store import open_store

P = "/api/external"
SECRET = b"one secret for every server"
GONE = "The file is no longer available: request a new download link"


# --- parsing ---

@pytest.mark.parametrize("coin", ["BTC", "xyz:GOLD", "kPEPE", "a_b", "_", "Ünïcødé币🚀", "a b/../c"])
def test_the_coin_slug_inverse_gives_the_coin_back(coin):
    slug = coin_slug(coin)
    assert coin_from_slug(slug) == coin
    parsed = parse_relative_path(f"7/coins/{slug}/positions.json")
    assert (parsed.snapshot_id, parsed.spec.name, parsed.coin) == (7, "positions", coin)


@pytest.mark.parametrize("slug", [
    "", "_", "BTC_", "xyz_3agold", "_42TC", "a_5f", "a_5Fb_", "BT.C", "BTÇ", "_C3", "_FF", "_C0_80", "..",
    "B" * 201,
])
def test_text_no_coin_slug_looks_like_is_refused(slug):
    with pytest.raises(ExportError):
        coin_from_slug(slug)


def test_only_the_exact_path_of_a_file_parses():
    assert parse_relative_path("49/segments-bias-charts-data-24h.json").coin is None
    assert parse_relative_path("49/coins/BTC/open-positions.csv").spec is EXPORTS["open-positions"]
    for bad in ("049/coins/BTC/positions.json", "+49/coins/BTC/positions.json", "٤٩/coins/BTC/positions.json",
                "49/coins/BTC/positions.csv", "49/coins/BTC/positions", "49/coin/BTC/positions.json",
                "49/coins/btc_/positions.json", "49/coins/BTC/../positions.json", "49//positions.json",
                "49/positions.json", "49/coins/BTC/segments-bias-charts-data-24h.json", "49/coins/BTC",
                "/49/coins/BTC/positions.json", "49/coins/BTC/positions.json/", "49/coins/BTC/.positions.json",
                "49/coins/BTC/x/positions.json", "../49/positions.json", "", "9" * 20 + "/positions.json"):
        with pytest.raises(ExportError):
            parse_relative_path(bad)


# --- two servers ---

def _settings(store_url: str, folder: Path) -> Settings:
    return Settings(database=store_url, secret=SECRET, export_dir=folder, rate_limit_per_minute=0)


def _nest(r: httpx.Response, status: int) -> dict:
    assert r.status_code == status, (r.status_code, r.text)
    body = r.json()
    assert body["statusCode"] == status
    return body


def _land_the_next_snapshot(store) -> None:
    src = SimulatorSource(profile="small", seed=0, steps=HISTORY_STEPS + 1, step=HISTORY_STEP, start=HISTORY_START)
    assert Ingestor(store).ingest(src.snapshots()).landed == 1


def test_a_link_made_by_one_server_downloads_from_another(store_copy, tmp_path):
    store = open_store(store_copy)
    key = new_key()
    store.add_api_key(hash_key(key), "lb", datetime.now(UTC))
    app_a = create_app(store, _settings(store_copy, tmp_path / "a"), poll=False)
    app_b = create_app(store, _settings(store_copy, tmp_path / "b"), poll=False)
    auth = {"Authorization": f"Bearer {key}"}
    with serve_app(app_a) as url_a, serve_app(app_b) as url_b, \
            httpx.Client(base_url=url_a, headers=auth, timeout=60) as a, httpx.Client(base_url=url_b, timeout=60) as b:
        hip3 = next(row["coin"] for row in a.get(f"{P}/positions/coins").json() if ":" in row["coin"])
        requests = [
            ("/exports/coins/BTC/position-breakdown-by-size", {}, "application/json"),
            (f"/exports/coins/{hip3}/liquidation-heatmap", {}, "application/json"),
            (f"/exports/coins/{hip3.upper()}/segment-metrics-7d", {}, "application/json"),
            ("/exports/segments-bias-charts-data-24h", {}, "application/json"),
            ("/positions/open/coin/BTC", {"Accept": "text/csv"}, "text/csv; charset=utf-8"),
        ]
        locations = []
        for route, headers, media_type in requests:
            r = a.get(f"{P}{route}", headers=headers)
            assert r.status_code == 302, (route, r.status_code, r.text)
            location = _behind_the_balancer(r.headers["location"], url_a)
            relative = location.partition("?")[0].removeprefix(f"{P}/downloads/")
            assert not (tmp_path / "b" / relative).exists()
            from_b = b.get(location)  # built on B, which never saw the redirect
            assert from_b.status_code == 200, (route, from_b.text)
            assert (tmp_path / "b" / relative).is_file()
            from_a = a.get(location)
            assert from_a.status_code == 200 and from_b.content == from_a.content and from_b.content
            assert from_b.headers["content-type"] == from_a.headers["content-type"] == media_type
            assert b.get(location).content == from_a.content  # served from B's folder now
            locations.append(location)
        assert f"/coins/{coin_slug(hip3)}/" in locations[1] and ":" not in locations[1]

        # a signature is for one path only, whichever server checks it
        path, _, query = locations[0].partition("?")
        snapshot = str(HISTORY_STEPS + 1)
        for other in (path.replace("/BTC/", "/ETH/"), path.replace(f"/{snapshot}/", f"/{HISTORY_STEPS}/"),
                      path.replace("/BTC/", "/BTC_/"), path.replace(f"/{snapshot}/", f"/0{snapshot}/")):
            assert other != path
            assert _nest(b.get(f"{other}?{query}"), 403)["message"] == "Signature does not match"

        # once the next snapshot lands, an older file cannot be rebuilt: only the server that built it has it
        eth = f"{P}/exports/coins/ETH/position-breakdown-by-size"
        old = _behind_the_balancer(a.get(eth).headers["location"], url_a)
        _land_the_next_snapshot(store)
        assert app_a.state.ctx.watcher.refresh() and app_b.state.ctx.watcher.refresh()
        assert _nest(b.get(old), 404)["message"] == GONE
        assert a.get(old).status_code == 200
        new = _behind_the_balancer(a.get(eth).headers["location"], url_a)
        assert f"/{HISTORY_STEPS + 2}/" in new
        assert b.get(new).content == a.get(new).content
    store.close()


def _behind_the_balancer(location: str, origin: str) -> str:
    """The path and query of an absolute download URL made by the server at `origin`: behind a load
    balancer both servers answer for one public name, so the link may land on either."""
    assert location.startswith(origin + "/"), location
    return location.removeprefix(origin)


def test_a_server_behind_on_the_latest_snapshot_still_builds_it(store_copy, tmp_path):
    """B's watcher has not seen the new snapshot yet; the store has, so B builds A's link anyway."""
    store = open_store(store_copy)
    key = new_key()
    store.add_api_key(hash_key(key), "lag", datetime.now(UTC))
    app_a = create_app(store, _settings(store_copy, tmp_path / "a"), poll=False)
    app_b = create_app(store, _settings(store_copy, tmp_path / "b"), poll=False)
    with serve_app(app_a) as url_a, serve_app(app_b) as url_b, \
            httpx.Client(base_url=url_a, headers={"Authorization": f"Bearer {key}"}, timeout=60) as a, \
            httpx.Client(base_url=url_b, timeout=60) as b:
        _land_the_next_snapshot(store)
        assert app_a.state.ctx.watcher.refresh()
        link = a.get(f"{P}/exports/total-wallets-equity-chart-data").headers["location"]
        location = _behind_the_balancer(link, url_a)
        assert f"/{HISTORY_STEPS + 2}/" in location
        assert app_b.state.ctx.watcher.snapshot_id == HISTORY_STEPS + 1
        r = b.get(location)
        assert r.status_code == 200 and r.content == a.get(location).content
    store.close()
