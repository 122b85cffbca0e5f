"""hltracker.client against the real app: every method's answer equals the raw API's for the same request.

The sync `Client` talks to the shared `api` server over real HTTP on loopback; the `AsyncClient` to the
same app in-process through `httpx.ASGITransport`. Both backends (the `api` fixture runs on each).
Also: paging to the end equals one big page, downloads are followed and parsed, a 429 is waited out
(or raised as `RateLimited` when retries are spent), and an error carries the server's message.
"""

from __future__ import annotations

import asyncio
import dataclasses
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import polars as pl
import pytest
from conftest import HISTORY_START, copy_store, serve_app

from hltracker.api import Settings, create_app
from hltracker.api.auth import hash_key, new_key
from hltracker.client import ApiError, AsyncClient, Client, Download, Page, RateLimited, Record, iso_utc
from hltracker.store import open_store

P = "/api/external"
START = HISTORY_START + timedelta(hours=30)
END = HISTORY_START + timedelta(hours=40)


def _answer(value):
    """What the client returned, as the raw JSON it was read from (less /health's clock-driven lag)."""
    body = value.raw if isinstance(value, Page) else value
    return {k: v for k, v in body.items() if k != "lagSeconds"} if isinstance(body, dict) else body


@pytest.fixture(scope="module")
def picks(api) -> dict:
    """An address with a liquidation, one of its closed trades, and that day: real inputs for the routes."""
    with api.client() as raw:
        fill = raw.get(f"{P}/fills/liquidation", params={"limit": 1}).json()["fills"][0]
        address, day = fill["address"], fill["time"][:10]
        trade = raw.get(f"{P}/closed-trades", params={"address": address, "startTime": HISTORY_START.isoformat(),
                                                       "limit": 1}).json()["trades"][0]
    return {"address": address, "day": day, "hash": trade["hash"]}


def _cases(picks: dict) -> list[tuple[str, tuple, dict, str, dict]]:
    """(method, args, kwargs, raw path, raw params): each client method and the raw request it stands for."""
    a, day, h = picks["address"], picks["day"], picks["hash"]
    s, e = iso_utc(START), iso_utc(END)
    return [
        ("positions", (), {"coin": "BTC", "open": True, "order_by": "value", "limit": 5},
         "/positions", {"coin": "BTC", "open": "true", "orderBy": "value", "limit": 5}),
        ("positions", (), {"address": [a, "0x" + "ab" * 20], "start": START}, "/positions",
         {"address": [a, "0x" + "ab" * 20], "start": s}),
        ("position_coins", (), {}, "/positions/coins", {}),
        ("heatmap", (), {"opened_within": "7d"}, "/positions/heatmap", {"openedWithin": "7d"}),
        ("general_metrics", (), {"start": START, "end": END}, "/position-metrics/general", {"start": s, "end": e}),
        ("coin_metrics", ("BTC",), {"start": START, "limit": 3}, "/position-metrics/coin/BTC",
         {"start": s, "limit": 3}),
        ("coin_segment_metrics", ("ETH", 3), {"start": START, "position_recency_timeframe": "24h"},
         "/position-metrics/coin/ETH/segment/3", {"start": s, "positionRecencyTimeframe": "24h"}),
        ("coin_size_bucket_metrics", ("BTC", 4), {"start": START}, "/position-metrics/coin/BTC/position-size-bucket/4",
         {"start": s}),
        ("perp_volume", (), {"start": START}, "/metrics/perp-volume", {"start": s}),
        ("segments", (), {}, "/segments", {}),
        ("segment_summary", (2,), {"position_age": "24h"}, "/segments/2/summary", {"positionAge": "24h"}),
        ("bias_history", (5,), {}, "/segments/5/bias-history", {}),
        ("bias_history", (5,), {"start": START, "end": END}, "/segments/5/bias-history", {"start": s, "end": e}),
        ("liquidation_risk", (1,), {"limit": 5}, "/1/assets/liquidation-risk", {"limit": 5}),
        ("state_status", (), {}, "/hypertracker/state/status", {}),
        ("health", (), {}, "/health", {}),
        ("wallets", (), {"segment_ids": [1, 9], "has_open_positions": True, "limit": 7},
         "/wallets", {"segmentIds": [1, 9], "hasOpenPositions": "true", "limit": 7}),
        ("perp_pnl_leaderboard", (), {"order_by": "pnlDay", "limit": 50}, "/leaderboards/perp-pnl",
         {"orderBy": "pnlDay", "limit": 50}),
        ("biggest_positions", (), {"opened_within": "30d", "limit": 9}, "/leaderboards/biggest-positions",
         {"openedWithin": "30d", "limit": 9}),
        ("state_summary", (), {}, "/state/summary", {}),
        ("coin_segment_week", ("BTC",), {}, "/perps/coin/BTC/segment-metrics", {}),
        ("segments_bias", (), {}, "/segments/bias", {}),
        ("fills", (), {"address": [a], "start": day}, "/fills", {"address": a, "start": day}),
        ("liquidation_fills", (), {"start": HISTORY_START, "limit": 4}, "/fills/liquidation",
         {"start": iso_utc(HISTORY_START), "limit": 4}),
        ("fundings", (), {"address": [a], "start_time": HISTORY_START}, "/fundings",
         {"address": a, "startTime": iso_utc(HISTORY_START)}),
        ("closed_trades", (), {"address": a, "start_time": HISTORY_START}, "/closed-trades",
         {"address": a, "startTime": iso_utc(HISTORY_START)}),
        ("closed_trades_summary", (), {"address": a}, "/closed-trades/summary", {"address": a}),
        ("closed_trade", (h,), {}, f"/closed-trades/{h}", {}),
        ("trade_fills", (h,), {}, f"/closed-trades/{h}/fills", {}),
    ]


