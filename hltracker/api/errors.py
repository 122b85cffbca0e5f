"""Errors in the NestJS shape HyperTracker answers with (DESIGN.md 6).

    {"statusCode": 400, "message": "start must be a valid ISO 8601 date string", "error": "Bad Request"}

429 is the exception: `{"error": "rate_limit_exceeded", "message": ..., "retry_after": ...}` with a
`Retry-After` header (`rate_limit_body`). Request validation errors of FastAPI (422 by default) become
400s with class-validator style messages, so no bad input is ever answered with a 422 or a 500.
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

log = logging.getLogger("hltracker.api")


class ApiError(Exception):
    """An answer other than 200, raised anywhere in a route: becomes the NestJS body."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


def bad_request(message: str) -> ApiError:
    return ApiError(400, message)


def not_found(message: str) -> ApiError:
    return ApiError(404, message)


def nest_body(status: int, message: str) -> dict[str, Any]:
    return {"statusCode": status, "message": message, "error": HTTPStatus(status).phrase}


def error_response(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(nest_body(status, message)), status_code=status, headers=headers,
                    media_type="application/json")


def rate_limit_body(limit_per_minute: int, retry_after: int) -> dict[str, Any]:
    return {
        "error": "rate_limit_exceeded",
        "message": f"Rate limit of {limit_per_minute} requests per minute exceeded; retry in {retry_after} s",
        "retry_after": retry_after,
    }


def _param_name(loc: tuple) -> str:
    parts = [str(p) for p in loc if p not in ("query", "path", "header", "body")]
    return parts[0] if parts else "request"


def validation_message(error: dict[str, Any]) -> str:
    """One pydantic error as a class-validator style sentence: `limit must not be greater than 1000`."""
    name = _param_name(tuple(error.get("loc", ())))
    kind = error.get("type", "")
    ctx = error.get("ctx") or {}
    if kind == "missing":
        return f"{name} should not be empty"
    if kind in ("int_parsing", "int_from_float", "int_type"):
        return f"{name} must be an integer number"
    if kind in ("float_parsing", "float_type"):
        return f"{name} must be a number"
    if kind in ("bool_parsing", "bool_type"):
        return f"{name} must be a boolean value (true or false)"
    if kind == "greater_than_equal":
        return f"{name} must not be less than {ctx.get('ge')}"
    if kind == "greater_than":
        return f"{name} must be greater than {ctx.get('gt')}"
    if kind == "less_than_equal":
        return f"{name} must not be greater than {ctx.get('le')}"
    if kind == "less_than":
        return f"{name} must be less than {ctx.get('lt')}"
    if kind in ("literal_error", "enum"):
        expected = str(ctx.get("expected", "")).replace("'", "").replace(" or ", ", ")
        return f"{name} must be one of the following values: {expected}"
    if kind in ("string_too_long",):
        return f"{name} must be shorter than or equal to {ctx.get('max_length')} characters"
    return f"{name}: {error.get('msg', 'invalid value')}"


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> Response:
        return error_response(exc.status, exc.message, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        messages = list(dict.fromkeys(validation_message(e) for e in exc.errors()))
        return error_response(400, "; ".join(messages) or "Bad Request")

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 404:
            message = f"Cannot {request.method} {request.url.path}"
        else:
            message = str(exc.detail) if exc.detail else HTTPStatus(exc.status_code).phrase
        return error_response(exc.status_code, message, getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return error_response(500, "Internal server error")
