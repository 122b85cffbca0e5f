"""Short-lived signed download URLs: `UrlSigner` signs a file's relative path with an expiry.

The signature is HMAC-SHA256 (hex) over a namespace, the relative path and the expiry (Unix seconds),
so a signature made for anything else of ours never verifies here, and changing the path, the expiry
or the signature is a "bad signature". A valid signature past its expiry is "expired".
"""

from __future__ import annotations

import hashlib
import hmac
import math
import time
from collections.abc import Callable

_NAMESPACE = b"hltracker.exports.download"


class SignatureError(Exception):
    """A download URL that is not ours ("bad signature") or no longer valid ("expired")."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class UrlSigner:
    """Signs and verifies `(relative path, expires)` pairs; `clock` gives Unix seconds (tests inject one)."""

    def __init__(self, secret: bytes, ttl_seconds: float = 120.0, clock: Callable[[], float] = time.time):
        if not secret:
            raise ValueError("UrlSigner needs a non-empty secret")
        if ttl_seconds <= 0:
            raise ValueError("ttl_seconds must be positive")
        self._secret = bytes(secret)
        self.ttl_seconds = ttl_seconds
        self._clock = clock

    def sign(self, relative: str) -> dict[str, str]:
        """The query parameters of a download URL for `relative`: `expires` and `signature`."""
        expires = str(math.ceil(self._clock() + self.ttl_seconds))
        return {"expires": expires, "signature": self._mac(relative, expires)}

    def verify(self, relative: str, expires: str, signature: str) -> None:
        """Return when the URL is ours and fresh; else raise SignatureError("bad signature" or "expired")."""
        if not (isinstance(expires, str) and expires.isascii() and expires.isdigit()):
            raise SignatureError("bad signature")
        given = signature.encode("utf-8", "surrogatepass") if isinstance(signature, str) else b""
        if not hmac.compare_digest(self._mac(relative, expires).encode(), given):
            raise SignatureError("bad signature")
        if self._clock() > int(expires):
            raise SignatureError("expired")

    def _mac(self, relative: str, expires: str) -> str:
        message = b"\x00".join((_NAMESPACE, relative.encode("utf-8", "surrogatepass"), expires.encode()))
        return hmac.new(self._secret, message, hashlib.sha256).hexdigest()
