"""The `hltracker` command line.

Commands: `demo` (simulated history, ingested and served with live ticks), `serve` (the REST API),
`keys create|list|revoke`, `simulate` (snapshot files and the calibration report), `ingest`
(source -> engine -> store), `sources list`.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from hltracker.cli_node import has_streams, ingest_node_live, node_app
from hltracker.ingest import Ingestor, IngestReport, Rejected, paced, simulator_start
from hltracker.model import Snapshot
from hltracker.sources import available_sources
from hltracker.sources.hyperliquid_http import (
    MAINNET_INFO_URL,
    MAINNET_LEADERBOARD_URL,
    HyperliquidHttpSource,
    InfoError,
    RefreshTiers,
    WatchlistError,
    markets_from_info,
    read_watchlist,
)
from hltracker.sources.hyperliquid_node import (
    HyperliquidNodeSource,
    MarksUnavailableError,
    NodeLayoutError,
    NodeStateError,
)
from hltracker.sources.simulator import PROFILES, SimulatorSource
from hltracker.sources.simulator.report import calibration_figures
from hltracker.sources.snapshot_files import SnapshotFilesError, SnapshotFilesSource, list_snapshot_dirs, write_snapshot
from hltracker.store import DEFAULT_PATH as DEFAULT_DATABASE
from hltracker.store import StoreError, open_store

if TYPE_CHECKING:
    from hltracker.api import Settings

app = typer.Typer(help="hltracker: position intelligence for Hyperliquid perpetuals.", no_args_is_help=True)
sources_app = typer.Typer(help="Snapshot sources.", no_args_is_help=True)
app.add_typer(sources_app, name="sources")
keys_app = typer.Typer(help="API keys (stored hashed).", no_args_is_help=True)
app.add_typer(keys_app, name="keys")
app.add_typer(node_app, name="node")
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
    for col in ("group", "figure", "seed", "simulated", "ratio", "tolerance", "ok"):
        table.add_column(col, justify="left" if col in ("group", "figure") else "right")
    for f in calibration_figures(snap, scale):
        ratio = "" if f.ratio is None else f"{f.ratio:.2f}"
        table.add_row(f.group, f.name, f"{f.seed:,.4g}", f"{f.ours:,.4g}", ratio, f"±{f.tolerance:.0%}",
                      "yes" if f.within else "NO")
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
    dashboard_auth: str | None = typer.Option(None, envvar="HLTRACKER_DASHBOARD_AUTH",
                                              help="open: no login; key: the dashboard asks for an API "
                                              "key. Default: open on a loopback host, key otherwise."),
) -> None:
    """Simulate a few days of the `small` market, ingest them, create an API key, serve the dashboard and
    the API and keep ticking live; prints the dashboard URL, then the API's and the key."""
    import tempfile

    from hltracker.api import Settings, create_app
    from hltracker.api.auth import hash_key, new_key
    from hltracker.demo import LiveIngest, demo_source
    from hltracker.web import mount_dashboard

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
    auth = _dashboard_auth(dashboard_auth, host)
    try:
        settings = demo_settings(Settings.from_env(), path, interval, host,
                                 Path(workdir.name) / "exports" if workdir else None, auth)
        api = create_app(store, settings, dashboard=mount_dashboard)
    except ValueError as exc:  # a malformed HLTRACKER_* setting
        store.close()
        raise typer.BadParameter(str(exc)) from None
    live = LiveIngest(ingestor, snapshots, api.state.ctx.watcher)
    url = f"http://{host}:{port}"
    login = "" if auth == "open" else "  (log in with the API key below)"
    for line in (f"\n[bold]dashboard:[/bold] {url}/{login}",
                 f"[bold]hltracker demo[/bold] is serving {url}/api/external  (OpenAPI: {url}/docs)",
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


def demo_settings(env: Settings, database: str, interval: float, host: str, export_dir: Path | None,
                  dashboard_auth: str) -> Settings:
    """The demo's settings: the documented HLTRACKER_* variables as `serve` reads them (rate limit, TTL,
    public URL, allowed hosts, ...), with the demo's own store, its cadence unless HLTRACKER_SNAPSHOT_INTERVAL
    says otherwise, its export folder unless HLTRACKER_EXPORT_DIR does, and its own address allowed."""
    from dataclasses import replace

    return replace(env, database=database, snapshot_interval_seconds=env.snapshot_interval_seconds or interval,
                   export_dir=env.export_dir or export_dir, dashboard_auth=dashboard_auth).allowing(host)


def _dashboard_auth(mode: str | None, host: str) -> str:
    """`open` or `key`; without a choice: open on a loopback host only."""
    if mode is None:
        return "open" if host in ("127.0.0.1", "localhost", "::1") else "key"
    mode = mode.strip().lower()
    if mode not in ("open", "key"):
        raise typer.BadParameter("must be 'open' or 'key'", param_hint="--dashboard-auth")
    return mode


def _serve(api, host: str, port: int) -> None:
    import uvicorn

    from hltracker.api.edge import server_options

    uvicorn.Server(uvicorn.Config(api, host=host, port=port, log_level="warning", **server_options())).run()


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(8000, min=1, max=65535, help="Port to listen on."),
    database: str | None = typer.Option(None, envvar="HLTRACKER_DATABASE_URL",
                                        help=DATABASE_HELP),
    workers: int = typer.Option(1, min=1, help="Worker processes (each opens the store read-only)."),
    dashboard_auth: str = typer.Option("key", envvar="HLTRACKER_DASHBOARD_AUTH",
                                       help="key: the dashboard asks for an API key (login form, cookie); "
                                       "open: anyone who reaches the server sees it."),
) -> None:
    """Serve the dashboard and the REST API over a store that `hltracker ingest` filled (settings:
    HLTRACKER_* variables)."""
    import os
    import secrets

    import uvicorn

    from hltracker.api import Settings
    from hltracker.api.edge import server_options
    from hltracker.api.origin import HostRule

    path = database or DEFAULT_DATABASE
    try:
        with open_store(path, read_only=True) as store:
            keys, last = store.api_keys(), store.last_snapshot()
    except StoreError as exc:
        raise typer.BadParameter(str(exc), param_hint="--database") from None
    os.environ["HLTRACKER_DATABASE_URL"] = path
    os.environ["HLTRACKER_DASHBOARD_AUTH"] = _dashboard_auth(dashboard_auth, host)
    # Workers must share the secret that signs cursors, download URLs and dashboard sessions.
    os.environ.setdefault("HLTRACKER_SECRET", secrets.token_urlsafe(32))
    try:
        settings = Settings.from_env().allowing(host)  # the address it listens on is one of its hosts
        HostRule.from_settings(settings.public_url, settings.allowed_hosts, settings.trusted_proxies)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    os.environ["HLTRACKER_ALLOWED_HOSTS"] = ",".join(settings.allowed_hosts)
    login = " (log in with an API key)" if os.environ["HLTRACKER_DASHBOARD_AUTH"] == "key" else ""
    console.print(f"dashboard: http://{host}:{port}/{login}")
    if keys.filter(pl.col("revoked_at").is_null()).height == 0:
        console.print("[yellow]no API key yet:[/yellow] every request will be refused; stop the server and run "
                      "`hltracker keys create`")
    if last is None:
        console.print("[yellow]the store holds no snapshot yet[/yellow]: data routes answer 503 until ingest lands one")
    console.print(f"serving http://{host}:{port}/api/external with {workers} worker(s); OpenAPI at /docs")
    uvicorn.run("hltracker.web:app_from_env", factory=True, host=host, port=port, workers=workers,
                log_level="warning", **server_options())


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


