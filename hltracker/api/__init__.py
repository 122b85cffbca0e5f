"""The HyperTracker-compatible REST API (FastAPI): `create_app(store, settings)`."""

from hltracker.api.app import app_from_env, create_app
from hltracker.api.settings import Settings

__all__ = ["Settings", "app_from_env", "create_app"]
