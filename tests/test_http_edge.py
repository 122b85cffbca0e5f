"""The HTTP edge against a real server on loopback: bounded request heads, the host rule of every
absolute URL (downloads, trailing-slash redirects), forwarded headers from trusted proxies only,
exact public routes, and `hltracker demo` reading the documented settings."""

from __future__ import annotations

import re
import socket
import threading
from datetime import UTC, datetime

import httpx
import orjson
import pytest
from conftest import cli_process, free_port, serve_app, stop_process

from hltracker.api import Settings, create_app
from hltracker.api.auth import hash_key, new_key
from hltracker.api.edge import MAX_HEAD_BYTES, MAX_HEADER_BYTES, MAX_TARGET_BYTES
from hltracker.demo import wait_for
from hltracker.store import open_store

P = "/api/external"


def _raw(base_url: str, head: bytes, chunk: int = 0) -> tuple[int, dict, int]:
    """Send a raw request head (in `chunk`-byte writes when given, stopping when the server hangs up);
    returns the status, the JSON body and how many bytes were sent."""
    host, port = base_url.removeprefix("http://").split(":")
    sent = 0
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        try:
            for i in range(0, len(head), chunk or len(head)):
                sock.sendall(head[i:i + (chunk or len(head))])
                sent = i + (chunk or len(head))
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered and closed before reading everything: what we want
        data = b""
        while True:
            try:
                part = sock.recv(65536)
            except ConnectionResetError:
                break
            if not part:
                break
            data += part
    status_line, _, rest = data.partition(b"\r\n")
    _, _, body = rest.partition(b"\r\n\r\n")
    return int(status_line.split()[1]), orjson.loads(body) if body else {}, sent


def _nest(body: dict, status: int) -> str:
    assert set(body) == {"statusCode", "message", "error"} and body["statusCode"] == status, body
    return body["message"]


