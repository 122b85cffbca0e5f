"""Screenshots of every dashboard page, desktop (1366 px) and phone (390 px), light and dark, as PNGs.

    .venv/bin/python scripts/dashboard_screenshots.py [--out docs/screenshots] [--store /tmp/x.duckdb]

Simulates three days of the `small` market (about 240 coins) into a temporary store unless `--store`
names one, serves it on a free loopback port, and drives Debian's Chromium (hltracker/testing/chromium.py).
Each shot is the top of the page up to 2,400 px (desktop) or 3,000 px (phone), so the files stay small.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import httpx
from dashboard_fixture import landed_store, running_dashboard
from playwright.sync_api import sync_playwright

from hltracker.testing.chromium import chromium

SIZES = {"desktop": (1366, 900, 2400), "phone": (390, 844, 3000)}
THEMES = ("light", "dark")


def pages(base: str, coin: str, wallet: str) -> dict[str, str]:
    return {"overview": "/", "heatmap": "/heatmap", "coin": f"/coin/{coin}", "cohorts": "/cohorts",
            "cohort": "/cohorts/4", "liquidations": "/liquidations", "stats": "/stats",
            "wallet": f"/wallet/{wallet}", "status": "/status", "not-found": "/coin/NOSUCHCOIN"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("docs/screenshots"))
    parser.add_argument("--store", type=Path, default=None, help="a DuckDB store to show (default: simulate one)")
    parser.add_argument("--viewport-only", action="store_true", help="only the first screen of each page")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="hltracker-shots-"))
    store = landed_store(args.store or work / "shots.duckdb")
    with running_dashboard(store, work / "exports") as base, sync_playwright() as pw, chromium(pw) as browser:
        rows = httpx.get(base + "/coin/BTC?csv=positions", timeout=60).text.splitlines()
        wallet = rows[1].split(",")[rows[0].split(",").index("address")]  # a wallet with an open BTC position
        for theme in THEMES:
            for size, (width, height, longest) in SIZES.items():
                page = browser.new_page()
                page.set_viewport_size({"width": width, "height": height})
                page.add_init_script(f"localStorage.setItem('hltracker-theme', '{theme}')")
                for name, path in pages(base, "BTC", wallet).items():
                    page.goto(base + path, wait_until="networkidle")
                    page.wait_for_function("[...document.querySelectorAll('[data-chart]')]"
                                           ".every(e => e.dataset.drawn)")
                    full = height if args.viewport_only else page.evaluate("document.documentElement.scrollHeight")
                    target = args.out / f"{name}-{size}-{theme}.png"
                    page.screenshot(path=str(target), full_page=True,
                                    clip={"x": 0, "y": 0, "width": width, "height": min(full, longest)})
                    print(f"{target}  {target.stat().st_size // 1024} KB")
                page.close()


if __name__ == "__main__":
    main()
