"""The snapshot-files layout: exact round trip, ordering, completeness, clear errors, follow mode."""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
import tomllib
from datetime import UTC, datetime, timedelta, timezone
from importlib.metadata import EntryPoint
from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from hltracker.model import FRAME_SCHEMAS, NULLABLE, Snapshot, SnapshotError, conform
from hltracker.sources import Source
from hltracker.sources.registry import ENTRY_POINT_GROUP
from hltracker.sources.snapshot_files import (
    SnapshotFilesError,
    SnapshotFilesSource,
    list_snapshot_dirs,
    read_snapshot,
    snapshot_dir_name,
    write_snapshot,
)

ROOT = Path(__file__).resolve().parents[1]
T0 = datetime(2026, 3, 21, 0, 15, tzinfo=UTC)
ALICE = "0x" + "a1" * 20
BOB = "0x" + "b2" * 20
CAROL = "0x" + "c3" * 20
UTC_MS = pl.Datetime("ms", "UTC")


def _markets() -> pl.DataFrame:
    return conform(
        pl.DataFrame(
            {
                "coin": ["BTC", "ETH", "xyz:GOLD"],
                "dex": ["main", "main", "xyz"],
                "mark_price": [84_000.5, 1_990.25, 3_020.1],
                "oracle_price": [84_010.0, 1_991.0, 3_019.9],
                "mid_price": [84_000.0, 1_990.5, None],
                "premium": [0.0001, -0.00002, None],
                "funding_rate": [0.0000125, -0.00001, 0.00003],
                "open_interest": [12_345.6, 250_000.0, 40.0],
                "day_ntl_volume": [1.5e9, 7.2e8, None],
                "max_leverage": [40, 25, 20],
                "sz_decimals": [5, 4, 2],
                "is_delisted": [False, False, False],
                "only_isolated": [False, False, True],
            }
        ),
        "markets",
    )


def _accounts() -> pl.DataFrame:
    return conform(
        pl.DataFrame(
            {
                "address": [ALICE, BOB, CAROL],
                "perp_equity": [1_250_000.0, 8_400.0, 120.0],
                "spot_equity": [5_000.0, None, 0.0],
                "staking_equity": [None, None, 0.0],
                "vault_equity": [0.0, None, None],
                "balance": [900_000.0, 2_000.0, None],
                "all_time_pnl": [2_500_000.0, -15_000.0, None],
                "perp_volume_30d": [3.2e8, 1.1e5, None],
            }
        ),
        "accounts",
    )


def _positions() -> pl.DataFrame:
    return conform(
        pl.DataFrame(
            {
                "address": [ALICE, BOB, BOB, CAROL],
                "coin": ["BTC", "BTC", "xyz:GOLD", "ETH"],
                "dex": ["main", "main", "xyz", "main"],
                "szi": [1.5, -1.5, -2.0, 0.05],
                "entry_price": [80_000.0, 85_000.0, 3_000.0, 2_100.0],
                "position_value": [126_000.75, 126_000.75, 6_040.2, 99.5125],
                "unrealized_pnl": [6_000.75, 1_499.25, -40.2, None],
                "liquidation_price": [None, 89_500.0, 3_150.0, 1_400.0],
                "leverage_type": ["cross", "cross", "isolated", "cross"],
                "leverage": [10, 20, 5, 3],
                "margin_used": [12_600.0, 6_300.0, 1_208.0, None],
                "max_leverage": [40, 40, 20, 25],
                "funding_since_open": [12.5, -3.25, None, 0.0],
                "open_time": pl.Series(
                    [T0 - timedelta(hours=5), None, T0 - timedelta(minutes=7, milliseconds=123), None],
                    dtype=UTC_MS,
                ),
            }
        ),
        "positions",
    )