INGEST_SOURCES = ("simulator", "snapshot-files", "hyperliquid-http", "hyperliquid-node")


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
    source: str = typer.Option("simulator", help="Where snapshots come from: simulator, snapshot-files, "
                               "hyperliquid-http or hyperliquid-node."),
    profile: str = typer.Option("small", help="Simulator profile (--source simulator)."),
    seed: int = typer.Option(0, help="Simulator seed (--source simulator)."),
    days: float = typer.Option(1.0, min=0, help="Simulated days to backfill (--source simulator)."),
    start: str | None = typer.Option(None, help="Simulated start, ISO 8601 UTC. Default: where the store's "
                                      "simulator run began, else `days` before now."),
    step: int | None = typer.Option(None, min=1, help="Simulated seconds per snapshot (default: the profile's, 900)."),
    path: Path | None = typer.Option(None, help="Folder of snapshot files (--source snapshot-files), or a node's "
                                     "data folder (hl/data: state files and streams, replayed live), its "
                                     "periodic_abci_states folder or one state file (--source hyperliquid-node)."),
    follow: bool = typer.Option(False, help="After the backfill keep going: a simulator step per --interval, "
                                 "watch --path for new snapshot folders or state files, or poll the info API "
                                 "every --interval."),
    interval: float | None = typer.Option(None, min=0.01, help="Wall-clock seconds between live snapshots "
                                           "(default: the simulated step, 5 s polling for files, 10 s for "
                                           "node states, 60 s for the info API); for a node's data folder, "
                                           "seconds of chain time between snapshots (default 10)."),
    url: str = typer.Option(MAINNET_INFO_URL, help="Info API endpoint (--source hyperliquid-http)."),
    wallet: list[str] = typer.Option([], help="A wallet to track; repeatable (--source hyperliquid-http)."),
    watchlist: Path | None = typer.Option(None, help="File of wallets to track: one address per line, or a JSON "
                                          "array (--source hyperliquid-http)."),
    leaderboard: str | None = typer.Option(None, help="Track the wallets of a leaderboard file: a saved copy or "
                                           f"its URL, e.g. {MAINNET_LEADERBOARD_URL} (--source hyperliquid-http)."),
    top: int | None = typer.Option(None, min=1, help="Only the N largest leaderboard wallets by account value."),
    weight_limit: int = typer.Option(1200, min=0, help="Request weight per --window-seconds the client may spend; "
                                     "0 = unlimited, for a private info server (--source hyperliquid-http; a "
                                     "node's --serve-info does not serve the metaAndAssetCtxs it needs)."),
    window_seconds: float = typer.Option(60.0, min=0.001, help="The weight budget's window (--source "
                                         "hyperliquid-http)."),
    tiers: str = typer.Option("1000000:1,100000:3,0:10", help="Refresh tiers, MIN_PERP_EQUITY:EVERY_N_CYCLES, "
                              "comma-separated (--source hyperliquid-http)."),
    slow_every: int = typer.Option(30, min=1, help="Cycles between refreshes of vaults, staking and portfolio "
                                   "(all-time PnL), the heavy requests (--source hyperliquid-http)."),
    dex: list[str] = typer.Option([], help="Only these dexes ('main' or a HIP-3 name); repeatable. Default: "
                                  "every dex perpDexs lists (--source hyperliquid-http)."),
    concurrency: int = typer.Option(8, min=1, help="Wallets fetched at once (--source hyperliquid-http)."),
    info_url: str | None = typer.Option(None, help="Info API endpoint for mark prices, which a node's state files "
                                        "do not carry (--source hyperliquid-node), e.g. " + MAINNET_INFO_URL
                                        + " (a node's local info server does not serve metaAndAssetCtxs)."),
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
            elif source == "hyperliquid-http":
                src = _http_source(url, wallet, watchlist, leaderboard, top, weight_limit, window_seconds, tiers,
                                   slow_every, dex, concurrency, follow, interval or 60.0)
                _ingest_http(ingestor, src)
            else:
                if path is None:
                    raise typer.BadParameter(f"--source {source} needs --path", param_hint="--path")
                if source == "snapshot-files":
                    _ingest_files(ingestor, path, follow, interval or 5.0)
                else:
                    _ingest_node(ingestor, path, follow, interval or 10.0, info_url)
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


