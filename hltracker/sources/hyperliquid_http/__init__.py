"""The `hyperliquid-http` source: Hyperliquid's info API for a watchlist of wallets."""

from hltracker.sources.hyperliquid_http.client import (
    LOCAL_NODE_INFO_URL,
    MAINNET_INFO_URL,
    MAINNET_LEADERBOARD_URL,
    TESTNET_INFO_URL,
    InfoClient,
    InfoError,
)
from hltracker.sources.hyperliquid_http.ratelimit import RateLimiter
from hltracker.sources.hyperliquid_http.source import HyperliquidHttpSource, WalletFailure, markets_from_info
from hltracker.sources.hyperliquid_http.watchlist import (
    RefreshTiers,
    Tier,
    WatchlistError,
    parse_leaderboard,
    read_leaderboard,
    read_watchlist,
)

__all__ = [
    "LOCAL_NODE_INFO_URL",
    "MAINNET_INFO_URL",
    "MAINNET_LEADERBOARD_URL",
    "TESTNET_INFO_URL",
    "HyperliquidHttpSource",
    "InfoClient",
    "InfoError",
    "RateLimiter",
    "RefreshTiers",
    "Tier",
    "WalletFailure",
    "WatchlistError",
    "markets_from_info",
    "parse_leaderboard",
    "read_leaderboard",
    "read_watchlist",
]
