"""A node's streams: the simulator writes them, the reader follows them, the replay reproduces the
simulator's state exactly, the live source's snapshots equal the simulator's, and bad input is reported
with its file and offset."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from hltracker.model import validate_snapshot
from hltracker.sources.hyperliquid_node.anchor import ledger_from_simulator
from hltracker.sources.hyperliquid_node.blocks import NodeBlocks
from hltracker.sources.hyperliquid_node.compare import compare_ledgers
from hltracker.sources.hyperliquid_node.live import HyperliquidNodeLiveSource, read_ledger
from hltracker.sources.hyperliquid_node.replay import Replay, ReplayError
from hltracker.sources.hyperliquid_node.streams import (
    BlockStream,
    LineTail,
    StreamError,
    StreamGap,
    fill_lines,
    hourly_files,
)
from hltracker.sources.simulator.frames import snapshot_of
from hltracker.sources.simulator.market import SimulatedMarket
from hltracker.sources.simulator.node_state import write_abci_state
from hltracker.sources.simulator.node_streams import NodeStreamWriter
from hltracker.sources.simulator.profiles import get_profile

START = datetime(2026, 3, 20, 0, 58, tzinfo=UTC)


def _sim(seed: int, start: datetime = START) -> SimulatedMarket:
    return SimulatedMarket(get_profile("small").with_start(start), seed=seed)


def _state(sim: SimulatedMarket, writer: NodeStreamWriter, root: Path) -> Path:
    return write_abci_state(sim, root / "periodic_abci_states", "rmp", height=writer.height())


@pytest.fixture(scope="module")
def hours(tmp_path_factory):
    """Four hours of 15-minute steps: state files at the start, after two hours and at the end."""
    root = tmp_path_factory.mktemp("hours")
    sim = _sim(seed=4, start=datetime(2026, 3, 20, tzinfo=UTC))
    writer = NodeStreamWriter(sim, root)
    anchor = ledger_from_simulator(sim, writer.height())
    files = [_state(sim, writer, root)]
    for i in range(16):
        sim.step()
        if i in (7, 15):
            files.append(_state(sim, writer, root))
    return root, anchor, ledger_from_simulator(sim, writer.height()), files


def _lines(root: Path, folder: str) -> list[str]:
    return [line for f in sorted((root / folder / "hourly").rglob("*"), key=lambda p: (p.parent.name, int(p.name)))
            if f.is_file() for line in f.read_text().splitlines()]


def test_the_writer_leaves_the_simulator_unchanged(tmp_path):
    plain, watched = _sim(seed=7), _sim(seed=7)
    NodeStreamWriter(watched, tmp_path)
    for _ in range(6):
        plain.step()
        watched.step()
        a, b = snapshot_of(plain, "small"), snapshot_of(watched, "small")
        for name, frame in a.frames().items():
            assert frame.equals(b.frames()[name]), name
    assert np.array_equal(plain.cash, watched.cash) and plain.rng.random() == watched.rng.random()


def test_the_streams_carry_flips_liquidations_funding_and_transfers(hours):
    root = hours[0]
    fills = [e for line in _lines(root, "node_fills_by_block") for e in json.loads(line)["events"]]
    dirs = {f["dir"] for _, f in fills}
    assert {"Long > Short", "Short > Long", "Open Long", "Close Short"} <= dirs
    assert any(f.get("liquidation") for _, f in fills)
    assert all({"startPosition", "closedPnl", "fee", "tid", "time"} <= f.keys() for _, f in fills)
    misc = [e["inner"] for line in _lines(root, "misc_events_by_block") for e in json.loads(line)["events"]]
    kinds = {next(iter(m)) for m in misc}
    deltas = {m["LedgerUpdate"]["delta"]["type"] for m in misc if "LedgerUpdate" in m}
    assert kinds == {"Funding", "LedgerUpdate"} and {"liquidation", "deposit"} <= deltas
    lev_types = {m["LedgerUpdate"]["delta"].get("leverageType") for m in misc if "LedgerUpdate" in m}
    assert {"Cross", "Isolated"} <= lev_types
    numbers = [json.loads(line)["block_number"] for line in _lines(root, "node_fills_by_block")]
    assert numbers == list(range(numbers[0], numbers[0] + len(numbers)))  # every block, empty ones too


def test_replay_of_four_hours_equals_the_simulators_state(hours):
    root, anchor, target, _ = hours
    replay = Replay(anchor.copy())
    blocks = NodeBlocks(root, after=anchor.height)
    while (block := blocks.next()) is not None:
        replay.apply(block)
    got = replay.ledger
    assert got.height == target.height and replay.fills_applied > 2000
    assert got.positions.keys() == target.positions.keys()
    for key, want in target.positions.items():
        p = got.positions[key]
        assert p.lots == want.lots, key
        assert (p.leverage, p.isolated) == (want.leverage, want.isolated), key
        assert p.entry == pytest.approx(want.entry, rel=1e-9), key
        assert p.iso_margin == pytest.approx(want.iso_margin, rel=1e-9, abs=1e-9), key
        assert p.funding_open == pytest.approx(want.funding_open, rel=1e-9, abs=1e-9), key
        if want.open_ms >= anchor.time_ms:  # opened during the replay: the opening fill's time
            assert p.open_ms == want.open_ms, key
    for key in set(got.cash) | set(target.cash):
        assert got.cash.get(key, 0.0) == pytest.approx(target.cash.get(key, 0.0), rel=1e-9, abs=1e-9), key


def test_a_state_file_plus_the_streams_matches_the_next_state_files(hours):
    root, _, _, files = hours
    source = HyperliquidNodeLiveSource(root, interval=900)
    snaps = list(source.snapshots())
    assert [m.height for m in source.matches] == [int(f.stem) for f in files[1:]]
    for match in source.matches:
        # exact: sizes equal, entries and account values within 1e-9 relative or the file's 1e-6 USD
        assert match.exact, match.summary()
        assert match.size_equal > 1000 and match.account_max_abs < 1e-5
    # the genesis state has no marks before it (no block wrote any): its instant has no snapshot, said so
    assert [p.reason.split(" (")[0] for p in source.problems] == [
        "no mark price yet for 221 market(s) with positions, e.g. ['0G', '2Z', 'AAVE', 'ACE', 'ADA']"]
    assert len(snaps) == 16
    assert snaps[7].extra["check_exact"] == "true" and snaps[7].extra["checked_state"] == files[1].name
    replayed_file = read_ledger(files[-1])
    assert compare_ledgers(replayed_file, replayed_file).exact


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    """Four minutes of 10-second steps across an hour boundary, state files at the start, 2 min, the end."""
    root = tmp_path_factory.mktemp("live")
    sim = _sim(seed=5)
    writer = NodeStreamWriter(sim, root)
    sim.step(10_000)
    _state(sim, writer, root)
    own = {}
    for i in range(24):
        sim.step(10_000)
        own[sim.now_ms] = snapshot_of(sim, "small")
        if i in (11, 23):
            _state(sim, writer, root)
    return root, own


def _close(a: pl.Series, b: pl.Series, usd: float) -> bool:
    diff = (a - b).abs()
    return bool(((diff <= usd) | (diff <= 1e-9 * b.abs())).all())


def test_live_snapshots_equal_the_simulators_own(live):
    root, own = live
    source = HyperliquidNodeLiveSource(root, interval=10)
    snaps = list(source.snapshots())
    assert not source.problems and len(source.matches) == 2 and all(m.exact for m in source.matches)
    compared = 0
    for snap in snaps:
        validate_snapshot(snap)
        assert snap.extra["marks_from"] == "replica_cmds SetGlobalAction" and int(snap.extra["marks_age_ms"]) < 10_000
        want = own.get(snap.taken_at_ms)
        if want is None:
            continue
        compared += 1
        j = snap.positions.join(want.positions, on=["address", "coin"], how="full", suffix="_sim")
        assert j.filter(pl.col("szi").is_null() | pl.col("szi_sim").is_null()).height == 0
        assert (j["szi"] == j["szi_sim"]).all()
        assert (j["leverage"] == j["leverage_sim"]).all() and (j["leverage_type"] == j["leverage_type_sim"]).all()
        # the anchor is a state file: USD amounts to its 1e-6 resolution
        assert _close(j["entry_price"] * j["szi"].abs(), j["entry_price_sim"] * j["szi"].abs(), 1e-5)
        for col in ("position_value", "unrealized_pnl", "margin_used", "funding_since_open"):
            assert _close(j[col], j[col + "_sim"], 1e-5), col
        liq = j.filter(pl.col("liquidation_price").is_not_null() | pl.col("liquidation_price_sim").is_not_null())
        # a liquidation price divides the account's slack by the size, so the anchor's 1e-6 USD rounding of
        # each amount in the book (a few of them) moves it by up to ~1e-5 USD / |szi|, or 1e-5 relative
        diff = (liq["liquidation_price"] - liq["liquidation_price_sim"]).abs()
        assert ((diff <= 1e-5 * liq["liquidation_price_sim"].abs()) | (diff <= 1e-5 / liq["szi"].abs())).all()
        opened = j.filter(pl.col("open_time").is_not_null())
        assert (opened["open_time"] == opened["open_time_sim"]).all()
        a = snap.accounts.join(want.accounts, on="address", suffix="_sim")
        assert _close(a["perp_equity"], a["perp_equity_sim"], 1e-4)
        assert snap.fills.sort("tid", "side").equals(want.fills.sort("tid", "side"))
        assert snap.fundings.sort("address", "coin").equals(want.fundings.sort("address", "coin"))
    assert compared == 24
    assert sum(s.fundings.height for s in snaps) > 0  # the hour passed
    opened_live = pl.concat([s.positions.filter(pl.col("open_time").is_not_null()) for s in snaps])
    assert opened_live.height > 0


def _copy(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


def _file_with_block(folder: Path, number: int) -> Path:
    return next(p for _, p in hourly_files(folder) if f'"block_number":{number},' in p.read_text())


def test_a_partial_last_line_is_waited_for_then_read(tmp_path):
    folder = tmp_path / "node_fills_by_block" / "hourly" / "20260320"
    folder.mkdir(parents=True)
    path = folder / "1"
    line = json.dumps({"local_time": "2026-03-20T01:00:00.000000000", "block_time": "2026-03-20T01:00:00.000000000",
                       "block_number": 5, "events": []})
    path.write_text(line[:20])
    stream = BlockStream(folder.parent)
    assert stream.next() is None  # not parsed: the node is still writing it
    with open(path, "a") as f:
        f.write(line[20:] + "\n")
    assert stream.next().number == 5


def test_a_truncated_line_is_reported_with_file_and_offset(tmp_path):
    folder = tmp_path / "s" / "hourly" / "20260320"
    folder.mkdir(parents=True)
    (folder / "1").write_text('{"block_number": 1, "block_time": 0, "events": []}\n{"block_num')
    (folder / "2").write_text('{"block_number": 2, "block_time": 0, "events": []}\n')
    stream = BlockStream(folder.parent)
    assert stream.next().number == 1
    with pytest.raises(StreamError) as err:
        stream.next()
    assert err.value.file == str(folder / "1") and err.value.offset == 51 and "truncated" in err.value.reason
    assert stream.next().number == 2  # reading goes on after the report


def test_a_block_out_of_order_and_a_gap_are_reported(tmp_path):
    folder = tmp_path / "s" / "hourly" / "20260320"
    folder.mkdir(parents=True)
    rows = [1, 2, 2, 5]
    (folder / "0").write_text("".join(json.dumps({"block_number": n, "block_time": n, "events": []}) + "\n"
                                      for n in rows))
    stream = BlockStream(folder.parent)
    assert [stream.next().number, stream.next().number] == [1, 2]
    with pytest.raises(StreamError, match="block 2 out of order") as err:
        stream.next()
    assert err.value.offset > 0 and err.value.file.endswith("20260320/0")
    with pytest.raises(StreamGap, match="2 missing"):
        stream.next()


def test_an_unknown_event_type_stops_the_replay_naming_where(hours, tmp_path):
    root = _copy(hours[0], tmp_path / "node")
    path = hourly_files(root / "misc_events_by_block" / "hourly")[1][1]
    lines = path.read_text().splitlines()
    first = json.loads(lines[3])
    first["events"] = [{"time": first["block_time"], "hash": "0x0", "inner": {"NewThing": {}}}]
    lines[3] = json.dumps(first)
    path.write_text("\n".join(lines) + "\n")
    anchor = hours[1]
    replay = Replay(anchor.copy())
    blocks = NodeBlocks(root, after=anchor.height)
    with pytest.raises(ReplayError, match="unknown misc event type 'NewThing'") as err:
        while (b := blocks.next()) is not None:
            replay.apply(b)
    assert str(path) in err.value.where and "byte" in err.value.where


def test_a_gap_stops_live_snapshots_until_the_next_state_file(live, tmp_path):
    root = _copy(live[0], tmp_path / "node")
    states = sorted(int(p.stem) for p in (root / "periodic_abci_states").rglob("*.rmp"))
    path = _file_with_block(root / "node_fills_by_block" / "hourly", states[0] + 30)  # 30 s after the first
    lines = path.read_text().splitlines()
    numbers = [json.loads(x)["block_number"] for x in lines]
    cut = numbers.index(states[0] + 30)
    del lines[cut]
    path.write_text("\n".join(lines) + "\n")
    source = HyperliquidNodeLiveSource(root, interval=10)
    snaps = list(source.snapshots())
    assert len(source.problems) == 1 and "gap" in source.problems[0].reason
    assert str(path) in source.problems[0].where
    gap_ms = json.loads(lines[cut])["block_time"]
    times = [s.taken_at_ms for s in snaps]
    resumed = [s for s in snaps if s.extra.get("anchor", "").endswith("after a stream problem)")]
    assert len(resumed) == 1
    silent = [t for t in times if t > _ms(gap_ms) - 10_000 and t < resumed[0].taken_at_ms]
    assert silent == []  # nothing between the gap and the re-anchoring state file
    assert resumed[0].height == states[1]


def _ms(node_time: str) -> int:
    return int(datetime.fromisoformat(node_time[:26]).replace(tzinfo=UTC).timestamp() * 1000)


def test_the_three_fill_forms_read_alike(hours, tmp_path):
    root = hours[0]
    batches = [json.loads(x) for x in _lines(root, "node_fills_by_block")]
    # the --stream-with-block-info form: the same batches under *_streaming
    streaming = _copy(root, tmp_path / "streaming")
    for name in ("node_fills", "misc_events", "hip3_oracle_updates"):
        (streaming / f"{name}_by_block").rename(streaming / f"{name}_streaming")
    anchor = hours[1]
    replay = Replay(anchor.copy())
    blocks = NodeBlocks(streaming, after=anchor.height)
    while (b := blocks.next()) is not None:
        replay.apply(b)
    assert replay.ledger.positions.keys() == hours[2].positions.keys()
    # the hourly form: one [user, fill] a line, no blocks
    hourly = tmp_path / "lines" / "node_fills" / "hourly" / "20260320"
    hourly.mkdir(parents=True)
    events = [e for b in batches for e in b["events"]]
    (hourly / "0").write_text("".join(json.dumps(e) + "\n" for e in events))
    read = list(fill_lines(hourly.parent))
    assert [(u, f["tid"]) for u, f, _ in read] == [(u, f["tid"]) for u, f in events]
    assert read[0][2].offset == 0 and read[1][2].offset == len(json.dumps(events[0])) + 1


def test_the_tail_starts_from_the_hour_before_a_restart_point(hours):
    root = hours[0]
    folder = root / "node_fills_by_block" / "hourly"
    late = LineTail(folder, since_ms=int(datetime(2026, 3, 20, 3, 30, tzinfo=UTC).timestamp() * 1000))
    first = next(late.lines())
    assert first.file.name == "2"


def test_without_marks_in_the_streams_they_come_from_an_info_endpoint(tmp_path):
    from hltracker.fake_exchange import FakeExchange
    from hltracker.sources.hyperliquid_http.source import markets_from_info

    root = tmp_path / "data"
    with FakeExchange("small", seed=9, start=datetime(2026, 3, 20, tzinfo=UTC), weight_limit=None) as fx:
        writer = NodeStreamWriter(fx.market, root, write_marks=False)
        _state(fx.market, writer, root)
        fx.step(2)
        _state(fx.market, writer, root)
        bare = HyperliquidNodeLiveSource(root, interval=900)
        assert list(bare.snapshots()) == []
        assert bare.problems and all("pass an info URL" in p.reason for p in bare.problems)
        source = HyperliquidNodeLiveSource(root, interval=900, markets_from=markets_from_info(fx.info_url))
        snaps = list(source.snapshots())
        marks = dict(zip(fx.market.uni.coin.tolist(), fx.market.mark.tolist(), strict=True))
    assert len(snaps) == 3 and not source.problems
    for snap in snaps:
        assert snap.extra["marks_from"] == "info endpoint" and snap.extra["marks_age_ms"] == "0"
        got = dict(zip(snap.markets["coin"].to_list(), snap.markets["mark_price"].to_list(), strict=True))
        assert all(got[c] == pytest.approx(marks[c], rel=1e-12) for c in got)
    assert source.matches and all(m.exact for m in source.matches)
