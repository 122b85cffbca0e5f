"""Checking a replayed ledger against a state file of the same height, per wallet x market.

Sizes must be equal (integers). Entry prices and account values are compared relatively; a state file
keeps USD amounts as integers x 1e6, so a difference within the files' resolution (each rounded amount,
the raw USD and every position's entry notional and isolated raw USD, is off by up to 0.5e-6 USD, in the
state the replay started from and in the one it is checked against: `Ledger.resolution`) also counts
as a match, and the figures report both. Account values are taken at the replayed ledger's marks (at the entry price
where it has none: then only collateral counts).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hltracker.sources.hyperliquid_node.anchor import Ledger

REL_TOLERANCE = 1e-9
STATE_QUANTUM = 1e-6  # USD: a state file's integer x 1e6 amounts


@dataclass
class LedgerMatch:
    height: int
    positions: int = 0  # wallet x market pairs in either ledger
    size_equal: int = 0
    size_mismatch: int = 0
    only_replayed: int = 0
    only_in_file: int = 0
    entry_within: int = 0
    entry_max_rel: float = 0.0
    accounts: int = 0  # wallet x dex books in either
    account_within: int = 0
    account_max_abs: float = 0.0
    account_max_rel: float = 0.0
    worst: list[str] = field(default_factory=list)  # the largest differences, described

    @property
    def exact(self) -> bool:
        return (self.size_mismatch == 0 and self.only_replayed == 0 and self.only_in_file == 0
                and self.entry_within == self.size_equal and self.account_within == self.accounts)

    def summary(self) -> str:
        return (f"{self.size_equal}/{self.positions} positions of equal size ({self.size_mismatch} differ, "
                f"{self.only_replayed} only replayed, {self.only_in_file} only in the file); entry within "
                f"tolerance {self.entry_within}/{self.size_equal} (max rel {self.entry_max_rel:.2e}); account "
                f"values within {self.account_within}/{self.accounts} (max {self.account_max_abs:.2e} USD, "
                f"rel {self.account_max_rel:.2e})")

    def as_extra(self) -> dict[str, str]:
        out = {f"check_{k}": str(getattr(self, k)) for k in (
            "height", "positions", "size_equal", "size_mismatch", "only_replayed", "only_in_file", "entry_within",
            "entry_max_rel", "accounts", "account_within", "account_max_abs", "account_max_rel")}
        out["check_exact"] = str(self.exact).lower()
        if self.worst:
            out["check_worst"] = "; ".join(self.worst[:5])
        return out


def account_values(ledger: Ledger, marks: dict[str, float]) -> dict[tuple[str, str], float]:
    """Per (wallet, dex): cross collateral + isolated margin + unrealised PnL at `marks`."""
    out = dict(ledger.cash)
    for (addr, coin), p in ledger.positions.items():
        info = ledger.markets[coin]
        szi = p.lots * info.lot
        mark = marks.get(coin, p.entry)
        key = (addr, info.dex)
        out[key] = out.get(key, 0.0) + szi * (mark - p.entry) + (p.iso_margin if p.isolated else 0.0)
    return out


def compare_ledgers(replayed: Ledger, file: Ledger) -> LedgerMatch:
    m = LedgerMatch(height=file.height)
    keys = set(replayed.positions) | set(file.positions)
    m.positions = len(keys)
    worst: list[tuple[float, str]] = []
    for key in keys:
        a, b = replayed.positions.get(key), file.positions.get(key)
        if a is None:
            m.only_in_file += 1
            worst.append((float("inf"), f"{key[0]} {key[1]}: only in the file"))
            continue
        if b is None:
            m.only_replayed += 1
            worst.append((float("inf"), f"{key[0]} {key[1]}: only replayed"))
            continue
        if a.lots != b.lots:
            m.size_mismatch += 1
            worst.append((float("inf"), f"{key[0]} {key[1]}: size {a.lots} vs {b.lots} lots"))
            continue
        m.size_equal += 1
        rel = abs(a.entry - b.entry) / abs(b.entry)
        size = abs(b.lots * file.markets[key[1]].lot)
        if rel <= REL_TOLERANCE or abs(a.entry - b.entry) * size <= STATE_QUANTUM:
            m.entry_within += 1
        m.entry_max_rel = max(m.entry_max_rel, rel)
    marks = replayed.marks
    av_a, av_b = account_values(replayed, marks), account_values(file, marks)
    books = {k for k, v in av_a.items() if v} | {k for k, v in av_b.items() if v}
    m.accounts = len(books)
    for k in books:
        x, y = av_a.get(k, 0.0), av_b.get(k, 0.0)
        diff = abs(x - y)
        rel = diff / max(abs(y), 1e-12)
        if rel <= REL_TOLERANCE or diff <= replayed.resolution.get(k, 0.0) + file.resolution.get(k, 0.0):
            m.account_within += 1
        else:
            worst.append((rel, f"{k[0]} on {k[1]}: account value {x:.6f} vs {y:.6f}"))
        m.account_max_abs = max(m.account_max_abs, diff)
        m.account_max_rel = max(m.account_max_rel, rel)
    worst.sort(key=lambda t: -t[0])
    m.worst = [w for _, w in worst[:5]]
    return m


def carry_over(replayed: Ledger, file: Ledger) -> None:
    """What the file lacks, from the replay, into `file`: marks, leverage settings, and for positions on
    the same side in both, the opening time and the funding since change / all time."""
    for coin, px in replayed.marks.items():
        file.marks.setdefault(coin, px)
    for coin, px in replayed.oracles.items():
        file.oracles.setdefault(coin, px)
    for coin, r in replayed.funding_rates.items():
        file.funding_rates.setdefault(coin, r)
    file.settings = {**replayed.settings, **file.settings}
    for key, p in file.positions.items():
        q = replayed.positions.get(key)
        if q is not None and (q.lots > 0) == (p.lots > 0):
            p.open_ms = p.open_ms if p.open_ms is not None else q.open_ms
            if p.funding_change == 0.0 and p.funding_all == 0.0:  # not in the file (see ledger_from_node_state)
                p.funding_change, p.funding_all = q.funding_change, q.funding_all
    file.wallets |= replayed.wallets