def _fills() -> pl.DataFrame:
    when = T0 - timedelta(minutes=3, milliseconds=456)
    return conform(
        pl.DataFrame(
            {
                "time": pl.Series([when, when, T0 - timedelta(minutes=1)], dtype=UTC_MS),
                "address": [BOB, ALICE, CAROL],
                "coin": ["BTC", "BTC", "ETH"],
                "dex": ["main", "main", "main"],
                "side": ["A", "B", "B"],
                "px": [84_100.0, 84_100.0, 1_990.0],
                "sz": [0.5, 0.5, 0.05],
                "start_position": [-1.0, 2.0, 0.0],
                "dir": ["Close Long", "Open Long", "Open Long"],
                "closed_pnl": [-250.0, 0.0, 0.0],
                "fee": [12.6, None, 0.04],
                "crossed": [True, False, True],
                "tid": [9_001, 9_001, None],
                "is_liquidation": [True, True, False],
                "liquidated_user": [BOB, BOB, None],
                "liquidation_mark_px": [84_095.5, 84_095.5, None],
                "liquidation_method": ["market", "market", None],
            }
        ),
        "fills",
    )


def _snapshot(taken_at: datetime = T0, with_fills: bool = True) -> Snapshot:
    return Snapshot(
        taken_at=taken_at,
        source="simulator",
        markets=_markets(),
        accounts=_accounts(),
        positions=_positions(),
        fills=_fills() if with_fills else None,
        height=941_006_631,
        extra={"profile": "small", "seed": "7"},
    )


def _assert_same(got: Snapshot, want: Snapshot) -> None:
    assert got.taken_at == want.taken_at
    assert got.source == want.source
    assert got.height == want.height
    assert got.extra == want.extra
    assert set(got.frames()) == set(want.frames())
    for name, df in want.frames().items():
        assert got.frames()[name].schema == FRAME_SCHEMAS[name]
        assert got.frames()[name].equals(df, null_equal=True), name


def _rewrite_frame(folder: Path, name: str, df: pl.DataFrame) -> None:
    """Replace a frame's file as a producer would: the file, then its checksum in the manifest."""
    path = folder / f"{name}.parquet"
    df.write_parquet(path)
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["frames"][name]["sha256"] = hashlib.sha256(path.read_bytes()).hexdigest()
    (folder / "manifest.json").write_text(json.dumps(manifest))


def _drop_checksums(folder: Path) -> None:
    """The manifest as a producer that writes no checksums (or an older hltracker) leaves it."""
    manifest = json.loads((folder / "manifest.json").read_text())
    for entry in manifest["frames"].values():
        del entry["sha256"]
    (folder / "manifest.json").write_text(json.dumps(manifest))


def _edit_manifest(folder: Path, **changes) -> None:
    path = folder / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest.update(changes)
    path.write_text(json.dumps(manifest))


# ---- round trip ----------------------------------------------------------------------------------


def test_round_trip_is_exact_with_fills(tmp_path):
    snap = _snapshot()

    folder = write_snapshot(snap, tmp_path)

    assert sorted(p.name for p in folder.iterdir()) == [
        "accounts.parquet",
        "fills.parquet",
        "manifest.json",
        "markets.parquet",
        "positions.parquet",
    ]
    _assert_same(read_snapshot(folder), snap)


def test_round_trip_is_exact_without_fills(tmp_path):
    snap = _snapshot(with_fills=False)

    folder = write_snapshot(snap, tmp_path)
    got = read_snapshot(folder)

    assert not (folder / "fills.parquet").exists()
    assert got.fills is None
    _assert_same(got, snap)


def test_empty_frames_round_trip_with_their_schema(tmp_path):
    snap = Snapshot(
        taken_at=T0,
        source="vendor",
        markets=_markets(),
        accounts=_accounts().clear(),
        positions=_positions().clear(),
        fills=_fills().clear(),
    )

    got = read_snapshot(write_snapshot(snap, tmp_path))

    assert got.fills is not None and got.fills.height == 0
    assert got.height is None and got.extra == {}
    _assert_same(got, snap)


