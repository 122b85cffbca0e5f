"""The export files on the landed simulator history: shapes, figures that must agree with the series
tables, the sampling rule, the per-snapshot file cache, and signed URLs.
"""

from __future__ import annotations

import csv
import io
import os
import threading
from datetime import UTC, datetime, timedelta

import orjson
import pytest

from hltracker.exports import (
    EXPORTS,
    ExportError,
    ExportFiles,
    SignatureError,
    UrlSigner,
    coin_slug,
)
from hltracker.exports.position_files import OPEN_POSITION_COLUMNS
from hltracker.exports.sampling import Sample, pick_samples
from hltracker.model.cohorts import PNL_COHORT_IDS, SIZE_COHORT_IDS
from hltracker.model.wire import iso_ms, parse_iso
from hltracker.store import SnapshotInfo, open_store

HIP3 = "xyz:GOLD"
BREAKDOWN_ITEM = {
    "positionCount", "pastPositionCount", "totalPositionValue", "pastTotalPositionValue", "totalPositionValueLong",
    "valueCloseToLiquidation", "bias",
}
HEATMAP_BIN = {
    "coin", "priceBinIndex", "priceBinStart", "priceBinEnd", "liquidationValue", "positionsCount",
    "mostImpactedSegment", "liquidationValueLong", "liquidationValueShort", "cumulativeValue",
    "mostImpactedPnlSegment",
}
SEGMENT_OBJECT = {"id", "name", "category", "emoji", "criteria"}
EQUITY_COLUMNS = [
    "totalWalletsEquity", "perpWalletsEquity", "spotWalletsEquity", "stakingWalletsEquity", "vaultWalletsEquity",
]
AGE_SUFFIXES = ("", "-24h", "-7d", "-30d")


@pytest.fixture(scope="module")
def store(landed_store_url):
    with open_store(landed_store_url, read_only=True) as s:
        yield s


@pytest.fixture(scope="module")
def latest(store) -> SnapshotInfo:
    return store.last_snapshot()


def build(store, latest, name, coin=None):
    return EXPORTS[name].build(store, latest, coin)


def load(store, latest, name, coin=None):
    return orjson.loads(build(store, latest, name, coin))


def coin_row(store, snapshot_id, coin):
    rows = store.query("coin_rows_at", snapshot_id=snapshot_id).filter(coin=coin)
    assert rows.height == 1
    return rows.row(0, named=True)


def past_id(store, latest):
    return store.query("snapshot_nearest", at=latest.taken_at - timedelta(hours=24))["snapshot_id"][0]


def snapshot_info(store, snapshot_id) -> SnapshotInfo:
    row = store.query("snapshot_at", snapshot_id=snapshot_id).row(0, named=True)
    return SnapshotInfo(**{k: row[k] for k in SnapshotInfo.__dataclass_fields__})


# --- the registry and every file's shape ---


def test_the_registry_lists_the_vendor_files_with_their_media_types():
    per_coin = {
        "position-metrics", "position-breakdown-by-size", "positions", "liquidation-heatmap", "open-positions",
        "open-positions-json",
        *(f"position-breakdown-by-cohort{s}" for s in AGE_SUFFIXES), *(f"segment-metrics{s}" for s in AGE_SUFFIXES),
    }
    assert {n for n, s in EXPORTS.items() if s.per_coin} == per_coin
    assert {n for n, s in EXPORTS.items() if not s.per_coin} == {
        "segments-bias-charts-data-24h", "total-wallets-equity-chart-data",
        # the targets of /leaderboards/perp-pnl/{period}/download (CSV)
        "perp-pnl-leaderboard-24h", "perp-pnl-leaderboard-7d", "perp-pnl-leaderboard-30d", "perp-pnl-leaderboard-all",
    }
    for name, spec in EXPORTS.items():
        assert spec.name == name
        csv_file = name == "open-positions" or name.startswith("perp-pnl-leaderboard-")
        expected = ("text/csv", ".csv") if csv_file else ("application/json", ".json")
        assert (spec.media_type, spec.suffix) == expected