DOWNLOADS = [("open_positions_file", ("BTC",), "/positions/open/coin/{coin}"),
             ("coin_export", ("BTC", "position-metrics"), "/exports/coins/{coin}/{file}"),
             ("export", ("segments-bias-charts-data-24h",), "/exports/{file}"),
             ("perp_pnl_leaderboard_file", ("7d",), "/leaderboards/perp-pnl/{period}/download")]


def test_the_client_has_a_method_for_every_route_of_the_spec(api, picks):
    """Every route of /openapi.json (but the signed file itself) is the raw request of a tested method."""
    with api.client() as raw:
        spec = raw.get("/openapi.json").json()
    covered = [path for *_, path, _ in _cases(picks)] + [template for *_, template in DOWNLOADS]
    missing = []
    for route in spec["paths"]:
        template = route.removeprefix(P)
        pattern = re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)) + "$")
        if template != "/downloads/{path}" and not any(template == c or pattern.match(c) for c in covered):
            missing.append(route)
    assert not missing


def test_every_method_returns_what_the_raw_api_returns(api, picks):
    with Client(api.base_url, api.key) as client, api.client() as raw:
        for method, args, kwargs, path, params in _cases(picks):
            expected = raw.get(P + path, params=params)
            assert expected.status_code == 200, (path, expected.text)
            assert _answer(getattr(client, method)(*args, **kwargs)) == _answer(expected.json()), method


def test_the_async_client_over_asgi_returns_what_the_raw_api_returns(api, picks):
    async def run():
        transport = httpx.ASGITransport(app=api.app)
        async with AsyncClient("http://127.0.0.1", api.key, transport=transport) as client:
            return [_answer(await getattr(client, m)(*args, **kw)) for m, args, kw, *_ in _cases(picks)]

    answers = asyncio.run(run())
    with api.client() as raw:
        expected = [_answer(raw.get(P + path, params=params).json()) for *_, path, params in _cases(picks)]
    assert answers == expected


def _snake(key: str) -> str:
    """The documented field name of a JSON key: `entryPrice` -> `entry_price`, `perpVolume30d` -> `perp_volume_30d`."""
    return re.sub(r"(?<=[a-z])(?=\d)|(?<=[a-z0-9])(?=[A-Z])", "_", key).lower()


