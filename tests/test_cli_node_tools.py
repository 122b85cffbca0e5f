"""`hltracker node probe` and `hltracker node record` on state files the simulator renders, and the
reader on fixtures recorded from a real node (tests/data/node/, when there are any)."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path

import msgpack
import polars as pl
import pytest
from typer.testing import CliRunner

from hltracker.cli import app
from hltracker.sources.hyperliquid_node import probe_layout, read_node_state
from hltracker.sources.hyperliquid_node.skeleton import layout_report, skeleton
from hltracker.sources.simulator.market import SimulatedMarket
from hltracker.sources.simulator.node_state import render_abci_state, write_abci_state, write_state_document
from hltracker.sources.simulator.profiles import get_profile

FIXTURES = Path(__file__).parent / "data" / "node"


@pytest.fixture(scope="module")
def state_file(tmp_path_factory) -> Path:
    sim = SimulatedMarket(get_profile("small").with_start(datetime(2026, 3, 20, 23, 0, tzinfo=UTC)), seed=3)
    for _ in range(2):
        sim.step()
    return write_abci_state(sim, tmp_path_factory.mktemp("node"), "rmp")


def _run(*args: str):
    return CliRunner().invoke(app, ["node", *args], env={"COLUMNS": "250"})


def test_probe_prints_the_skeleton_without_values_and_the_rows_it_matches(state_file):
    result = _run("probe", str(state_file))
    assert result.exit_code == 0, result.output
    out = result.output
    assert "exchange.locus.cls[].user_states.user_to_state[][1].p.p[][1].e  int" in out
    assert "exchange.locus.cls  list  x1  (7 entries)" in out
    assert "match     exchange.locus.cls[].oracle.pxs[][].px" in out
    assert out.rstrip().endswith("# every required row matches")
    doc = msgpack.unpackb(state_file.read_bytes())
    first = doc["exchange"]["locus"]["cls"][0]["user_states"]["user_to_state"][0]
    assert first[0] not in out and str(first[1]["u"]) not in out  # no addresses, no amounts


def test_probe_names_the_rows_a_drifted_file_breaks(state_file, tmp_path):
    doc = msgpack.unpackb(state_file.read_bytes())
    for dex in doc["exchange"]["locus"]["cls"]:
        for entry in dex["meta"]["universe"]:
            entry["sz_decimals"] = entry.pop("szDecimals")
        dex["oracle"]["pxs"] = [[str(p[0]["px"])] for p in dex["oracle"]["pxs"]]
    drifted = write_state_document(doc, tmp_path / "1.json", "json")
    result = _run("probe", str(drifted))
    assert result.exit_code == 1
    assert "breaks    exchange.locus.cls[].meta.universe[].szDecimals  absent" in result.output
    assert "exchange.locus.cls[].meta.universe[].sz_decimals  int" in result.output
    assert "breaks    exchange.locus.cls[].oracle.pxs[][].px  absent" in result.output
    assert "# 2 row(s) break" in result.output


def _address_of(pair) -> str:
    return pair[0].lower()


def test_record_writes_a_trimmed_fixture_with_provenance_that_reads_like_the_source(state_file, tmp_path):
    out = tmp_path / "fixture"
    result = _run("record", str(state_file), "--out", str(out), "--markets", "4")
    assert result.exit_code == 0, result.output
    prov = json.loads((out / "PROVENANCE.json").read_text())
    assert prov["source_sha256"] == hashlib.sha256(state_file.read_bytes()).hexdigest()
    assert prov["height"] == int(state_file.stem) and prov["source_size_bytes"] == state_file.stat().st_size
    assert prov["command"].startswith("hltracker node record") and prov["markets_per_dex"] == 4
    picked = prov["picked_by_kind"]
    for kind in ("0/cross", "0/isolated", "0/default-leverage", "0/S", "0/D", "0/preference", "0/no-position",
                 "1/hip3-asset-id", "spot", "mode/u", "mode/d", "mode/p"):
        assert picked.get(kind, 0) >= 1, kind
    assert max(picked.values()) <= 2
    # Both formats hold the same document, a few markets per dex, and probe clean.
    rmp, js = out / f"{prov['height']}.rmp", out / f"{prov['height']}.json"
    doc = msgpack.unpackb(rmp.read_bytes())
    assert json.loads(js.read_text()) == doc
    dexes = doc["exchange"]["locus"]["cls"]
    assert all(len(d["meta"]["universe"]) <= 4 and len(d["oracle"]["pxs"]) <= 4 for d in dexes)
    assert probe_layout(rmp).layout == "2026"
    assert all(status != "breaks" for _, status, _ in layout_report(skeleton(js)))
    # Every kept wallet is whole: its user states, positions and spot balances as in the source.
    full, small = read_node_state(state_file), read_node_state(rmp)
    kept = small.users["address"].unique().implode()
    assert small.users.height >= 10
    key = ["dex_index", "address"]
    assert small.users.select(*key, "u").sort(key).equals(
        full.users.filter(pl.col("address").is_in(kept)).select(*key, "u").sort(key))
    cols = ["dex_index", "address", "coin", "size_raw", "entry_ntl", "leverage", "isolated", "iso_raw_usd"]
    assert small.positions.select(cols).sort(cols[:3]).equals(
        full.positions.filter(pl.col("address").is_in(kept)).select(cols).sort(cols[:3]))
    assert small.spot.height > 0 and small.spot.sort("address", "token").equals(
        full.spot.filter(pl.col("address").is_in(small.spot["address"].unique().implode())).sort("address", "token"))
    assert small.account_modes.height >= 3


def test_record_stops_clearly_on_a_file_it_cannot_read(tmp_path):
    doc = render_abci_state(SimulatedMarket(get_profile("small"), seed=1), height=7)
    doc["exchange"]["locus"].pop("ctx")
    path = write_state_document(doc, tmp_path / "7.rmp", "rmp")
    result = _run("record", str(path), "--out", str(tmp_path / "out"))
    assert result.exit_code == 1 and "expected key 'ctx'" in result.output and result.exception is not None
    assert not (tmp_path / "out").exists()


def _recorded() -> list[Path]:
    return sorted(p.parent for p in FIXTURES.glob("*/PROVENANCE.json"))


@pytest.mark.skipif(not _recorded(), reason="no fixture recorded from a real node in tests/data/node/ "
                    "(see tests/data/node/README.md: `hltracker node record FILE --out tests/data/node/NAME`)")
@pytest.mark.parametrize("folder", _recorded() or [None], ids=lambda p: p.name if p else "none")
def test_a_fixture_recorded_from_a_real_node_reads_in_both_formats(folder: Path):
    prov = json.loads((folder / "PROVENANCE.json").read_text())
    rmp, js = folder / f"{prov['height']}.rmp", folder / f"{prov['height']}.json"
    a, b = read_node_state(rmp), read_node_state(js)
    assert a.height == b.height == prov["height"]
    assert a.positions.sort("dex_index", "address", "coin").equals(b.positions.sort("dex_index", "address", "coin"))
    assert a.users.height > 0 and a.positions.height > 0
    assert [row.path for row, status, _ in layout_report(skeleton(rmp)) if status == "breaks"] == []


def test_record_with_an_info_url_keeps_the_exchanges_own_answers_and_they_match_the_reader(tmp_path):
    from hltracker.fake_exchange import FakeExchange
    from hltracker.sources.hyperliquid_http import markets_from_info
    from hltracker.sources.hyperliquid_node import read_state_file

    with FakeExchange("small", seed=4, start=datetime(2026, 3, 20, 23, 0, tzinfo=UTC), weight_limit=None) as fx:
        with fx.lock:
            source = write_abci_state(fx.market, tmp_path / "states", "rmp")
        url = fx.info_url
        result = _run("record", str(source), "--out", str(tmp_path / "fixture"), "--info-url", url)
        assert result.exit_code == 0, result.output
        frame = markets_from_info(url, weight_limit=None)()  # the marks of the moment the file was written
    prov = json.loads((tmp_path / "fixture" / "PROVENANCE.json").read_text())
    assert prov["command"].endswith(f"--info-url {url}")
    answers = json.loads((tmp_path / "fixture" / "clearinghouse_states.json").read_text())
    snap = read_state_file(tmp_path / "fixture" / f"{prov['height']}.rmp", lambda: frame)
    assert set(answers) == set(snap.accounts["address"]) and len(answers) >= 10
    assert any(set(per_dex) - {"main"} for per_dex in answers.values())  # HIP-3 dexes asked by name
    ours = dict(snap.accounts.select("address", "perp_equity").rows())
    for address, per_dex in answers.items():
        theirs = sum(float(a["marginSummary"]["accountValue"]) for a in per_dex.values())
        assert abs(theirs - ours[address]) <= 1e-5 * len(per_dex) + 1e-9 * abs(theirs), address


@pytest.mark.skipif(not any((p / "clearinghouse_states.json").exists() for p in _recorded()),
                    reason="no fixture recorded with --info-url in tests/data/node/ (no clearinghouseState answers)")
@pytest.mark.parametrize("folder", [p for p in _recorded() if (p / "clearinghouse_states.json").exists()] or [None],
                         ids=lambda p: p.name if p else "none")
def test_a_real_fixture_matches_the_nodes_own_clearinghouse_states(folder: Path):
    """Sizes, entry prices, leverage and raw USD as the node's info server answers them (no marks needed)."""
    prov = json.loads((folder / "PROVENANCE.json").read_text())
    state = read_node_state(folder / f"{prov['height']}.rmp")
    answers = json.loads((folder / "clearinghouse_states.json").read_text())
    names = {d.index: d.name for d in state.dexes}
    for dex_index, address, u in state.users.select("dex_index", "address", "u").rows():
        answer = answers[address][names[dex_index]]
        assert float(answer["crossMarginSummary"]["totalRawUsd"]) == pytest.approx(u / 1e6, abs=1e-6), address
        theirs = {p["position"]["coin"]: p["position"] for p in answer["assetPositions"]}
        ours = state.positions.filter((pl.col("address") == address) & (pl.col("dex_index") == dex_index))
        assert set(theirs) == set(ours["coin"]), address
        for row in ours.iter_rows(named=True):
            pos = theirs[row["coin"]]
            assert float(pos["szi"]) == pytest.approx(row["szi"], abs=1e-12)
            assert float(pos["entryPx"]) == pytest.approx(row["entry_ntl"] / 1e6 / abs(row["szi"]), rel=1e-6)
            assert (pos["leverage"]["type"], pos["leverage"]["value"]) == (
                "isolated" if row["isolated"] else "cross", row["leverage"])
