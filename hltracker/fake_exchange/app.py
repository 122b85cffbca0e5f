"""The fake exchange's ASGI app: Hyperliquid's routes, then its own control routes under `/fake/`.

Renders and steps run in worker threads (holding the exchange's lock), so a slow step never stalls the
event loop that accepts connections and answers 429s.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from hltracker.fake_exchange.exchange import LEADERBOARD, MAX_STEPS_PER_REQUEST, SimulatedExchange
from hltracker.sources.simulator.wire import WireRequestError

DESERIALIZE_ERROR = "Failed to deserialize the JSON body into the target type"


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _kind(body: object) -> str:
    kind = body.get("type") if isinstance(body, dict) else None
    return kind if isinstance(kind, str) else "?"


def _unprocessable(reason: str) -> PlainTextResponse:
    return PlainTextResponse(f"{DESERIALIZE_ERROR}: {reason}", status_code=422)


async def _read_json(request: Request) -> tuple[object, str | None]:
    """The parsed body, or (None, why it is not JSON)."""
    raw = await request.body()
    try:
        return json.loads(raw), None
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
        return None, f"not JSON: {type(exc).__name__}: {exc}"


def create_app(exchange: SimulatedExchange, step_every: float = 0.0) -> Starlette:
    """The app over `exchange`; `step_every` > 0 steps the simulator once every that many wall-clock
    seconds while the app runs (0: only on `POST /fake/step`)."""
    if step_every < 0:
        raise ValueError(f"step_every must be 0 or positive, got {step_every}")

    async def info(request: Request) -> Response:
        # The real API's errors are axum's JSON extractor's, which refuses a body not labelled JSON.
        if request.headers.get("content-type", "").split(";")[0].strip().lower() != "application/json":
            exchange.count("invalid", "?")
            return PlainTextResponse("Expected request with `Content-Type: application/json`", status_code=415)
        body, problem = await _read_json(request)
        kind = _kind(body)
        weight, wait = exchange.charge(_client(request), body)
        if wait > 0:
            exchange.count("throttled", kind)
            return PlainTextResponse(
                f"rate limited: this request weighs {weight}, the budget is {exchange.weight_limit} per "
                f"{exchange.window_seconds:g} s; retry in {wait:.2f} s",
                status_code=429, headers={"Retry-After": str(max(1, math.ceil(wait)))})
        if problem is None:
            try:
                content = await run_in_threadpool(exchange.render, body)
            except WireRequestError as exc:
                problem = str(exc)
        if problem is not None:
            exchange.count("invalid", kind)
            return _unprocessable(problem)
        exchange.count("served", kind)
        return Response(content, media_type="application/json")

    async def leaderboard(request: Request) -> Response:
        content = await run_in_threadpool(exchange.leaderboard)
        exchange.count("served", LEADERBOARD)
        return Response(content, media_type="application/json")

    async def step(request: Request) -> Response:
        count = 1
        if await request.body():
            body, problem = await _read_json(request)
            count = body.get("count", 1) if isinstance(body, dict) else None
            if problem or not isinstance(count, int) or isinstance(count, bool):
                count = 0
        if not 1 <= count <= MAX_STEPS_PER_REQUEST:
            return PlainTextResponse(f'expected an empty body or {{"count": n}}, 1 <= n <= {MAX_STEPS_PER_REQUEST}',
                                     status_code=422)

        def step_and_read() -> dict:
            with exchange.lock:  # the clock as this step left it, even with the ticker running
                exchange.step(count)
                return {**exchange.clock(), "stepped": count}

        return JSONResponse(await run_in_threadpool(step_and_read))

    async def state(request: Request) -> Response:
        return JSONResponse(await run_in_threadpool(exchange.state))

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette):
        ticker = asyncio.create_task(_tick(exchange, step_every)) if step_every > 0 else None
        try:
            yield
        finally:
            if ticker is not None:
                ticker.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await ticker

    routes = [
        Route("/info", info, methods=["POST"]),
        Route("/Mainnet/leaderboard", leaderboard, methods=["GET"]),
        Route("/fake/step", step, methods=["POST"]),
        Route("/fake/state", state, methods=["GET"]),
    ]
    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.exchange = exchange
    return app


async def _tick(exchange: SimulatedExchange, every: float) -> None:
    while True:
        await asyncio.sleep(every)
        await run_in_threadpool(exchange.step)
