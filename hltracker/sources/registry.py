"""The source registry: every source, built-in or third-party, registers through the
`hltracker.sources` entry-point group (see pyproject.toml), so ours load exactly as an outsider's would.
"""

from __future__ import annotations

from importlib.metadata import entry_points

from hltracker.sources.base import Source

ENTRY_POINT_GROUP = "hltracker.sources"


class UnknownSourceError(LookupError):
    pass


def available_sources() -> dict[str, type[Source]]:
    """Every registered source class, by name."""
    found: dict[str, type[Source]] = {}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        found[ep.name] = ep.load()
    return dict(sorted(found.items()))


def source_class(name: str) -> type[Source]:
    """The source class registered as `name`."""
    sources = available_sources()
    if name not in sources:
        known = ", ".join(sources) or "none (is hltracker installed? pip install -e .)"
        raise UnknownSourceError(f"unknown source {name!r}; registered sources: {known}")
    return sources[name]
