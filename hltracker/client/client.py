"""`Client` and `AsyncClient`: the routes of `routes.py` sent over httpx.

Both take `base_url` (the server root; `/api/external` is added unless already there), `api_key`
(sent as `Authorization: Bearer`), `transport=` (any httpx transport, e.g. `httpx.ASGITransport(app)`),
`max_retries` (429s waited out, `Retry-After` seconds each), `timeout` and `typed` (answers as the
records of `records.py` instead of JSON where a route has one). Constructors do no I/O.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx

from .answers import Download, page_of
from .errors import raise_for_answer, retry_after_seconds
from .routes import Call, Routes, next_params

PREFIX = "/api/external"
REDIRECTS = (301, 302, 303, 307, 308)


def _root(base_url: str) -> str:
    root = base_url.rstrip("/")
    return root if root.endswith(PREFIX) else root + PREFIX


def _headers(api_key: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {api_key}"} if api_key else {}


def _request(http: httpx.Client | httpx.AsyncClient, call: Call) -> httpx.Request:
    headers = {"Accept": call.accept} if call.accept else {}
    return http.build_request("GET", call.path.lstrip("/"), params=call.query(), headers=headers)


def _file_request(http: httpx.Client | httpx.AsyncClient, url: str, accept: str | None) -> httpx.Request:
    """A signed URL is its own credential: the key is not sent (S3 refuses a second credential)."""
    request = http.build_request("GET", url, headers={"Accept": accept} if accept else {})
    request.headers.pop("Authorization", None)
    return request


def _read(call: Call, response: httpx.Response, typed: bool) -> Any:
    body = response.json()
    if call.kind == "page":
        return page_of(body, call.key, call.record, typed)
    return call.record.from_json(body) if typed and call.record else body


def _download(response: httpx.Response) -> Download:
    return Download(str(response.url), response.headers.get("content-type", ""), response.text)


def _file_url(call: Call, response: httpx.Response) -> str | None:
    """Where the file is: the 302's Location, or the `downloadUrl` of the JSON answer."""
    if call.kind == "download" and response.status_code in REDIRECTS:
        return str(response.url.join(response.headers["Location"]))
    if call.kind == "download_url":
        return response.json()["downloadUrl"]
    return None


class Client(Routes):
    """A synchronous client; use it as a context manager or call `close()`."""

    def __init__(self, base_url: str, api_key: str | None = None, *, transport: httpx.BaseTransport | None = None,
                 max_retries: int = 3, timeout: float = 60.0, typed: bool = False):
        self.max_retries = max_retries
        self.typed = typed
        self._http = httpx.Client(base_url=_root(base_url) + "/", headers=_headers(api_key), transport=transport,
                                  timeout=timeout)

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def _send(self, request: httpx.Request) -> httpx.Response:
        for attempt in range(self.max_retries + 1):
            response = self._http.send(request)
            if response.status_code != 429 or attempt == self.max_retries:
                break
            time.sleep(retry_after_seconds(response))
        raise_for_answer(response)
        return response

    def _call(self, call: Call) -> Any:
        response = self._send(_request(self._http, call))
        url = _file_url(call, response)
        if url is None:
            return _read(call, response, self.typed)
        file = self._send(_file_request(self._http, url, call.accept))
        return _download(file)

    def paginate(self, method, **params):
        """Every item of a paged route: `for p in client.paginate(client.positions, coin="BTC")`."""
        while params is not None:
            page = method(**params)
            yield from page.items
            params = next_params(page, params)


class AsyncClient(Routes):
    """The same methods as `Client`, each a coroutine; `paginate` and `iter_*` are async iterators."""

    def __init__(self, base_url: str, api_key: str | None = None, *,
                 transport: httpx.AsyncBaseTransport | None = None, max_retries: int = 3, timeout: float = 60.0,
                 typed: bool = False):
        self.max_retries = max_retries
        self.typed = typed
        self._http = httpx.AsyncClient(base_url=_root(base_url) + "/", headers=_headers(api_key),
                                       transport=transport, timeout=timeout)

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _send(self, request: httpx.Request) -> httpx.Response:
        for attempt in range(self.max_retries + 1):
            response = await self._http.send(request)
            if response.status_code != 429 or attempt == self.max_retries:
                break
            await asyncio.sleep(retry_after_seconds(response))
        raise_for_answer(response)
        return response

    async def _call(self, call: Call) -> Any:
        response = await self._send(_request(self._http, call))
        url = _file_url(call, response)
        if url is None:
            return _read(call, response, self.typed)
        return _download(await self._send(_file_request(self._http, url, call.accept)))

    async def paginate(self, method, **params):
        """Every item of a paged route: `async for p in client.paginate(client.positions)`."""
        while params is not None:
            page = await method(**params)
            for item in page.items:
                yield item
            params = next_params(page, params)