def _http_source(url: str, wallets: list[str], watchlist: Path | None, leaderboard: str | None, top: int | None,
                 weight_limit: int, window_seconds: float, tiers: str, slow_every: int, dexes: list[str],
                 concurrency: int, follow: bool, interval: float) -> HyperliquidHttpSource:
    if not (wallets or watchlist or leaderboard):
        raise typer.BadParameter("--source hyperliquid-http needs wallets: --wallet, --watchlist or --leaderboard",
                                 param_hint="--watchlist")
    try:
        refresh = RefreshTiers.parse(tiers)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--tiers") from None
    try:
        if watchlist is not None:
            read_watchlist(watchlist)  # a bad file is a usage error now, not a failure mid-run
        return HyperliquidHttpSource(
            url=url, wallets=wallets, watchlist=watchlist, leaderboard=leaderboard, top=top,
            interval=interval, cycles=None if follow else 1, weight_limit=weight_limit or None,
            window_seconds=window_seconds, tiers=refresh, slow_every=slow_every,
            dexes=None if not dexes else ["" if d == "main" else d for d in dexes], concurrency=concurrency)
    except WatchlistError as exc:
        raise typer.BadParameter(str(exc), param_hint="--wallet") from None


def _ingest_http(ingestor: Ingestor, src: HyperliquidHttpSource) -> None:
    """One progress bar per cycle (a cycle of many wallets takes minutes at the public API's budget)."""
    with _progress() as bar:
        task = bar.add_task(f"cycle 0: wallets from {src.url}", total=None)

        def progress(done: int, due: int) -> None:
            bar.update(task, completed=done, total=due, description=f"cycle {src.cycle - 1}: wallets from {src.url}")

        src.on_progress = progress
        try:
            for snap in src.snapshots():
                landed = ingestor.offer(snap)
                failed = [f for f in src.failures.values() if f.last_cycle == src.cycle - 1]
                bar.console.print(f"cycle {snap.extra['cycle']}: {snap.accounts.height} wallets, "
                                  f"{snap.positions.height} positions at {snap.taken_at:%Y-%m-%d %H:%M:%S}Z, "
                                  f"{'landed' if landed else 'not landed'}; {snap.extra['refreshed']} refreshed, "
                                  f"{len(failed)} failed, weight spent {snap.extra['weight_spent']}")
                for f in failed:
                    bar.console.print(f"  [yellow]failed[/yellow] {f.address} ({f.consecutive} in a row): {f.reason}")
        except (WatchlistError, InfoError) as exc:
            console.print(f"[red]hyperliquid-http:[/red] {exc}")
            raise typer.Exit(1) from None


