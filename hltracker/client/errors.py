"""The client's exceptions.

    ClientError
    └── ApiError          the server answered 4xx/5xx: `status_code`, `message`, `error`, `body`
        └── RateLimited   a 429 still refused after the client's bounded retries (`retry_after`)
"""

from __future__ import annotations

from typing import Any

import httpx


class ClientError(Exception):
    """Base of every error the client raises on purpose."""


class ApiError(ClientError):
    """An error answer in the NestJS shape `{"statusCode", "message", "error"}`."""

    def __init__(self, status_code: int, message: str, error: str | None, body: Any):
        super().__init__(f"{status_code} {error or ''}: {message}".replace(" :", ":"))
        self.status_code = status_code
        self.message = message
        self.error = error
        self.body = body


class RateLimited(ApiError):
    """A 429 after `max_retries` waits of `Retry-After` seconds."""

    def __init__(self, status_code: int, message: str, error: str | None, body: Any, retry_after: float):
        super().__init__(status_code, message, error, body)
        self.retry_after = retry_after


def raise_for_answer(response: httpx.Response) -> None:
    """Raise `ApiError` (or `RateLimited`) for an error answer, carrying the server's message."""
    if response.status_code < 400:
        return
    try:
        body = response.json()
    except ValueError:
        body = response.text
    if isinstance(body, dict):
        message = body.get("message", response.reason_phrase)
        message = "; ".join(map(str, message)) if isinstance(message, list) else str(message)
        status, error = int(body.get("statusCode", response.status_code)), body.get("error")
    else:
        status, message, error = response.status_code, str(body) or response.reason_phrase, None
    if response.status_code == 429:
        raise RateLimited(status, message, error, body, retry_after_seconds(response))
    raise ApiError(status, message, error, body)


def retry_after_seconds(response: httpx.Response, default: float = 1.0) -> float:
    """The `Retry-After` header in seconds (the HTTP-date form is not used by either server)."""
    try:
        return max(0.0, float(response.headers.get("Retry-After", default)))
    except ValueError:
        return default
