"""Bad numbers stay out of the store (issue 14, section 1), on both backends.

- NaN, +inf and -inf in any float column of any frame reject the snapshot with every offending column
  named and an example row; nothing of it lands (whole-database dumps compared), the next one lands;
- prices and sizes keep their sign rules;
- a flipped byte in any frame file of a snapshot folder fails its manifest checksum: rejected with that
  reason, nothing lands, the next folder lands; a folder without checksums is read with one warning;
- a non-finite figure the engine computes from valid (finite) inputs comes out null, never NaN, and the
  store refuses a NaN or infinity whoever built the frame.
"""

from __future__ import annotations

import json
import logging
from dataclasses import replace
from datetime import UTC, datetime
from functools import lru_cache

import polars as pl
import pytest
from stores import assert_same_contents, table_contents

from hltracker.engine import next_state, run
from hltracker.ingest import Ingestor, Rejected
from hltracker.model import FRAME_SCHEMAS, NULLABLE, Snapshot, SnapshotError, validate_snapshot
from hltracker.sources.simulator import SimulatorSource
from hltracker.sources.snapshot_files import SnapshotFilesError, SnapshotFilesSource, read_snapshot, write_snapshot
from hltracker.store import StoreError, open_store

LANDED = datetime(2026, 11, 21, tzinfo=UTC)
BAD_VALUES = {"NaN": float("nan"), "+inf": float("inf"), "-inf": float("-inf")}
FLOAT_COLUMNS = [(frame, col) for frame, schema in FRAME_SCHEMAS.items()
                 for col, dtype in schema.items() if dtype == pl.Float64]


@lru_cache(maxsize=1)
def _snapshots() -> tuple[Snapshot, ...]:
    # snapshot 1 at a full hour, so it carries the hour's funding payments too
    snaps = tuple(SimulatorSource("small", seed=5, steps=3, start=datetime(2026, 3, 20, 0, 45, tzinfo=UTC)).snapshots())
    assert all(df.height > 3 for df in snaps[1].frames().values()), "every frame has rows to spoil"
    return snaps


def _with_frames(snap: Snapshot, **frames: pl.DataFrame) -> Snapshot:
    return replace(snap, **frames)


def _spoiled(df: pl.DataFrame, col: str, row: int, value: float) -> pl.DataFrame:
    return df.with_columns(pl.when(pl.int_range(pl.len()) == row).then(pl.lit(value)).otherwise(pl.col(col))
                           .alias(col))


# ---- the contract, column by column --------------------------------------------------------------------


@pytest.mark.parametrize("kind", list(BAD_VALUES))
@pytest.mark.parametrize(("frame", "col"), FLOAT_COLUMNS)
def test_a_non_finite_value_in_any_float_column_is_named_with_its_row(frame, col, kind):
    snap = _snapshots()[1]
    row = 3
    bad = _with_frames(snap, **{frame: _spoiled(snap.frames()[frame], col, row, BAD_VALUES[kind])})
    with pytest.raises(SnapshotError) as err:
        validate_snapshot(bad)
    what = "NaN" if kind == "NaN" else "infinite"
    [problem] = [p for p in err.value.problems if p.startswith(f"{frame}.{col}: ") and "finite" in p]
    assert f"1 {what} value(s)" in problem and f"e.g. row {row}" in problem, problem


@pytest.mark.parametrize(("frame", "col"), [(f, c) for f, c in FLOAT_COLUMNS if c in NULLABLE[f]])
def test_a_nullable_column_may_be_null_but_not_nan(frame, col):
    snap = _snapshots()[1]
    df = snap.frames()[frame]
    validate_snapshot(_with_frames(snap, **{frame: df.with_columns(pl.lit(None, pl.Float64).alias(col))}))
    with pytest.raises(SnapshotError, match=f"{frame}.{col}: {df.height} NaN value"):
        validate_snapshot(_with_frames(snap, **{frame: df.with_columns(pl.lit(float("nan")).alias(col))}))


SIGN_CASES = [
    ("markets", "mark_price", 0.0, "not > 0"), ("markets", "oracle_price", -1.0, "not > 0"),
    ("markets", "mid_price", 0.0, "not > 0"), ("markets", "open_interest", -5.0, "not >= 0"),
    ("markets", "day_ntl_volume", -1.0, "not >= 0"), ("accounts", "perp_volume_30d", -1.0, "not >= 0"),
    ("positions", "szi", 0.0, "not non-zero"), ("positions", "entry_price", -2.0, "not > 0"),
    ("positions", "position_value", -1.0, "not >= 0"), ("positions", "liquidation_price", 0.0, "not > 0"),
    ("fills", "px", 0.0, "not > 0"), ("fills", "sz", -1.0, "not > 0"),
]


