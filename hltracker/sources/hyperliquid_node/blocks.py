"""The node's block streams side by side: block n of every stream, as one `BlockEvents`.

Required: fills (`node_fills_by_block` or `node_fills_streaming`) and `misc_events` in a block form.
Optional: `replica_cmds` (marks, user actions) and `hip3_oracle_updates` (HIP-3 marks). Every stream must
hold every block; the streams must agree on block numbers and times. Blocks up to `after` (the anchor's
height) are passed over, their marks kept (the anchor state carries none).
"""

from __future__ import annotations

from pathlib import Path

from hltracker.sources.hyperliquid_node.replay import BlockEvents
from hltracker.sources.hyperliquid_node.streams import (
    FILL_FORMS,
    HIP3_FORMS,
    MISC_FORMS,
    REPLICA_FORMS,
    Block,
    BlockStream,
    StreamError,
    find_stream,
)


class MissingStreamError(StreamError):
    pass


def stream_folders(root: Path) -> dict[str, Path]:
    """The block streams present under a node's data folder (`hl/data`), by role."""
    found = {"node_fills": find_stream(root, FILL_FORMS[:2]), "misc_events": find_stream(root, MISC_FORMS[:2]),
             "replica_cmds": find_stream(root, REPLICA_FORMS), "hip3_oracle_updates": find_stream(root, HIP3_FORMS[:2])}
    for role in ("node_fills", "misc_events"):
        if found[role] is None:
            forms = FILL_FORMS if role == "node_fills" else MISC_FORMS
            raise MissingStreamError(f"no {' or '.join(f + '/hourly' for f in forms[:2])} folder under {root}: "
                                     "run the node with --write-fills --write-misc-events --batch-by-block", root, 0)
    return {k: v for k, v in found.items() if v is not None}


class NodeBlocks:
    def __init__(self, root: Path, after: int, since_ms: int | None = None):
        self.folders = stream_folders(Path(root))
        self.streams = {role: BlockStream(folder, since_ms=since_ms) for role, folder in self.folders.items()}
        self.after = after
        self.pending: dict[str, Block] = {}

    def resync(self, after: int) -> None:
        """After a re-anchor at `after`: blocks up to it are passed over again."""
        self.after = after
        self.pending = {r: b for r, b in self.pending.items() if b.number > after}

    def next(self, on_skipped=None) -> BlockEvents | None:
        """The next block after the anchor, or None when some stream has not written it yet.

        `on_skipped(BlockEvents)` sees each block passed over (for its marks)."""
        while True:
            for role, stream in self.streams.items():
                while role not in self.pending:
                    b = stream.next()
                    if b is None:
                        return None
                    self.pending[role] = b
            numbers = {b.number for b in self.pending.values()}
            low = min(numbers)
            if len(numbers) > 1:
                late = [r for r, b in self.pending.items() if b.number == low]
                if low > self.after:
                    ahead = next(b for b in self.pending.values() if b.number != low)
                    raise StreamError(f"the streams disagree: block {low} in {late}, block {ahead.number} elsewhere",
                                      ahead.file, ahead.offset)
            blocks = {r: b for r, b in self.pending.items() if b.number == low}
            for r in blocks:
                del self.pending[r]
            ev = _events(low, blocks)
            if low <= self.after:
                if on_skipped is not None:
                    on_skipped(ev)
                continue
            return ev


def _events(number: int, blocks: dict[str, Block]) -> BlockEvents:
    time_ms = next(iter(blocks.values())).time_ms
    return BlockEvents(
        number=number, time_ms=time_ms,
        fills=blocks["node_fills"].events if "node_fills" in blocks else [],
        misc=blocks["misc_events"].events if "misc_events" in blocks else [],
        actions=blocks["replica_cmds"].events if "replica_cmds" in blocks else [],
        hip3=blocks["hip3_oracle_updates"].events if "hip3_oracle_updates" in blocks else [],
        where={r: b.where for r, b in blocks.items()},
    )