@pytest.mark.parametrize("coin", ["BTC", HIP3])
def test_every_coin_export_builds_with_exactly_its_keys(store, latest, coin):
    created = iso_ms(latest.taken_at)
    metrics = load(store, latest, "position-metrics", coin)
    assert set(metrics) == {"coin", "metrics"} and set(metrics["metrics"]) == {"columns", "data"}

    by_size = load(store, latest, "position-breakdown-by-size", coin)
    assert set(by_size) == {"coin", "createdAt", "breakdownBySize"} and by_size["createdAt"] == created
    assert [b["sizeSegmentId"] for b in by_size["breakdownBySize"]] == list(range(1, 11))
    for item in by_size["breakdownBySize"]:
        assert set(item) == BREAKDOWN_ITEM | {"sizeSegmentId", "size", "minSize", "maxSize"}

    for suffix in AGE_SUFFIXES:
        by_cohort = load(store, latest, f"position-breakdown-by-cohort{suffix}", coin)
        assert set(by_cohort) == {"coin", "createdAt", "breakdownByCohort"}
        assert [c["segmentId"] for c in by_cohort["breakdownByCohort"]] == list(range(1, 17))
        for item in by_cohort["breakdownByCohort"]:
            assert set(item) == BREAKDOWN_ITEM | {"segmentId", "segment"}
            assert set(item["segment"]) == SEGMENT_OBJECT and item["segment"]["id"] == item["segmentId"]

        seg = load(store, latest, f"segment-metrics{suffix}", coin)
        assert set(seg) == {"coin", "createdAt", "data"} and seg["coin"] == coin
        assert [d["segment"]["id"] for d in seg["data"]] == list(range(1, 17))
        for d in seg["data"]:
            assert set(d) == {"segment", "metrics"} and set(d["metrics"]) == {"columns", "data"}
            assert all(len(row) == 6 for row in d["metrics"]["data"])

    heatmap = load(store, latest, "liquidation-heatmap", coin)
    assert set(heatmap) == {"coin", "createdAt", "markPrice", "heatmap"} and heatmap["markPrice"] > 0
    assert [b["priceBinIndex"] for b in heatmap["heatmap"]] == list(range(100))
    assert all(set(b) == HEATMAP_BIN and b["coin"] == coin for b in heatmap["heatmap"])

    positions = load(store, latest, "positions", coin)
    assert set(positions) == {"coin", "createdAt", "positions"} and positions["createdAt"] == created
    assert all(list(p) == list(OPEN_POSITION_COLUMNS) for p in positions["positions"])
    assert positions["positions"] == load(store, latest, "open-positions-json", coin)


def test_the_global_exports_build_with_exactly_their_keys(store, latest):
    bias = load(store, latest, "segments-bias-charts-data-24h")
    assert set(bias) == {"createdAt", "segments"} and list(bias["segments"]) == [str(i) for i in range(1, 17)]
    for key, entry in bias["segments"].items():
        assert set(entry) == {"segment", "columns", "data"} and entry["segment"]["id"] == int(key)
        assert entry["columns"] == [
            "timestamp", "bias", "exposureRatio", "openValue", "openLongValue", "openShortValue", "activePerpEquity",
        ]
        assert all(len(row) == 7 for row in entry["data"])

    equity = load(store, latest, "total-wallets-equity-chart-data")
    assert set(equity) == {"athData", "data24HoursAgo", "history"}
    for part in ("athData", "data24HoursAgo"):
        assert equity[part]["columns"] == EQUITY_COLUMNS and len(equity[part]["data"]) == 5
    assert equity["history"]["columns"] == ["timestamp", *EQUITY_COLUMNS]


def test_a_coin_without_positions_gets_zero_groups_and_an_empty_heatmap(store, latest):
    assert load(store, latest, "liquidation-heatmap", "NOPE")["heatmap"] == []
    assert all(b["positionCount"] == 0 and b["bias"] is None
               for b in load(store, latest, "position-breakdown-by-size", "NOPE")["breakdownBySize"])
    assert build(store, latest, "open-positions", "NOPE").decode().strip() == ",".join(OPEN_POSITION_COLUMNS)


# --- figures that must agree with the series tables ---


@pytest.mark.parametrize("coin", ["BTC", HIP3])
def test_breakdown_by_size_sums_to_the_coin_now_and_24_hours_earlier(store, latest, coin):
    items = load(store, latest, "position-breakdown-by-size", coin)["breakdownBySize"]
    now, past = coin_row(store, latest.snapshot_id, coin), coin_row(store, past_id(store, latest), coin)
    assert sum(b["positionCount"] for b in items) == now["position_count"]
    assert sum(b["totalPositionValue"] for b in items) == pytest.approx(now["total_position_value"])
    assert sum(b["totalPositionValueLong"] for b in items) == pytest.approx(now["total_position_value_long"])
    assert sum(b["pastPositionCount"] for b in items) == past["position_count"]
    assert sum(b["pastTotalPositionValue"] for b in items) == pytest.approx(past["total_position_value"])
    for b in items:
        total, long = b["totalPositionValue"], b["totalPositionValueLong"]
        assert b["bias"] == (round(long / total, 3) if total else None)
    assert (items[0]["minSize"], items[0]["maxSize"], items[-1]["minSize"], items[-1]["maxSize"]) == (
        None, 1000, 2500000, None)


