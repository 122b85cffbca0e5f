"""The age windows of the API (`openedWithin`, `positionRecencyTimeframe`, `positionAge`).

DESIGN.md 3.4: a position is in a window when its `openTime` is within the window before the snapshot
(`open_time >= taken_at - length`); `all` keeps every position. Position-level filters (heatmap,
per-coin segment series) keep only such positions; wallet-level filters (segment summary, bias
history) keep the wallets that hold at least one such position, with all their positions.
"""

from __future__ import annotations

WINDOW_ALL = "all"

# name -> length in milliseconds (None: no limit), in the order the API lists them
AGE_WINDOWS: dict[str, int | None] = {
    "all": None,
    "24h": 24 * 3_600_000,
    "7d": 7 * 86_400_000,
    "30d": 30 * 86_400_000,
}

AGE_WINDOW_NAMES: tuple[str, ...] = tuple(AGE_WINDOWS)


def window_cutoff_ms(name: str, taken_at_ms: int) -> int | None:
    """The earliest `open_time` (ms) inside window `name` at `taken_at_ms`; None for `all`."""
    length = AGE_WINDOWS[name]
    return None if length is None else taken_at_ms - length