def _assert_same(record, raw: dict, where: str) -> None:
    """The record holds exactly the JSON object's fields, each equal (times parsed to UTC datetimes)."""
    assert isinstance(record, Record) and not record.extra, (where, record.extra)
    names = {f.name for f in dataclasses.fields(record)} - {"extra"}
    assert names == {_snake(k) for k in raw}, (where, names ^ {_snake(k) for k in raw})
    for key, value in raw.items():
        got = getattr(record, _snake(key))
        if isinstance(got, datetime):
            assert got.tzinfo == UTC and got == datetime.fromisoformat(value.replace("Z", "+00:00")), (where, key)
        elif isinstance(got, Record):
            _assert_same(got, value, f"{where}.{key}")
        elif isinstance(got, list) and got and isinstance(got[0], Record):
            assert len(got) == len(value), (where, key)
            for i, (one, row) in enumerate(zip(got, value, strict=True)):
                _assert_same(one, row, f"{where}.{key}[{i}]")
        else:
            assert got == value and type(got) is type(value), (where, key, got, value)
    assert record.to_json() == raw, where  # and back to the JSON it was read from


TYPED = {"positions", "position_coins", "heatmap", "general_metrics", "segments", "segment_summary", "wallets",
         "perp_pnl_leaderboard", "biggest_positions", "fills", "liquidation_fills", "fundings", "closed_trades",
         "closed_trade", "trade_fills"}


def test_typed_answers_equal_the_raw_json_field_by_field(api, picks):
    """A `typed=True` client: each record is the raw API's JSON object, field by field; a page keeps its JSON."""
    seen = set()
    with Client(api.base_url, api.key, typed=True) as typed, Client(api.base_url, api.key) as plain, \
            api.client() as raw:
        for method, args, kwargs, path, params in _cases(picks):
            body = raw.get(P + path, params=params).json()
            answer, untyped = getattr(typed, method)(*args, **kwargs), getattr(plain, method)(*args, **kwargs)
            if method not in TYPED:
                assert _answer(answer) == _answer(body), method  # no record: the JSON as before
                continue
            seen.add(method)
            if isinstance(answer, Page):
                rows = untyped.items
                assert rows and len(answer.items) == len(rows), method  # a real answer, not an empty page
                assert answer.raw == untyped.raw == body and answer.json_rows == rows, method
                assert answer.typed() == answer.items == untyped.typed(), method
                assert answer.to_polars().equals(untyped.to_polars()), method
                for i, (record, row) in enumerate(zip(answer.items, rows, strict=True)):
                    _assert_same(record, row, f"{method}[{i}]")
            else:
                assert isinstance(untyped, dict) and untyped == body, method
                _assert_same(answer, body, method)
    assert seen == TYPED


def test_the_async_client_answers_the_same_records(api, picks):
    async def run():
        transport = httpx.ASGITransport(app=api.app)
        async with AsyncClient("http://127.0.0.1", api.key, transport=transport, typed=True) as client:
            return [await getattr(client, m)(*args, **kw) for m, args, kw, *_ in _cases(picks) if m in TYPED]

    answers = asyncio.run(run())
    with Client(api.base_url, api.key, typed=True) as client:
        expected = [getattr(client, m)(*args, **kw) for m, args, kw, *_ in _cases(picks) if m in TYPED]
    assert [a.items if isinstance(a, Page) else a for a in answers] == \
        [e.items if isinstance(e, Page) else e for e in expected]


def test_typed_paging_and_frames(api):
    with Client(api.base_url, api.key, typed=True) as typed, Client(api.base_url, api.key) as plain:
        whole = typed.positions(coin="BTC", start=HISTORY_START, limit=1000)
        paged = list(typed.iter_positions(coin="BTC", start=HISTORY_START, limit=7))
        assert paged == whole.items == plain.positions(coin="BTC", start=HISTORY_START, limit=1000).typed()
        assert all(p.open_time.tzinfo == UTC for p in paged) and len(paged) > 20
        with pytest.raises(TypeError, match="no typed record"):
            plain.bias_history(1).typed()  # array rows: named by the frame's columns, no record
        history = typed.bias_history(1, start=HISTORY_START)
        assert history.to_polars().equals(plain.bias_history(1, start=HISTORY_START).to_polars())


