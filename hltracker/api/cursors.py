"""Opaque, signed pagination cursors (`nextCursor`).

A cursor is `base64url(json payload) "." base64url(HMAC-SHA256)`, the form of the seed's example
(`eyJjcmVhdGVkQXQiOi...L98`). The MAC covers the payload and a scope: the route and the filters of the
request that produced it. So a cursor that was edited, or that came from another route or other filters
(a "foreign" cursor), fails verification and the request is a 400, never a wrong page.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from typing import Any

import orjson

from hltracker.api.errors import bad_request


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class CursorSigner:
    def __init__(self, secret: bytes):
        self._secret = secret

    def _mac(self, scope: str, payload: str) -> str:
        return _b64(hmac.new(self._secret, f"{scope}\n{payload}".encode(), hashlib.sha256).digest())

    def encode(self, scope: str, position: dict[str, Any]) -> str:
        payload = _b64(orjson.dumps(position, option=orjson.OPT_SORT_KEYS))
        return f"{payload}.{self._mac(scope, payload)}"

    def decode(self, scope: str, cursor: str) -> dict[str, Any]:
        """The position a cursor encodes; a 400 when it is malformed, tampered or foreign."""
        payload, _, mac = cursor.partition(".")
        if not payload or not mac or not hmac.compare_digest(mac.encode(), self._mac(scope, payload).encode()):
            raise bad_request("nextCursor is invalid: pass the nextCursor of the previous response unchanged, "
                              "with the same filters")
        try:
            position = orjson.loads(_unb64(payload))
        except (ValueError, binascii.Error):
            raise bad_request("nextCursor is invalid") from None
        if not isinstance(position, dict):
            raise bad_request("nextCursor is invalid")
        return position
