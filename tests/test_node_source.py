"""The hyperliquid-node source on state files the simulator renders in the evidenced layout, both formats.

The simulator's own snapshot (`frames.snapshot_of`) is the reference: the node reader must derive the
same positions, perp account figures and marks from the raw state (within the rendering's precision:
USD amounts are kept to 1e-6, oracle prices to 10^-(6 - szDecimals)). The quirks one by one, on small
hand-built states, are in tests/test_node_state_quirks.py.
"""

from __future__ import annotations

import copy
import json
import threading
import time
import tracemalloc
from datetime import UTC, datetime
from pathlib import Path

import msgpack
import numpy as np
import polars as pl
import pytest

from hltracker.model import Snapshot, validate_snapshot
from hltracker.sources import Source
from hltracker.sources.hyperliquid_node import (
    HyperliquidNodeSource,
    MarksUnavailableError,
    NodeLayoutError,
    NodeStateError,
    TruncatedStateError,
    list_state_files,
    probe_layout,
    read_state_file,
)
from hltracker.sources.simulator.frames import markets_frame, snapshot_of
from hltracker.sources.simulator.market import SimulatedMarket
from hltracker.sources.simulator.node_state import (
    account_mode_of,
    default_height,
    render_abci_state,
    write_abci_state,
    write_state_document,
)
from hltracker.sources.simulator.profiles import get_profile

CASES = ["rmp", "json"]
USD = 1.01e-6  # the rendering keeps USD amounts to 1e-6
REL = 1e-11  # plus float noise relative to the position's value
# Compared with the simulator: every positions column but open_time (null: the state has no fill times).
PRICE_COLUMNS = ("entry_price", "liquidation_price")  # compared as USD per |szi|
USD_COLUMNS = ("position_value", "unrealized_pnl", "margin_used", "funding_since_open")
EXACT_COLUMNS = ("dex", "leverage_type", "leverage", "max_leverage")


class Market:
    def __init__(self, sim: SimulatedMarket, root: Path):
        self.sim = sim
        self.ref = snapshot_of(sim, "small")
        self.markets = markets_frame(sim)
        self.files = {fmt: write_abci_state(sim, root, fmt) for fmt in CASES}
        self.snaps = {case: read_state_file(path, self.markets_from) for case, path in self.files.items()}

    def markets_from(self) -> pl.DataFrame:
        return self.markets


@pytest.fixture(scope="module")
def market(tmp_path_factory) -> Market:
    # Six 15-minute steps from 23:00 cross two hours (funding is paid) and midnight (a new date folder).
    sim = SimulatedMarket(get_profile("small").with_start(datetime(2026, 3, 20, 23, 0, tzinfo=UTC)), seed=5)
    for _ in range(6):
        sim.step()
    return Market(sim, tmp_path_factory.mktemp("node"))


def _joined(ref: pl.DataFrame, got: pl.DataFrame, key: list[str]) -> pl.DataFrame:
    assert sorted(got.select(key).rows()) == sorted(ref.select(key).rows())
    return ref.join(got, on=key, suffix="_node")


def _within(j: pl.DataFrame, col: str, per: pl.Expr | float = 1.0, usd: float = USD) -> None:
    """|ref - node| x per <= the rendering's USD precision (+ float noise on the position's value)."""
    bad = j.filter(((pl.col(col) - pl.col(f"{col}_node")).abs() * per > usd + REL * pl.col("position_value").abs())
                   | (pl.col(col).is_null() != pl.col(f"{col}_node").is_null()))
    example = bad.select("address", "coin", col, f"{col}_node").head(1).rows()
    assert bad.height == 0, f"{col}: {bad.height} rows differ, e.g. {example}"


def _shared_wallets(market: Market) -> pl.Series:
    """Wallets the rendering puts in a shared-collateral account mode (unified, dexAbstraction, portfolio)."""
    address = market.sim.people.address
    return pl.Series(address[account_mode_of(np.arange(address.size)) != ""].tolist(), dtype=pl.String)


@pytest.mark.parametrize("case", CASES)
def test_positions_match_the_simulator(market: Market, case):
    snap = market.snaps[case]
    j = _joined(market.ref.positions, snap.positions, ["address", "coin"])
    # A shared-collateral wallet's cross liquidation price depends on its spot collateral: left null.
    shared = pl.col("address").is_in(_shared_wallets(market).implode()) & (pl.col("leverage_type") == "cross")
    assert j.filter(shared)["liquidation_price_node"].null_count() == j.filter(shared).height > 0
    j = j.filter(~shared)
    _within(j, "szi", usd=1e-9)
    for col in PRICE_COLUMNS:
        # A price's error is the error of the USD amount it comes from, over the size (liquidation:
        # divided by 1 - mmr >= 5/6 as well).
        _within(j, col, per=pl.col("szi").abs(), usd=2 * USD)
    for col in USD_COLUMNS:
        _within(j, col)
    for col in EXACT_COLUMNS:
        assert (j[col] == j[f"{col}_node"]).all(), col
    assert snap.positions["open_time"].null_count() == snap.positions.height
    assert j["liquidation_price"].null_count() > 0 and j["leverage_type"].is_in(["isolated"]).any()


