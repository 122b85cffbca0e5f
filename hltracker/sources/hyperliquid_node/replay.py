"""Replaying a node's block streams onto a `Ledger`, block by block, by the exchange's rules.

Inside a block, in this order: replica actions (marks from `SetGlobalAction`, leverage settings from
`updateLeverage`), `hip3_oracle_updates` marks, `Funding` deltas, the fills, `LedgerUpdate`s
(liquidations, deposits, withdrawals, transfers), then `updateIsolatedMargin`.

- A fill moves the position from `startPosition` (which must equal the ledger's size, else the replay
  has diverged: an error) by `sz`: increases take the size-weighted entry, reductions keep it, a fill
  through zero closes at the old entry and opens the new side at the fill price (a flip); opening sets
  `open_ms` to the fill's time and takes the wallet's last leverage setting for the coin (else the
  default: min(max leverage, 20), cross unless the market is isolated-only). Cash moves by `closedPnl - fee`;
  isolated margin is allocated on increases (notional / leverage) and released pro rata on reductions.
- Funding: `funding_amount` (positive = received) moves cross cash or the isolated margin; cumulative
  funding (positive = paid) grows by its opposite.
- A liquidation `LedgerUpdate`, after the block's fills: a cross one hands the wallet's remaining cross
  collateral on that dex to the liquidator (the counterparty of its liquidation fills); an isolated one
  hands over `accountValue` (the position's margin and PnL at the mark).

Anything the replay cannot apply exactly (an unknown event or delta type, a fill that does not start
where the ledger stands, a fill in an unknown coin) raises `ReplayError` naming the block and where it was
read; the caller stops producing snapshots until the next state file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from hltracker.sources.hyperliquid_node.anchor import MAIN_DEX, Ledger, MarketInfo, Position

DEFAULT_LEVERAGE_CAP = 20  # a user who never set leverage has min(max leverage, 20) (node-state evidence [R])
IGNORED_MISC = frozenset({"CDeposit", "CWithdrawal", "Delegation", "ValidatorRewards"})  # staking only


class ReplayError(ValueError):
    def __init__(self, reason: str, where: str = ""):
        self.reason = reason
        self.where = where
        super().__init__(f"{where}: {reason}" if where else reason)


@dataclass
class BlockEvents:
    """One block of every stream (missing streams: empty lists)."""

    number: int
    time_ms: int
    fills: list = field(default_factory=list)  # [[user, fill], ...]
    misc: list = field(default_factory=list)  # [{time, hash, inner}, ...] or bare {Kind: ...}
    actions: list = field(default_factory=list)  # signed_action_bundles
    hip3: list = field(default_factory=list)
    where: dict[str, str] = field(default_factory=dict)  # stream -> "file at byte n"


def _dec(value, what: str) -> Decimal:
    try:
        d = Decimal(str(value))
    except InvalidOperation:
        raise ValueError(f"{what} is not a number: {value!r}") from None
    if not d.is_finite():
        raise ValueError(f"{what} is not finite: {value!r}")
    return d


def _lots(value, info: MarketInfo, what: str) -> int:
    scaled = _dec(value, what).scaleb(info.sz_decimals)
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{what} {value!r} has more than {info.sz_decimals} decimals")
    return int(scaled)


def _sign(x: int) -> int:
    return (x > 0) - (x < 0)


class Replay:
    """Applies blocks to `ledger` in place; `fills` and `fundings` collect the contract rows since the
    last `take_rows()`."""

    def __init__(self, ledger: Ledger):
        self.ledger = ledger
        self.by_asset = ledger.asset_index()
        self.main = ledger.main_markets()
        self.fills: list[dict] = []
        self.fundings: list[dict] = []
        self.marks_from: str | None = None
        self.marks_ms: int | None = None
        self.fills_applied = 0

    def take_rows(self) -> tuple[list[dict], list[dict]]:
        out = (self.fills, self.fundings)
        self.fills, self.fundings = [], []
        return out

    # ----- a block ------------------------------------------------------------------------------

    def apply_marks(self, b: BlockEvents) -> None:
        """Only the marks of a block the ledger already includes (one before the anchor's height)."""
        for user, action in self._actions(b):
            if isinstance(action, dict) and action.get("type") == "SetGlobalAction":
                self._action(user, action, b)
        self._hip3(b)

    def apply(self, b: BlockEvents) -> None:
        late_actions = []
        for user, action in self._actions(b):
            kind = action.get("type") if isinstance(action, dict) else None
            if kind == "updateIsolatedMargin":
                late_actions.append((user, action))
            else:
                self._action(user, action, b)
        self._hip3(b)
        ledger_updates = []
        for event in b.misc:
            kind, body, when = self._misc(event, b)
            if kind == "Funding":
                self._funding(body, when if when is not None else b.time_ms, b)
            elif kind == "LedgerUpdate":
                ledger_updates.append(body)
        liquidators = self._fills(b)
        # isolated liquidations before cross ones: a cross seizure takes what is left of the cross book
        ledger_updates.sort(key=lambda u: 0 if _is_isolated_liquidation(u) else 1)
        for body in ledger_updates:
            self._ledger_update(body, liquidators, b)
        for user, action in late_actions:
            self._action(user, action, b)
        self.ledger.height = b.number
        self.ledger.time_ms = b.time_ms

    # ----- actions and marks --------------------------------------------------------------------

    def _actions(self, b: BlockEvents):
        for bundle in b.actions:
            try:
                signed = bundle[1]["signed_actions"]
            except (TypeError, KeyError, IndexError):
                raise ReplayError("a signed action bundle without signed_actions",
                                  b.where.get("replica_cmds", "")) from None
            for sa in signed:
                yield (sa.get("user") or None), sa.get("action")

    def _action(self, user, action, b: BlockEvents) -> None:
        where = b.where.get("replica_cmds", "")
        kind = action.get("type") if isinstance(action, dict) else None
        if kind == "SetGlobalAction":
            pxs = action.get("pxs") or []
            for info, pair in zip(self.main, pxs, strict=False):
                if pair and pair[0] is not None:
                    self.ledger.marks[info.coin] = float(pair[0])
                if pair and len(pair) > 1 and pair[1] is not None:
                    self.ledger.oracles[info.coin] = float(pair[1])
            self.marks_from, self.marks_ms = "replica_cmds SetGlobalAction", b.time_ms
            return
        if user is None:
            return  # a user action whose signer we do not recover: it cannot be attributed
        user = user.lower()
        if kind == "updateLeverage":
            info = self._asset(action.get("asset"), where)
            self.ledger.settings[(user, info.coin)] = (int(action["leverage"]), not bool(action["isCross"]))
        elif kind == "updateIsolatedMargin":
            info = self._asset(action.get("asset"), where)
            p = self.ledger.positions.get((user, info.coin))
            if p is None or not p.isolated:
                raise ReplayError(f"updateIsolatedMargin for {user} {info.coin}, which has no isolated position", where)
            ntli = action.get("ntli")
            p.iso_margin += ntli / 1e6 if isinstance(ntli, int) else float(ntli)

    def _asset(self, asset, where: str) -> MarketInfo:
        info = self.by_asset.get(asset)
        if info is None:
            raise ReplayError(f"unknown asset id {asset!r}", where)
        return info

    def _hip3(self, b: BlockEvents) -> None:
        for event in b.hip3:
            pairs = ((event or {}).get("oracle_pxs") or {}).get("coin_to_mark_px") or []
            for coin, px in pairs:
                if coin in self.ledger.markets and px and px.get("px") is not None:
                    self.ledger.marks[coin] = float(px["px"])
            if pairs:
                self.marks_from, self.marks_ms = self.marks_from or "hip3_oracle_updates", b.time_ms

    # ----- misc events --------------------------------------------------------------------------

    def _misc(self, event, b: BlockEvents):
        where = b.where.get("misc_events", "")
        when = None
        inner = event
        if isinstance(event, dict) and "inner" in event:
            inner = event["inner"]
            if event.get("time") is not None:
                from hltracker.model.wire import parse_iso
                t = event["time"]
                when = t if isinstance(t, int) else int(parse_iso(t).timestamp() * 1000)
        if not (isinstance(inner, dict) and len(inner) == 1):
            raise ReplayError(f"a misc event that is not one {{Kind: body}}: {str(inner)[:80]}", where)
        (kind, body), = inner.items()
        if kind in IGNORED_MISC:
            return kind, None, when
        if kind not in ("Funding", "LedgerUpdate"):
            raise ReplayError(f"unknown misc event type {kind!r}", where)
        return kind, body, when

    def _funding(self, body, when: int, b: BlockEvents) -> None:
        where = b.where.get("misc_events", "")
        for delta in body.get("deltas", []):
            user, coin = str(delta["user"]).lower(), delta["coin"]
            info = self.ledger.markets.get(coin)
            p = self.ledger.positions.get((user, coin))
            if info is None or p is None:
                raise ReplayError(f"funding for {user} {coin}, which holds no position", where)
            if _lots(delta["szi"], info, "funding szi") != p.lots:
                raise ReplayError(f"funding for {user} {coin} at size {delta['szi']}, the ledger holds "
                                  f"{p.lots * info.lot}", where)
            received = float(delta["funding_amount"])
            pay = -received
            p.funding_open += pay
            p.funding_change += pay
            p.funding_all += pay
            if p.isolated:
                p.iso_margin -= pay
            else:
                key = (user, info.dex)
                self.ledger.cash[key] = self.ledger.cash.get(key, 0.0) - pay
            rate = float(delta["funding_rate"]) if delta.get("funding_rate") is not None else None
            if rate is not None:
                self.ledger.funding_rates[coin] = rate
            self.fundings.append({"time": when, "address": user, "coin": coin, "dex": info.dex, "usdc": received,
                                  "szi": round(p.lots * info.lot, 10), "funding_rate": rate})

    # ----- fills --------------------------------------------------------------------------------

    def _fills(self, b: BlockEvents) -> dict[str, str]:
        """Apply every fill; return the liquidator of each liquidated user seen in this block."""
        where = b.where.get("node_fills", "")
        liquidated_by: dict[str, str] = {}
        for item in b.fills:
            try:
                user, fill = str(item[0]).lower(), item[1]
                self._fill(user, fill)
            except ReplayError:
                raise
            except (KeyError, TypeError, ValueError, IndexError) as exc:
                raise ReplayError(f"a fill that cannot be applied ({type(exc).__name__}: {exc})", where) from None
            liq = fill.get("liquidation")
            if liq and str(liq.get("liquidatedUser", "")).lower() != user:
                liquidated_by[str(liq["liquidatedUser"]).lower()] = user
        return liquidated_by

    def _fill(self, user: str, f: dict) -> None:
        led = self.ledger
        coin = f["coin"]
        info = led.markets.get(coin)
        if info is None:
            raise ReplayError(f"a fill in unknown coin {coin!r}")
        key = (user, coin)
        p = led.positions.get(key)
        old = p.lots if p else 0
        start = _lots(f["startPosition"], info, "startPosition")
        if start != old:
            raise ReplayError(f"fill {f.get('tid')} of {user} {coin} starts at {f['startPosition']}, the ledger "
                              f"holds {old * info.lot:.{info.sz_decimals}f}")
        lots = _lots(f["sz"], info, "sz")
        side = f["side"]
        if side not in ("A", "B") or lots <= 0:
            raise ReplayError(f"fill {f.get('tid')}: side {side!r}, size {f['sz']!r}")
        d = lots if side == "B" else -lots
        new = old + d
        px = float(f["px"])
        closed_pnl = float(f["closedPnl"])
        fee = float(f["fee"]) if f.get("fee") is not None else 0.0
        opens = new != 0 and (old == 0 or _sign(new) != _sign(old))
        increase = old == 0 or _sign(d) == _sign(old)
        released = allocated = 0.0
        if p is not None and p.isolated and not increase:
            released = p.iso_margin * min(abs(d), abs(old)) / abs(old)
        if opens:
            lev, iso = led.settings.get(key) or ((p.leverage, p.isolated) if p else
                                                 (min(info.max_leverage, DEFAULT_LEVERAGE_CAP), info.only_isolated))
            allocated = abs(new) * info.lot * px / lev if iso else 0.0
            all_time = p.funding_all if p else 0.0
            p = Position(lots=new, entry=px, leverage=lev, isolated=iso, iso_margin=allocated, funding_all=all_time,
                         open_ms=int(f["time"]))
            led.positions[key] = p
        elif new == 0:
            led.positions.pop(key, None)
        else:
            assert p is not None
            if increase:
                p.entry = (abs(old) * p.entry + abs(d) * px) / abs(new)
                if p.isolated:
                    allocated = abs(d) * info.lot * px / p.leverage
                    p.iso_margin += allocated
            else:
                p.iso_margin -= released
            p.lots = new
            p.funding_change = 0.0
        ckey = (user, info.dex)
        led.cash[ckey] = led.cash.get(ckey, 0.0) + closed_pnl - fee + released - allocated
        led.wallets.add(user)
        self.fills_applied += 1
        liq = f.get("liquidation") or None
        self.fills.append({
            "time": int(f["time"]), "address": user, "coin": coin, "dex": info.dex, "side": side, "px": px,
            "sz": round(lots * info.lot, 10), "start_position": round(start * info.lot, 10),
            "dir": f.get("dir") or "Unknown",
            "closed_pnl": closed_pnl, "fee": fee, "crossed": bool(f.get("crossed", False)), "tid": f.get("tid"),
            "is_liquidation": liq is not None,
            "liquidated_user": str(liq["liquidatedUser"]).lower() if liq else None,
            "liquidation_mark_px": float(liq["markPx"]) if liq and liq.get("markPx") is not None else None,
            "liquidation_method": liq.get("method") if liq else None,
        })

    # ----- ledger updates -----------------------------------------------------------------------

    def _ledger_update(self, body, liquidators: dict[str, str], b: BlockEvents) -> None:
        where = b.where.get("misc_events", "")
        led = self.ledger
        users = [str(u).lower() for u in body.get("users") or []]
        delta = body.get("delta") or {}
        kind = delta.get("type")
        if not users:
            raise ReplayError(f"a LedgerUpdate ({kind}) without users", where)
        user = users[0]
        if kind == "liquidation":
            coins = [p["coin"] for p in delta.get("liquidatedPositions") or []]
            infos = [led.markets.get(c) for c in coins]
            if not infos or None in infos:
                raise ReplayError(f"a liquidation of {user} in unknown coins {coins}", where)
            liquidator = liquidators.get(user)
            if liquidator is None:
                raise ReplayError(f"a liquidation of {user} without liquidation fills in its block", where)
            dex = infos[0].dex
            if delta.get("leverageType") == "Isolated":
                amount = float(delta["accountValue"])
                led.cash[(user, dex)] = led.cash.get((user, dex), 0.0) - amount
            else:
                amount = led.cash.get((user, dex), 0.0)
                led.cash[(user, dex)] = 0.0
            lk = (liquidator, MAIN_DEX)
            led.cash[lk] = led.cash.get(lk, 0.0) + amount
        elif kind == "deposit":
            self._move(user, MAIN_DEX, float(delta["usdc"]))
        elif kind == "withdraw":
            self._move(user, MAIN_DEX, -float(delta["usdc"]) - float(delta.get("fee") or 0.0))
        elif kind == "accountClassTransfer":
            amount = float(delta["usdc"])
            self._move(user, MAIN_DEX, amount if delta.get("toPerp") else -amount)
        elif kind == "send":
            amount = float(delta["usdc"])
            source, dest = delta.get("sourceDex"), delta.get("destinationDex")
            to_user = str(delta.get("destination") or user).lower()
            for dex, who, sign in ((source, user, -1.0), (dest, to_user, 1.0)):
                name = MAIN_DEX if dex == "" else dex
                if name in led.dexes:
                    self._move(who, name, sign * amount)
        else:
            raise ReplayError(f"unknown LedgerUpdate delta type {kind!r}", where)

    def _move(self, user: str, dex: str, amount: float) -> None:
        key = (user, dex)
        self.ledger.cash[key] = self.ledger.cash.get(key, 0.0) + amount
        self.ledger.wallets.add(user)


def _is_isolated_liquidation(body) -> bool:
    delta = (body or {}).get("delta") or {}
    return delta.get("type") == "liquidation" and delta.get("leverageType") == "Isolated"
