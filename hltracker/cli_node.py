"""`hltracker node ...`: tools for whoever runs a Hyperliquid node (docs/node-source.md), and the live follow
of `ingest --source hyperliquid-node`.

    hltracker node probe FILE            the key skeleton and the evidenced layout's rows it matches or breaks
    hltracker node record FILE --out DIR a trimmed fixture (MessagePack + JSON + PROVENANCE.json), and with
                                         --info-url the kept wallets' clearinghouseState answers
    hltracker node verify DIR            replay the streams between two state files and print the match
"""

from __future__ import annotations

import asyncio
import json
import shlex
from collections.abc import Callable
from pathlib import Path

import polars as pl
import typer
from rich.console import Console
from rich.table import Table

from hltracker.ingest import Ingestor, Rejected
from hltracker.sources.hyperliquid_http.client import InfoClient, InfoError
from hltracker.sources.hyperliquid_node.blocks import NodeBlocks
from hltracker.sources.hyperliquid_node.compare import compare_ledgers
from hltracker.sources.hyperliquid_node.errors import NodeStateError
from hltracker.sources.hyperliquid_node.live import HyperliquidNodeLiveSource, StreamProblem, read_ledger
from hltracker.sources.hyperliquid_node.reader import read_node_state
from hltracker.sources.hyperliquid_node.record import record_fixture
from hltracker.sources.hyperliquid_node.replay import Replay, ReplayError
from hltracker.sources.hyperliquid_node.skeleton import DEFAULT_SAMPLE, layout_report, skeleton
from hltracker.sources.hyperliquid_node.source import list_state_files
from hltracker.sources.hyperliquid_node.streams import FILL_FORMS, StreamError

console = Console()
node_app = typer.Typer(help="Tools for a Hyperliquid node's files: probe a state file's layout, record a fixture, "
                       "verify the streams' replay.", no_args_is_help=True)


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


@node_app.command("probe")
def probe(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="A state file (.rmp, or its JSON)."),
    sample: int = typer.Option(DEFAULT_SAMPLE, min=1, help="Items of each list (keys of each map) walked into; "
                               "the rest are passed over and counted."),
) -> None:
    """Print a state file's key skeleton (paths, types, counts; no values) and which rows of the evidenced
    layout it matches or breaks. Exits 1 when a required row breaks."""
    try:
        with console.status(f"walking {file.name} ..."):
            sk = skeleton(file, sample=sample)
    except NodeStateError as exc:
        console.print(f"[red]node probe:[/red] {exc}")
        raise typer.Exit(1) from None
    print(f"# {file.name}: {sk.format}, {file.stat().st_size:,} bytes; first {sample} items of each list sampled")
    print("# key skeleton: path  types  x occurrences  (entries)")
    for line in sk.lines():
        print(line)
    print("# evidenced layout (docs/node-source.md): status  path  detail  [evidence]")
    broken = 0
    for row, status, detail in layout_report(sk):
        broken += status == "breaks"
        print(f"{status:8}  {row.path}  {detail}  [{row.evidence}{'' if row.required else ', optional'}]")
    print(f"# {broken} row(s) break" if broken else "# every required row matches")
    if broken:
        raise typer.Exit(1)


@node_app.command("record")
def record(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="A state file (.rmp, or its JSON)."),
    out: Path = typer.Option(..., help="Folder to write {height}.rmp, {height}.json and PROVENANCE.json into."),
    markets: int = typer.Option(5, min=1, help="Markets kept per dex (the first of each universe)."),
    per_kind: int = typer.Option(2, min=1, help="Wallets kept per kind of user state, account mode and spot."),
    info_url: str | None = typer.Option(None, help="An info endpoint (the node's --serve-info, e.g. "
                                        "http://localhost:3001/info) to record the kept wallets' clearinghouseState "
                                        "answers from, per dex, into clearinghouse_states.json."),
) -> None:
    """Write a trimmed fixture of a state file: a few markets per dex, a few wallets of every kind, as
    MessagePack and JSON, with provenance (height, time, sha256 of the source, the command)."""
    command = shlex.join(["hltracker", "node", "record", str(file), "--out", str(out), "--markets", str(markets),
                          "--per-kind", str(per_kind), *(["--info-url", info_url] if info_url else [])])
    try:
        with console.status(f"reading {file.name} twice (choose, then collect) ..."):
            done = record_fixture(file, out, markets=markets, per_kind=per_kind, command=command)
    except NodeStateError as exc:
        console.print(f"[red]node record:[/red] {exc}")
        raise typer.Exit(1) from None
    console.print(f"wrote {done.rmp}, {done.json} and {done.provenance}")
    if info_url:
        try:
            answers = asyncio.run(_clearinghouse_states(done.rmp, info_url))
        except InfoError as exc:
            console.print(f"[red]node record:[/red] {info_url}: {exc}")
            raise typer.Exit(1) from None
        (out / "clearinghouse_states.json").write_text(json.dumps(answers, indent=1, sort_keys=True) + "\n")
        console.print(f"wrote {out / 'clearinghouse_states.json'}: {sum(map(len, answers.values()))} answer(s)")
    for kind, n in done.wallets.items():
        console.print(f"  {kind}: {n} wallet(s)")


async def _clearinghouse_states(fixture: Path, url: str) -> dict[str, dict[str, dict]]:
    """{address: {dex: clearinghouseState answer}} for every user state the fixture keeps ("" = main dex)."""
    state = read_node_state(fixture)
    names = {d.index: ("" if d.name == "main" else d.name) for d in state.dexes}
    answers: dict[str, dict[str, dict]] = {}
    async with InfoClient(url) as client:
        for dex_index, address in state.users.select("dex_index", "address").sort("address", "dex_index").rows():
            dex = names[dex_index]
            body = {"type": "clearinghouseState", "user": address, **({"dex": dex} if dex else {})}
            answers.setdefault(address, {})[dex or "main"] = await client.post(body, dict)
    return answers