def test_breakdown_by_cohort_sums_to_the_coin_on_each_axis(store, latest):
    items = {c["segmentId"]: c for c in load(store, latest, "position-breakdown-by-cohort", "BTC")["breakdownByCohort"]}
    now, past = coin_row(store, latest.snapshot_id, "BTC"), coin_row(store, past_id(store, latest), "BTC")
    for axis in (SIZE_COHORT_IDS, PNL_COHORT_IDS):
        assert sum(items[i]["positionCount"] for i in axis) == now["position_count"]
        assert sum(items[i]["totalPositionValue"] for i in axis) == pytest.approx(now["total_position_value"])
        assert sum(items[i]["pastPositionCount"] for i in axis) == past["position_count"]
    assert sum(c["positionCount"] for c in items.values()) == 2 * now["position_count"]


def test_the_age_windows_narrow_the_cohort_breakdown(store, latest):
    def count(suffix):
        return sum(c["positionCount"] for c in load(store, latest, f"position-breakdown-by-cohort{suffix}", "BTC")[
            "breakdownByCohort"])

    assert count("-24h") <= count("-7d") <= count("-30d") <= count("")
    assert count("-24h") < count("")


@pytest.mark.parametrize("coin", ["BTC", HIP3])
def test_open_positions_csv_and_json_list_every_position_of_the_coin(store, latest, coin):
    text = build(store, latest, "open-positions", coin).decode()
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == list(OPEN_POSITION_COLUMNS)
    expected = coin_row(store, latest.snapshot_id, coin)["position_count"]
    assert len(rows) - 1 == expected
    records = load(store, latest, "open-positions-json", coin)
    assert len(records) == expected
    values = [r["value"] for r in records]
    assert values == sorted(values, reverse=True)
    assert [float(r[6]) for r in rows[1:]] == values  # floats round-trip through the CSV
    for record, row in zip(records, rows[1:], strict=True):
        assert row[14] == record["openTime"] and parse_iso(record["openTime"]) <= latest.taken_at
        assert (row[10] == "") == (record["liquidationPrice"] is None)
        assert record["coin"] == coin and isinstance(record["profile_sizeSegmentId"], int)


def test_position_metrics_start_at_the_latest_snapshot_then_every_two_hours(store, latest):
    doc = load(store, latest, "position-metrics", "BTC")["metrics"]
    assert doc["columns"] == [
        "coin", "timestamp", "positionCount", "positionCountLong", "totalPositionValue", "totalPositionValueLong",
    ]
    first, *rest = doc["data"]
    now = coin_row(store, latest.snapshot_id, "BTC")
    assert first == [iso_ms(latest.taken_at), now["position_count"], now["position_count_long"],
                     now["total_position_value"], now["total_position_value_long"]]
    times = [parse_iso(row[0]) for row in rest]
    assert times and all(t.minute == 0 and t.second == 0 and t.hour % 2 == 0 for t in times)
    assert all(a > b for a, b in zip([latest.taken_at, *times], times, strict=False))
    assert times[-1] >= latest.taken_at - timedelta(days=14)
    # hourly history from 2026-11-18T00:00 to the latest at 2026-11-20T00:00: every boundary has a snapshot
    assert len(rest) == 24
    at_22h = coin_row(store, store.query("snapshot_nearest", at=times[0])["snapshot_id"][0], "BTC")
    assert rest[0][1:] == [at_22h["position_count"], at_22h["position_count_long"],
                           at_22h["total_position_value"], at_22h["total_position_value_long"]]


def test_segment_metrics_sample_every_twelve_hours_and_match_the_breakdown(store, latest):
    doc = load(store, latest, "segment-metrics", "BTC")
    breakdown = {c["segmentId"]: c for c in load(store, latest, "position-breakdown-by-cohort", "BTC")[
        "breakdownByCohort"]}
    for entry in doc["data"]:
        first, *rest = entry["metrics"]["data"]
        assert first[0] == iso_ms(latest.taken_at)
        b = breakdown[entry["segment"]["id"]]
        assert first[1] == b["positionCount"] and first[3] == b["totalPositionValue"] and first[5] == b["bias"]
        assert [parse_iso(r[0]).hour for r in rest] == [12, 0, 12, 0]


