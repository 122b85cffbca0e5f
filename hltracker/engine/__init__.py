"""The engine: pure Polars, one function of (snapshot, previous state) -> `EngineResult`.

No I/O, no clock, no logging (DESIGN.md section 1). Modules: `positions` (pricing and profile fields),
`profiles` (wallets and cohorts), `lifecycle` (ids, opens, closes, flips), `trades` (closed trades
rebuilt from fills), `series` (per-snapshot series), `segments` (cohort bias and summaries), `heatmap`,
`liquidation`, `finite` (a NaN or +-inf figure is null), and `run` tying them together.
"""

from hltracker.engine.lifecycle import position_id
from hltracker.engine.run import next_state, run
from hltracker.model.outputs import EngineResult, EngineState

__all__ = ["EngineResult", "EngineState", "next_state", "position_id", "run"]
