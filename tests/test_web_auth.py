"""Who sees the dashboard: `HLTRACKER_DASHBOARD_AUTH=key` (the default) asks for an API key once and keeps
a session cookie that dies with the key; `open` needs nothing. The API routes still need the key."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest
from conftest import copy_store, landed_template, serve_app

from hltracker.api import Settings, create_app
from hltracker.api.auth import hash_key, new_key
from hltracker.store import open_store
from hltracker.web import mount_dashboard
from hltracker.web.auth import COOKIE


@pytest.fixture(scope="module")
def locked(request, tmp_path_factory) -> Iterator[tuple[str, str, object]]:
    url = copy_store(landed_template("duckdb", request), "auth", request)
    store = open_store(url)
    key = new_key()
    store.add_api_key(hash_key(key), "auth tests", datetime.now(UTC))
    app = create_app(store, Settings(database=url, export_dir=tmp_path_factory.mktemp("auth"), poll_seconds=0.2),
                     dashboard=mount_dashboard)
    assert app.state.ctx.settings.dashboard_auth == "key"  # the default
    with serve_app(app) as base:
        yield base, key, app
    store.close()


def test_without_a_session_every_page_sends_to_the_login_form(locked):
    base, _, _ = locked
    with httpx.Client(base_url=base) as web:
        for path in ("/", "/heatmap?window=24h", "/coin/BTC", "/heatmap?csv=heatmap", "/search?q=btc"):
            answer = web.get(path)
            assert answer.status_code == 303 and answer.headers["location"].startswith("/login"), path
        assert web.get("/", follow_redirects=True).url.path == "/login"
        assert web.get("/dashboard/status.json").status_code == 401
        assert web.get("/static/dashboard.css").status_code == 200  # assets hold no data


def test_a_wrong_key_is_refused_and_a_right_one_opens_the_dashboard(locked):
    base, key, _ = locked
    with httpx.Client(base_url=base) as web:
        wrong = web.post("/login", data={"key": "hlt_wrong", "next": "/heatmap"})
        assert wrong.status_code == 401 and COOKIE not in web.cookies
        right = web.post("/login", data={"key": key, "next": "/heatmap?window=7d"})
        assert right.status_code == 303 and right.headers["location"] == "/heatmap?window=7d"
        cookie = web.cookies[COOKIE]
        assert key not in cookie and hash_key(key) in cookie  # the key's hash, never the key
        flags = right.headers["set-cookie"].lower()
        assert "httponly" in flags and "samesite=strict" in flags
        assert web.get("/heatmap").status_code == 200
        assert web.get("/dashboard/status.json").status_code == 200
        assert web.get("/api/external/positions/coins").status_code == 401  # the cookie is not an API key


def test_a_forged_cookie_and_a_revoked_key_lose_the_session(locked):
    base, _, app = locked
    store = app.state.ctx.store
    other = new_key()
    store.add_api_key(hash_key(other), "to revoke", datetime.now(UTC))
    app.state.ctx.keys.reload()
    with httpx.Client(base_url=base) as web:
        web.cookies.set(COOKIE, f"{hash_key(other)}.{'0' * 64}")
        assert web.get("/").status_code == 303  # a cookie not signed by this server's secret
        web.cookies.clear()
        assert web.post("/login", data={"key": other}).status_code == 303
        assert web.get("/").status_code == 200
        assert store.revoke_api_key(hash_key(other), datetime.now(UTC))
        app.state.ctx.keys.reload()
        assert web.get("/").status_code == 303


def test_login_never_redirects_off_the_server(locked):
    base, key, _ = locked
    with httpx.Client(base_url=base) as web:
        for target in ("https://evil.example/", "//evil.example/x", "/\\evil.example"):
            answer = web.post("/login", data={"key": key, "next": target})
            assert answer.headers["location"] == "/", target


def test_dashboard_auth_setting_is_validated():
    assert Settings.from_env({"HLTRACKER_DASHBOARD_AUTH": "open"}).dashboard_auth == "open"
    assert Settings.from_env({}).dashboard_auth == "key"
    with pytest.raises(ValueError, match="HLTRACKER_DASHBOARD_AUTH"):
        Settings.from_env({"HLTRACKER_DASHBOARD_AUTH": "maybe"})