def test_the_bias_charts_cover_72_hours_of_the_24h_window(store, latest):
    entry = load(store, latest, "segments-bias-charts-data-24h")["segments"]["7"]
    times = [parse_iso(r[0]) for r in entry["data"]]
    assert times[0] == latest.taken_at and all(t.hour % 2 == 0 for t in times[1:])
    assert len(times) == 1 + 24  # 48 hours of history: every 2-hour boundary has a snapshot
    row = store.query("segment_series_at", snapshot_id=latest.snapshot_id, age_window="24h").filter(segment_id=7)
    assert entry["data"][0][1:] == [row["bias"][0], row["exposure_ratio"][0], row["open_value"][0],
                                    row["open_long_value"][0], row["open_short_value"][0],
                                    row["active_perp_equity"][0]]


def test_wallet_equity_history_is_one_row_per_day_oldest_first_ending_at_the_latest(store, latest):
    doc = load(store, latest, "total-wallets-equity-chart-data")
    times = [parse_iso(r[0]) for r in doc["history"]["data"]]
    assert times == [datetime(2026, 11, 18, 23, tzinfo=UTC), datetime(2026, 11, 19, 23, tzinfo=UTC), latest.taken_at]
    now = store.query("wallet_equity_at", snapshot_id=latest.snapshot_id).row(0, named=True)
    assert doc["history"]["data"][-1][1] == now["total_equity"]
    past = store.query("wallet_equity_at", snapshot_id=past_id(store, latest)).row(0, named=True)
    assert doc["data24HoursAgo"]["data"][0] == past["total_equity"]
    history = store.query("wallet_equity_series", start=datetime(2000, 1, 1, tzinfo=UTC), end=latest.taken_at,
                          before=None, limit=1000)
    assert doc["athData"]["data"] == [history[c].max() for c in (
        "total_equity", "perp_equity", "spot_equity", "staking_equity", "vault_equity")]


# --- the sampling rule on its own ---


def test_sampling_takes_the_last_snapshot_of_each_window_and_skips_empty_boundaries():
    t = datetime(2026, 1, 1, tzinfo=UTC)
    times = [t + timedelta(minutes=m) for m in (10, 50, 130, 400, 479)]  # 00:10 00:50 02:10 06:40 07:59
    ids = [1, 2, 3, 4, 5]
    every, span = timedelta(hours=2), timedelta(hours=8)
    # latest on a boundary (08:00): that boundary is the latest row itself, not a sample; (04:00, 06:00]
    # holds no snapshot; (22:00, 00:00] neither
    assert pick_samples(times, ids, t + timedelta(hours=8), every, span) == [
        Sample(t + timedelta(hours=4), 3), Sample(t + timedelta(hours=2), 2),
    ]
    # latest between boundaries (09:15): 00:00 is more than 8 hours back
    assert pick_samples(times, ids, t + timedelta(hours=9, minutes=15), every, span) == [
        Sample(t + timedelta(hours=8), 5), Sample(t + timedelta(hours=4), 3), Sample(t + timedelta(hours=2), 2),
    ]
    assert pick_samples([], [], t, every, span) == []


# --- the file cache ---


def test_a_file_is_built_once_per_snapshot_and_reused(store, latest, tmp_path):
    files = ExportFiles(tmp_path / "exports", store)
    relative = files.path_for(latest, "position-breakdown-by-size", "BTC")
    assert relative == f"{latest.snapshot_id}/coins/BTC/position-breakdown-by-size.json"
    path = files.resolve(relative)
    assert path.read_bytes() == build(store, latest, "position-breakdown-by-size", "BTC")
    before = os.stat(path)
    assert files.path_for(latest, "position-breakdown-by-size", "BTC") == relative
    after = os.stat(path)
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    glob = files.path_for(latest, "total-wallets-equity-chart-data", None)
    assert glob == f"{latest.snapshot_id}/total-wallets-equity-chart-data.json"
    assert files.path_for(latest, "open-positions", "BTC").endswith("/coins/BTC/open-positions.csv")


