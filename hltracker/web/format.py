"""Numbers and colours as the pages show them (Jinja2 filters), and the fixed colour scales.

The heatmap's colour is always the long share (bias) on one fixed diverging scale: 0 is all short (red),
0.5 neutral, 1 all long (green); it does not rescale when filters change, so a colour means the same on
every view. The liquidation-risk matrix uses a fixed sequential scale, 0% to 100% at risk.
"""

from __future__ import annotations

import math
from datetime import datetime

LONG_RGB = (22, 163, 106)
SHORT_RGB = (220, 60, 80)
RISK_RGB = (234, 88, 12)


def compact(value: float | int | None, prefix: str = "") -> str:
    """1234567 -> 1.23M (with a `$` prefix for money); '-' for null."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    sign = "-" if value < 0 else ""
    value = abs(value)
    for limit, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k")):
        if value >= limit:
            return f"{sign}{prefix}{value / limit:.2f}{suffix}"
    return f"{sign}{prefix}{value:,.2f}" if value % 1 else f"{sign}{prefix}{value:,.0f}"


def usd(value: float | None) -> str:
    return compact(value, "$")


def pct(value: float | None, digits: int = 1) -> str:
    """A fraction (0.523) as a percentage (52.3%)."""
    return "–" if value is None else f"{100 * value:.{digits}f}%"


def price(value: float | None) -> str:
    if value is None:
        return "–"
    if value >= 1000:
        return f"{value:,.1f}"
    if value >= 1:
        return f"{value:,.3f}"
    return f"{value:.6g}"


def when(text: str | None, seconds: bool = False) -> str:
    """An ISO timestamp of the API as `2026-03-24 09:54 UTC` (`09:54:07` with `seconds`)."""
    if not text:
        return "–"
    return datetime.fromisoformat(text.replace("Z", "+00:00")).strftime(
        "%Y-%m-%d %H:%M:%S UTC" if seconds else "%Y-%m-%d %H:%M UTC"
    )


def short_address(address: str) -> str:
    return f"{address[:6]}…{address[-4:]}"


def bias_colour(bias: float | None) -> str:
    """The heat-cell background for a long share: transparent at 0.5, full green at 1, full red at 0."""
    if bias is None:
        return "transparent"
    strength = min(1.0, abs(bias - 0.5) * 2)
    r, g, b = LONG_RGB if bias >= 0.5 else SHORT_RGB
    return f"rgba({r},{g},{b},{0.08 + 0.72 * strength:.3f})"


def risk_colour(percent: float | None) -> str:
    """The risk-cell background for a percentRisk in 0-100."""
    if not percent:
        return "transparent"
    r, g, b = RISK_RGB
    return f"rgba({r},{g},{b},{0.1 + 0.8 * min(1.0, percent / 100):.3f})"


def sparkline(values: list[float | None], width: int = 120, height: int = 28) -> str:
    """An SVG polyline of `values` (oldest first), scaled to its own range; empty when < 2 points."""
    points = [v for v in values if v is not None]
    if len(points) < 2:
        return ""
    low, high = min(points), max(points)
    span = (high - low) or 1.0
    step = width / (len(points) - 1)
    coords = " ".join(
        f"{i * step:.1f},{height - 2 - (v - low) / span * (height - 4):.1f}" for i, v in enumerate(points)
    )
    return (
        f'<svg class="spark" viewBox="0 0 {width} {height}" preserveAspectRatio="none" aria-hidden="true">'
        f'<polyline points="{coords}" fill="none" stroke="currentColor" stroke-width="1.5"/></svg>'
    )


FILTERS = {
    "compact": compact,
    "usd": usd,
    "pct": pct,
    "price": price,
    "when": when,
    "short_address": short_address,
    "bias_colour": bias_colour,
    "risk_colour": risk_colour,
}
