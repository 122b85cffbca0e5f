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
| `HLTRACKER_PUBLIC_URL` | unset | the base of absolute URLs (download redirects, trailing-slash redirects) |
| `HLTRACKER_ALLOWED_HOSTS` | `localhost,127.0.0.1,::1` | Host names the server answers for (`*` any, `*.example.com`) |
| `HLTRACKER_TRUSTED_PROXIES` | unset | peer addresses (IPs or CIDRs) whose X-Forwarded-Proto/-Host count |
| `HLTRACKER_DASHBOARD_AUTH` | `key` | `key`: the dashboard asks for an API key (login form, cookie); `open`: no login |
"""

from __future__ import annotations

import hashlib
import os
import secrets
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path


def _default_export_dir(database: str) -> Path:
    digest = hashlib.sha256(database.encode()).hexdigest()[:12]
    return Path(tempfile.gettempdir()) / "hltracker-exports" / digest


DEFAULT_ALLOWED_HOSTS = ("localhost", "127.0.0.1", "::1")


def _names(text: str) -> tuple[str, ...]:
    return tuple(part.strip().lower() for part in text.split(",") if part.strip())


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
    public_url: str | None = None
    allowed_hosts: tuple[str, ...] = DEFAULT_ALLOWED_HOSTS
    trusted_proxies: tuple[str, ...] = ()
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
        if env.get("HLTRACKER_PUBLIC_URL"):
            kwargs["public_url"] = env["HLTRACKER_PUBLIC_URL"]
        if env.get("HLTRACKER_ALLOWED_HOSTS"):
            kwargs["allowed_hosts"] = _names(env["HLTRACKER_ALLOWED_HOSTS"])
        if env.get("HLTRACKER_TRUSTED_PROXIES"):
            kwargs["trusted_proxies"] = _names(env["HLTRACKER_TRUSTED_PROXIES"])
        return cls(**kwargs)

    def allowing(self, *hosts: str) -> Settings:
        """These settings with `hosts` (a listening address, say) added to the allowed hosts; wildcard bind
        addresses (0.0.0.0, ::) name no host and are not added."""
        extra = tuple(h.strip("[]").lower() for h in hosts if h and h.strip("[]") not in ("0.0.0.0", "::", ""))
        return replace(self, allowed_hosts=tuple(dict.fromkeys((*self.allowed_hosts, *extra))))
