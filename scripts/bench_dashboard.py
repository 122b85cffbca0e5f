"""Dashboard speed in headless Chromium: time to the first drawn chart and to a complete heatmap page.

    .venv/bin/python scripts/bench_dashboard.py [--loads 9] [--profile small] [--days 3] [--store PATH] [--at-once]

The heatmap is the full coin x cohort table (the `small` profile lists about 240 coins, the mainnet
scale of the heatmap: its size depends on coins x 16 cohorts, not on the wallet count; `--profile
mainnet` simulates 1M wallets, which takes minutes). Each figure is the median of `--loads` page loads in
one Chromium (Debian's, hltracker/testing/chromium.py), measured from the navigation start:

- heatmap complete: the page's load event (every cell parsed and styled, the bundle run);
- first chart drawn: the earliest `data-drawn` stamp ECharts' draw leaves on a coin page's charts.

"cold" is the first load after the server started, once its start-up warm-up (the default overview and
heatmap rendered in the background, docs/dashboard.md) has finished, in a browser with an empty cache;
the coin page is not pre-rendered, so its cold figure includes computing its API answers. "warm" is the
rest (served from the per-snapshot cache). Target: under 1 s on 2 cores.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
from pathlib import Path

from dashboard_fixture import landed_store, running_dashboard
from playwright.sync_api import sync_playwright

from hltracker.testing.chromium import chromium

TARGET_SECONDS = 1.0


def heatmap_seconds(page, base: str) -> float:
    page.goto(base + "/heatmap", wait_until="load")
    return page.evaluate("performance.getEntriesByType('navigation')[0].loadEventEnd") / 1000


def first_chart_seconds(page, base: str) -> float:
    page.goto(base + "/coin/BTC", wait_until="load")
    page.wait_for_function("[...document.querySelectorAll('[data-chart]')].every(e => e.dataset.drawn)")
    return page.evaluate("Math.min(...[...document.querySelectorAll('[data-chart]')]"
                         ".map(e => Number(e.dataset.drawn)))") / 1000


def wait_for_warm_up(started: float) -> float:
    """Seconds from the server's start to the end of its start-up warm-up (a thread of this process)."""
    while any(t.name == "dashboard-warm-up" for t in threading.enumerate()):
        time.sleep(0.01)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--loads", type=int, default=9)
    parser.add_argument("--profile", default="small")
    parser.add_argument("--days", type=float, default=3.0)
    parser.add_argument("--store", type=Path, default=None, help="a DuckDB store to serve (default: simulate one)")
    parser.add_argument("--at-once", action="store_true",
                        help="the cold loads do not wait for the start-up warm-up (a reader arriving with the server)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="hltracker-bench-dashboard-"))
    store = landed_store(args.store or work / "bench.duckdb", profile=args.profile, days=args.days)
    with sync_playwright() as pw, chromium(pw) as browser:  # the browser first: its start is not the server's
        started = time.perf_counter()
        with running_dashboard(store, work / "exports") as base:
            measure(browser, base, started, args.loads, args.at_once)


def measure(browser, base: str, started: float, loads: int, at_once: bool) -> None:
    if at_once:
        print("cold: requested at once, while the start-up warm-up runs")
    else:
        ready = wait_for_warm_up(started)
        print(f"cold: requested after the start-up warm-up, {ready:.3f} s after the app was created")
    page = browser.new_page()
    cold_heat = heatmap_seconds(page, base)
    cold_parts = page.evaluate("(() => { const n = performance.getEntriesByType('navigation')[0];"
                               " return [n.responseStart, n.responseEnd, n.domContentLoadedEventEnd]; })()")
    cold_chart = first_chart_seconds(page, base)
    html = page.evaluate("fetch('/heatmap').then(r => r.text())")
    cells, size = html.count('class="cell'), len(html.encode())
    heat = [heatmap_seconds(page, base) for _ in range(loads)]
    chart = [first_chart_seconds(page, base) for _ in range(loads)]
    print(f"heatmap page: {cells} cells ({cells // 16} coins x 16 cohorts), {size / 1e6:.2f} MB of HTML")
    first, html_end, dom = (v / 1000 for v in cold_parts)
    print(f"cold heatmap load: first byte {first:.3f} s, HTML received {html_end:.3f} s, "
          f"DOM parsed {dom:.3f} s, complete {cold_heat:.3f} s")
    for name, cold, warm in (("heatmap complete", cold_heat, heat), ("first chart drawn", cold_chart, chart)):
        median = statistics.median(warm)
        print(f"{name:18s} cold {cold:.3f} s   warm median {median:.3f} s (min {min(warm):.3f}, max {max(warm):.3f}) "
              f"  target {TARGET_SECONDS:.1f} s: ratio {median / TARGET_SECONDS:.2f}")


if __name__ == "__main__":
    main()
