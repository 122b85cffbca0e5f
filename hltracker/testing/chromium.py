"""Headless Chromium for the dashboard's browser tests, screenshots and benchmark.

Debian's `chromium` package (/usr/bin/chromium, or `HLTRACKER_CHROMIUM`) driven by Playwright for Python
through `executable_path`: Playwright's own browser download (`playwright install`) is never used. Each
launch gets a fresh profile directory and flags that keep the browser from calling out (no sync, no
component updates, no background networking, no QUIC).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

LAUNCH_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def chromium_path() -> str | None:
    """The Chromium binary to drive, or None when none is installed."""
    explicit = os.environ.get("HLTRACKER_CHROMIUM")
    if explicit:
        return explicit if Path(explicit).exists() else None
    for candidate in ("/usr/bin/chromium", shutil.which("chromium") or "", shutil.which("chromium-browser") or ""):
        if candidate and Path(candidate).exists():
            return candidate
    return None


@contextmanager
def chromium(playwright) -> Iterator[object]:
    """A persistent Chromium context on a fresh user-data-dir (removed after), from `sync_playwright()`."""
    binary = chromium_path()
    if binary is None:
        raise RuntimeError("no Chromium: apt-get install chromium (or set HLTRACKER_CHROMIUM)")
    profile = tempfile.mkdtemp(prefix="hltracker-chromium-")
    try:
        context = playwright.chromium.launch_persistent_context(
            profile, executable_path=binary, headless=True, args=LAUNCH_ARGS, viewport={"width": 1366, "height": 900})
        try:
            yield context
        finally:
            context.close()
    finally:
        shutil.rmtree(profile, ignore_errors=True)
