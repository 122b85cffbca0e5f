"""The built-in market simulator: a seeded, deterministic Hyperliquid-like market."""

from hltracker.sources.simulator.market import SimulatedMarket
from hltracker.sources.simulator.profiles import PROFILES, Profile, get_profile
from hltracker.sources.simulator.source import SimulatorSource

__all__ = ["PROFILES", "Profile", "SimulatedMarket", "SimulatorSource", "get_profile"]