@pytest.mark.parametrize("case", CASES)
def test_perp_accounts_match_the_simulator(market: Market, case):
    """Every wallet with a position or perp equity (>= 1e-6 USD, the rendering's unit) is in the node's
    accounts with the same perp equity and withdrawable balance; no wallet the simulator lacks is."""
    ref, got = market.ref.accounts, market.snaps[case].accounts
    holders = market.ref.positions["address"].unique()
    perp_side = ref.filter(pl.col("address").is_in(holders.implode()) | (pl.col("perp_equity").abs() >= 1e-6))
    assert got.join(ref, on="address", how="anti").height == 0
    j = perp_side.join(got, on="address", how="left", suffix="_node")
    assert j["perp_equity_node"].null_count() == 0
    n_dex = len(market.sim.uni.dexes)  # one rounded raw USD balance per dex
    for col in ("perp_equity", "balance"):
        diff = (j[col] - j[f"{col}_node"]).abs() - n_dex * USD - REL * j[col].abs()
        assert diff.max() <= 0, col
    assert got["all_time_pnl"].null_count() == got["vault_equity"].null_count() == got.height


@pytest.mark.parametrize("case", CASES)
def test_spot_and_staking_match_the_simulator(market: Market, case):
    j = market.ref.accounts.join(market.snaps[case].accounts, on="address", suffix="_node")
    for col in ("spot_equity", "staking_equity"):
        # Token amounts are kept to 1e-8 HYPE, valued at the HYPE mark.
        assert ((j[col] - j[f"{col}_node"]).abs() <= 1e-6 + 1e-12 * j[col].abs()).all(), col


@pytest.mark.parametrize("case", CASES)
def test_marks_come_from_markets_from_and_oracle_prices_from_the_state(market: Market, case):
    snap = market.snaps[case]
    j = _joined(market.ref.markets, snap.markets, ["coin"])
    for col in ("mark_price", "max_leverage", "sz_decimals", "is_delisted", "only_isolated", "dex", "funding_rate"):
        assert ((j[col] == j[f"{col}_node"]) | (j[col].is_null() & j[f"{col}_node"].is_null())).all(), col
    # Integer oracle prices keep 6 - szDecimals decimals.
    unit = 10.0 ** (-(6 - j["sz_decimals"].cast(pl.Float64)))
    assert ((j["oracle_price"] - j["oracle_price_node"]).abs() <= unit / 2 * 1.0001).all()
    assert ((j["open_interest"] - j["open_interest_node"]).abs() <= 1e-8).all()
    assert snap.extra["marks"] == "markets_from" and snap.extra["collateral"].startswith("main:0,")


@pytest.mark.parametrize("case", CASES)
def test_the_snapshot_is_valid_full_market_and_timed_by_the_state(market: Market, case):
    snap = market.snaps[case]
    validate_snapshot(snap)
    net = snap.positions.group_by("coin").agg(pl.col("szi").sum().abs().alias("net"))
    assert net["net"].max() < 1e-9  # every wallet of every market: long == short
    assert snap.taken_at == market.sim.now and snap.taken_at.tzinfo is not None
    assert snap.height == default_height(market.sim) == int(market.files[case].stem)
    assert snap.source == "hyperliquid-node" and snap.extra["layout"] == "2026" and snap.extra["format"] == case
    assert "unknown_keys" not in snap.extra
    assert market.files[case].parent.name == "20260321"


def _reversed_keys(obj):
    if isinstance(obj, dict):
        return {k: _reversed_keys(v) for k, v in reversed(obj.items())}
    if isinstance(obj, list):
        return [_reversed_keys(v) for v in obj]
    return obj


def test_key_order_does_not_matter(market: Market, tmp_path):
    """User states before their clearinghouse's meta, context last: one pass still reads it all."""
    doc = _reversed_keys(render_abci_state(market.sim))
    keys = list(doc["exchange"]["locus"]["cls"][0])
    assert keys.index("user_states") < keys.index("meta")
    path = write_state_document(doc, tmp_path / f"{default_height(market.sim)}.rmp", "rmp")
    snap = read_state_file(path, market.markets_from)
    expected = market.snaps["rmp"]
    for name in ("positions", "accounts", "markets"):
        key = {"positions": ["address", "coin"], "accounts": ["address"], "markets": ["coin"]}[name]
        assert snap.frames()[name].sort(key).equals(expected.frames()[name].sort(key)), name


