"""The `hltracker` command line.

Commands: `demo` (simulated history, ingested and served with live ticks), `serve` (the REST API),
`keys create|list|revoke`, `simulate` (snapshot files and the calibration report), `ingest`
(source -> engine -> store), `sources list`.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from hltracker.ingest import Ingestor, IngestReport, Rejected, paced, simulator_start
from hltracker.model import Snapshot
from hltracker.sources import available_sources
from hltracker.sources.simulator import PROFILES, SimulatorSource
from hltracker.sources.simulator.report import calibration_figures
from hltracker.sources.snapshot_files import SnapshotFilesError, SnapshotFilesSource, list_snapshot_dirs, write_snapshot
from hltracker.store import DEFAULT_PATH as DEFAULT_DATABASE
from hltracker.store import StoreError, open_store

app = typer.Typer(help="hltracker: position intelligence for Hyperliquid perpetuals.", no_args_is_help=True)
sources_app = typer.Typer(help="Snapshot sources.", no_args_is_help=True)
app.add_typer(sources_app, name="sources")
keys_app = typer.Typer(help="API keys (stored hashed).", no_args_is_help=True)
app.add_typer(keys_app, name="keys")
console = Console()
DATABASE_HELP = "Store: a DuckDB file path or a postgresql:// URL (default ./hltracker.duckdb)."


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


@app.command()
def demo(
    days: float = typer.Option(3.0, min=0.05, help="Days of simulated history to ingest before serving."),
    history_step: int = typer.Option(3600, min=60, help="Simulated seconds between history snapshots."),
    interval: float = typer.Option(10.0, min=1.0, help="Seconds between live snapshots (simulated time follows "
                                   "the wall clock)."),
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(8000, min=1, max=65535, help="Port to listen on."),
    seed: int = typer.Option(0, help="Simulator seed."),
    database: str | None = typer.Option(None, help="Keep the demo store in this DuckDB file (default: a "
                                        "temporary file removed at exit)."),
) -> None:
    """Simulate a few days of the `small` market, ingest them, create an API key, serve the API and keep
    ticking live; prints the URL and the key."""
    import tempfile

    from hltracker.api import Settings, create_app
    from hltracker.api.auth import hash_key, new_key
    from hltracker.demo import LiveIngest, demo_source

    workdir = None if database else tempfile.TemporaryDirectory(prefix="hltracker-demo-")
    path = database or str(Path(workdir.name) / "demo.duckdb")
    try:
        store = open_store(path)
    except StoreError as exc:
        raise typer.BadParameter(str(exc), param_hint="--database") from None
    src, history = demo_source("small", seed, days, timedelta(seconds=history_step), timedelta(seconds=interval),
                               datetime.now(UTC))
    snapshots = src.snapshots()
    ingestor = Ingestor(store)
    with _progress() as bar:
        task = bar.add_task(f"simulating and ingesting {days:g} days of history", total=history)
        for _ in range(history):
            ingestor.offer(next(snapshots))
            bar.advance(task)
    key = new_key()
    store.add_api_key(hash_key(key), "demo", datetime.now(UTC))
    settings = Settings(database=path, snapshot_interval_seconds=interval,
                        export_dir=Path(workdir.name) / "exports" if workdir else None)
    api = create_app(store, settings)
    live = LiveIngest(ingestor, snapshots, api.state.ctx.watcher)
    url = f"http://{host}:{port}"
    for line in (f"\n[bold]hltracker demo[/bold] is serving {url}/api/external  (OpenAPI: {url}/docs)",
                 f"API key: [bold]{key}[/bold]",
                 f"try:  curl -H 'Authorization: Bearer {key}' {url}/api/external/positions/coins",
                 f"a new snapshot lands every {interval:g} s; Ctrl-C to stop\n"):
        console.print(line, soft_wrap=True)
    live.start()
    try:
        _serve(api, host, port)
    finally:
        live.stop()
        store.close()
        if workdir is not None:
            workdir.cleanup()


def _serve(api, host: str, port: int) -> None:
    import uvicorn

    uvicorn.Server(uvicorn.Config(api, host=host, port=port, log_level="warning")).run()


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(8000, min=1, max=65535, help="Port to listen on."),
    database: str | None = typer.Option(None, envvar="HLTRACKER_DATABASE_URL",
                                        help=DATABASE_HELP),
    workers: int = typer.Option(1, min=1, help="Worker processes (each opens the store read-only)."),
) -> None:
    """Serve the REST API over a store that `hltracker ingest` filled (settings: HLTRACKER_* variables)."""
    import os
    import secrets

    import uvicorn

    path = database or DEFAULT_DATABASE
    try:
        with open_store(path, read_only=True) as store:
            keys, last = store.api_keys(), store.last_snapshot()
    except StoreError as exc:
        raise typer.BadParameter(str(exc), param_hint="--database") from None
    if keys.filter(pl.col("revoked_at").is_null()).height == 0:
        console.print("[yellow]no API key yet:[/yellow] every request will be refused; stop the server and run "
                      "`hltracker keys create`")
    if last is None:
        console.print("[yellow]the store holds no snapshot yet[/yellow]: data routes answer 503 until ingest lands one")
    os.environ["HLTRACKER_DATABASE_URL"] = path
    # Workers must share the secret that signs cursors and download URLs.
    os.environ.setdefault("HLTRACKER_SECRET", secrets.token_urlsafe(32))
    console.print(f"serving http://{host}:{port}/api/external with {workers} worker(s); OpenAPI at /docs")
    uvicorn.run("hltracker.api:app_from_env", factory=True, host=host, port=port, workers=workers,
                log_level="warning")


@keys_app.command("create")
def keys_create(
    name: str = typer.Option("default", help="A label to recognise the key by."),
    database: str | None = typer.Option(None, envvar="HLTRACKER_DATABASE_URL", help=DATABASE_HELP),
) -> None:
    """Create an API key; it is printed once and only its SHA-256 is stored."""
    from hltracker.api.auth import hash_key, new_key

    key = new_key()
    with _open_or_exit(database) as store:
        store.add_api_key(hash_key(key), name, datetime.now(UTC))
    console.print(f"created key {name!r} (store it now; it cannot be shown again):")
    print(key)


@keys_app.command("list")
def keys_list(
    database: str | None = typer.Option(None, envvar="HLTRACKER_DATABASE_URL", help=DATABASE_HELP),
) -> None:
    """List the API keys: name, hash prefix (what `keys revoke` takes), created and revoked times."""
    with _open_or_exit(database) as store:
        keys = store.api_keys()
    table = Table(title="API keys")
    for col in ("name", "hash", "created", "revoked"):
        table.add_column(col)
    for row in keys.iter_rows(named=True):
        revoked = f"{row['revoked_at']:%Y-%m-%d %H:%M}Z" if row["revoked_at"] else ""
        table.add_row(row["name"], row["key_hash"][:12], f"{row['created_at']:%Y-%m-%d %H:%M}Z", revoked)
    console.print(table)


@keys_app.command("revoke")
def keys_revoke(
    key: str = typer.Argument(..., help="The key itself, or the start of its hash as `keys list` shows it "
                              "(at least 8 characters)."),
    database: str | None = typer.Option(None, envvar="HLTRACKER_DATABASE_URL", help=DATABASE_HELP),
) -> None:
    """Revoke an API key: requests with it get a 401 from the next store poll on (about a second)."""
    from hltracker.api.auth import KEY_PREFIX, hash_key

    with _open_or_exit(database) as store:
        hashes = store.api_keys()["key_hash"].to_list()
        if key.startswith(KEY_PREFIX):
            matches = [h for h in hashes if h == hash_key(key)]
        elif len(key) >= 8:
            matches = [h for h in hashes if h.startswith(key.lower())]
        else:
            raise typer.BadParameter("give the key or at least 8 characters of its hash", param_hint="KEY")
        if len(matches) != 1:
            console.print(f"[red]{'no key matches' if not matches else 'several keys match'}[/red] {key!r}")
            raise typer.Exit(1)
        if not store.revoke_api_key(matches[0], datetime.now(UTC)):
            console.print(f"key {matches[0][:12]} was revoked already")
            raise typer.Exit(1)
    console.print(f"revoked key {matches[0][:12]}")


def _open_or_exit(database: str | None):
    try:
        return open_store(database or DEFAULT_DATABASE)
    except StoreError as exc:
        console.print(f"[red]store error:[/red] {exc}")
        raise typer.Exit(1) from None


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
                                        help=DATABASE_HELP),
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