def test_an_oversized_header_is_refused_with_431_before_any_work(api):
    line = b"GET " + P.encode() + b"/health HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    status, body, _ = _raw(api.base_url, line + b"X-Big: " + b"a" * (MAX_HEADER_BYTES + 1) + b"\r\n\r\n")
    assert status == 431 and "header" in _nest(body, 431)
    many = b"".join(b"X-H%d: %s\r\n" % (i, b"b" * 1000) for i in range(MAX_HEAD_BYTES // 1000 + 2))
    status, body, _ = _raw(api.base_url, line + many + b"\r\n")
    assert status == 431 and "in all" in _nest(body, 431)
    status, body, _ = _raw(api.base_url, b"GET /" + b"c" * (MAX_TARGET_BYTES + 1) + b" HTTP/1.1\r\nHost: x\r\n\r\n")
    assert status == 414 and _nest(body, 414)
    # just under the bounds is an ordinary request
    ok = line + b"X-Fine: " + b"d" * (MAX_HEADER_BYTES - 100) + b"\r\n\r\n"
    assert _raw(api.base_url, ok)[0] == 200


def test_an_endless_header_is_cut_off_and_other_clients_are_served_meanwhile(api):
    """A client streaming a huge header is answered 431 after the first 64 KB (it never gets to send its
    128 MB), and a second client is answered while the first connection is still open."""
    line = b"GET " + P.encode() + b"/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Huge: "
    served: list[int] = []
    host, port = api.base_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as slow:
        slow.sendall(line + b"e" * (MAX_HEAD_BYTES // 2))  # half the bound: the server keeps waiting
        other = threading.Thread(target=lambda: served.append(httpx.get(api.base_url + P + "/health").status_code))
        other.start()
        other.join(timeout=30)
        assert served == [200]  # answered while the slow head is still open
        sent = 0
        try:
            for _ in range(128 * 16):  # up to 128 MB in 64 KB writes
                slow.sendall(b"e" * 65536)
                sent += 65536
        except (BrokenPipeError, ConnectionResetError):
            pass
        answer = slow.recv(65536)
    assert answer.startswith(b"HTTP/1.1 431 ")
    assert sent < 16 * 1024 * 1024  # cut off long before 128 MB (kernel buffers hold a few MB at most)


@pytest.fixture(scope="module")
def guarded(request, tmp_path_factory):
    """A factory of servers over one copy of the landed store, with the given host settings and one key."""
    from conftest import copy_store, landed_template

    url = copy_store(landed_template("duckdb", request), "edge", request)
    store = open_store(url)
    key = new_key()
    store.add_api_key(hash_key(key), "edge", datetime.now(UTC))
    folder = tmp_path_factory.mktemp("edge")

    def serve(**settings):
        app = create_app(store, Settings(database=url, export_dir=folder, rate_limit_per_minute=0, **settings))
        return serve_app(app), {"Authorization": f"Bearer {key}"}

    yield serve
    store.close()


def test_a_host_the_server_does_not_answer_for_is_refused(api):
    with api.client() as c:
        for host in ("evil.example", "127.0.0.1.evil.example", "user@127.0.0.1", ""):
            r = c.get(f"{P}/positions/", headers={"Host": host})  # the trailing slash would redirect
            assert r.status_code == 400, (host, r.status_code)
            assert "location" not in r.headers and "evil" not in r.text
            assert "Invalid host header" in _nest(r.json(), 400)


def test_redirects_and_downloads_are_absolute_on_the_request_host(api):
    with api.client() as c:
        r = c.get(f"{P}/positions/coins/", params={"x": "1"})
        assert r.status_code == 307 and r.headers["location"] == f"{api.base_url}{P}/positions/coins?x=1"
        r = c.get(f"{P}/exports/coins/BTC/positions", headers={"Host": "localhost"})
        assert r.status_code == 302 and r.headers["location"].startswith(f"http://localhost{P}/downloads/")
        # an unknown route with a trailing slash is still a 404, not a redirect
        assert c.get(f"{P}/nope/").status_code == 404


def test_the_public_url_is_the_base_of_every_absolute_url(guarded):
    server, key = guarded(public_url="https://tracker.example.com/hl/")
    with server as base, httpx.Client(base_url=base, headers=key) as c:
        r = c.get(f"{P}/exports/total-wallets-equity-chart-data")
        assert r.headers["location"].startswith(f"https://tracker.example.com/hl{P}/downloads/")
        r = c.get(f"{P}/segments/")
        assert r.headers["location"] == f"https://tracker.example.com/hl{P}/segments"
        # the public name is one the server answers for; others still are not
        assert c.get(f"{P}/segments", headers={"Host": "tracker.example.com"}).status_code == 200
        assert c.get(f"{P}/segments", headers={"Host": "other.example.com"}).status_code == 400


def test_forwarded_headers_count_only_from_trusted_proxies(guarded):
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "api.example.com"}
    server, key = guarded(allowed_hosts=("127.0.0.1", "api.example.com"))
    with server as base, httpx.Client(base_url=base, headers=key) as c:
        r = c.get(f"{P}/segments/", headers=forwarded)  # loopback is not a trusted proxy here
        assert r.headers["location"] == f"{base}{P}/segments"
    server, key = guarded(allowed_hosts=("127.0.0.1", "api.example.com"), trusted_proxies=("127.0.0.0/8",))
    with server as base, httpx.Client(base_url=base, headers=key) as c:
        r = c.get(f"{P}/segments/", headers=forwarded)
        assert r.headers["location"] == f"https://api.example.com{P}/segments"
        r = c.get(f"{P}/exports/total-wallets-equity-chart-data", headers=forwarded)
        assert r.headers["location"].startswith(f"https://api.example.com{P}/downloads/")
        evil = c.get(f"{P}/segments/", headers={**forwarded, "X-Forwarded-Host": "evil.example"})
        assert evil.status_code == 400 and "location" not in evil.headers  # forwarded hosts obey the rule too


def test_public_routes_match_exactly_and_the_spec_is_public_under_both_names(api):
    with httpx.Client(base_url=api.base_url) as anonymous:
        assert anonymous.get(f"{P}/health").status_code == 200
        for path in (f"{P}/healthz", f"{P}/health-check", f"{P}/downloads", f"{P}/downloads/x", f"{P}/downloadsx/a/b"):
            r = anonymous.get(path)
            assert r.status_code == 401, (path, r.status_code)
        spec = anonymous.get("/openapi.json")
        assert spec.status_code == 200
        assert anonymous.get("/api/external-json").json() == spec.json()


def test_demo_honours_the_documented_settings(tmp_path):
    port = free_port()
    proc = cli_process("demo", "--days", "0.1", "--port", str(port), "--interval", "600",
                       env={"HLTRACKER_RATE_LIMIT": "3", "HLTRACKER_DOWNLOAD_TTL": "7",
                            "HLTRACKER_ALLOWED_HOSTS": "demo.example"})
    lines: list[str] = []
    try:
        def key_printed() -> bool:
            if proc.poll() is not None:
                return True
            lines.append(proc.stdout.readline())
            return any("API key:" in line for line in lines)

        assert wait_for(key_printed, timeout=300) and proc.poll() is None, "".join(lines)
        key = re.search(r"API key: (\S+)", "".join(lines)).group(1)
        base = f"http://127.0.0.1:{port}"
        assert wait_for(lambda: _up(base), timeout=60)
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {key}"}) as c:
            statuses = [c.get(f"{P}/segments").status_code for _ in range(4)]
            assert statuses == [200, 200, 200, 429]  # HLTRACKER_RATE_LIMIT=3
            # its own address and the configured host are allowed, others not
            assert c.get(f"{P}/health", headers={"Host": "demo.example"}).status_code == 200
            assert c.get(f"{P}/health", headers={"Host": "elsewhere.example"}).status_code == 400
    finally:
        stop_process(proc)


def _up(base: str) -> bool:
    try:
        return httpx.get(base + P + "/health").status_code == 200
    except httpx.HTTPError:
        return False
