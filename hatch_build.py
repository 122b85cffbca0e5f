"""Hatchling build hook: the dashboard's browser bundle, built from npm packages when the package is built
or installed (`pip install .`, `pip install -e .`, `python -m build`).

It runs `npm ci` in web/ (the versions pinned by web/package-lock.json) and esbuild (`npm run build`),
which writes hltracker/web/static/dist/dashboard.js; the bundle is not in git, it ships in the wheel.
Node.js 18+ and npm are needed at build time only; at run time nothing is fetched from outside the server.
A bundle newer than every input is reused.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

BUNDLE = "hltracker/web/static/dist/dashboard.js"


class DashboardBundle(BuildHookInterface):
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict) -> None:
        root = Path(self.root)
        web = root / "web"
        bundle = root / BUNDLE
        if not (web / "package.json").exists():  # built from a wheel-less tree without the sources
            return
        inputs = [web / "package.json", web / "package-lock.json", *(web / "src").rglob("*")]
        fresh = bundle.exists() and all(bundle.stat().st_mtime >= p.stat().st_mtime for p in inputs)
        if not fresh:
            npm = shutil.which("npm")
            if npm is None:
                raise RuntimeError("building hltracker needs Node.js and npm for the dashboard bundle "
                                   "(Debian: apt-get install nodejs npm); see docs/dashboard.md")
            installed = web / "node_modules" / ".package-lock.json"
            if not installed.exists() or installed.stat().st_mtime < (web / "package-lock.json").stat().st_mtime:
                subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=web, check=True)
            subprocess.run([npm, "run", "build"], cwd=web, check=True)
        build_data.setdefault("artifacts", []).append(BUNDLE)
