"""The serving commands for real: `keys create|list|revoke`, `serve` (uvicorn workers, read-only DuckDB)
and `demo` (history, key, API, live ticks), each run as its user would run it."""

from __future__ import annotations

import re
import time

import httpx
from conftest import HISTORY_STEPS, cli_process, free_port, stop_process
from typer.testing import CliRunner

from hltracker.cli import app

runner = CliRunner()
P = "/api/external"


def _wait_ok(url: str, headers: dict, timeout: float = 90) -> httpx.Response:
    deadline = time.monotonic() + timeout
    while True:
        try:
            r = httpx.get(url, headers=headers, timeout=10)
            if r.status_code == 200:
                return r
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"{url} did not answer 200 within {timeout} s")
        time.sleep(0.2)


def test_keys_create_list_revoke(store_copy):
    created = runner.invoke(app, ["keys", "create", "--name", "laptop", "--database", store_copy])
    assert created.exit_code == 0, created.output
    key = re.search(r"hlt_[A-Za-z0-9_-]{43}", created.output).group(0)
    listed = runner.invoke(app, ["keys", "list", "--database", store_copy])
    assert "laptop" in listed.output and key not in listed.output
    short = runner.invoke(app, ["keys", "revoke", "abc", "--database", store_copy])
    assert short.exit_code != 0
    revoked = runner.invoke(app, ["keys", "revoke", key, "--database", store_copy])
    assert revoked.exit_code == 0 and "revoked" in revoked.output
    again = runner.invoke(app, ["keys", "revoke", key, "--database", store_copy])
    assert again.exit_code == 1 and "already" in again.output


def test_serve_runs_workers_over_a_filled_store(store_copy):
    created = runner.invoke(app, ["keys", "create", "--database", store_copy])
    key = re.search(r"hlt_[A-Za-z0-9_-]{43}", created.output).group(0)
    port = free_port()
    proc = cli_process("serve", "--database", store_copy, "--port", str(port), "--workers", "2")
    try:
        headers = {"Authorization": f"Bearer {key}"}
        coins = _wait_ok(f"http://127.0.0.1:{port}{P}/positions/coins", headers).json()
        assert coins[0]["coin"] and coins[0]["count"] > 0
        # a download redirect made by one worker is served by whichever worker takes the follow-up
        for _ in range(4):
            r = httpx.get(f"http://127.0.0.1:{port}{P}/exports/coins/BTC/position-breakdown-by-size",
                          headers=headers, follow_redirects=True, timeout=30)
            assert r.status_code == 200 and r.json()["coin"] == "BTC"
        assert httpx.get(f"http://127.0.0.1:{port}{P}/health").json()["snapshotId"] == HISTORY_STEPS + 1
    finally:
        stop_process(proc)


def test_demo_serves_history_and_keeps_ticking(tmp_path):
    port = free_port()
    proc = cli_process("demo", "--days", "0.25", "--interval", "2", "--port", str(port),
                "--database", str(tmp_path / "demo.duckdb"))
    out = ""
    try:
        deadline = time.monotonic() + 120
        key = None
        while key is None and time.monotonic() < deadline:
            line = proc.stdout.readline()
            out += line
            found = re.search(r"API key: (hlt_[A-Za-z0-9_-]{43})", line)
            key = found.group(1) if found else None
        assert key, out
        headers = {"Authorization": f"Bearer {key}"}
        base = f"http://127.0.0.1:{port}{P}"
        assert _wait_ok(f"{base}/positions/coins", headers).json()
        first = httpx.get(f"{base}/health").json()["snapshotId"]
        assert first >= 7  # 6 hourly history steps and genesis
        deadline = time.monotonic() + 60
        while httpx.get(f"{base}/health").json()["snapshotId"] <= first:
            assert time.monotonic() < deadline, "no live snapshot landed"
            time.sleep(0.5)
        status = httpx.get(f"{base}/hypertracker/state/status", headers=headers).json()
        assert status["intervalSeconds"] == 2
    finally:
        out += stop_process(proc)
    assert proc.returncode is not None