@pytest.mark.parametrize(("frame", "col", "value", "reads"), SIGN_CASES)
def test_prices_and_sizes_keep_their_sign_rules(frame, col, value, reads):
    snap = _snapshots()[1]
    bad = _with_frames(snap, **{frame: _spoiled(snap.frames()[frame], col, 2, value)})
    with pytest.raises(SnapshotError) as err:
        validate_snapshot(bad)
    assert any(p.startswith(f"{frame}.{col}: 1 value(s) {reads}") and "e.g. row 2" in p
               for p in err.value.problems), err.value.problems


def test_the_example_row_names_the_key():
    snap = _snapshots()[1]
    coin = snap.markets["coin"][4]
    with pytest.raises(SnapshotError, match=rf"markets.funding_rate: 1 infinite .* e.g. row 4 \(coin='{coin}'\)"):
        validate_snapshot(_with_frames(snap, markets=_spoiled(snap.markets, "funding_rate", 4, float("inf"))))


# ---- through the store: rejected whole, nothing lands, the next one does ----------------------------------


def _land_first(url: str) -> dict[str, pl.DataFrame]:
    with open_store(url) as store:
        assert Ingestor(store, clock=lambda: LANDED).offer(_snapshots()[0])
    return table_contents(url)


def _next_lands(url: str) -> None:
    with open_store(url) as store:
        ingestor = Ingestor(store, clock=lambda: LANDED)
        assert ingestor.offer(_snapshots()[2]) is True
        assert store.snapshot_count() == 2


@pytest.mark.parametrize("kind", list(BAD_VALUES))
@pytest.mark.parametrize("frame", list(FRAME_SCHEMAS))
def test_a_snapshot_with_non_finite_numbers_is_rejected_and_the_store_unchanged(new_store_url, frame, kind):
    """Every float column of one frame spoiled (each in its own row): each one is named, nothing lands."""
    snap = _snapshots()[1]
    df = snap.frames()[frame]
    cols = [c for c, t in df.schema.items() if t == pl.Float64]
    for row, col in enumerate(cols):
        df = _spoiled(df, col, row, BAD_VALUES[kind])
    db = new_store_url()
    before = _land_first(db)
    with open_store(db) as store:
        ingestor = Ingestor(store, clock=lambda: LANDED)
        assert ingestor.offer(_with_frames(snap, **{frame: df})) is False
        [rejected] = ingestor.report.rejected
    for row, col in enumerate(cols):
        assert any(p.startswith(f"{frame}.{col}: ") and f"e.g. row {row}" in p for p in rejected.problems), \
            (col, rejected.problems)
    assert_same_contents(before, table_contents(db))
    _next_lands(db)


