"""The experimental `hyperliquid-node` source: a non-validator node's periodic ABCI state snapshots.

`HyperliquidNodeSource` yields one snapshot per `periodic_abci_states/{date}/{height}.rmp` (or translated
`.json`) file; `read_node_state` gives a file's parsed `NodeState` (the chain's accounting per dex and
wallet, before marks); `probe_layout` checks a file against the evidenced layout, and `NodeLayoutError`
names the key path where it departs. See docs/node-source.md.
"""

from hltracker.sources.hyperliquid_node.errors import (
    MarksUnavailableError,
    NodeLayoutError,
    NodeStateError,
    TruncatedStateError,
)
from hltracker.sources.hyperliquid_node.probe import KNOWN_LAYOUTS, Probe, probe_layout
from hltracker.sources.hyperliquid_node.reader import read_node_state
from hltracker.sources.hyperliquid_node.source import HyperliquidNodeSource, list_state_files, read_state_file
from hltracker.sources.hyperliquid_node.state import NodeDex, NodeMarket, NodeState

__all__ = [
    "KNOWN_LAYOUTS",
    "HyperliquidNodeSource",
    "MarksUnavailableError",
    "NodeDex",
    "NodeLayoutError",
    "NodeMarket",
    "NodeState",
    "NodeStateError",
    "Probe",
    "TruncatedStateError",
    "list_state_files",
    "probe_layout",
    "read_node_state",
    "read_state_file",
]