def test_manifest_names_format_time_and_frames(tmp_path):
    folder = write_snapshot(_snapshot(T0 + timedelta(milliseconds=250)), tmp_path)

    manifest = json.loads((folder / "manifest.json").read_text())

    def sha(frame: str) -> str:  # the SHA-256 of the file's bytes, as any sha256sum prints it
        return hashlib.sha256((folder / f"{frame}.parquet").read_bytes()).hexdigest()

    assert folder.name == "20260321T001500.250Z"
    assert manifest == {
        "format": "hltracker-snapshot",
        "format_version": 1,
        "taken_at": "2026-03-21T00:15:00.250Z",
        "source": "simulator",
        "height": 941_006_631,
        "extra": {"profile": "small", "seed": "7"},
        "frames": {
            "markets": {"rows": 3, "file": "markets.parquet", "sha256": sha("markets")},
            "accounts": {"rows": 3, "file": "accounts.parquet", "sha256": sha("accounts")},
            "positions": {"rows": 4, "file": "positions.parquet", "sha256": sha("positions")},
            "fills": {"rows": 3, "file": "fills.parquet", "sha256": sha("fills")},
        },
    }


def test_parquet_files_are_zstd_and_mark_required_columns_non_nullable(tmp_path):
    folder = write_snapshot(_snapshot(), tmp_path)

    meta = pq.ParquetFile(folder / "positions.parquet")
    schema = meta.schema_arrow

    assert meta.metadata.row_group(0).column(0).compression == "ZSTD"
    assert not schema.field("szi").nullable
    assert schema.field("liquidation_price").nullable
    assert schema.field("open_time").type == pa.timestamp("ms", tz="UTC")


def test_dir_name_is_utc_with_milliseconds_and_sorts_in_time_order():
    tokyo = timezone(timedelta(hours=9))
    times = [T0 + timedelta(days=400), T0 + timedelta(milliseconds=5), T0 - timedelta(hours=1)]

    names = [snapshot_dir_name(t) for t in times]

    assert snapshot_dir_name(datetime(2026, 3, 21, 9, 15, tzinfo=tokyo)) == "20260321T001500.000Z"
    assert snapshot_dir_name(T0 + timedelta(microseconds=999)) == "20260321T001500.000Z"
    assert sorted(names) == [snapshot_dir_name(t) for t in sorted(times)]
    with pytest.raises(ValueError, match="timezone-aware"):
        snapshot_dir_name(datetime(2026, 3, 21))


def test_writing_the_same_snapshot_twice_replaces_it(tmp_path):
    write_snapshot(_snapshot(), tmp_path)
    second = Snapshot(
        taken_at=T0,
        source="simulator",
        markets=_markets(),
        accounts=_accounts(),
        positions=_positions().head(2),
        height=2,
    )

    folder = write_snapshot(second, tmp_path)

    assert [p.name for p in tmp_path.iterdir()] == [folder.name]
    assert not (folder / "fills.parquet").exists()
    _assert_same(read_snapshot(folder), second)


def test_an_invalid_snapshot_is_not_written(tmp_path):
    bad = Snapshot(
        taken_at=T0,
        source="simulator",
        markets=_markets(),
        accounts=_accounts().with_columns(pl.col("address").str.to_uppercase()),
        positions=_positions(),
    )

    with pytest.raises(SnapshotError, match="lowercase"):
        write_snapshot(bad, tmp_path)

    assert list(tmp_path.iterdir()) == []


def test_compatible_vendor_dtypes_are_conformed_to_the_contract(tmp_path):
    folder = write_snapshot(_snapshot(), tmp_path)
    vendor = (
        _positions()
        .with_columns(
            pl.col("leverage", "max_leverage").cast(pl.Int64),
            pl.col("open_time").dt.replace_time_zone(None).dt.cast_time_unit("us"),
            pl.col("leverage_type").cast(pl.Categorical),
            pl.lit("ignored").alias("vendor_note"),
        )
        .select("vendor_note", *reversed(FRAME_SCHEMAS["positions"].names()))
    )
    _rewrite_frame(folder, "positions", vendor)

    got = read_snapshot(folder)

    assert got.positions.schema == FRAME_SCHEMAS["positions"]
    assert got.positions.equals(_positions())


