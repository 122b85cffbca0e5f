"""`hltracker demo` and `hltracker serve` serve the dashboard at `/` and print its URL first; the demo's is
open on 127.0.0.1, `serve` asks for a key unless `--dashboard-auth open`."""

from __future__ import annotations

import time

import httpx
from conftest import cli_process, copy_store, free_port, landed_template, stop_process


def _lines_until(proc, pattern: str, timeout: float = 120) -> list[str]:
    lines: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line and proc.poll() is not None:
            break
        lines.append(line)
        if pattern in line:
            return lines
    raise AssertionError("".join(lines))


def _get(url: str, timeout: float = 60) -> httpx.Response:
    deadline = time.monotonic() + timeout
    while True:
        try:
            return httpx.get(url, timeout=30)
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


def test_demo_prints_the_dashboard_url_first_and_serves_it_without_a_key(tmp_path):
    port = free_port()
    proc = cli_process("demo", "--days", "0.25", "--interval", "5", "--port", str(port),
                       "--database", str(tmp_path / "demo.duckdb"))
    try:
        lines = [line for line in _lines_until(proc, "API key:") if line.strip() and "━" not in line]
        urls = [line for line in lines if "http://" in line]
        assert urls[0].strip() == f"dashboard: http://127.0.0.1:{port}/", lines
        page = _get(f"http://127.0.0.1:{port}/heatmap?window=24h")
        assert page.status_code == 200 and "<table class=\"heat\"" in page.text
        assert _get(f"http://127.0.0.1:{port}/static/dist/dashboard.js").status_code == 200
    finally:
        stop_process(proc)


def test_serve_asks_for_a_key_by_default_and_opens_when_told(request):
    path = copy_store(landed_template("duckdb", request), "serve-web", request)
    for extra, expected in (((), 303), (("--dashboard-auth", "open"), 200)):
        port = free_port()
        proc = cli_process("serve", "--database", path, "--port", str(port), *extra)
        try:
            lines = _lines_until(proc, "dashboard: ")
            assert f"http://127.0.0.1:{port}/" in lines[-1]
            answer = _get(f"http://127.0.0.1:{port}/")
            answer = httpx.get(f"http://127.0.0.1:{port}/", follow_redirects=False)
            assert answer.status_code == expected, extra
            if expected == 303:
                assert answer.headers["location"].startswith("/login")
        finally:
            stop_process(proc)
