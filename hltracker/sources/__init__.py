"""Sources turn outside data into `Snapshot`s: one sub-package per source."""

from hltracker.sources.base import Source
from hltracker.sources.registry import UnknownSourceError, available_sources, source_class

__all__ = ["Source", "UnknownSourceError", "available_sources", "source_class"]
