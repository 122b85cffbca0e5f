"""Which wallets the HTTP source follows, and how often each is refreshed.

The public API cannot scan the whole market (reference notes 0.1: a full sweep of ~100k wallets takes
hours at 1200 weight/min), so the source tracks a list of wallets:
- a watchlist file: one address per line (anything after `#` is a comment; a line may carry more
  fields after the address, separated by a comma or whitespace), or a JSON array of addresses;
- the leaderboard file format of stats-data.hyperliquid.xyz/Mainnet/leaderboard (a saved copy or
  its URL), optionally its `top` N wallets by account value.

`RefreshTiers` spends the budget where the money is: a wallet whose last known perp equity is at least
a tier's threshold is refreshed every `every` cycles, staggered by address so each cycle carries an
even share of every tier. Wallets never fetched are always due.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import msgspec

from hltracker.sources.hyperliquid_http.wire_types import Leaderboard

ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")


class WatchlistError(ValueError):
    """A watchlist or leaderboard file that cannot be used, with the reason (and line)."""


def normalise_address(text: str, where: str = "") -> str:
    text = text.strip()
    if not ADDRESS.match(text):
        raise WatchlistError(f"{where}{text!r} is not a 0x-prefixed 40-hex-digit address")
    return text.lower()


def unique(addresses: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(addresses))


def read_watchlist(path: str | Path) -> list[str]:
    """The addresses of a watchlist file, lowercased, first occurrence kept."""
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as exc:
        raise WatchlistError(f"cannot read watchlist {path}: {exc.strerror or exc}") from None
    if text.lstrip().startswith("["):
        try:
            items = msgspec.json.decode(text, type=list[str])
        except msgspec.DecodeError as exc:
            raise WatchlistError(f"{path}: not a JSON array of addresses: {exc}") from None
        return unique(normalise_address(a, f"{path}: ") for a in items)
    found = []
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        first = re.split(r"[,\s]+", line, maxsplit=1)[0]
        found.append(normalise_address(first, f"{path}:{number}: "))
    return unique(found)


@dataclass(frozen=True)
class LeaderboardEntry:
    address: str
    account_value: Decimal
    all_time_pnl: Decimal | None
    month_volume: Decimal | None = None


def parse_leaderboard(content: bytes | str, top: int | None = None, where: str = "leaderboard") -> list[
        LeaderboardEntry]:
    """The rows of a leaderboard file, largest account value first (the `top` N when given)."""
    try:
        board = msgspec.json.decode(content, type=Leaderboard)
    except msgspec.DecodeError as exc:
        raise WatchlistError(f"{where}: not in the leaderboard format: {exc}") from None
    return leaderboard_entries(board, top, where)


def leaderboard_entries(board: Leaderboard, top: int | None = None, where: str = "leaderboard") -> list[
        LeaderboardEntry]:
    """A decoded leaderboard's rows, largest account value first (the `top` N when given)."""
    entries = []
    for row in board.leaderboard_rows:
        windows = dict(row.window_performances)
        all_time, month = windows.get("allTime"), windows.get("month")
        entries.append(LeaderboardEntry(normalise_address(row.eth_address, f"{where}: "), row.account_value,
                                        None if all_time is None else all_time.pnl,
                                        None if month is None else month.vlm))
    entries.sort(key=lambda e: e.account_value, reverse=True)
    return entries[:top] if top is not None else entries


def read_leaderboard(path: str | Path, top: int | None = None) -> list[LeaderboardEntry]:
    path = Path(path)
    try:
        content = path.read_bytes()
    except OSError as exc:
        raise WatchlistError(f"cannot read leaderboard {path}: {exc.strerror or exc}") from None
    return parse_leaderboard(content, top, str(path))


# ----- refresh tiers --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Tier:
    min_equity: float  # perp equity, USD
    every: int  # refresh every this many cycles


DEFAULT_TIERS: tuple[Tier, ...] = (Tier(1_000_000, 1), Tier(100_000, 3), Tier(0, 10))


class RefreshTiers:
    def __init__(self, tiers: Sequence[Tier] = DEFAULT_TIERS):
        if not tiers:
            raise ValueError("at least one refresh tier is needed")
        for t in tiers:
            if t.every < 1:
                raise ValueError(f"a tier refreshes every >= 1 cycles, got {t.every}")
        self.tiers = tuple(sorted(tiers, key=lambda t: t.min_equity, reverse=True))

    @classmethod
    def parse(cls, text: str) -> RefreshTiers:
        """`"1000000:1,100000:3,0:10"`: min perp equity : refresh every N cycles."""
        tiers = []
        for part in text.split(","):
            try:
                equity, every = part.split(":")
                tiers.append(Tier(float(equity), int(every)))
            except ValueError:
                raise ValueError(f"bad tier {part.strip()!r}: expected MIN_EQUITY:EVERY, e.g. 100000:3") from None
        return cls(tiers)

    def every(self, equity: float | None) -> int:
        if equity is None:
            return 1
        for t in self.tiers:
            if equity >= t.min_equity:
                return t.every
        return self.tiers[-1].every  # below every threshold (negative equity): the slowest tier

    def due(self, address: str, equity: float | None, cycle: int) -> bool:
        every = self.every(equity)
        return (cycle + stagger(address)) % every == 0

    def __str__(self) -> str:
        return ",".join(f"{t.min_equity:g}:{t.every}" for t in self.tiers)


def stagger(address: str) -> int:
    """A fixed per-address offset, so the wallets of one tier spread evenly over its cycles."""
    return int.from_bytes(hashlib.sha256(address.encode()).digest()[:4], "big")