def test_a_record_keeps_unknown_keys_and_reads_missing_ones_as_none(api, picks):
    """HyperTracker may send a key hltracker does not (kept in `extra`), or leave one out (None)."""
    from hltracker.client import Fill

    with Client(api.base_url, api.key) as client:
        row = client.fills(address=[picks["address"]], start=picks["day"]).items[0]
    changed = {k: v for k, v in row.items() if k != "tid"} | {"builderFee": 0.25}
    fill = Fill.from_json(changed)
    assert fill.tid is None and fill.extra == {"builderFee": 0.25} and fill.coin == row["coin"]
    assert fill.to_json() == changed | {"tid": None}
    with pytest.raises(TypeError, match="JSON object"):
        Fill.from_json([row])


def test_paging_to_the_end_equals_one_big_page(api):
    with Client(api.base_url, api.key) as client:
        one_page = client.positions(coin="BTC", start=HISTORY_START, limit=1000)
        assert one_page.next_cursor is None and len(one_page) > 20
        assert list(client.iter_positions(coin="BTC", start=HISTORY_START, limit=7)) == one_page.items
        cohort = next(c for c in range(1, 17) if 10 < client.wallets(segment_ids=[c], limit=1).total_count <= 500)
        wallets = client.wallets(segment_ids=[cohort], limit=500)
        assert wallets.total_count == len(wallets)
        assert list(client.iter_wallets(segment_ids=[cohort], limit=4)) == wallets.items  # offset up to totalCount
        metrics = client.general_metrics(start=HISTORY_START)
        assert list(client.iter_general_metrics(start=HISTORY_START, limit=5)) == metrics.items
        history = client.bias_history(3, start=HISTORY_START)
        assert list(client.paginate(client.bias_history, segment_id=3, start=HISTORY_START, limit=6)) == history.items


def test_async_paging_to_the_end_equals_one_big_page(api):
    async def run():
        async with AsyncClient(api.base_url, api.key) as client:  # real HTTP on loopback
            one = await client.positions(coin="ETH", start=HISTORY_START)
            return one.items, [p async for p in client.iter_positions(coin="ETH", start=HISTORY_START, limit=9)]

    whole, paged = asyncio.run(run())
    assert paged == whole and len(whole) > 20


def test_downloads_are_followed_and_parsed(api):
    with Client(api.base_url, api.key) as client:
        csv_file = client.open_positions_file("BTC")
        json_file = client.open_positions_file("btc", format="json")
        open_btc = client.positions(coin="BTC", open=True).items
        assert isinstance(csv_file, Download) and "/downloads/" in csv_file.url and csv_file.is_csv
        assert not json_file.is_csv
        assert {r["id"] for r in csv_file.rows()} == {r["id"] for r in json_file.rows()} == {p["id"] for p in open_btc}
        assert csv_file.to_polars().height == json_file.to_polars().height == len(open_btc)
        leaders = client.perp_pnl_leaderboard_file("all").to_polars()
        top = client.perp_pnl_leaderboard(limit=25).items
        assert leaders["address"].head(25).to_list() == [row["address"] for row in top]
        metrics = client.coin_export("BTC", "position-metrics")
        with api.client(follow_redirects=True) as raw:
            assert metrics.text == raw.get(f"{P}/exports/coins/BTC/position-metrics").text


@pytest.fixture
def limited_app(landed_template_url, request, tmp_path):
    """The app allowing 60 requests a minute (one a second once the burst of 60 is spent), and its key."""
    store = open_store(copy_store(landed_template_url, "limited", request))
    key = new_key()
    store.add_api_key(hash_key(key), "tests", datetime.now(UTC))
    yield create_app(store, Settings(database="x", export_dir=tmp_path, rate_limit_per_minute=60)), key
    store.close()