# ----- the probe ---------------------------------------------------------------------------------


def _first_with_position(entries) -> int:
    return next(k for k, (_, state) in enumerate(entries) if state["p"]["p"])


def _rename(d: dict, old: str, new: str) -> None:
    d[new] = d.pop(old)


def _edits(doc: dict) -> list:
    ex = doc["exchange"]
    users = ex["locus"]["cls"][0]["user_states"]["user_to_state"]
    k = _first_with_position(users)
    return [  # (edit, message, whether the probe sees it before the first user state holding a position)
        (lambda: _rename(doc, "exchange", "exchange_v2"), "(root): expected key 'exchange', found ['exchange_v2']",
         True),
        (lambda: _rename(ex["locus"], "cls", "abc"), "exchange.locus: expected key 'cls', found ['abc', 'chn', "
         "'ctx', 'scl', 'ust']", True),  # no user state with a position: the probe reads it all
        (lambda: _rename(ex["locus"]["cls"][0], "user_states", "users"),
         "exchange.locus.cls[0]: expected key 'user_states', found ['halted_assets', 'meta', 'oracle', "
         "'total_net_deposit', 'users']", True),
        (lambda: _rename(users[0][1], "u", "usdc"),
         "exchange.locus.cls[0].user_states.user_to_state[0][1]: expected key 'u', found ['p', ", True),
        (lambda: _rename(users[k][1]["p"]["p"][0][1], "s", "sz"),
         f"exchange.locus.cls[0].user_states.user_to_state[{k}][1].p.p[0][1]: expected key 's'", True),
        (lambda: _rename(users[-1][1], "u", "usdc"),
         f"exchange.locus.cls[0].user_states.user_to_state[{len(users) - 1}][1]: expected key 'u'", False),
        (lambda: _rename(ex["locus"]["cls"][0]["meta"]["universe"][0], "szDecimals", "sz_decimals"),
         "exchange.locus.cls[0].meta.universe[0]: expected key 'szDecimals'", False),
    ]


def test_a_missing_key_names_the_key_path(market: Market, tmp_path):
    """The probe reads as far as the first user state holding a position; the reader reads everything."""
    base = render_abci_state(market.sim)
    for i in range(len(_edits(base))):
        doc = copy.deepcopy(base)
        edit, message, probe_sees = _edits(doc)[i]
        edit()
        fmt = "json" if i % 2 else "rmp"
        path = write_state_document(doc, tmp_path / f"{i}.{fmt}", fmt)
        readers = [probe_layout] if probe_sees else []
        for read in [*readers, lambda p: read_state_file(p, market.markets_from)]:
            with pytest.raises(NodeLayoutError) as err:
                read(path)
            assert message in str(err.value) and str(path) in str(err.value)
        if not probe_sees:
            assert probe_layout(path).layout == "2026"
    assert probe_layout(market.files["rmp"]).layout == "2026"


def test_a_state_without_markets_from_stops_clearly(market: Market):
    skipped = []
    source = HyperliquidNodeSource(market.files["rmp"], on_invalid=skipped.append)
    with pytest.raises(MarksUnavailableError, match="pass an info URL"):
        next(source.snapshots())
    assert not skipped  # a setting, not a bad file: never swallowed by on_invalid


def test_an_unknown_spot_section_leaves_spot_null_and_the_rest_intact(market: Market, tmp_path):
    doc = render_abci_state(market.sim)
    _rename(doc["exchange"]["locus"]["scl"]["user_states"][3][1], "b", "balances")
    snap = read_state_file(write_state_document(doc, tmp_path / "1.rmp", "rmp"), market.markets_from)
    assert snap.accounts["spot_equity"].null_count() == snap.accounts.height
    assert snap.accounts["staking_equity"].null_count() == 0
    assert "exchange.locus.scl left out" in snap.extra["notes"] and "'b'" in snap.extra["notes"]
    assert snap.positions.equals(market.snaps["rmp"].positions)


def test_json_with_integers_beyond_64_bits_is_read(market: Market, tmp_path):
    doc = render_abci_state(market.sim)
    for dex in doc["exchange"]["locus"]["cls"]:  # keep the file small: the fallback parser is pure Python
        dex["user_states"]["user_to_state"] = dex["user_states"]["user_to_state"][:30]
    doc["exchange"]["hyper_evm"] = {"balance": 10**30}
    snap = read_state_file(write_state_document(doc, tmp_path / "1.json", "json"), market.markets_from)
    assert snap.positions.height > 0 and snap.accounts.height > 0


# ----- the source ---------------------------------------------------------------------------------


