"""`EXPORTS`: every export file by name, one table the API routes and the file cache read.

Per-coin files answer `/exports/coins/{coin}/{name}`, global ones `/exports/{name}`. The age-window
variants (`-24h`, `-7d`, `-30d`) are the same builder with another wallet-age window.
"""

from __future__ import annotations

from hltracker.exports import coin_files, global_files, leaderboard_files, position_files
from hltracker.exports.base import CSV, JSON, Builder, ExportSpec

AGE_SUFFIXES: dict[str, str] = {"all": "", "24h": "-24h", "7d": "-7d", "30d": "-30d"}


def _json(name: str, build: Builder, per_coin: bool = True) -> ExportSpec:
    return ExportSpec(name=name, per_coin=per_coin, media_type=JSON, suffix=".json", build=build)


def _specs() -> list[ExportSpec]:
    specs = [
        _json("position-metrics", coin_files.position_metrics),
        _json("position-breakdown-by-size", coin_files.breakdown_by_size),
        _json("positions", position_files.positions),
        _json("liquidation-heatmap", coin_files.liquidation_heatmap),
        ExportSpec("open-positions", per_coin=True, media_type=CSV, suffix=".csv",
                   build=position_files.open_positions_csv),
        _json("open-positions-json", position_files.open_positions_json),
        _json("segments-bias-charts-data-24h", global_files.segments_bias_charts, per_coin=False),
        _json("total-wallets-equity-chart-data", global_files.total_wallets_equity, per_coin=False),
    ]
    for period in leaderboard_files.DOWNLOAD_PERIODS:  # /leaderboards/perp-pnl/{period}/download
        specs.append(ExportSpec(f"perp-pnl-leaderboard-{period}", per_coin=False, media_type=CSV, suffix=".csv",
                                build=leaderboard_files.perp_pnl_csv(period)))
    for window, suffix in AGE_SUFFIXES.items():
        specs.append(_json(f"position-breakdown-by-cohort{suffix}", coin_files.breakdown_by_cohort(window)))
        specs.append(_json(f"segment-metrics{suffix}", coin_files.segment_metrics(window)))
    return specs


EXPORTS: dict[str, ExportSpec] = {spec.name: spec for spec in _specs()}
