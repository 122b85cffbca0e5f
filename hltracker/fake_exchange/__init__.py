"""The fake exchange: the market simulator served over HTTP as Hyperliquid's info API, on loopback.

It exists to test the HTTP source (`sources/hyperliquid_http`) end to end against a real server whose
every answer can be checked against the simulator's own snapshot. `hltracker fake-exchange` runs it from
the command line; tests use `FakeExchange`:

    with FakeExchange("small", seed=0, weight_limit=1200, window_seconds=60) as fx:
        httpx.post(fx.url + "/info", json={"type": "clearinghouseState", "user": addr, "dex": ""})
        fx.step()                    # one simulator step (the profile's 15 minutes), between requests
        expected = fx.snapshot()     # frames.snapshot_of(fx.market, profile), under the lock
        fx.counts()                  # {"served": {type: n}, "invalid": {...}, "throttled": {...}}

Routes (Hyperliquid's):

- `POST /info`: the JSON body rendered by `WireRenderer.render` (JSON, 200). A body that is not JSON,
  not an object, or a request the renderer refuses (unknown type, bad user, unknown dex) answers 422
  text/plain "Failed to deserialize the JSON body into the target type: <reason>", as the real API does.
  Each request, valid or not, is charged `request_weight(body)` against its client IP's sliding window
  (`WeightWindow(weight_limit, window_seconds)`); one that does not fit answers 429 text/plain with a
  `Retry-After` header (whole seconds, rounded up) and is not charged. `weight_limit=None` (CLI: 0) means
  no budget, as a node's `--serve-info` endpoint.
- `GET /Mainnet/leaderboard`: the leaderboard file of `stats-data.hyperliquid.xyz` (`WireRenderer.leaderboard`),
  no weight.

Control routes, the fake exchange's own (Hyperliquid has nothing under `/fake/`):

- `POST /fake/step`, body empty or `{"count": n}`: steps the simulator n times (default 1), each a step of
  the profile's length (or `step=`); answers `{"time": ms, "steps": steps since genesis, "stepped": n}`.
- `GET /fake/state`: `{"time", "steps", "profile", "seed", "wallets", "stepSeconds", "weightLimit",
  "windowSeconds", "weightUsed": {client IP: weight in the window}, "served", "invalid", "throttled"}`.

With `step_every` > 0 the app also steps once every that many wall-clock seconds. Renders and steps hold
one lock, so an answer is always a single state of the market; hold `FakeExchange.lock` to read `market`
consistently while clients are being served.
"""

from hltracker.fake_exchange.app import DESERIALIZE_ERROR, create_app
from hltracker.fake_exchange.exchange import SimulatedExchange
from hltracker.fake_exchange.server import FakeExchange

__all__ = ["DESERIALIZE_ERROR", "FakeExchange", "SimulatedExchange", "create_app"]
