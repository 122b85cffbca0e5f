"""`hltracker ingest --source hyperliquid-node`: files the simulator writes in the node's layout, marks
from the fake exchange's info endpoint, and the clear stops (no marks, a missing key)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import duckdb

from hltracker.fake_exchange import FakeExchange
from hltracker.sources.simulator.node_state import render_abci_state, write_abci_state, write_state_document
from hltracker.store import open_store
from tests.conftest import cli_process, stop_process

START = datetime(2026, 11, 3, 6, 0, tzinfo=UTC)


def _ingest(*args: str) -> tuple[int, str]:
    proc = cli_process("ingest", "--source", "hyperliquid-node", *args)
    proc.wait(timeout=180)
    out = stop_process(proc)
    return proc.returncode, out


def test_state_files_with_marks_from_an_info_endpoint(tmp_path):
    root = tmp_path / "periodic_abci_states"
    with FakeExchange("small", seed=2, start=START, weight_limit=None) as fx:
        for _ in range(3):
            write_abci_state(fx.market, root, "rmp")
            fx.step()
        code, out = _ingest("--path", str(root), "--info-url", fx.info_url, "--database", str(tmp_path / "n.duckdb"))
    assert code == 0, out
    assert "landed 3" in out and "experimental" in out
    with open_store(str(tmp_path / "n.duckdb"), read_only=True) as store:
        assert store.load_state().taken_at == datetime(2026, 11, 3, 6, 30, tzinfo=UTC)


def test_state_files_without_marks_stop_with_the_remedy(tmp_path):
    with FakeExchange("small", seed=2, start=START, weight_limit=None) as fx:
        write_abci_state(fx.market, tmp_path / "states", "rmp")
    code, out = _ingest("--path", str(tmp_path / "states"), "--database", str(tmp_path / "n.duckdb"))
    assert code == 1 and "--info-url" in out and "Traceback" not in out


def test_a_missing_key_stops_naming_the_key_path(tmp_path):
    with FakeExchange("small", seed=2, start=START, weight_limit=None) as fx:
        doc = render_abci_state(fx.market, height=1)
        doc["exchange"]["locus"]["cls"][1]["meta"]["universe"][0].pop("szDecimals")
        path = write_state_document(json.loads(json.dumps(doc)), tmp_path / "states" / "20261103" / "1.rmp", "rmp")
        code, out = _ingest("--path", str(path), "--info-url", fx.info_url, "--database", str(tmp_path / "n.duckdb"))
    assert code == 1 and "Traceback" not in out, out
    assert "exchange.locus.cls[1].meta.universe[0]: expected key 'szDecimals'" in " ".join(out.split()), out


def test_unknown_keys_are_reported_in_the_ingest_log_and_the_snapshot(tmp_path):
    with FakeExchange("small", seed=2, start=START, weight_limit=None) as fx:
        doc = render_abci_state(fx.market, height=1)
        doc["exchange"]["locus"]["cls"][0]["user_states"]["user_to_state"][0][1]["N"] = 1
        write_state_document(doc, tmp_path / "states" / "20261103" / "1.rmp", "rmp")
        code, out = _ingest("--path", str(tmp_path / "states"), "--info-url", fx.info_url,
                            "--database", str(tmp_path / "n.duckdb"))
    assert code == 0, out
    assert "exchange.locus.cls[].user_states.user_to_state[][1].N x1" in " ".join(out.split()), out
    with duckdb.connect(str(tmp_path / "n.duckdb"), read_only=True) as con:
        extra = json.loads(con.execute("SELECT extra FROM snapshots").fetchone()[0])
    assert extra["unknown_keys"] == "exchange.locus.cls[].user_states.user_to_state[][1].N x1"
