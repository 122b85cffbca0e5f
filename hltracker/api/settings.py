"""The API server's settings, from `HLTRACKER_*` environment variables (documented in the README).

| variable | default | meaning |
|---|---|---|
| `HLTRACKER_DATABASE_URL` | `./hltracker.duckdb` | the store: a DuckDB path or `duckdb://` URL, or `postgresql://...` |
| `HLTRACKER_DB_POOL_SIZE` | `10` | PostgreSQL connections per process at most |
| `HLTRACKER_SECRET` | random per process | signs cursors and download URLs (set it to keep them across restarts) |
| `HLTRACKER_RATE_LIMIT` | `1000` | requests per minute per API key; `0` turns the limit off |
| `HLTRACKER_DOWNLOAD_TTL` | `120` | seconds a signed download URL stays valid |
| `HLTRACKER_EXPORT_DIR` | `<tmp>/hltracker-exports/<database hash>` | where export files are built |
| `HLTRACKER_POLL_SECONDS` | `1` | how often the server looks for a newly landed snapshot |
| `HLTRACKER_SNAPSHOT_INTERVAL` | median recent gap | expected seconds between snapshots (state status) |
| `HLTRACKER_DASHBOARD_AUTH` | `key` | `key`: the dashboard asks for an API key (login form, cookie); `open`: no login |
"""

from __future__ import annotations

import hashlib
import os
import secrets
import tempfile
from dataclasses import dataclass, field
from pathlib import Path


def _default_export_dir(database: str) -> Path:
    digest = hashlib.sha256(database.encode()).hexdigest()[:12]
    return Path(tempfile.gettempdir()) / "hltracker-exports" / digest


@dataclass(frozen=True)
class Settings:
    database: str = "./hltracker.duckdb"
    secret: bytes = field(default_factory=lambda: secrets.token_bytes(32), repr=False)
    rate_limit_per_minute: int = 1000
    download_ttl_seconds: float = 120.0
    export_dir: Path | None = None
    poll_seconds: float = 1.0
    db_pool_size: int = 10
    snapshot_interval_seconds: float | None = None
    dashboard_auth: str = "key"  # "key" or "open" (hltracker/web/auth.py)

    def resolved_export_dir(self) -> Path:
        return self.export_dir or _default_export_dir(self.database)

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if env is None else env)
        kwargs: dict = {}
        if env.get("HLTRACKER_DATABASE_URL"):
            kwargs["database"] = env["HLTRACKER_DATABASE_URL"]
        if env.get("HLTRACKER_SECRET"):
            kwargs["secret"] = env["HLTRACKER_SECRET"].encode()
        numbers = {
            "HLTRACKER_RATE_LIMIT": ("rate_limit_per_minute", int),
            "HLTRACKER_DOWNLOAD_TTL": ("download_ttl_seconds", float),
            "HLTRACKER_POLL_SECONDS": ("poll_seconds", float),
            "HLTRACKER_DB_POOL_SIZE": ("db_pool_size", int),
            "HLTRACKER_SNAPSHOT_INTERVAL": ("snapshot_interval_seconds", float),
        }
        for var, (name, kind) in numbers.items():
            if env.get(var):
                try:
                    kwargs[name] = kind(env[var])
                except ValueError:
                    raise ValueError(f"{var}={env[var]!r} is not a number") from None
        if env.get("HLTRACKER_DASHBOARD_AUTH"):
            mode = env["HLTRACKER_DASHBOARD_AUTH"].strip().lower()
            if mode not in ("key", "open"):
                raise ValueError(f"HLTRACKER_DASHBOARD_AUTH={mode!r} must be 'key' or 'open'")
            kwargs["dashboard_auth"] = mode
        if env.get("HLTRACKER_EXPORT_DIR"):
            kwargs["export_dir"] = Path(env["HLTRACKER_EXPORT_DIR"])
        return cls(**kwargs)