def test_the_source_describes_itself_without_io(tmp_path):
    source = HyperliquidNodeSource()
    assert isinstance(source, Source)
    assert source.path == Path("~/hl/data/periodic_abci_states").expanduser()
    assert (source.name, source.full_market, source.follow, source.poll_seconds) == ("hyperliquid-node", True,
                                                                                      False, 10.0)
    assert source.description.startswith("Experimental:")
    described = HyperliquidNodeSource(tmp_path / "missing").describe()
    assert described["files"] == 0 and set(described["layouts"]) == {"2026"}
    assert {"name", "description", "full_market", "path", "follow", "poll_seconds"} <= set(described)


def _small_sim(seed: int = 1) -> SimulatedMarket:
    return SimulatedMarket(get_profile("small").with_start(datetime(2026, 3, 20, 23, 30, tzinfo=UTC)), seed=seed)


def _marks(sim: SimulatedMarket):
    return lambda: markets_frame(sim)


def test_files_are_read_in_height_order_across_date_folders(tmp_path):
    sim = _small_sim()
    heights = []
    for step in range(4):  # 23:30, 23:45, 00:00, 00:15: two date folders
        heights.append(default_height(sim))
        write_abci_state(sim, tmp_path, "json")
        if step == 1:
            write_abci_state(sim, tmp_path, "rmp")  # the .rmp is read, not the .json
        sim.step()
    (tmp_path / "20260321" / f".{heights[2] + 1}.rmp.tmp-ab12").write_bytes(b"partial")
    (tmp_path / "20260321" / f"{heights[2] + 2}.rmp.part").write_bytes(b"partial")
    assert [h for h, _ in list_state_files(tmp_path)] == heights
    assert list_state_files(tmp_path)[1][1].suffix == ".rmp"
    assert [h for h, _ in list_state_files(tmp_path / "20260321")] == heights[2:]
    assert [s.height for s in HyperliquidNodeSource(tmp_path, markets_from=_marks(sim)).snapshots()] == heights
    assert HyperliquidNodeSource(tmp_path).describe()["files"] == 4


def test_follow_picks_up_a_file_written_after_the_first_poll(tmp_path):
    sim = _small_sim()
    write_abci_state(sim, tmp_path, "rmp")
    source = HyperliquidNodeSource(tmp_path, follow=True, poll_seconds=0.02, markets_from=_marks(sim))
    got: list[Snapshot] = []
    thread = threading.Thread(target=lambda: got.extend(source.snapshots()), daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not got and time.monotonic() < deadline:
        time.sleep(0.01)
    sim.step()
    write_abci_state(sim, tmp_path, "rmp")
    while len(got) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    source.stop()
    thread.join(5)
    assert not thread.is_alive()
    assert [s.height for s in got] == [default_height(sim) - 10_000, default_height(sim)]


def test_a_truncated_file_is_retried_while_following_then_skipped(tmp_path):
    sim = _small_sim()
    first = write_abci_state(sim, tmp_path, "rmp")
    data = first.read_bytes()
    first.write_bytes(data[: len(data) // 2])
    with pytest.raises(TruncatedStateError, match="ends early"):
        read_state_file(first, _marks(sim))
    sim.step()
    write_abci_state(sim, tmp_path, "rmp")
    skipped: list[NodeStateError] = []
    snaps = list(HyperliquidNodeSource(tmp_path, on_invalid=skipped.append, markets_from=_marks(sim)).snapshots())
    assert [s.height for s in snaps] == [default_height(sim)] and skipped[0].path == first
    following = HyperliquidNodeSource(tmp_path, follow=True, poll_seconds=0.01, on_invalid=skipped.append,
                                      markets_from=_marks(sim))
    it = following.snapshots()
    assert next(it).height == default_height(sim)  # the truncated one did not grow: skipped at the 2nd try
    following.stop()
    assert len(skipped) == 2


# ----- streaming ----------------------------------------------------------------------------------


def test_reading_a_msgpack_file_does_not_materialise_it(market: Market):
    """Peak traced memory while reading stays a fraction of what decoding the document whole takes (the
    columns are kept in Polars, which tracemalloc does not see; the stream's buffers and rows it does)."""
    path = market.files["rmp"]
    tracemalloc.start()
    try:
        read_state_file(path, market.markets_from)
        streamed = tracemalloc.get_traced_memory()[1]
        tracemalloc.reset_peak()
        with open(path, "rb") as f:
            whole_doc = msgpack.unpack(f, raw=False)
        whole = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert whole_doc["exchange"]["locus"]["cls"]
    assert streamed < 0.25 * whole, (streamed, whole)


def test_state_files_are_written_atomically(market: Market, tmp_path):
    path = write_abci_state(market.sim, tmp_path, "json")
    assert [p.name for p in path.parent.iterdir()] == [path.name]
    assert json.loads(path.read_text())["exchange"]["locus"]["ctx"]["time"].endswith(".000000000")
    assert np.isclose(len(list_state_files(tmp_path)), 1)
