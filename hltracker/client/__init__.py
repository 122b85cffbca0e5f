"""hltracker.client: a Python client of the HyperTracker REST API and of hltracker's extra routes.

It imports nothing of the server (only the standard library and httpx; polars or pandas when an
answer is turned into a frame), so it works against HyperTracker itself with the same key header.
"""

from .answers import Download, Page
from .client import AsyncClient, Client
from .errors import ApiError, ClientError, RateLimited
from .params import iso_utc
from .records import (
    BiggestPosition,
    ClosedTrade,
    CoinTotals,
    Fill,
    Funding,
    GeneralMetrics,
    HeatmapRow,
    PerpPnlEntry,
    Position,
    Record,
    Segment,
    SegmentSummary,
    Wallet,
)

__all__ = ["ApiError", "AsyncClient", "BiggestPosition", "Client", "ClientError", "ClosedTrade", "CoinTotals",
           "Download", "Fill", "Funding", "GeneralMetrics", "HeatmapRow", "Page", "PerpPnlEntry", "Position",
           "RateLimited", "Record", "Segment", "SegmentSummary", "Wallet", "iso_utc"]