def _ingest_node(ingestor: Ingestor, path: Path, follow: bool, interval: float, info_url: str | None) -> None:
    def rejected(exc: NodeStateError) -> None:
        if isinstance(exc, NodeLayoutError):  # the node's layout drifted: every later file would fail too
            raise exc
        ingestor.offer(Rejected(str(exc.path or path), [exc.problem]))  # a broken file: skip it, go on

    markets_from = markets_from_info(info_url) if info_url else None
    if has_streams(path):  # a node's data folder: state files plus the streams, replayed live
        ingest_node_live(ingestor, path, follow, interval, markets_from, _run_with_progress)
        return
    src = HyperliquidNodeSource(path, follow=follow, poll_seconds=interval, markets_from=markets_from,
                                on_invalid=rejected)
    total = src.describe().get("files") or 0

    def reported(snaps):  # keys no evidence names: in the ingest log (and each snapshot's extra)
        for snap in snaps:
            if "unknown_keys" in snap.extra:
                console.print(f"[yellow]hyperliquid-node:[/yellow] {snap.extra.get('file', snap.height)}: keys no "
                              f"evidence names (counted, not read): {snap.extra['unknown_keys']}")
            yield snap

    try:
        _run_with_progress(ingestor, reported(src.snapshots()), total,
                           f"ingesting node states from {path} (experimental)")
    except (NodeLayoutError, MarksUnavailableError, InfoError) as exc:
        console.print(f"[red]hyperliquid-node:[/red] {exc}")
        raise typer.Exit(1) from None


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


@app.command("fake-exchange")
def fake_exchange(
    profile: str = typer.Option("small", help="Simulator profile: small or mainnet."),
    seed: int = typer.Option(0, help="Simulator seed."),
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(3001, min=1, max=65535, help="Port to listen on (3001, as a node's info server)."),
    weight_limit: int = typer.Option(1200, min=0, help="Request weight per client IP per window; 0 = unlimited "
                                     "(as a node's --serve-info)."),
    window_seconds: float = typer.Option(60.0, min=0.001, help="Length of the sliding weight window in seconds."),
    step_every: float = typer.Option(0.0, min=0, help="Wall-clock seconds between automatic simulator steps; "
                                     "0 = step only on POST /fake/step."),
    step: int | None = typer.Option(None, min=1, help="Simulated seconds per step (default: the profile's, 900)."),
    start: str | None = typer.Option(None, help="Simulated start, ISO 8601 UTC (default: the profile's)."),
) -> None:
    """Serve the market simulator as Hyperliquid's info API (POST /info, GET /Mainnet/leaderboard), with
    per-IP request weights and the fake exchange's own /fake/step and /fake/state; until Ctrl-C."""
    import contextlib

    import uvicorn

    from hltracker.fake_exchange import SimulatedExchange, create_app

    _check_profile(profile)
    exchange = SimulatedExchange.from_profile(
        profile, seed, start=_parse_start(start), step=timedelta(seconds=step) if step else None,
        weight_limit=weight_limit or None, window_seconds=window_seconds)
    url = f"http://{host}:{port}"
    budget = f"{weight_limit} weight per {window_seconds:g} s per IP" if weight_limit else "no weight limit"
    stepping = f"a step every {step_every:g} s" if step_every else "steps on POST /fake/step"
    console.print(f"fake exchange ({profile}, seed {seed}, {exchange.market.now:%Y-%m-%d %H:%M}Z) serving "
                  f"{url}/info and {url}/Mainnet/leaderboard; {budget}; {stepping}; Ctrl-C to stop", soft_wrap=True)
    server = uvicorn.Server(uvicorn.Config(create_app(exchange, step_every=step_every), host=host, port=port,
                                           log_level="warning"))
    with contextlib.suppress(KeyboardInterrupt):  # uvicorn re-raises the Ctrl-C it shut down on
        server.run()
    console.print(f"stopped after {exchange.market.steps_taken} steps; served {exchange.counts()['served']}")


@sources_app.command("list")
def sources_list() -> None:
    """List the registered snapshot sources, each with its settings' defaults (its describe())."""
    for name, cls in available_sources().items():
        table = Table(title=f"{name}{'' if cls.full_market else ' (watchlist or sample: sizes need not balance)'}",
                      show_header=False, title_justify="left")
        table.add_column("setting")
        table.add_column("default")
        for key, value in cls().describe().items():
            if key != "name":
                table.add_row(key, "-" if value is None else str(value))
        console.print(table)


if __name__ == "__main__":
    app()
