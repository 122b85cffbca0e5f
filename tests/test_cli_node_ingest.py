"""`hltracker ingest --source hyperliquid-node`: files the simulator writes in the node's layouts, marks
from the fake exchange's info endpoint, and the clear stops (no marks, an unknown layout)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

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


def test_compressed_files_with_marks_from_an_info_endpoint(tmp_path):
    root = tmp_path / "periodic_abci_states"
    with FakeExchange("small", seed=2, start=START, weight_limit=None) as fx:
        for _ in range(3):
            write_abci_state(fx.market, root, "compressed", "rmp")
            fx.step()
        code, out = _ingest("--path", str(root), "--info-url", fx.info_url, "--database", str(tmp_path / "n.duckdb"))
    assert code == 0, out
    assert "landed 3" in out and "experimental" in out
    with open_store(str(tmp_path / "n.duckdb"), read_only=True) as store:
        assert store.load_state().taken_at == datetime(2026, 11, 3, 6, 30, tzinfo=UTC)


def test_compressed_files_without_marks_stop_with_the_remedy(tmp_path):
    with FakeExchange("small", seed=2, start=START, weight_limit=None) as fx:
        write_abci_state(fx.market, tmp_path / "states", "compressed", "rmp")
    code, out = _ingest("--path", str(tmp_path / "states"), "--database", str(tmp_path / "n.duckdb"))
    assert code == 1 and "--info-url" in out and "Traceback" not in out


def test_an_unknown_layout_stops_naming_the_key_path(tmp_path):
    with FakeExchange("small", seed=2, start=START, weight_limit=None) as fx:
        doc = render_abci_state(fx.market, "verbose", height=1)
    doc["exchange"]["renamed_perp_dexs"] = doc["exchange"].pop("perp_dexs")
    path = write_state_document(json.loads(json.dumps(doc)), tmp_path / "states" / "20261103" / "1.rmp", "rmp")
    code, out = _ingest("--path", str(path), "--database", str(tmp_path / "n.duckdb"))
    assert code == 1 and "exchange" in out and "perp_dexs" in out and "Traceback" not in out, out
