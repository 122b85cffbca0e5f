"""Every CLI command and option is documented in the README."""

from __future__ import annotations

import re
from pathlib import Path

import typer.main

from hltracker.cli import app

README = (Path(__file__).resolve().parent.parent / "README.md").read_text()


def _commands(group, prefix="hltracker"):
    click_group = typer.main.get_command(group) if not hasattr(group, "commands") else group
    for name, cmd in click_group.commands.items():
        if hasattr(cmd, "commands"):
            yield from _commands(cmd, f"{prefix} {name}")
        else:
            yield f"{prefix} {name}", cmd


def test_every_cli_command_and_option_is_in_the_readme():
    missing = []
    for path, cmd in _commands(app):
        if f"`{path}" not in README:
            missing.append(path)
        for param in cmd.params:
            for opt in param.opts:
                if opt.startswith("--") and opt not in README:
                    missing.append(f"{path} {opt}")
    assert not missing, f"undocumented: {missing}"


def test_every_api_route_and_setting_is_documented():
    from hltracker.api import create_app
    from hltracker.store import open_store

    api_doc = (Path(__file__).resolve().parent.parent / "docs" / "api.md").read_text()
    with open_store(":memory:") as store:
        spec = create_app(store, poll=False).openapi()
    missing = [path for path in spec["paths"] if path.removeprefix("/api/external") not in api_doc]
    settings = re.findall(r"`(HLTRACKER_[A-Z_]+)`", (Path(__file__).resolve().parent.parent / "hltracker" / "api"
                                                    / "settings.py").read_text())
    missing += [s for s in settings if s not in README]
    assert settings and not missing, f"undocumented: {missing}"
