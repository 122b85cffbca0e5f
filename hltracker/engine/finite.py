"""The engine's last step: a figure that comes out NaN or +-inf is null (undefined), never a NaN in the store.

Snapshots are validated finite, and every ratio the engine computes is guarded by its denominator
(`when(total > 0)`, `liq != entry`), but finite inputs can still give a non-finite figure: a ratio over a
denominator that is non-zero yet tiny (`liquidation_progress` with a liquidation price one ulp from the
entry), or a product or sum of huge finite values that overflows (`value = |szi| x mark`, a series total),
and then `inf - inf` is NaN. Such a figure has no meaning, so it is null, which every reader (API, exports)
already shows as "unknown". This runs where outputs leave the engine rather than where they enter the
store, because the result is also the next run's state (`next_state`): a NaN in the open lifecycles would
leak into every later snapshot's figures before any store saw it.
"""

from __future__ import annotations

from dataclasses import replace

import polars as pl

from hltracker.model.outputs import EngineResult


def non_finite_to_null(frame: pl.DataFrame) -> pl.DataFrame:
    """`frame` with every NaN and +-inf of its float columns made null (only offending columns rewritten)."""
    floats = [c for c, t in frame.schema.items() if t.is_float()]
    if not floats or frame.height == 0:
        return frame
    counts = frame.select(pl.col(c).is_finite().not_().sum() for c in floats).row(0)
    bad = [c for c, n in zip(floats, counts, strict=True) if n]
    if not bad:
        return frame
    return frame.with_columns(pl.when(pl.col(c).is_finite()).then(pl.col(c)).alias(c) for c in bad)


def finite_result(result: EngineResult) -> EngineResult:
    """`result` with `non_finite_to_null` applied to every output frame."""
    return replace(result, **{name: non_finite_to_null(frame) for name, frame in result.frames().items()})