def test_a_folder_written_with_plain_pyarrow_as_documented_is_read(tmp_path):
    name = "20260321T001500.000Z"
    tmp = tmp_path / f".tmp-{name}"
    tmp.mkdir()
    frames = _snapshot(with_fills=False).frames()
    tables = {n: pa.table(df.to_dict(as_series=False)) for n, df in frames.items()}
    for frame, table in tables.items():
        pq.write_table(table, tmp / f"{frame}.parquet", compression="snappy")
    manifest = {
        "format": "hltracker-snapshot",
        "format_version": 1,
        "taken_at": "2026-03-21T00:15:00Z",
        "source": "acme-node-dump",
        "height": None,
        "extra": {},
        "frames": {n: {"rows": t.num_rows, "file": f"{n}.parquet"} for n, t in tables.items()},
    }
    (tmp / "manifest.json").write_text(json.dumps(manifest))
    os.replace(tmp, tmp_path / name)

    (got,) = SnapshotFilesSource(tmp_path).snapshots()

    assert got.taken_at == T0 and got.source == "acme-node-dump"
    for frame, df in frames.items():
        assert got.frames()[frame].equals(df), frame


# ---- the source ----------------------------------------------------------------------------------


def test_source_yields_snapshots_in_time_order_whatever_the_write_order(tmp_path):
    times = [T0 + timedelta(minutes=m) for m in (30, 0, 45, 15)]
    for t in times:
        write_snapshot(_snapshot(t), tmp_path)

    got = [s.taken_at for s in SnapshotFilesSource(tmp_path).snapshots()]

    assert got == sorted(times)


def test_source_skips_folders_without_manifest_and_dot_folders(tmp_path):
    write_snapshot(_snapshot(T0), tmp_path)
    incomplete = write_snapshot(_snapshot(T0 + timedelta(minutes=15)), tmp_path)
    (incomplete / "manifest.json").unlink()
    hidden = write_snapshot(_snapshot(T0 + timedelta(minutes=30)), tmp_path)
    hidden.rename(tmp_path / f".tmp-{hidden.name}-0000")
    (tmp_path / "notes.txt").write_text("not a snapshot")

    got = list(SnapshotFilesSource(tmp_path).snapshots())

    assert [s.taken_at for s in got] == [T0]
    assert [p.name for p in list_snapshot_dirs(tmp_path)] == ["20260321T001500.000Z"]


def test_source_reads_a_single_snapshot_folder(tmp_path):
    folder = write_snapshot(_snapshot(), tmp_path)

    got = list(SnapshotFilesSource(folder).snapshots())

    assert len(got) == 1
    _assert_same(got[0], _snapshot())


def test_source_describes_itself(tmp_path):
    write_snapshot(_snapshot(T0), tmp_path)
    write_snapshot(_snapshot(T0 + timedelta(minutes=15)), tmp_path)

    info = SnapshotFilesSource(tmp_path).describe()

    assert info["name"] == "snapshot-files"
    assert info["full_market"] is False
    assert info["description"]
    assert info["path"] == str(tmp_path)
    assert info["snapshots"] == 2
    assert SnapshotFilesSource(tmp_path / "nowhere").describe()["snapshots"] == 0


def test_source_on_a_missing_folder_raises(tmp_path):
    with pytest.raises(SnapshotFilesError, match="no such folder"):
        list(SnapshotFilesSource(tmp_path / "nowhere").snapshots())


def test_source_rejects_a_folder_named_against_its_taken_at(tmp_path):
    folder = write_snapshot(_snapshot(T0), tmp_path)
    folder.rename(tmp_path / "20990101T000000.000Z")

    with pytest.raises(SnapshotFilesError, match="does not match the manifest's taken_at"):
        list(SnapshotFilesSource(tmp_path).snapshots())


