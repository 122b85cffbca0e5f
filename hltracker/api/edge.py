"""The HTTP edge: uvicorn's httptools protocol with bounded request heads, and the options every server
of ours (`serve`, `demo`, the tests) runs with.

Stock uvicorn over httptools puts no bound on a request line or header: one client sending a 128 MB
header kept the event loop busy concatenating it (scripts/bench_http_edge.py measures it), and every
other client waited. `BoundedHttpToolsProtocol` counts the bytes of each request head as they arrive
and answers at once, before the app sees anything, when

- the request target is longer than `MAX_TARGET_BYTES` (16 KB): 414 URI Too Long;
- one header line (name and value) is longer than `MAX_HEADER_BYTES` (16 KB): 431;
- the head in all (request line and every header) passes `MAX_HEAD_BYTES` (64 KB): 431;

with a NestJS-shaped JSON body and `connection: close`. The bytes are counted per read (at most one
read of the event loop, 256 KB, past the bound is ever buffered).

Why httptools and not h11 (scripts/bench_http_edge.py; figures in docs/api.md, "Request size"): both
refuse an oversized head at once when bounded (h11 through `h11_max_incomplete_event_size`, with a
bare text 400), but httptools (llhttp, in C) served the most requests per second in every best-of run,
and this subclass answers the precise 431/414 in the NestJS shape.
"""

from __future__ import annotations

from typing import Any

import orjson
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from hltracker.api.errors import nest_body

MAX_TARGET_BYTES = 16 * 1024
MAX_HEADER_BYTES = 16 * 1024
MAX_HEAD_BYTES = 64 * 1024
_REASONS = {414: b"URI Too Long", 431: b"Request Header Fields Too Large"}


class _Refused(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status, self.message = status, message


class BoundedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol that refuses an oversized request head before any work."""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._in_head = True  # between a message's first byte and the end of its headers
        self._head_bytes = 0  # bytes read while in a head (whole reads: bounds what httptools buffers)
        self._parsed_bytes = 0  # bytes of the current head's target and headers (exact)

    def data_received(self, data: bytes) -> None:
        self._unset_keepalive_if_required()
        if self._in_head:
            self._head_bytes += len(data)
        try:
            self.parser.feed_data(data)
        except Exception as exc:  # a refusal raised in a parser callback arrives wrapped by httptools
            refused = exc if isinstance(exc, _Refused) else exc.__context__
            if isinstance(refused, _Refused):
                self._refuse(refused.status, refused.message)
                return
            _stock_handling(self, exc)
            return
        if self._in_head and self._head_bytes > MAX_HEAD_BYTES:
            self._refuse(431, f"Request headers are larger than {MAX_HEAD_BYTES // 1024} KB in all")

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._in_head, self._head_bytes, self._parsed_bytes = True, 0, 0

    def on_url(self, url: bytes) -> None:
        super().on_url(url)
        if len(self.url) > MAX_TARGET_BYTES:
            raise _Refused(414, f"The request target is longer than {MAX_TARGET_BYTES // 1024} KB")

    def on_header(self, name: bytes, value: bytes) -> None:
        if len(name) + len(value) > MAX_HEADER_BYTES:
            raise _Refused(431, f"A request header is longer than {MAX_HEADER_BYTES // 1024} KB")
        self._parsed_bytes += len(name) + len(value) + 4  # ": " and CRLF
        if self._parsed_bytes + len(self.url) > MAX_HEAD_BYTES:
            raise _Refused(431, f"Request headers are larger than {MAX_HEAD_BYTES // 1024} KB in all")
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._in_head = False
        super().on_headers_complete()

    def _refuse(self, status: int, message: str) -> None:
        body = orjson.dumps(nest_body(status, message))
        head = b"HTTP/1.1 %d %s\r\ncontent-type: application/json\r\ncontent-length: %d\r\nconnection: close\r\n\r\n"
        self.logger.warning("refused a request: %s", message)
        self.transport.write(head % (status, _REASONS[status], len(body)) + body)
        self.transport.close()


def _stock_handling(protocol: HttpToolsProtocol, exc: Exception) -> None:
    """What uvicorn does with a request httptools cannot parse (or an upgrade): the stock handling."""
    import httptools

    if isinstance(exc, httptools.HttpParserUpgrade):
        if protocol._should_upgrade():
            protocol.handle_websocket_upgrade()
        else:
            protocol._unsupported_upgrade_warning()
        return
    if isinstance(exc, httptools.HttpParserError):
        msg = "Invalid HTTP request received."
        protocol.logger.warning(msg)
        protocol.send_400_response(msg)
        return
    raise exc


def server_options() -> dict[str, Any]:
    """The uvicorn.Config / uvicorn.run options of every hltracker server: the bounded parser, and no
    uvicorn proxy-header handling (it trusts 127.0.0.1 by default): forwarded headers count only from
    HLTRACKER_TRUSTED_PROXIES, in origin.py."""
    return {"http": BoundedHttpToolsProtocol, "proxy_headers": False}
