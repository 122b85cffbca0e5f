"""The simulated wallets: who they are, how rich, how they trade. Sampled once, at genesis.

Calibration (mainnet profile): traders' perp equity is drawn cohort by cohort so that, weighted by the
positions each holds, the size cohorts reproduce the BTC cohort counts of the seed heatmap example;
all-time PnL is a heavy-tailed multiple of the wallet's capital so that every PnL cohort is populated;
spot, staking and vault equity follow the seed wallet-equity split (perp 16%, spot 13%, staking 67%,
vault 3%). Most wallets hold no position; some traded in the last 30 days, most did not.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

PASSIVE, TRADER, RECENT, MARKET_MAKER, LIQUIDATOR = 0, 1, 2, 3, 4

# Size cohorts in equity order: bounds and the share of BTC positions each holds in the seed heatmap.
COHORT_BOUNDS = np.array([1, 250, 1e4, 5e4, 1e5, 5e5, 1e6, 5e6, 3e8])
BTC_POSITION_SHARE = np.array([0.411, 0.446, 0.0834, 0.0192, 0.0265, 0.0057, 0.0064, 0.0021])
# Mean open positions per trader of each cohort (richer wallets spread wider).
POSITIONS_PER_TRADER = np.array([1.5, 2.0, 2.6, 3.0, 3.4, 4.0, 4.6, 5.5])
# Share of equity a trader of each cohort commits as margin (low, high).
UTILISATION = np.array(
    [[0.25, 0.95], [0.15, 0.8], [0.08, 0.5], [0.05, 0.4], [0.04, 0.35], [0.03, 0.3], [0.03, 0.25], [0.02, 0.2]]
)
LEVERAGE_CHOICES = np.array([1, 2, 3, 5, 10, 15, 20, 25, 40, 50])
LEVERAGE_WEIGHTS = np.array([0.05, 0.05, 0.08, 0.14, 0.22, 0.07, 0.2, 0.07, 0.07, 0.05])

# The liquidator vault (HLP's liquidator child vault address is not public in our notes: this one is
# a fixed simulator address, reported as such).
LIQUIDATOR_ADDRESS = "0x" + "1" * 4 + "d" * 32 + "1" * 4
HYPE_STAKE_SHARE = 0.674  # of total wallet equity (seed 2026-03-24 split)
SPOT_SHARE = 0.133
VAULT_SHARE = 0.033
PERP_SHARE = 0.16
# The house wallets at mainnet scale: market makers' equity is drawn for this many makers and the
# liquidator vault holds LIQUIDATOR_EQUITY; a scaled-down profile scales both with its positions.
MAINNET_MARKET_MAKERS = 40
LIQUIDATOR_EQUITY = 1e8
LEVIATHAN_CAP = 2.5e8  # the largest trader's perp equity


@dataclass
class Population:
    address: np.ndarray  # str, lowercase 0x hex
    kind: np.ndarray  # int8: PASSIVE, TRADER, RECENT, MARKET_MAKER, LIQUIDATOR
    cohort: np.ndarray  # int8: equity-order cohort drawn at genesis (0 Shrimp .. 7 Leviathan)
    equity: np.ndarray  # float64: perp account value wanted at genesis
    capital: np.ndarray  # float64: the largest the wallet has ever been (scale of its PnL)
    genesis_pnl: np.ndarray  # float64: all-time perp PnL at genesis
    n_target: np.ndarray  # int16: how many positions the wallet likes to hold
    activity: np.ndarray  # float64: relative rate of opening positions
    utilisation: np.ndarray  # float64: share of equity committed as margin
    leverage: np.ndarray  # int32: the leverage setting the wallet uses
    isolated_pref: np.ndarray  # float64: probability of choosing isolated margin
    hold_days: np.ndarray  # float64: median holding time of its positions
    spot_usdc: np.ndarray
    spot_hype: np.ndarray  # HYPE tokens held on spot
    staked_hype: np.ndarray  # HYPE delegated
    vault_usd: np.ndarray  # USD deposited in vaults at genesis NAV
    recent_volume: np.ndarray  # float64: 30-day perp volume of wallets that closed everything

    def __len__(self) -> int:
        return int(self.address.shape[0])


def make_addresses(rng: np.random.Generator, n: int) -> np.ndarray:
    """`n` random 20-byte addresses as lowercase 0x hex, encoded without a Python loop."""
    raw = rng.integers(0, 256, size=(n, 20), dtype=np.uint8)
    digits = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
    out = np.empty((n, 42), dtype=np.uint8)
    out[:, 0], out[:, 1] = ord("0"), ord("x")
    out[:, 2::2] = digits[raw >> 4]
    out[:, 3::2] = digits[raw & 0x0F]
    return out.view("S42").ravel().astype("U42")


def _log_uniform(rng: np.random.Generator, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    return np.exp(rng.uniform(np.log(lo), np.log(hi)))


def _trader_equity(rng: np.random.Generator, cohort: np.ndarray) -> np.ndarray:
    lo, hi = COHORT_BOUNDS[cohort], COHORT_BOUNDS[cohort + 1]
    eq = _log_uniform(rng, lo, hi)
    top = cohort == 7  # Leviathans: Pareto tail from $5m
    eq[top] = np.minimum(COHORT_BOUNDS[7] * (1 + rng.pareto(1.4, top.sum())), LEVIATHAN_CAP)
    return eq


def fit_total_equity(equity: np.ndarray, lo: np.ndarray, hi: np.ndarray, fixed: float, target: float) -> np.ndarray:
    """The Leviathans' equity bent so that, with the `fixed` rest, the total meets `target`.

    The Leviathans' equity is a Pareto tail (alpha 1.4) from their cohort's floor `lo`: a finite draw's
    sum swings by tens of percent (a handful of wallets hold half of it, mainnet's total perp equity
    was ~1.3x the seed's). Each equity becomes lo * (equity / lo) ** k, one exponent k for all, capped
    at `hi`: k < 1 trims the tail, k > 1 stretches it, the largest wallets change most, the rank order
    is kept and no wallet leaves its cohort (the other cohorts are not touched).
    """
    ratio = np.log(np.maximum(equity, lo) / lo)
    log_lo, log_hi = np.log(lo), np.log(hi)

    def bent(k: float) -> np.ndarray:
        return np.exp(np.minimum(log_lo + k * ratio, log_hi))

    want = target - fixed
    if want <= lo.sum():  # cannot go below every wallet at its cohort's floor
        return bent(0.0)
    k_lo, k_hi = 0.0, 4.0
    for _ in range(60):
        k = (k_lo + k_hi) / 2
        k_lo, k_hi = (k, k_hi) if bent(k).sum() < want else (k_lo, k)
    return bent((k_lo + k_hi) / 2)


def _pnl(rng: np.random.Generator, capital: np.ndarray, loss_share: float) -> np.ndarray:
    """All-time PnL: a heavy-tailed multiple of the wallet's capital, negative for most."""
    n = capital.shape[0]
    magnitude = np.exp(rng.normal(-0.9, 1.3, n))
    losing = rng.random(n) < loss_share
    # Losers cannot lose much more than they ever put in (a few refills); winners can multiply.
    magnitude = np.where(losing, np.minimum(magnitude, rng.uniform(0.5, 6.0, n)), magnitude)
    return np.where(losing, -magnitude, magnitude) * capital


def sample_population(rng: np.random.Generator, n: int, n_mm: int, trader_share: float,
                      recent_share: float, scale: float = 1.0, perp_equity_target: float | None = None) -> Population:
    """Sample `n` wallets: market makers first, then the liquidator, then everyone else.

    `scale` is the profile's position scale: the house wallets' equity scales with it (and the makers'
    with their number), so that a scaled-down market keeps mainnet's perp equity per open interest.
    With `perp_equity_target` (at mainnet scale; scaled by `scale`), the Leviathans' equity is fitted
    so that the summed perp equity meets it (`fit_total_equity`).
    """
    address = make_addresses(rng, n)
    kind = np.full(n, PASSIVE, dtype=np.int8)
    kind[:n_mm] = MARKET_MAKER
    kind[n_mm] = LIQUIDATOR
    address[n_mm] = LIQUIDATOR_ADDRESS
    rest = np.arange(n_mm + 1, n)
    u = rng.random(rest.shape[0])
    kind[rest[u < trader_share]] = TRADER
    kind[rest[(u >= trader_share) & (u < trader_share + recent_share)]] = RECENT

    traders = kind == TRADER
    cohort_p = BTC_POSITION_SHARE / POSITIONS_PER_TRADER
    cohort = np.zeros(n, dtype=np.int8)
    cohort[traders] = rng.choice(8, size=traders.sum(), p=cohort_p / cohort_p.sum())
    recent = kind == RECENT
    cohort[recent] = rng.choice(8, size=recent.sum(), p=cohort_p / cohort_p.sum())
    equity = np.zeros(n)
    active = traders | recent
    equity[active] = _trader_equity(rng, cohort[active].astype(np.int64))
    equity[recent] *= 0.25  # wallets that closed everything mostly withdrew too
    passive = kind == PASSIVE
    # Idle perp balances: mostly dust, a long tail of parked capital.
    equity[passive] = np.where(
        rng.random(passive.sum()) < 0.55, rng.uniform(0, 5, passive.sum()), np.exp(rng.normal(3.2, 2.2, passive.sum()))
    )
    equity[passive] = np.minimum(equity[passive], 5e7)
    mm = kind == MARKET_MAKER
    equity[mm] = 1.5e6 * (1 + rng.pareto(2.0, mm.sum())) * scale * MAINNET_MARKET_MAKERS / max(n_mm, 1)
    equity[kind == LIQUIDATOR] = LIQUIDATOR_EQUITY * scale
    top = active & (cohort == 7)
    drawn = equity.copy()
    if perp_equity_target is not None and top.any():
        lo = COHORT_BOUNDS[7] * np.where(kind[top] == RECENT, 0.25, 1.0)
        equity[top] = fit_total_equity(equity[top], lo, lo * LEVIATHAN_CAP / COHORT_BOUNDS[7],
                                       float(equity[~top].sum()), perp_equity_target * scale)

    capital = np.maximum(equity, _log_uniform(rng, np.full(n, 50.0), np.full(n, 2e4)))
    capital = np.where(kind == PASSIVE, equity, capital)
    pnl = _pnl(rng, capital, loss_share=0.6)
    pnl[passive] = np.where(rng.random(passive.sum()) < 0.7, 0.0, pnl[passive] * 0.2)
    house = mm | (kind == LIQUIDATOR)
    pnl[house] = equity[house] * rng.uniform(0.05, 0.5, house.sum())

    n_target = np.zeros(n, dtype=np.int16)
    n_target[traders] = 1 + rng.poisson(POSITIONS_PER_TRADER[cohort[traders]] - 1)
    activity = np.where(traders, np.exp(rng.normal(0, 0.8, n)), 0.0)
    lo, hi = UTILISATION[cohort, 0], UTILISATION[cohort, 1]
    utilisation = rng.uniform(lo, hi)
    # A fitted Leviathan commits the margin it would have at its drawn equity (up to all of it): the fit
    # moves equity, not the whales' positions, so the other wallets' sizes stay as calibrated.
    utilisation = np.where(top, np.minimum(utilisation * drawn / np.maximum(equity, 1e-9), 1.0), utilisation)
    leverage = rng.choice(LEVERAGE_CHOICES, size=n, p=LEVERAGE_WEIGHTS / LEVERAGE_WEIGHTS.sum()).astype(np.int32)
    isolated_pref = np.where(rng.random(n) < 0.2, rng.uniform(0.3, 1.0, n), 0.0)
    hold_days = np.exp(rng.normal(np.log(2.0), 1.0, n)) * (1 + 0.5 * cohort)

    recent_volume = np.where(recent, equity * np.exp(rng.normal(1.5, 1.2, n)), 0.0)
    spot_usdc, spot_hype, staked, vault = _off_perp_balances(rng, n, kind, equity)
    return Population(
        address=address, kind=kind, cohort=cohort, equity=equity, capital=capital, genesis_pnl=pnl,
        n_target=n_target, activity=activity, utilisation=utilisation, leverage=leverage,
        isolated_pref=isolated_pref, hold_days=hold_days, spot_usdc=spot_usdc, spot_hype=spot_hype,
        staked_hype=staked, vault_usd=vault, recent_volume=recent_volume,
    )


def _off_perp_balances(rng: np.random.Generator, n: int, kind: np.ndarray, equity: np.ndarray):
    """Spot USDC, spot HYPE (tokens), staked HYPE (tokens) and vault USD, before scaling.

    Returned in raw units; `scale_off_perp` later scales them to the seed split of the total.
    """
    base = np.maximum(equity, 1.0)
    has_spot = rng.random(n) < 0.6
    spot_usdc = np.where(has_spot, base * np.exp(rng.normal(-0.5, 1.5, n)), 0.0)
    spot_hype = np.where(rng.random(n) < 0.35, base * np.exp(rng.normal(-1.0, 1.8, n)), 0.0)
    stakes = rng.random(n) < 0.04
    staked = np.where(stakes, np.exp(rng.normal(7.0, 2.6, n)), 0.0)
    vault = np.where(rng.random(n) < 0.05, base * np.exp(rng.normal(-1.0, 1.5, n)), 0.0)
    return spot_usdc, spot_hype, staked, vault