def test_concurrent_first_requests_build_one_file(store, latest, tmp_path):
    files = ExportFiles(tmp_path, store)
    results, barrier = [], threading.Barrier(6)

    def request():
        barrier.wait()
        results.append(files.path_for(latest, "segment-metrics", HIP3))

    threads = [threading.Thread(target=request) for _ in range(6)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert len(set(results)) == 1 and len(results) == 6
    folder = files.resolve(results[0]).parent
    assert [p.name for p in folder.iterdir()] == ["segment-metrics.json"]  # no temp file left behind


def test_a_hip3_coin_gets_a_safe_folder_of_its_own(store, latest, tmp_path):
    files = ExportFiles(tmp_path, store)
    relative = files.path_for(latest, "liquidation-heatmap", HIP3)
    assert relative == f"{latest.snapshot_id}/coins/xyz_3AGOLD/liquidation-heatmap.json"
    assert files.resolve(relative).parent == (tmp_path / str(latest.snapshot_id) / "coins" / "xyz_3AGOLD").resolve()
    assert orjson.loads(files.resolve(relative).read_bytes())["coin"] == HIP3
    slugs = {coin_slug(c) for c in ("xyz:GOLD", "xyz_3AGOLD", "xyz-GOLD", "xyz.GOLD", "kPEPE", "../..", "a/b")}
    assert len(slugs) == 7
    assert all(s.replace("_", "").isalnum() and s not in {".", ".."} for s in slugs)
    with pytest.raises(ExportError):
        coin_slug("")


def test_old_snapshot_folders_are_pruned(store, tmp_path):
    files = ExportFiles(tmp_path, store, keep_snapshots=2)
    for snapshot_id in (46, 47, 48, 49):
        files.path_for(snapshot_info(store, snapshot_id), "positions", "BTC")
    (tmp_path / "not-a-snapshot").mkdir()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["48", "49", "not-a-snapshot"]
    files.path_for(snapshot_info(store, 47), "positions", "BTC")  # a late request for an older snapshot
    assert sorted(p.name for p in tmp_path.iterdir()) == ["47", "48", "49", "not-a-snapshot"]
    files.path_for(snapshot_info(store, 48), "position-metrics", "BTC")
    assert (tmp_path / "49").is_dir()


def test_path_for_refuses_unknown_files_and_a_wrong_coin_argument(store, latest, tmp_path):
    files = ExportFiles(tmp_path, store)
    with pytest.raises(ExportError, match="unknown export"):
        files.path_for(latest, "nope", "BTC")
    with pytest.raises(ExportError, match="needs a coin"):
        files.path_for(latest, "positions", None)
    with pytest.raises(ExportError, match="not per coin"):
        files.path_for(latest, "segments-bias-charts-data-24h", "BTC")
    assert list(tmp_path.iterdir()) == []


def test_resolve_never_leaves_the_root(store, latest, tmp_path):
    root = tmp_path / "root"
    files = ExportFiles(root, store)
    relative = files.path_for(latest, "positions", "BTC")
    (tmp_path / "secret.txt").write_text("secret")
    (root / "link.json").symlink_to(tmp_path / "secret.txt")
    (root / str(latest.snapshot_id) / "coins" / "up").symlink_to(tmp_path)
    for bad in ("../secret.txt", "/etc/passwd", str(tmp_path / "secret.txt"), "1/../../secret.txt", "link.json",
                f"{latest.snapshot_id}/coins/up/secret.txt", f"{latest.snapshot_id}/missing.json",
                f"{latest.snapshot_id}", "", "a\x00b", "..\\secret.txt", f"{latest.snapshot_id}/.hidden"):
        with pytest.raises(ExportError):
            files.resolve(bad)
    assert files.resolve(relative) == (root / relative).resolve()


# --- signed URLs ---


class Clock:
    def __init__(self, now: float):
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_a_fresh_signature_verifies_and_expires_after_its_ttl():
    clock = Clock(1_800_000_000.0)
    signer = UrlSigner(b"secret", ttl_seconds=120, clock=clock)
    params = signer.sign("49/coins/BTC/positions.json")
    assert params["expires"] == "1800000120"
    signer.verify("49/coins/BTC/positions.json", params["expires"], params["signature"])
    clock.now += 120
    signer.verify("49/coins/BTC/positions.json", params["expires"], params["signature"])
    clock.now += 1
    with pytest.raises(SignatureError, match="expired"):
        signer.verify("49/coins/BTC/positions.json", params["expires"], params["signature"])


def test_a_tampered_path_expiry_or_signature_is_a_bad_signature():
    clock = Clock(1_800_000_000.0)
    signer = UrlSigner(b"secret", clock=clock)
    relative = "49/coins/BTC/positions.json"
    params = signer.sign(relative)
    sig, expires = params["signature"], params["expires"]
    for args in [
        ("49/coins/ETH/positions.json", expires, sig),
        (relative, str(int(expires) + 3600), sig),
        (relative, "0" + expires, sig),
        (relative, "soon", sig),
        (relative, "", sig),
        (relative, expires, sig[:-1] + ("0" if sig[-1] != "0" else "1")),
        (relative, expires, ""),
        (relative, expires, "é" * 64),
    ]:
        with pytest.raises(SignatureError, match="bad signature"):
            signer.verify(*args)
    with pytest.raises(SignatureError, match="bad signature"):
        UrlSigner(b"other", clock=clock).verify(relative, expires, sig)
