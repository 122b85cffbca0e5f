"""The sampling rule of the time-series exports, written once.

A sampled series starts with the latest snapshot at its own `taken_at`. Then, newest first, for every
UTC boundary `b` that is a multiple of `every` (2 h: 00:00, 02:00, ...; 12 h: 00:00 and 12:00), with
`latest - span <= b < latest`: the last snapshot with `b - every < taken_at <= b`, labelled `b`. A
boundary with no such snapshot is skipped, so a gap in the history is a gap in the file.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from hltracker.store import SnapshotInfo, Store

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Sample:
    """One row of a sampled series: the time it is shown at, and the snapshot its figures come from."""

    label: datetime
    snapshot_id: int


def sample_snapshots(store: Store, latest: SnapshotInfo, every: timedelta, span: timedelta) -> list[Sample]:
    """The latest snapshot, then one snapshot per `every` boundary over `span` before it, newest first."""
    snapshots = store.query("snapshots_between", start=latest.taken_at - span - every, end=latest.taken_at)
    picked = pick_samples(snapshots["taken_at"].to_list(), snapshots["snapshot_id"].to_list(), latest.taken_at,
                          every, span)
    return [Sample(latest.taken_at, latest.snapshot_id), *picked]


def pick_samples(
    taken_at: Sequence[datetime], snapshot_ids: Sequence[int], latest_at: datetime, every: timedelta, span: timedelta
) -> list[Sample]:
    """The boundary samples of the rule above, newest first, from snapshots given oldest first."""
    samples = []
    boundary = _floor(latest_at, every)
    if boundary == latest_at:
        boundary -= every
    while boundary >= latest_at - span:
        i = bisect_right(taken_at, boundary) - 1
        if i >= 0 and taken_at[i] > boundary - every:
            samples.append(Sample(boundary, snapshot_ids[i]))
        boundary -= every
    return samples


def _floor(at: datetime, every: timedelta) -> datetime:
    """The latest multiple of `every` since the Unix epoch at or before `at` (UTC-aligned boundaries)."""
    return _EPOCH + (at - _EPOCH) // every * every
