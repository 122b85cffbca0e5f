"""The fake exchange over real HTTP on loopback: answers, errors, weight budgets, stepping, the CLI."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator

import httpx
import polars as pl
import pytest
from conftest import cli_process, free_port, stop_process
from polars.testing import assert_frame_equal

from hltracker.fake_exchange import DESERIALIZE_ERROR, FakeExchange
from hltracker.sources.simulator import SimulatorSource

UNKNOWN = "0x" + "ab" * 20
STEP_MS = 15 * 60_000  # the small profile's step


@pytest.fixture(scope="module")
def fx() -> Iterator[FakeExchange]:
    """An unlimited exchange that nobody steps (tests that step or throttle start their own)."""
    with FakeExchange("small", seed=3, weight_limit=None) as exchange:
        yield exchange


def _client(fx: FakeExchange, **kwargs) -> httpx.Client:
    return httpx.Client(base_url=fx.url, timeout=30, **kwargs)


def _sample_bodies(fx: FakeExchange) -> list[dict]:
    snap = fx.snapshot()
    hip3 = snap.positions.filter(pl.col("dex") != "main").sort("address").row(0, named=True)
    main = snap.positions.filter(pl.col("dex") == "main").sort("address")["address"][0]
    vault = snap.accounts.filter(pl.col("vault_equity") > 0).sort("address")["address"][0]
    return [
        {"type": "perpDexs"},
        {"type": "meta"},
        {"type": "metaAndAssetCtxs", "dex": ""},
        {"type": "metaAndAssetCtxs", "dex": hip3["dex"]},
        {"type": "allMids", "dex": ""},
        {"type": "allMids", "dex": hip3["dex"]},
        {"type": "clearinghouseState", "user": main, "dex": ""},
        {"type": "clearinghouseState", "user": hip3["address"], "dex": hip3["dex"]},
        {"type": "clearinghouseState", "user": UNKNOWN},
        {"type": "spotClearinghouseState", "user": vault},
        {"type": "userVaultEquities", "user": vault},
        {"type": "delegatorSummary", "user": vault},
        {"type": "portfolio", "user": main},
    ]


def test_info_answers_are_the_renderers_answers(fx: FakeExchange):
    bodies = _sample_bodies(fx)
    before = fx.served
    with _client(fx) as client:
        for body in bodies:
            response = client.post("/info", json=body)
            assert response.status_code == 200, body
            assert response.headers["content-type"] == "application/json"
            with fx.lock:
                expected = fx.exchange.wire.render(body)
            assert response.json() == expected, body
    after = fx.served
    for kind in {b["type"] for b in bodies}:
        assert after[kind] - before.get(kind, 0) == sum(b["type"] == kind for b in bodies)


BAD_BODIES = [
    b"",
    b"not json",
    b"\xff\xfe",
    b"[" * 100_000,
    b"null",
    b'"perpDexs"',
    b'["perpDexs"]',
    b"{}",
    b'{"type": "nope"}',
    b'{"type": ["perpDexs"]}',
    b'{"type": {"a": 1}}',
    b'{"type": "clearinghouseState"}',
    b'{"type": "clearinghouseState", "user": "0x1234"}',
    b'{"type": "clearinghouseState", "user": {"a": 1}}',
    b'{"type": "clearinghouseState", "user": "' + UNKNOWN.encode() + b'", "dex": "nope"}',
    b'{"type": "clearinghouseState", "user": "' + UNKNOWN.encode() + b'", "dex": ["xyz"]}',
    b'{"type": "metaAndAssetCtxs", "dex": 5}',
    b'{"type": "allMids", "dex": "main"}',
    b'{"type": "portfolio", "user": 1e400}',
]


def test_bad_bodies_answer_422_as_the_real_api(fx: FakeExchange):
    before = sum(fx.invalid.values())
    with _client(fx) as client:
        for body in BAD_BODIES:
            response = client.post("/info", content=body, headers={"content-type": "application/json"})
            assert response.status_code == 422, body[:60]
            assert response.headers["content-type"].startswith("text/plain")
            assert response.text.startswith(DESERIALIZE_ERROR + ": "), response.text
    assert sum(fx.invalid.values()) - before == len(BAD_BODIES)


def test_a_body_not_labelled_json_is_refused_as_axum_refuses_it(fx: FakeExchange):
    with _client(fx) as client:
        response = client.post("/info", content=b'{"type": "perpDexs"}', headers={"content-type": "text/plain"})
        assert response.status_code == 415 and "Content-Type: application/json" in response.text
        assert client.post("/info", json={"type": "perpDexs"}).status_code == 200


def test_leaderboard_route_serves_the_leaderboard_without_weight():
    with FakeExchange("small", seed=3, weight_limit=20, window_seconds=60) as fx, _client(fx) as client:
        for _ in range(3):
            response = client.get("/Mainnet/leaderboard")
            assert response.status_code == 200
        with fx.lock:
            expected = fx.exchange.wire.leaderboard()
        assert response.json() == expected
        assert len(expected["leaderboardRows"]) > 1000
        state = client.get("/fake/state").json()
        assert state["weightUsed"] == {} and state["served"] == {"leaderboard": 3}
        assert client.post("/info", json={"type": "perpDexs"}).status_code == 200  # the budget is whole


def _burst(client: httpx.Client, bodies: list[dict]) -> list[httpx.Response]:
    return [client.post("/info", json=b) for b in bodies]


def _loopback_alias_works() -> bool:
    """127.0.0.2 is loopback on Linux; macOS needs an alias for it."""
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.2", 0))
        except OSError:
            return False
    return True


def test_weight_budget_refuses_past_the_limit_charges_nothing_and_recovers():
    heavy, light = {"type": "metaAndAssetCtxs"}, {"type": "clearinghouseState", "user": UNKNOWN}
    with FakeExchange("small", seed=3, weight_limit=100, window_seconds=2) as fx, _client(fx) as client:
        started = time.monotonic()
        # 4 x 20 + 10 x 2 = 100 fit exactly; everything after is refused, heavy or light.
        responses = _burst(client, [heavy] * 4 + [light] * 10 + [light, heavy, light])
        elapsed = time.monotonic() - started
        assert elapsed < 2, "the burst must fit in one window for this test to mean anything"
        assert [r.status_code for r in responses] == [200] * 14 + [429] * 3
        for r in responses[14:]:
            assert 1 <= int(r.headers["Retry-After"]) <= 2
            assert r.headers["content-type"].startswith("text/plain") and "rate limited" in r.text
        state = client.get("/fake/state").json()
        assert state["weightUsed"] == {"127.0.0.1": 100}  # the refused requests cost nothing
        assert state["throttled"] == {"clearinghouseState": 2, "metaAndAssetCtxs": 1}
        assert state["served"] == {"metaAndAssetCtxs": 4, "clearinghouseState": 10}

        if _loopback_alias_works():  # another client IP has its own budget
            other = httpx.HTTPTransport(local_address="127.0.0.2")
            with httpx.Client(base_url=fx.url, transport=other, timeout=30) as second:
                assert second.post("/info", json=heavy).status_code == 200

        time.sleep(max(0.0, started + 2.1 - time.monotonic()))
        assert client.post("/info", json=heavy).status_code == 200
        assert fx.exchange.weight_used()["127.0.0.1"] == 20


def test_unlimited_exchange_never_refuses(fx: FakeExchange):
    with _client(fx) as client:
        codes = {client.post("/info", json={"type": "perpDexs"}).status_code for _ in range(70)}  # 1400 weight
        state = client.get("/fake/state").json()
    assert codes == {200}
    assert state["weightLimit"] is None and state["weightUsed"] == {} and state["throttled"] == {}


def test_step_control_advances_the_simulated_time():
    with FakeExchange("small", seed=3, weight_limit=None) as fx, _client(fx) as client:
        t0 = client.get("/fake/state").json()
        assert (t0["steps"], t0["profile"], t0["seed"], t0["wallets"]) == (0, "small", 3, 20_000)
        one = client.post("/fake/step").json()
        assert one == {"time": t0["time"] + STEP_MS, "steps": 1, "stepped": 1}
        three = client.post("/fake/step", json={"count": 3}).json()
        assert three == {"time": t0["time"] + 4 * STEP_MS, "steps": 4, "stepped": 3}
        assert fx.step(2) == t0["time"] + 6 * STEP_MS
        state = client.get("/fake/state").json()
        assert (state["time"], state["steps"]) == (t0["time"] + 6 * STEP_MS, 6)
        user = fx.snapshot().positions["address"][0]
        answer = client.post("/info", json={"type": "clearinghouseState", "user": user}).json()
        assert answer["time"] == state["time"] == fx.market.now_ms
        for bad in ({"count": 0}, {"count": -1}, {"count": 10_001}, {"count": "2"}, {"count": True}, [2]):
            assert client.post("/fake/step", json=bad).status_code == 422
        assert client.post("/fake/step", content=b"{").status_code == 422
        assert client.get("/fake/state").json()["steps"] == 6


def test_exchange_steps_by_itself_with_step_every():
    with FakeExchange("small", seed=3, weight_limit=None, step_every=0.1) as fx, _client(fx) as client:
        deadline = time.monotonic() + 20
        while client.get("/fake/state").json()["steps"] < 2:
            assert time.monotonic() < deadline, "the exchange did not step by itself"
            time.sleep(0.05)


def test_market_is_the_one_simulator_source_builds():
    src = SimulatorSource(profile="small", seed=3, steps=2)
    *_, direct = src.snapshots()
    with FakeExchange("small", seed=3) as fx:
        fx.step(2)
        served = fx.snapshot()
    assert served.taken_at == direct.taken_at
    for name in ("accounts", "positions", "markets"):
        assert_frame_equal(getattr(served, name), getattr(direct, name))


def test_cli_serves_the_fake_exchange_until_ctrl_c():
    port = free_port()
    proc = cli_process("fake-exchange", "--port", str(port), "--seed", "1", "--weight-limit", "0",
                       "--start", "2026-05-01T00:00:00Z", "--step", "60")
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, proc.stdout.read()
            try:
                state = httpx.get(url + "/fake/state", timeout=5).json()
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "hltracker fake-exchange did not answer"
                time.sleep(0.2)
        assert (state["profile"], state["seed"], state["weightLimit"], state["steps"]) == ("small", 1, None, 0)
        assert state["time"] == 1_777_593_600_000 and state["stepSeconds"] == 60
        dexes = httpx.post(url + "/info", json={"type": "perpDexs"}, timeout=30)
        assert dexes.status_code == 200 and dexes.json()[0] is None
        assert httpx.post(url + "/fake/step", timeout=30).json()["time"] == state["time"] + 60_000
    finally:
        out = stop_process(proc)
    assert f"{url}/info" in out, out
    assert proc.returncode == 0, out


def test_answers_are_strict_json(fx: FakeExchange):
    """Answers are strict JSON (no NaN or Infinity), so any client's parser reads them."""
    with _client(fx) as client:
        response = client.post("/info", json={"type": "metaAndAssetCtxs", "dex": "xyz"})
    json.loads(response.text, parse_constant=lambda c: pytest.fail(f"non-JSON constant {c}"))
