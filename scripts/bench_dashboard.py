"""Dashboard speed in headless Chromium: time to the first drawn chart and to a complete heatmap page.

    .venv/bin/python scripts/bench_dashboard.py [--loads 9] [--profile small] [--days 3] [--store PATH]

The heatmap is the full coin x cohort table (the `small` profile lists about 240 coins, the mainnet
scale of the heatmap: its size depends on coins x 16 cohorts, not on the wallet count; `--profile
mainnet` simulates 1M wallets, which takes minutes). Each figure is the median of `--loads` page loads in
one Chromium (Debian's, hltracker/testing/chromium.py), measured from the navigation start:

- heatmap complete: the page's load event (every cell parsed and styled, the bundle run);
- first chart drawn: the earliest `data-drawn` stamp ECharts' draw leaves on a coin page's charts.

"cold" is the first load after the server started (the API answers computed), "warm" the rest (served
from the per-snapshot cache). Target: under 1 s on 2 cores.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--loads", type=int, default=9)
    parser.add_argument("--profile", default="small")
    parser.add_argument("--days", type=float, default=3.0)
    parser.add_argument("--store", type=Path, default=None, help="a DuckDB store to serve (default: simulate one)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="hltracker-bench-dashboard-"))
    store = landed_store(args.store or work / "bench.duckdb", profile=args.profile, days=args.days)
    with running_dashboard(store, work / "exports") as base, sync_playwright() as pw, chromium(pw) as browser:
        page = browser.new_page()
        cold_heat, cold_chart = heatmap_seconds(page, base), first_chart_seconds(page, base)
        html = page.evaluate("fetch('/heatmap').then(r => r.text())")
        cells, size = html.count('class="cell'), len(html.encode())
        heat = [heatmap_seconds(page, base) for _ in range(args.loads)]
        chart = [first_chart_seconds(page, base) for _ in range(args.loads)]
    print(f"heatmap page: {cells} cells ({cells // 16} coins x 16 cohorts), {size / 1e6:.2f} MB of HTML")
    for name, cold, warm in (("heatmap complete", cold_heat, heat), ("first chart drawn", cold_chart, chart)):
        median = statistics.median(warm)
        print(f"{name:18s} cold {cold:.3f} s   warm median {median:.3f} s (min {min(warm):.3f}, max {max(warm):.3f}) "
              f"  target {TARGET_SECONDS:.1f} s: ratio {median / TARGET_SECONDS:.2f}")


if __name__ == "__main__":
    main()
