"""The `hltracker` command line.

Commands: `demo` (the simulated market, live in the terminal), `simulate` (write snapshot files and/or
print the calibration report), `sources list`.
"""

from __future__ import annotations

import time
from pathlib import Path

import polars as pl
import typer
from rich.console import Console
from rich.live import Live
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from hltracker.model import Snapshot
from hltracker.sources import available_sources
from hltracker.sources.simulator import PROFILES, SimulatorSource
from hltracker.sources.simulator.report import calibration_figures
from hltracker.sources.snapshot_files import write_snapshot

app = typer.Typer(help="hltracker: position intelligence for Hyperliquid perpetuals.", no_args_is_help=True)
sources_app = typer.Typer(help="Snapshot sources.", no_args_is_help=True)
app.add_typer(sources_app, name="sources")
console = Console()


def _progress() -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    console=console)


def _check_profile(profile: str) -> str:
    if profile not in PROFILES:
        raise typer.BadParameter(f"choose one of {', '.join(sorted(PROFILES))}", param_hint="--profile")
    return profile


@app.command()
def simulate(
    profile: str = typer.Option("small", help="Simulator profile: small (demo) or mainnet (calibrated)."),
    days: float = typer.Option(1.0, min=0, help="Simulated days after genesis."),
    seed: int = typer.Option(0, help="Random seed; same seed and profile, same snapshots."),
    out: Path | None = typer.Option(None, help="Write every snapshot to this folder (snapshot-files layout)."),
    report: bool = typer.Option(False, help="Print the calibration report for the last snapshot."),
) -> None:
    """Run the market simulator: write snapshot files and/or print its calibration report."""
    _check_profile(profile)
    src = SimulatorSource(profile=profile, seed=seed)
    steps = round(days * 86400 / src.profile.step.total_seconds())
    src.steps = steps
    last: Snapshot | None = None
    with _progress() as bar:
        task = bar.add_task(f"simulating {profile} ({days:g} days)", total=steps + 1)
        for snap in src.snapshots():
            if out is not None:
                write_snapshot(snap, out)
            last = snap
            bar.advance(task)
    if out is not None:
        console.print(f"wrote {steps + 1} snapshots to {out}")
    if report and last is not None:
        console.print(_report_table(last, src.profile.position_scale))


def _report_table(snap: Snapshot, scale: float) -> Table:
    table = Table(title=f"calibration at {snap.taken_at:%Y-%m-%d %H:%M}Z (counts / {scale:g})")
    for col in ("group", "figure", "seed", "simulated", "ratio"):
        table.add_column(col, justify="left" if col in ("group", "figure") else "right")
    for f in calibration_figures(snap, scale):
        ratio = "" if f.ratio is None else f"{f.ratio:.2f}"
        table.add_row(f.group, f.name, f"{f.seed:,.4g}", f"{f.ours:,.4g}", ratio)
    return table


def _market_table(snap: Snapshot) -> Table:
    pos = snap.positions
    top = (pos.group_by("coin").agg(
        pl.col("position_value").sum().alias("oi"), pl.len().alias("n"), (pl.col("szi") > 0).sum().alias("long"))
        .sort("oi", descending=True).head(12))
    marks = dict(snap.markets.select("coin", "mark_price").iter_rows())
    table = Table(title=f"simulated market at {snap.taken_at:%Y-%m-%d %H:%M}Z: {pos.height:,} open positions, "
                  f"{snap.accounts.height:,} wallets")
    for col in ("coin", "mark", "open interest", "positions", "long"):
        table.add_column(col, justify="left" if col == "coin" else "right")
    for coin, oi, n, long in top.iter_rows():
        table.add_row(coin, f"{marks[coin]:,.6g}", f"${oi:,.0f}", f"{n:,}", f"{long:,}")
    return table


@app.command()
def demo(
    profile: str = typer.Option("small", help="Simulator profile."),
    seed: int = typer.Option(0, help="Random seed."),
    interval: float = typer.Option(2.0, min=0.1, help="Wall-clock seconds between simulated steps."),
    steps: int | None = typer.Option(None, help="Stop after this many steps (default: run until Ctrl-C)."),
) -> None:
    """Run the simulated market live: one 15-minute step per interval, top markets in the terminal."""
    _check_profile(profile)
    src = SimulatorSource(profile=profile, seed=seed, steps=steps)
    console.print(f"starting the {profile} market simulator (Ctrl-C to stop)")
    try:
        with Live(console=console, refresh_per_second=4) as live:
            for snap in src.snapshots():
                live.update(_market_table(snap))
                time.sleep(interval)
    except KeyboardInterrupt:
        console.print("stopped")


@sources_app.command("list")
def sources_list() -> None:
    """List the registered snapshot sources."""
    table = Table(title="sources")
    table.add_column("name")
    table.add_column("full market")
    table.add_column("description")
    for name, cls in available_sources().items():
        table.add_row(name, "yes" if cls.full_market else "no", cls.description)
    console.print(table)


if __name__ == "__main__":
    app()
