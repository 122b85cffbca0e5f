"""Prices of the simulated markets: oracle random walks, mark, mid, premium and hourly funding.

Mechanics follow Hyperliquid (reference notes 3.4, 3.5): the oracle moves as a log random walk with a
per-market volatility; mark = oracle x (1 + premium) where the premium is a mean-reverting noise; the
hourly funding rate is (premium + clamp(0.0001 - premium, -0.0005, 0.0005)) / 8, capped at 4%/h.
Prices are rounded as the exchange rounds them: 5 significant figures and at most 6 - szDecimals
decimals (integers always allowed).
"""

from __future__ import annotations

import numpy as np

HOURS_PER_DAY = 24.0
FUNDING_CAP = 0.04
INTEREST_8H = 0.0001
PREMIUM_REVERSION = 0.35  # per reference (15-minute) step
PREMIUM_NOISE = 0.00025


def price_decimals(px: np.ndarray, sz_decimals: np.ndarray) -> np.ndarray:
    """Decimals a price may carry: min(6 - szDecimals, 5 significant figures), never below 0."""
    with np.errstate(divide="ignore", invalid="ignore"):
        sig = 4 - np.floor(np.log10(np.abs(px)))
    sig = np.where(np.isfinite(sig), sig, 0)
    return np.clip(np.minimum(6 - sz_decimals, sig), 0, 12).astype(np.int64)


def round_price(px: np.ndarray, sz_decimals: np.ndarray) -> np.ndarray:
    """Round prices as Hyperliquid displays them."""
    scale = 10.0 ** price_decimals(px, sz_decimals)
    return np.round(px * scale) / scale


def funding_rate(premium: np.ndarray) -> np.ndarray:
    """Hourly funding rate from the premium (positive: longs pay shorts)."""
    rate_8h = premium + np.clip(INTEREST_8H - premium, -0.0005, 0.0005)
    return np.clip(rate_8h / 8.0, -FUNDING_CAP, FUNDING_CAP)


def step_vol(daily_vol: np.ndarray, step_hours: float) -> np.ndarray:
    return daily_vol * np.sqrt(step_hours / HOURS_PER_DAY)


def walk_oracle(
    rng: np.random.Generator, oracle: np.ndarray, daily_vol: np.ndarray, step_hours: float, frozen: np.ndarray
) -> np.ndarray:
    """One step of the oracle random walk; `frozen` markets (delisted) keep their price."""
    sigma = step_vol(daily_vol, step_hours)
    shock = rng.standard_normal(oracle.shape[0]) * sigma - 0.5 * sigma**2
    return np.where(frozen, oracle, oracle * np.exp(shock))


def walk_premium(rng: np.random.Generator, premium: np.ndarray, frozen: np.ndarray,
                 ref_steps: float = 1.0) -> np.ndarray:
    """One step of the mean-reverting premium; the step lasts `ref_steps` reference (15-minute) steps.

    The reversion compounds over the step and the noise keeps the stationary spread, so the premium's
    distribution does not depend on the step length.
    """
    keep, noise = 1 - PREMIUM_REVERSION, PREMIUM_NOISE
    if ref_steps != 1.0:
        keep_ref = keep
        keep = keep_ref**ref_steps
        noise = PREMIUM_NOISE * np.sqrt((1 - keep**2) / (1 - keep_ref**2))
    nxt = premium * keep + rng.standard_normal(premium.shape[0]) * noise
    return np.where(frozen, 0.0, nxt)


def price_history(
    rng: np.random.Generator, now_price: np.ndarray, daily_vol: np.ndarray, hours: int
) -> np.ndarray:
    """Hourly prices for the `hours` before now, shape (hours + 1, markets); row 0 is now.

    Walked backwards from today's price so that the history ends exactly at it.
    """
    sigma = step_vol(daily_vol, 1.0)
    shocks = rng.standard_normal((hours, now_price.shape[0])) * sigma
    log_path = np.vstack([np.zeros((1, now_price.shape[0])), np.cumsum(shocks, axis=0)])
    return now_price[None, :] * np.exp(log_path)
