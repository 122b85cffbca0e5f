"""Why a node state file could not become a snapshot.

    ValueError
    ├── NodeStateError          a file that cannot be read into a valid snapshot (names the file and why)
    │   ├── NodeLayoutError     its keys match no layout this reader knows (names the first odd key path)
    │   └── TruncatedStateError it ends early (a copy still in progress, or a broken file)
    └── MarksUnavailableError   the state has no mark prices and no `markets_from` was given: a setting,
                                not a bad file, so `on_invalid` never swallows it
"""

from __future__ import annotations

from pathlib import Path


class NodeStateError(ValueError):
    """A state file that cannot be read into a valid snapshot; `path` is the file (None while the
    reader has not attached it yet), `problem` the reason."""

    def __init__(self, problem: str, path: Path | str | None = None):
        self.problem = problem
        self.path = None if path is None else Path(path)
        where = "" if self.path is None else f"node state {str(self.path)!r}: "
        super().__init__(where + problem)

    def at(self, path: Path | str) -> NodeStateError:
        """The same error, naming the file it came from."""
        return type(self)(self.problem, path)


class NodeLayoutError(NodeStateError):
    """The file's key layout is none of the known ones (node versions drift): the message names the key
    path where it departs, e.g. "exchange.locus: expected key 'cls', found ['abc', 'ctx']"."""


class TruncatedStateError(NodeStateError):
    """The file ends before its document does."""


class MarksUnavailableError(ValueError):
    """A state file carries no mark prices and the source has no `markets_from`."""

    def __init__(self, what: str = "a node's state file carries no mark prices"):
        super().__init__(f"{what}: pass an info URL so that marks can be read from its metaAndAssetCtxs, "
                         "e.g. the public API (a node's local info server does not serve it) "
                         "(hltracker ingest --info-url URL, or HyperliquidNodeSource(markets_from=...))")
