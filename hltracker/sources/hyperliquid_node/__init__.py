"""The experimental `hyperliquid-node` source: a non-validator node's periodic ABCI state snapshots.

`HyperliquidNodeSource` yields one snapshot per `periodic_abci_states/{date}/{height}.rmp` (or translated
`.json`) file; `probe_layout` says which known layout a file has, and `NodeLayoutError` names the key
path where a file departs from them. The layouts are reverse engineered: see docs/node-source.md.
"""

from hltracker.sources.hyperliquid_node.errors import (
    MarksUnavailableError,
    NodeLayoutError,
    NodeStateError,
    TruncatedStateError,
)
from hltracker.sources.hyperliquid_node.probe import KNOWN_LAYOUTS, Probe, probe_layout
from hltracker.sources.hyperliquid_node.source import HyperliquidNodeSource, list_state_files, read_state_file

__all__ = [
    "KNOWN_LAYOUTS",
    "HyperliquidNodeSource",
    "MarksUnavailableError",
    "NodeLayoutError",
    "NodeStateError",
    "Probe",
    "TruncatedStateError",
    "list_state_files",
    "probe_layout",
    "read_state_file",
]
