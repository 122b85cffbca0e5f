"""`hltracker node ...`: tools for whoever runs a real node (docs/node-source.md, "Checking on a real node").

    hltracker node probe FILE            the key skeleton and the evidenced layout's rows it matches or breaks
    hltracker node record FILE --out DIR a trimmed fixture (MessagePack + JSON + PROVENANCE.json), and with
                                         --info-url the kept wallets' clearinghouseState answers
"""

from __future__ import annotations

import asyncio
import json
import shlex
from pathlib import Path

import typer
from rich.console import Console

from hltracker.sources.hyperliquid_http.client import InfoClient, InfoError
from hltracker.sources.hyperliquid_node.errors import NodeStateError
from hltracker.sources.hyperliquid_node.reader import read_node_state
from hltracker.sources.hyperliquid_node.record import record_fixture
from hltracker.sources.hyperliquid_node.skeleton import DEFAULT_SAMPLE, layout_report, skeleton

node_app = typer.Typer(help="Tools for a node's state files: probe the layout, record a fixture.",
                       no_args_is_help=True)
console = Console()


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
