"""The `snapshot-files` source: snapshots stored as Parquet, one folder per snapshot.

The layout is documented for producers in docs/snapshot-files.md; `write_snapshot` and `read_snapshot`
are its reference writer and reader, `SnapshotFilesSource` ingests a folder of them.
"""

from hltracker.sources.snapshot_files.layout import (
    SnapshotFilesError,
    list_snapshot_dirs,
    read_snapshot,
    snapshot_dir_name,
    write_snapshot,
)
from hltracker.sources.snapshot_files.source import SnapshotFilesSource

__all__ = [
    "SnapshotFilesError",
    "SnapshotFilesSource",
    "list_snapshot_dirs",
    "read_snapshot",
    "snapshot_dir_name",
    "write_snapshot",
]
