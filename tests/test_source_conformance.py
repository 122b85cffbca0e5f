"""One conformance suite, run against every source: what the engine may rely on, whoever fed it.

- `taken_at` is UTC, timezone-aware, and increases from one snapshot to the next;
- every frame has exactly the contract's columns and dtypes, and the whole snapshot validates;
- one row per (address, coin) in positions, per address in accounts, per coin in markets;
- a full-market source balances long and short sizes in every market;
- `describe()` names the source and its settings, and `hltracker sources list` prints it;
- the source is registered through the `hltracker.sources` entry points.

Sources: the simulator; snapshot files written from it; the info API (`hyperliquid-http`) served by the
fake exchange; a node's state files in both formats, rendered by the simulator in the layout real-file
evidence shows, taking mark prices from the fake exchange's info endpoint as a real deployment takes them
from the public info API.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import polars as pl
import pytest
from typer.testing import CliRunner

from hltracker.cli import app
from hltracker.fake_exchange import FakeExchange
from hltracker.model import FRAME_KEYS, FRAME_SCHEMAS, Snapshot, validate_snapshot
from hltracker.sources import available_sources
from hltracker.sources.hyperliquid_http import HyperliquidHttpSource, RefreshTiers, markets_from_info
from hltracker.sources.hyperliquid_node import HyperliquidNodeSource
from hltracker.sources.simulator import SimulatorSource
from hltracker.sources.simulator.node_state import write_abci_state
from hltracker.sources.snapshot_files import SnapshotFilesSource, write_snapshot

START = datetime(2026, 11, 2, 22, 0, tzinfo=UTC)
STEPS = 2  # snapshots after the first


@dataclass
class Case:
    source: object
    snapshots: list[Snapshot]


def _simulator(tmp_path) -> Iterator[Case]:
    src = SimulatorSource("small", seed=9, steps=STEPS, start=START)
    yield Case(src, list(src.snapshots()))


def _snapshot_files(tmp_path) -> Iterator[Case]:
    for snap in SimulatorSource("small", seed=9, steps=STEPS, start=START).snapshots():
        write_snapshot(snap, tmp_path / "files")
    src = SnapshotFilesSource(tmp_path / "files")
    yield Case(src, list(src.snapshots()))


def _http(tmp_path) -> Iterator[Case]:
    with FakeExchange("small", seed=9, start=START, weight_limit=None) as fx:
        first = fx.snapshot()
        wallets = first.positions["address"].unique().sort().head(25).to_list()
        src = HyperliquidHttpSource(url=fx.info_url, wallets=wallets, weight_limit=None,
                                    tiers=RefreshTiers.parse("1000000:1,0:2"), slow_every=2)
        snaps = []
        for _ in range(STEPS + 1):
            snaps.append(src.take_snapshot())
            fx.step()
        src.close()
        yield Case(src, snaps)


def _node(fmt: str):
    def make(tmp_path) -> Iterator[Case]:
        with FakeExchange("small", seed=9, start=START, weight_limit=None) as fx:
            for _ in range(STEPS + 1):
                with fx.lock:
                    write_abci_state(fx.market, tmp_path / "periodic_abci_states", fmt)
                fx.step()
            markets = markets_from_info(fx.info_url, weight_limit=None)
            src = HyperliquidNodeSource(tmp_path / "periodic_abci_states", markets_from=markets)
            yield Case(src, list(src.snapshots()))
    return make


CASES = {
    "simulator": _simulator,
    "snapshot-files": _snapshot_files,
    "hyperliquid-http": _http,
    "hyperliquid-node-rmp": _node("rmp"),
    "hyperliquid-node-json": _node("json"),
}


@pytest.fixture(scope="module", params=list(CASES))
def case(request, tmp_path_factory) -> Iterator[Case]:
    yield from CASES[request.param](tmp_path_factory.mktemp(request.param))


def test_every_source_is_covered():
    names = {type(c).name for c in (SimulatorSource(), SnapshotFilesSource(), HyperliquidHttpSource(),
                                    HyperliquidNodeSource())}
    assert names == set(available_sources()), "a registered source has no conformance case"
    assert {k.removesuffix("-rmp").removesuffix("-json") for k in CASES} == names


def test_there_are_snapshots_with_positions(case):
    assert len(case.snapshots) == STEPS + 1
    assert all(s.positions.height > 0 and s.accounts.height > 0 and s.markets.height > 0 for s in case.snapshots)


def test_taken_at_is_utc_and_increasing(case):
    times = [s.taken_at for s in case.snapshots]
    for t in times:
        assert t.tzinfo is not None and t.utcoffset() == timedelta(0)
    assert times == sorted(times) and len(set(times)) == len(times)


def test_frames_match_the_contract_exactly(case):
    for snap in case.snapshots:
        validate_snapshot(snap)
        for name, frame in snap.frames().items():
            assert frame.schema == FRAME_SCHEMAS[name], name
        # Snapshot files relay their producer's name (a simulator run stays one when replayed).
        relayed = isinstance(case.source, SnapshotFilesSource)
        assert snap.source == type(case.source).name or (relayed and snap.source)


def test_one_row_per_key(case):
    for snap in case.snapshots:
        for name, key in FRAME_KEYS.items():
            frame = snap.frames()[name]
            assert frame.select(key).is_duplicated().sum() == 0, f"{name} has duplicate {key}"


def test_full_market_sources_balance_long_and_short(case):
    if not type(case.source).full_market:
        pytest.skip(f"{type(case.source).name} is not full-market (a watchlist or a vendor's sample)")
    for snap in case.snapshots:
        sums = snap.positions.group_by("coin").agg(pl.col("szi").clip(lower_bound=0).sum().alias("long"),
                                                   (-pl.col("szi").clip(upper_bound=0)).sum().alias("short"))
        off = sums.filter((pl.col("long") - pl.col("short")).abs() > 1e-6 * pl.max_horizontal("long", "short", 1.0))
        assert off.height == 0, f"unbalanced markets: {off.head(5).to_dicts()}"


def test_describe_names_the_source_and_its_settings(case):
    cls = type(case.source)
    described = case.source.describe()
    assert described["name"] == cls.name and described["description"] == cls.description
    assert described["full_market"] == cls.full_market
    assert len(described) > 3  # settings in force, not just the class attributes
    assert available_sources()[cls.name] is cls


def test_sources_list_prints_every_describe():
    result = CliRunner().invoke(app, ["sources", "list"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    for name, cls in available_sources().items():
        assert name in result.output
        for key in cls().describe():
            if key != "name":
                assert key in result.output, f"{name}: {key}"
    assert "Experimental" in result.output  # the node source says what it is