def _flip_byte(path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("frame", list(FRAME_SCHEMAS))
def test_a_flipped_byte_in_a_frame_file_rejects_the_folder(tmp_path, new_store_url, frame):
    s0, s1, s2, _ = _snapshots()
    root = tmp_path / "snaps"
    write_snapshot(s0, root)
    damaged = write_snapshot(s1, root)
    _flip_byte(damaged / f"{frame}.parquet")
    db = new_store_url()
    before = _land_first(db)

    def ingest_folders() -> Ingestor:
        with open_store(db) as store:
            ingestor = Ingestor(store, clock=lambda: LANDED)
            source = SnapshotFilesSource(root, on_invalid=lambda exc: ingestor.offer(
                Rejected(str(exc.path), exc.problems)))
            ingestor.ingest(source.snapshots())
            return ingestor

    ingestor = ingest_folders()
    [rejected] = ingestor.report.rejected
    assert rejected.where == str(damaged)
    assert any(p.startswith(f"{frame}: '{frame}.parquet' does not match its sha256 in manifest.json")
               for p in rejected.problems), rejected.problems
    assert_same_contents(before, table_contents(db))
    write_snapshot(s2, root)
    assert ingest_folders().report.landed == 1
    with open_store(db) as store:
        assert store.snapshot_count() == 2 and not store.has_snapshot(s1.taken_at)


def test_a_folder_without_checksums_is_read_with_one_warning(tmp_path, caplog):
    folder = write_snapshot(_snapshots()[1], tmp_path)
    manifest = json.loads((folder / "manifest.json").read_text())
    for entry in manifest["frames"].values():
        del entry["sha256"]
    (folder / "manifest.json").write_text(json.dumps(manifest))
    with caplog.at_level(logging.WARNING, logger="hltracker.sources.snapshot_files.layout"):
        first = read_snapshot(folder)
        read_snapshot(folder)
    warnings = [r for r in caplog.records if "no sha256 checksum" in r.getMessage()]
    assert len(warnings) == 1 and str(folder) in warnings[0].getMessage()
    assert first.positions.equals(_snapshots()[1].positions)


@pytest.mark.parametrize("digest", ["abc", 42, "A" * 64])
def test_a_malformed_checksum_is_refused(tmp_path, digest):
    folder = write_snapshot(_snapshots()[0], tmp_path)
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["frames"]["markets"]["sha256"] = digest
    (folder / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(SnapshotFilesError, match=r"frames\.markets\.sha256 .* is not 64 lowercase hex digits"):
        read_snapshot(folder)


# ---- the engine and the store: no NaN ever lands -----------------------------------------------------------


def _overflowing(snap: Snapshot) -> Snapshot:
    """Valid, finite inputs whose figures overflow: a size of 1e308 coins (its value |szi| x mark is inf, so
    are the sums over it) and a liquidation price a denormal away from a denormal entry (the progress
    100 x (mark - entry) / (liq - entry) overflows)."""
    p = snap.positions
    big = _big_row(snap)
    p = _spoiled(_spoiled(p, "szi", big, 1e308), "position_value", big, 1e308)
    p = _spoiled(_spoiled(p, "entry_price", big + 1, 1e-310), "liquidation_price", big + 1, 2e-310)
    return _with_frames(snap, positions=p)


def _big_row(snap: Snapshot) -> int:
    """The first position in a market marked above 2 USD (1e308 coins of it overflow)."""
    marks = snap.positions.join(snap.markets.select("coin", "mark_price"), on="coin", how="left",
                                maintain_order="left")
    return marks.with_row_index().filter(pl.col("mark_price") > 2)["index"][0]


def _non_finite(frames: dict[str, pl.DataFrame]) -> dict[str, int]:
    out = {}
    for name, df in frames.items():
        for col, dtype in df.schema.items():
            if dtype.is_float() and df.height:
                n = df.select((~pl.col(col).is_finite()).sum()).item()
                if n:
                    out[f"{name}.{col}"] = n
    return out


def test_figures_that_overflow_from_valid_inputs_are_null_not_nan():
    s0, s1 = _snapshots()[:2]
    snap = validate_snapshot(_overflowing(s1))
    result = run(snap, next_state(run(s0, None)))
    assert _non_finite(result.frames()) == {}
    pos, row = result.open_positions, _big_row(snap)

    def lifecycle(i: int) -> pl.DataFrame:
        key = snap.positions.row(i, named=True)
        return pos.filter(pl.col("address") == key["address"], pl.col("coin") == key["coin"])

    assert lifecycle(row)["value"].is_null().all()
    assert lifecycle(row + 1)["liquidation_progress"].is_null().all()
    big_coin = snap.positions["coin"][row]
    assert result.coin_series.filter(pl.col("coin") == big_coin)["total_position_value"].is_null().all()
    # the rest is untouched: every other coin's figures are numbers
    assert result.coin_series.filter(pl.col("coin") != big_coin)["total_position_value"].is_not_null().all()


def test_the_overflowing_snapshot_lands_without_a_nan_and_the_next_follows(new_store_url):
    db = new_store_url()
    _land_first(db)
    with open_store(db) as store:
        ingestor = Ingestor(store, clock=lambda: LANDED)
        assert ingestor.offer(_overflowing(_snapshots()[1])) is True
        assert ingestor.offer(_snapshots()[2]) is True
    assert _non_finite(table_contents(db)) == {}


def test_the_store_refuses_a_nan_whoever_built_the_frame(new_store_url):
    db = new_store_url()
    before = _land_first(db)
    result = run(_snapshots()[1], None)
    spoiled = replace(result, general_series=_spoiled(result.general_series, "open_interest", 0, float("nan")))
    with open_store(db) as store, pytest.raises(StoreError, match=r"general_series.open_interest: 1 NaN or infinite"):
        store.land(spoiled, source="test", height=None, extra={}, landed_at=LANDED)
    assert_same_contents(before, table_contents(db))