def test_a_429_is_waited_out_and_raised_once_the_retries_are_spent(limited_app):
    app, key = limited_app

    async def spend_the_burst():
        transport = httpx.ASGITransport(app=app)
        async with AsyncClient("http://127.0.0.1", key, transport=transport, max_retries=0) as impatient:
            for _ in range(60):
                await impatient.segments()
            with pytest.raises(RateLimited) as refused:
                await impatient.segments()
        async with AsyncClient("http://127.0.0.1", key, transport=transport, max_retries=3) as patient:
            return refused.value, await patient.segments()

    refused, answer = asyncio.run(spend_the_burst())
    assert refused.status_code == 429 and refused.retry_after >= 1 and "Rate limit of 60" in refused.message
    assert len(answer) == 16  # the async client waited the Retry-After out
    with serve_app(app) as base_url, Client(base_url, key, max_retries=0) as impatient, Client(base_url, key) as client:
        with pytest.raises(RateLimited):  # over real HTTP: empty the bucket again
            for _ in range(61):
                impatient.segments()
        assert len(client.segments()) == 16  # right after the refusal: the sync client waits it out too


def test_an_error_is_raised_with_the_servers_message(api):
    with Client(api.base_url, api.key) as client:
        with pytest.raises(ApiError) as unknown:
            client.coin_metrics("NOPE", start=START)
        with pytest.raises(ApiError) as invalid:
            client.positions(limit=5000)
        with pytest.raises(ApiError) as bad_file:
            client.export("no-such-file")
    assert (unknown.value.status_code, unknown.value.message) == (404, "Coin NOPE not found")
    assert invalid.value.status_code == 400 and invalid.value.message == "limit must not be greater than 1000"
    assert invalid.value.error == "Bad Request" and invalid.value.body["statusCode"] == 400
    assert bad_file.value.status_code == 404
    with Client(api.base_url, "wrong-key") as stranger, pytest.raises(ApiError) as refused:
        stranger.segments()
    assert refused.value.status_code == 401


def test_a_base_url_may_already_end_with_the_api_prefix(api):
    """HyperTracker's base URL is often given with `/api/external`: the prefix is not added twice."""
    with Client(api.base_url + "/api/external/", api.key) as client:
        assert len(client.segments()) == 16


def test_the_public_surface_is_deliberate():
    import hltracker.client as package

    assert set(package.__all__) == {"ApiError", "AsyncClient", "Client", "ClientError", "Download", "Page",
                                    "RateLimited", "iso_utc", "Record", "Position", "CoinTotals", "HeatmapRow",
                                    "GeneralMetrics", "Segment", "SegmentSummary", "Wallet", "PerpPnlEntry",
                                    "BiggestPosition", "Fill", "Funding", "ClosedTrade"}
    assert all(hasattr(package, name) for name in package.__all__)


def test_parameters_are_written_as_the_server_reads_them():
    from hltracker.client.params import query

    naive = datetime(2026, 11, 18, 10, 30)
    assert query({"start": naive, "open": False, "address": ["0xa", "0xb"], "limit": None}) == [
        ("start", "2026-11-18T10:30:00.000Z"), ("open", "false"), ("address", "0xa"), ("address", "0xb")]
    assert iso_utc(datetime(2026, 11, 18, 12, tzinfo=UTC) + timedelta(milliseconds=5)) == "2026-11-18T12:00:00.005Z"


def test_a_bias_history_page_becomes_a_frame_with_named_columns(api):
    with Client(api.base_url, api.key) as client:
        frame = client.bias_history(1, start=HISTORY_START).to_polars()
    assert isinstance(frame, pl.DataFrame) and frame.height > 0 and "bias" in frame.columns


def test_the_notebook_example_of_the_docs_runs(api):
    """docs/client.md's first python block, pointed at the test server: the BTC cohort bias as a frame."""
    page = (Path(__file__).resolve().parent.parent / "docs" / "client.md").read_text()
    code = page.split("```python\n", 1)[1].split("```", 1)[0]
    code = code.replace("http://127.0.0.1:8000", api.base_url).replace("hlt_...", api.key)
    names: dict = {}
    exec(compile(code, "docs/client.md", "exec"), names)
    bias = names["bias"]
    assert bias.columns[0] == "timestamp" and len(bias.columns) == 17
    assert bias.height > 1 and bias["timestamp"].is_sorted()
    assert all(0 <= v <= 1 for c in bias.columns[1:] for v in bias[c].drop_nulls())
