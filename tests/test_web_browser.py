"""The dashboard in headless Chromium (Debian's `chromium`, driven by Playwright for Python through
`executable_path`; never `playwright install`): pages load cleanly and offline, charts hold their series,
the age window switches the cells, the theme is remembered, nothing overflows at 390 px, and a snapshot
landing updates the page without a reload."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlparse

import httpx
import pytest
from conftest import HISTORY_START, HISTORY_STEP, HISTORY_STEPS, copy_store, landed_template, serve_app

from hltracker.api import Settings, create_app
from hltracker.ingest import Ingestor
from hltracker.sources.simulator import SimulatorSource
from hltracker.store import open_store
from hltracker.testing.chromium import chromium, chromium_path
from hltracker.web import mount_dashboard

sync_api = pytest.importorskip("playwright.sync_api")
if chromium_path() is None:
    pytest.skip("no Chromium: apt-get install chromium (.ci/run does)", allow_module_level=True)

PAGES = ["/", "/heatmap", "/coin/BTC", "/cohorts", "/cohorts/9", "/liquidations", "/stats", "/status"]


@dataclass
class Served:
    base: str
    app: object
    store: object


@pytest.fixture(scope="module")
def served(request, tmp_path_factory) -> Iterator[Served]:
    url = copy_store(landed_template("duckdb", request), "browser", request)
    store = open_store(url)
    settings = Settings(database=url, export_dir=tmp_path_factory.mktemp("browser") / "exports",
                        dashboard_auth="open", poll_seconds=0.5)
    app = create_app(store, settings, dashboard=mount_dashboard)
    with serve_app(app) as base:
        yield Served(base, app, store)
    store.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with sync_api.sync_playwright() as pw, chromium(pw) as context:
        yield context


@pytest.fixture
def page(browser, served):
    """A tab that records console errors and every request, and refuses any that leaves 127.0.0.1."""
    tab = browser.new_page()
    tab.errors, tab.outside = [], []
    tab.on("console", lambda m: tab.errors.append(m.text) if m.type == "error" else None)
    tab.on("pageerror", lambda e: tab.errors.append(str(e)))

    def route(r):
        if urlparse(r.request.url).hostname == "127.0.0.1":
            r.continue_()
        else:
            tab.outside.append(r.request.url)
            r.abort()
    tab.route("**/*", route)
    yield tab
    tab.close()


def _drawn(page) -> None:
    page.wait_for_function("[...document.querySelectorAll('[data-chart]')].every(e => e.dataset.drawn)")


@pytest.mark.parametrize("path", PAGES)
def test_every_page_loads_without_console_errors_or_outside_requests(page, served, path):
    answer = page.goto(served.base + path, wait_until="networkidle")
    assert answer.status == 200
    _drawn(page)
    assert page.errors == [] and page.outside == []


def test_a_wallet_page_loads_too(page, served):
    address = served.store.query("open_positions_by_coin", coin="BTC")["address"][0]
    assert page.goto(f"{served.base}/wallet/{address}", wait_until="networkidle").status == 200
    _drawn(page)
    assert page.errors == [] and page.outside == []


def test_charts_hold_the_expected_series(page, served):
    page.goto(served.base + "/coin/BTC?span=all", wait_until="networkidle")
    _drawn(page)
    drawn = page.evaluate("""() => Object.fromEntries([...document.querySelectorAll('[data-chart]')].map(el => {
        const option = echarts.getInstanceByDom(el).getOption();
        return [el.id, option.series.map(s => [s.name, s.type, s.data.length])];
    }))""")
    bins = len(served.store.query("liquidation_bins", coin="BTC"))
    snapshots = HISTORY_STEPS + 1
    assert drawn["chart-history"] == [["Long OI", "line", snapshots], ["Short OI", "line", snapshots],
                                      ["Positions", "line", snapshots]]
    assert drawn["chart-cohorts"] == [["Long share", "bar", 16]]
    assert drawn["chart-sizes"] == [["Long", "bar", 10], ["Short", "bar", 10], ["Close to liquidation", "bar", 10]]
    assert drawn["chart-liqmap"] == [["Long liquidations", "bar", bins], ["Short liquidations", "bar", bins],
                                     ["Cumulative longs", "line", bins], ["Cumulative shorts", "line", bins]]
    page.goto(served.base + "/cohorts", wait_until="networkidle")
    _drawn(page)
    bias = "echarts.getInstanceByDom(document.getElementById('chart-bias')).getOption().series.length"
    assert page.evaluate(bias) == 16


def _cells(page) -> dict:
    return page.evaluate("""() => Object.fromEntries([...document.querySelectorAll('table.heat td.cell')].map(td =>
        [td.parentElement.dataset.coin + '|' + td.dataset.segment, td.dataset.value + '|' + td.dataset.bias]))""")


def test_switching_the_age_window_changes_the_cells_and_the_url(page, served):
    page.goto(served.base + "/heatmap", wait_until="networkidle")
    page.evaluate("window.notReloaded = true")
    before = _cells(page)
    page.click("a.toggle[data-window='24h']")
    page.wait_for_url("**/heatmap?window=24h")
    page.wait_for_selector("a.toggle.on[data-window='24h']")
    after = _cells(page)
    assert after != before
    assert page.evaluate("window.notReloaded") is True  # htmx swapped the panels in place
    fresh = browser_page_cells(page, served.base + "/heatmap?window=24h")  # the link reproduces the view
    assert fresh == after


def browser_page_cells(page, url: str) -> dict:
    page.goto(url, wait_until="networkidle")
    return _cells(page)


def test_the_theme_survives_a_reload(page, served):
    page.goto(served.base + "/stats", wait_until="networkidle")
    first = page.evaluate("document.documentElement.dataset.theme")
    page.click("[data-theme-toggle]")
    flipped = "dark" if first == "light" else "light"
    assert page.evaluate("document.documentElement.dataset.theme") == flipped
    page.reload(wait_until="networkidle")
    assert page.evaluate("document.documentElement.dataset.theme") == flipped
    _drawn(page)
    assert page.errors == []


@pytest.mark.parametrize("path", [*PAGES, "/coin/NOSUCHCOIN"])
def test_no_horizontal_overflow_at_390_px(page, served, path):
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(served.base + path, wait_until="networkidle")
    _drawn(page)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"{path} is {width} px wide"


def test_a_new_snapshot_updates_the_page_without_a_reload(page, served):
    page.goto(served.base + "/", wait_until="networkidle")
    page.evaluate("window.notReloaded = true")
    first = page.get_attribute("#main", "data-snapshot-id")
    before = page.get_attribute(".tile[data-key='openInterest']", "data-value")
    src = SimulatorSource(profile="small", seed=0, steps=HISTORY_STEPS + 1, step=HISTORY_STEP, start=HISTORY_START)
    *_, following = src.snapshots()
    assert Ingestor(served.store).offer(following)
    served.app.state.ctx.watcher.refresh()
    page.wait_for_function(f"document.getElementById('main').dataset.snapshotId !== '{first}'", timeout=20_000)
    assert page.evaluate("window.notReloaded") is True
    after = page.get_attribute(".tile[data-key='openInterest']", "data-value")
    latest = httpx.get(served.base + "/dashboard/status.json").json()["snapshotId"]
    assert page.get_attribute("#main", "data-snapshot-id") == str(latest)
    assert after != before
    _drawn(page)
    assert page.errors == [] and page.outside == []


def test_polling_fetches_nothing_while_no_snapshot_lands(page, served):
    page.goto(served.base + "/heatmap", wait_until="networkidle")
    seen = []
    page.on("request", lambda r: seen.append(urlparse(r.url).path))
    page.wait_for_timeout(2500)
    assert "/dashboard/status.json" in seen
    assert "/heatmap" not in seen  # the page itself is fetched only on a new snapshot


def test_nothing_is_polled_while_the_tab_is_hidden(page, served):
    page.goto(served.base + "/stats", wait_until="networkidle")
    page.evaluate("""() => {
        Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => 'hidden' });
        document.dispatchEvent(new Event('visibilitychange'));
    }""")
    seen = []
    page.on("request", lambda r: seen.append(urlparse(r.url).path))
    page.wait_for_timeout(2500)
    assert "/dashboard/status.json" not in seen
    page.evaluate("""() => {
        Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => 'visible' });
        document.dispatchEvent(new Event('visibilitychange'));
    }""")
    page.wait_for_timeout(300)
    assert "/dashboard/status.json" in seen  # polled at once when the tab shows again


def test_search_and_links_navigate_in_place_and_show_404_pages(page, served):
    page.goto(served.base + "/heatmap", wait_until="networkidle")
    page.fill("input[name=q]", "eth")
    page.press("input[name=q]", "Enter")
    page.wait_for_selector("#chart-history")
    assert page.url.endswith("/coin/ETH")
    page.fill("input[name=q]", "no-such-thing")
    page.press("input[name=q]", "Enter")
    page.wait_for_selector("section.error[data-status='404']")  # the 404 page is swapped in, not dropped
    page.goto(served.base + "/heatmap", wait_until="networkidle")
    first = page.get_attribute("table.heat tbody tr:first-child", "data-coin")
    page.click("table.heat tbody tr:first-child th a")
    page.wait_for_selector("#chart-history")
    assert page.inner_text("h1") == first
