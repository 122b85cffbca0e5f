"""The layer rules of DESIGN.md section 1: which package may import which."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "hltracker"

# package -> hltracker packages it may import (besides itself)
ALLOWED: dict[str, set[str]] = {
    "model": set(),
    "sources": {"model"},
    "engine": {"model"},
    "store": {"model"},
    "api": {"store", "exports", "model"},
    "exports": {"store", "model"},
    "web": {"store", "api", "model"},
    "client": set(),
    "testing": set(),  # the throwaway PostgreSQL server of the tests and benchmark scripts
    "fake_exchange": {"sources", "model"},  # the simulator served as Hyperliquid's info API
}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return {m.split(".")[1] for m in found if m.startswith("hltracker.") and m.count(".") >= 1}


def test_each_package_imports_only_what_its_layer_allows():
    broken = []
    for layer, allowed in ALLOWED.items():
        folder = PACKAGE / layer
        for path in sorted(folder.rglob("*.py")) if folder.exists() else []:
            bad = _imports(path) - allowed - {layer}
            if bad:
                broken.append(f"{path.relative_to(PACKAGE.parent)} imports {sorted(bad)}")
    assert not broken, "\n".join(broken)


def test_the_client_imports_nothing_of_the_server():
    folder = PACKAGE / "client"
    for path in folder.rglob("*.py") if folder.exists() else []:
        assert not _imports(path), path


def test_the_layer_check_sees_the_packages_that_exist():
    present = {p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert present <= set(ALLOWED), f"a new package needs a layer rule: {present - set(ALLOWED)}"
    assert {"model", "sources"} <= present