def test_follow_mode_picks_up_a_snapshot_written_after_iteration_started(tmp_path):
    write_snapshot(_snapshot(T0), tmp_path)
    source = SnapshotFilesSource(tmp_path, follow=True, poll_seconds=0.02)
    got: list[Snapshot] = []
    first_seen, second_seen = threading.Event(), threading.Event()

    def consume():
        for snap in source.snapshots():
            got.append(snap)
            (first_seen if len(got) == 1 else second_seen).set()

    consumer = threading.Thread(target=consume, daemon=True)
    consumer.start()
    try:
        assert first_seen.wait(timeout=5)
        write_snapshot(_snapshot(T0 + timedelta(minutes=15)), tmp_path)
        write_snapshot(_snapshot(T0), tmp_path)  # rewriting a yielded snapshot does not re-yield it
        assert second_seen.wait(timeout=5)
        time.sleep(0.1)  # a few more polls: nothing new may appear
    finally:
        source.stop()
        consumer.join(timeout=5)

    assert not consumer.is_alive()
    assert [s.taken_at for s in got] == [T0, T0 + timedelta(minutes=15)]


def test_follow_mode_skips_a_snapshot_older_than_one_already_yielded(tmp_path, caplog):
    write_snapshot(_snapshot(T0 + timedelta(minutes=15)), tmp_path)
    source = SnapshotFilesSource(tmp_path, follow=True, poll_seconds=0.01)
    snapshots = source.snapshots()

    first = next(snapshots)
    write_snapshot(_snapshot(T0), tmp_path)
    write_snapshot(_snapshot(T0 + timedelta(minutes=30)), tmp_path)
    second = next(snapshots)
    snapshots.close()

    assert [first.taken_at, second.taken_at] == [T0 + timedelta(minutes=15), T0 + timedelta(minutes=30)]
    assert "snapshot 20260321T001500.000Z landed after the newer" in caplog.text


def test_source_is_declared_as_an_entry_point():
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    value = pyproject["project"]["entry-points"][ENTRY_POINT_GROUP]["snapshot-files"]

    loaded = EntryPoint(name="snapshot-files", value=value, group=ENTRY_POINT_GROUP).load()

    assert loaded is SnapshotFilesSource
    assert isinstance(SnapshotFilesSource("anywhere"), Source)


# ---- clear errors --------------------------------------------------------------------------------


def test_a_frame_file_missing_a_column_raises_naming_folder_and_column(tmp_path):
    folder = write_snapshot(_snapshot(), tmp_path)
    _rewrite_frame(folder, "positions", _positions().drop("szi"))

    with pytest.raises(SnapshotFilesError) as err:
        read_snapshot(folder)

    assert folder.name in str(err.value)
    assert "positions: missing column 'szi'" in str(err.value)
    with pytest.raises(SnapshotFilesError, match="missing column 'szi'"):
        list(SnapshotFilesSource(tmp_path).snapshots())


def test_a_column_of_the_wrong_kind_raises(tmp_path):
    folder = write_snapshot(_snapshot(), tmp_path)
    _rewrite_frame(folder, "markets", _markets().with_columns(pl.col("mark_price").cast(pl.String)))

    with pytest.raises(SnapshotFilesError, match=r"markets\.mark_price: expected Float64, got String"):
        read_snapshot(folder)


def test_frames_that_break_the_contract_raise_with_the_contract_problems(tmp_path):
    folder = write_snapshot(_snapshot(), tmp_path)
    _rewrite_frame(folder, "accounts", _accounts().with_columns(pl.col("address").str.to_uppercase()))
    _rewrite_frame(
        folder, "positions", _positions().with_columns(pl.lit(None, pl.Float64).alias("entry_price"))
    )

    with pytest.raises(SnapshotFilesError) as err:
        read_snapshot(folder)

    message = str(err.value)
    assert "breaks the contract" in message
    assert "positions.entry_price: 4 null value(s)" in message
    assert "accounts.address: 3 address(es) not lowercase 0x hex" in message
    assert "accounts.address: 3 address(es) not lowercase 0x hex" in err.value.problems


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"format": "vendor-dump"}, "format is 'vendor-dump', expected 'hltracker-snapshot'"),
        ({"format_version": 2}, "format_version 2 is not supported"),
        ({"taken_at": "2026-03-21 00:15"}, "is not an ISO 8601 UTC timestamp"),
        ({"height": "12"}, "height '12' is neither an integer nor null"),
        ({"frames": {"markets": {"rows": 3, "file": "markets.parquet"}}}, "frame 'accounts' is missing"),
        ({"frames": {"trades": {}}}, "unknown frame 'trades'"),
    ],
)
def test_a_bad_manifest_raises_with_the_reason(tmp_path, changes, reason):
    folder = write_snapshot(_snapshot(), tmp_path)
    _edit_manifest(folder, **changes)

    with pytest.raises(SnapshotFilesError, match=r"manifest\.json") as err:
        read_snapshot(folder)

    assert reason in str(err.value)
    assert str(folder) in str(err.value)


