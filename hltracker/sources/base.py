"""What every source is: a named thing that yields `Snapshot`s, oldest first.

A source declares what it is as class attributes (name, description, capabilities); only fetching is
code. Sources import `hltracker.model` and nothing else of ours.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar, Protocol, runtime_checkable

from hltracker.model import Snapshot


@runtime_checkable
class Source(Protocol):
    name: ClassVar[str]
    description: ClassVar[str]
    # True when the source sees every wallet of a market, so long and short sizes balance exactly.
    full_market: ClassVar[bool]

    def snapshots(self) -> Iterator[Snapshot]:
        """Yield snapshots in time order. May be endless (a live source)."""
        ...

    def describe(self) -> dict[str, Any]:
        """Name, description, capabilities and the settings in force, for `hltracker sources list`."""
        ...
