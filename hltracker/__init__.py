"""hltracker: self-hosted position intelligence for the Hyperliquid perpetuals exchange."""

__version__ = "0.1.0"