def test_a_manifest_that_is_not_json_raises(tmp_path):
    folder = write_snapshot(_snapshot(), tmp_path)
    (folder / "manifest.json").write_text("{not json")

    with pytest.raises(SnapshotFilesError, match="not readable JSON"):
        read_snapshot(folder)


def test_a_folder_without_manifest_raises_when_read_directly(tmp_path):
    folder = write_snapshot(_snapshot(), tmp_path)
    (folder / "manifest.json").unlink()

    with pytest.raises(SnapshotFilesError, match=r"no manifest\.json"):
        read_snapshot(folder)


def test_a_missing_frame_file_raises(tmp_path):
    folder = write_snapshot(_snapshot(), tmp_path)
    os.remove(folder / "fills.parquet")

    with pytest.raises(SnapshotFilesError, match=r"fills: file 'fills\.parquet' is missing"):
        read_snapshot(folder)


def test_a_truncated_frame_file_raises(tmp_path):
    folder = write_snapshot(_snapshot(), tmp_path)
    data = (folder / "markets.parquet").read_bytes()
    (folder / "markets.parquet").write_bytes(data[: len(data) // 2])

    with pytest.raises(SnapshotFilesError, match=r"markets: 'markets\.parquet' does not match its sha256"):
        read_snapshot(folder)
    _drop_checksums(folder)  # a producer without checksums: the Parquet reader is the only guard left
    with pytest.raises(SnapshotFilesError, match=r"markets: 'markets\.parquet' is not a readable Parquet"):
        read_snapshot(folder)


def test_a_row_count_that_disagrees_with_the_manifest_raises(tmp_path):
    folder = write_snapshot(_snapshot(), tmp_path)
    _rewrite_frame(folder, "positions", _positions().head(1))

    with pytest.raises(SnapshotFilesError, match="has 1 rows, the manifest says 4"):
        read_snapshot(folder)


# ---- the documentation ---------------------------------------------------------------------------

_DOC_TYPES = {
    pl.String: "string / BYTE_ARRAY (STRING)",
    pl.Float64: "float64 / DOUBLE",
    pl.Int32: "int32 / INT32",
    pl.Int64: "int64 / INT64",
    pl.Boolean: "bool / BOOLEAN",
    UTC_MS: "timestamp[ms, UTC] / INT64 (TIMESTAMP(MILLIS, UTC))",
}


def _documented_columns(doc: str, frame: str) -> dict[str, tuple[str, bool]]:
    section = doc.split(f"### `{frame}.parquet`", 1)[1].split("\n### ", 1)[0].split("\n## ", 1)[0]
    rows = [line.split(" | ") for line in section.splitlines() if line.startswith("| `")]
    return {cells[0].strip("| `"): (cells[1], cells[2] == "yes") for cells in rows}


@pytest.mark.parametrize("frame", list(FRAME_SCHEMAS))
def test_the_layout_doc_lists_every_column_with_its_type_and_nullability(frame):
    doc = (ROOT / "docs" / "snapshot-files.md").read_text()

    documented = _documented_columns(doc, frame)

    assert list(documented) == FRAME_SCHEMAS[frame].names()
    for col, dtype in FRAME_SCHEMAS[frame].items():
        assert documented[col] == (_DOC_TYPES[dtype], col in NULLABLE[frame]), col
