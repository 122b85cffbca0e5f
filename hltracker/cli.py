"""The `hltracker` command line.

Commands: `demo` (the simulated market, live in the terminal), `simulate` (write snapshot files and/or
print the calibration report), `ingest` (source -> engine -> store), `sources list`.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import typer
from rich.console import Console
from rich.live import Live
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from hltracker.ingest import Ingestor, IngestReport, Rejected, paced, simulator_start
from hltracker.model import Snapshot
from hltracker.sources import available_sources
from hltracker.sources.simulator import PROFILES, SimulatorSource
from hltracker.sources.simulator.report import calibration_figures
from hltracker.sources.snapshot_files import SnapshotFilesError, SnapshotFilesSource, list_snapshot_dirs, write_snapshot
from hltracker.store import StoreError, open_store

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


INGEST_SOURCES = ("simulator", "snapshot-files")


def _parse_start(start: str | None) -> datetime | None:
    if start is None:
        return None
    try:
        parsed = datetime.fromisoformat(start.replace("Z", "+00:00"))
    except ValueError:
        raise typer.BadParameter(f"{start!r} is not an ISO 8601 date-time", param_hint="--start") from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


@app.command()
def ingest(
    source: str = typer.Option("simulator", help="Where snapshots come from: simulator or snapshot-files."),
    profile: str = typer.Option("small", help="Simulator profile (--source simulator)."),
    seed: int = typer.Option(0, help="Simulator seed (--source simulator)."),
    days: float = typer.Option(1.0, min=0, help="Simulated days to backfill (--source simulator)."),
    start: str | None = typer.Option(None, help="Simulated start, ISO 8601 UTC. Default: where the store's "
                                      "simulator run began, else `days` before now."),
    step: int | None = typer.Option(None, min=1, help="Simulated seconds per snapshot (default: the profile's, 900)."),
    path: Path | None = typer.Option(None, help="Folder of snapshot files (--source snapshot-files)."),
    follow: bool = typer.Option(False, help="After the backfill keep going: a simulator step per --interval, "
                                 "or watch --path for new snapshot folders."),
    interval: float | None = typer.Option(None, min=0.01, help="Wall-clock seconds between live snapshots "
                                           "(default: the simulated step, or 5 s polling for files)."),
    database: str | None = typer.Option(None, envvar="HLTRACKER_DATABASE_URL",
                                        help="Store: a DuckDB file path (default ./hltracker.duckdb)."),
) -> None:
    """Ingest snapshots into the store: backfill with a progress bar, then optionally follow live.

    Already landed snapshots are skipped, so re-running (or restarting after a crash) resumes where the
    store stopped. A malformed snapshot is rejected with its reasons and ingest goes on.
    """
    if source not in INGEST_SOURCES:
        raise typer.BadParameter(f"choose one of {', '.join(INGEST_SOURCES)}", param_hint="--source")
    try:
        store = open_store(database)
    except StoreError as exc:
        raise typer.BadParameter(str(exc), param_hint="--database") from None
    with store:
        ingestor = Ingestor(store)
        try:
            if source == "simulator":
                _ingest_simulator(ingestor, profile, seed, days, _parse_start(start), step, follow, interval)
            else:
                if path is None:
                    raise typer.BadParameter("--source snapshot-files needs --path", param_hint="--path")
                _ingest_files(ingestor, path, follow, interval or 5.0)
        except KeyboardInterrupt:
            console.print("stopped")
        except StoreError as exc:
            console.print(f"[red]store error:[/red] {exc}")
            raise typer.Exit(1) from None
        _print_report(ingestor.report)


def _ingest_simulator(ingestor: Ingestor, profile: str, seed: int, days: float, start: datetime | None,
                      step: int | None, follow: bool, interval: float | None) -> None:
    _check_profile(profile)
    step_delta = timedelta(seconds=step) if step else PROFILES[profile].step
    step_s = step_delta.total_seconds()
    try:
        begin = simulator_start(ingestor.store, start, days, step_delta, datetime.now(UTC))
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--start") from None
    src = SimulatorSource(profile=profile, seed=seed, step=step_delta, start=begin)
    backfill = round(days * 86400 / step_s) + 1  # genesis plus one snapshot per step
    src.steps = None if follow else backfill - 1
    items = paced(src.snapshots(), after=backfill, interval=interval or step_s) if follow else src.snapshots()
    _run_with_progress(ingestor, items, backfill, f"ingesting {profile} simulator from {begin:%Y-%m-%d %H:%M}Z")


def _ingest_files(ingestor: Ingestor, path: Path, follow: bool, interval: float) -> None:
    def rejected(exc: SnapshotFilesError) -> None:
        ingestor.offer(Rejected(str(exc.path), exc.problems))

    src = SnapshotFilesSource(path, follow=follow, poll_seconds=interval, on_invalid=rejected)
    try:
        total = 1 if (path / "manifest.json").is_file() else len(list_snapshot_dirs(path))
    except SnapshotFilesError as exc:
        raise typer.BadParameter(str(exc), param_hint="--path") from None
    _run_with_progress(ingestor, src.snapshots(), total, f"ingesting snapshot files from {path}")


def _run_with_progress(ingestor: Ingestor, items, backfill: int, title: str) -> None:
    """Backfill under a progress bar; live items after it are reported one line each."""
    it = iter(items)
    with _progress() as bar:
        task = bar.add_task(title, total=backfill)
        for _ in range(backfill):
            item = next(it, None)
            if item is None:
                break
            ingestor.offer(item)
            bar.advance(task)
    for item in it:
        if ingestor.offer(item):
            r = ingestor.report
            console.print(f"landed {r.last_taken_at:%Y-%m-%d %H:%M:%S}Z ({r.landed} this run)")


def _print_report(report: IngestReport) -> None:
    last = f"{report.last_taken_at:%Y-%m-%d %H:%M:%S}Z" if report.last_taken_at else "none"
    console.print(f"landed {report.landed}, already there {report.skipped}, rejected {len(report.rejected)}; "
                  f"last snapshot {last}; engine {report.engine_seconds:.1f} s, store {report.store_seconds:.1f} s")
    for rej in report.rejected:
        console.print(f"[yellow]rejected[/yellow] {rej.where}:")
        for problem in rej.problems:
            console.print(f"  - {problem}")


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
