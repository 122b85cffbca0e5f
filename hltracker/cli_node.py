"""`hltracker node ...`: tools for whoever runs a Hyperliquid node; and the live follow of `ingest`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import polars as pl
import typer
from rich.console import Console
from rich.table import Table

from hltracker.ingest import Ingestor, Rejected
from hltracker.sources.hyperliquid_node.blocks import NodeBlocks
from hltracker.sources.hyperliquid_node.compare import compare_ledgers
from hltracker.sources.hyperliquid_node.errors import NodeStateError
from hltracker.sources.hyperliquid_node.live import HyperliquidNodeLiveSource, StreamProblem, read_ledger
from hltracker.sources.hyperliquid_node.replay import Replay, ReplayError
from hltracker.sources.hyperliquid_node.source import list_state_files
from hltracker.sources.hyperliquid_node.streams import FILL_FORMS, StreamError

console = Console()
node_app = typer.Typer(help="Tools for a Hyperliquid node's files (state files and streams).", no_args_is_help=True)


def has_streams(path: Path) -> bool:
    """A node data folder (`hl/data`): state files and a block-batched fill stream under it."""
    path = Path(path).expanduser()
    return (path / "periodic_abci_states").is_dir() and any((path / f / "hourly").is_dir() for f in FILL_FORMS[:2])


def ingest_node_live(ingestor: Ingestor, path: Path, follow: bool, interval: float,
                     markets_from: Callable[[], pl.DataFrame] | None, run: Callable[..., None]) -> None:
    """`ingest --source hyperliquid-node --path hl/data`: a snapshot every `interval` s of chain time."""
    def problem(p: StreamProblem) -> None:
        ingestor.offer(Rejected(p.where, [f"{p.reason} ({p.consequence})"]))

    src = HyperliquidNodeLiveSource(path, interval=interval, follow=follow, markets_from=markets_from,
                                    on_problem=problem)
    try:
        run(ingestor, src.snapshots(), src.expected_snapshots(),
            f"replaying node streams from {path} (a snapshot every {interval:g} s of chain time)")
    except (FileNotFoundError, NodeStateError, StreamError) as exc:
        console.print(f"[red]hyperliquid-node:[/red] {exc}")
        raise typer.Exit(1) from None
    for match in src.matches:
        console.print(f"state {match.height}: {match.summary()}")


@node_app.command()
def verify(
    path: Path = typer.Argument(..., help="The node's data folder (hl/data): periodic_abci_states and the streams."),
    from_height: int | None = typer.Option(None, "--from", help="Height of the first state file (default: the "
                                           "first one)."),
    to_height: int | None = typer.Option(None, "--to", help="Height of the state file to check against (default: "
                                         "the next one after --from)."),
) -> None:
    """Replay the streams from one state file to a later one and print how well they match.

    Per wallet x market: sizes exactly, entry prices and account values within 1e-9 relative or the state
    file's 1e-6 USD resolution. Exits with 1 when they do not match.
    """
    files = [(h, p) for h, p in list_state_files(Path(path).expanduser() / "periodic_abci_states") if h is not None]
    start = next(((h, p) for h, p in files if from_height is None or h == from_height), None)
    if start is None:
        raise typer.BadParameter(f"no state file of height {from_height}" if from_height else "no state file",
                                 param_hint="--from")
    end = next(((h, p) for h, p in files if h > start[0] and (to_height is None or h == to_height)), None)
    if end is None:
        raise typer.BadParameter(f"no state file after height {start[0]}"
                                 + (f" of height {to_height}" if to_height else ""), param_hint="--to")
    try:
        ledger = read_ledger(start[1])
        target = read_ledger(end[1])
        replay = Replay(ledger)
        blocks = NodeBlocks(Path(path).expanduser(), after=ledger.height, since_ms=ledger.time_ms)
        while ledger.height < end[0]:
            block = blocks.next(on_skipped=replay.apply_marks)
            if block is None:
                console.print(f"[red]the streams end at block {replay.ledger.height}, before {end[0]}[/red]")
                raise typer.Exit(1)
            replay.apply(block)
            ledger = replay.ledger
    except (NodeStateError, StreamError, ReplayError) as exc:
        console.print(f"[red]cannot replay:[/red] {exc}")
        raise typer.Exit(1) from None
    match = compare_ledgers(replay.ledger, target)
    table = Table(title=f"replay of {start[1].name} + streams vs {end[1].name} ({replay.fills_applied} fills)")
    table.add_column("figure")
    table.add_column("value", justify="right")
    for k, v in match.as_extra().items():
        table.add_row(k.removeprefix("check_"), v)
    console.print(table)
    if not match.exact:
        console.print("[red]the replay does not match the state file[/red]")
        raise typer.Exit(1)
    console.print("the replay matches the state file")
