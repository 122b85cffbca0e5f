"""Every dashboard route is documented in docs/dashboard.md."""

from __future__ import annotations

import re
from pathlib import Path

from hltracker.web.routes import router

DOC = (Path(__file__).resolve().parent.parent / "docs" / "dashboard.md").read_text()


def test_every_dashboard_route_is_in_docs_dashboard_md():
    paths = {re.sub(r"\{(\w+)(:path)?\}", r"{\1}", route.path) for route in router.routes}
    missing = [p for p in sorted(paths) if f"`{p}" not in DOC]
    assert paths and not missing, f"undocumented dashboard routes: {missing}"
