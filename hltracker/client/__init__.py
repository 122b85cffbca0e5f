"""hltracker.client: a Python client of the HyperTracker REST API and of hltracker's extra routes.

It imports nothing of the server (only the standard library and httpx; polars or pandas when an
answer is turned into a frame), so it works against HyperTracker itself with the same key header.
"""

from .answers import Download, Page
from .client import AsyncClient, Client
from .errors import ApiError, ClientError, RateLimited
from .params import iso_utc

__all__ = ["ApiError", "AsyncClient", "Client", "ClientError", "Download", "Page", "RateLimited", "iso_utc"]
