"""Schemathesis over the app's own OpenAPI spec, against the real server (`api` fixture, real HTTP).

For every operation of `/openapi.json`, up to MAX_EXAMPLES generated requests (valid and invalid ones),
each checked for: no 5xx, a documented status code, a body matching the declared response model
(hltracker/api/schemas.py) and, for JSON answers, a documented content type. Each operation is a
subtest, so one report lists every operation that fails.

Random coins, cohort ids and dates almost never name data, so the 200 bodies would go unchecked: the
schema's hooks replace, in about half the cases, the coin, segment, size bucket, export file, dates and
addresses the generator drew by values that exist in the test store, and `nextCursor` by text of a
cursor's shape (`payload.mac`), so the signature check is reached. Generation is derandomized: the same
cases every run.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from hltracker.exports import EXPORTS

MAX_EXAMPLES = 25  # the bound of the run: a number of cases, never a wall-clock budget
DOWNLOAD_PATH = "/api/external/downloads/{path}"


@pytest.fixture(scope="session")
def api_schema(api):
    """The spec as the live server serves it; every generated request carries the API key."""
    headers = {"Authorization": f"Bearer {api.key}"}
    schema = schemathesis.openapi.from_url(api.base_url + "/openapi.json", headers=headers, timeout=30)
    schema.config.update(base_url=api.base_url, headers=headers, request_timeout=30)
    real = real_values(api)

    def steer(values: dict | None) -> st.SearchStrategy:
        known = {name: real[name] for name in values if name in real} if isinstance(values, dict) else {}
        if not known:
            return st.just(values)
        return st.one_of(st.just(values), st.fixed_dictionaries(known).map(lambda new: {**values, **new}))

    @schema.hook
    def flatmap_path_parameters(context, path_parameters):
        return steer(path_parameters)

    @schema.hook
    def flatmap_query(context, query):
        return steer(query)

    return schema


def real_values(api) -> dict[str, st.SearchStrategy]:
    """Strategies for the parameters that name data, drawing values that exist in the test store."""
    with api.client() as client:
        coins = [c["coin"] for c in client.get("/api/external/positions/coins").json()]
        positions = client.get("/api/external/positions", params={"limit": 20}).json()["positions"]
        liquidated = client.get("/api/external/fills/liquidation", params={"limit": 20}).json()["fills"]
        trades = [f["tradeHash"] for f in liquidated if f["tradeHash"]]
    addresses = sorted({p["address"] for p in positions} | {f["address"] for f in liquidated})
    assert coins and addresses and trades
    cohort = st.integers(1, 16)
    dates = ["2026-11-18", "2026-11-19T00:00:00Z", "2026-11-19T06:30:00.000Z", "2026-11-19T12:00:00+00:00"]
    return {
        "coin": st.sampled_from([*coins[:4], coins[0].lower()]),
        "segment": cohort, "segmentId": cohort,
        "sizeBucketId": st.integers(1, 10),
        "file": st.sampled_from(sorted(EXPORTS)),
        "start": st.sampled_from(dates[:3]),
        "end": st.sampled_from([*dates[2:], "2026-11-21T00:00:00Z"]),
        "address": st.lists(st.sampled_from(addresses), min_size=1, max_size=3),
        "hash": st.sampled_from(trades),  # closed trades (/closed-trades/{hash})
        "startTime": st.sampled_from(dates[:3]),
        "endTime": st.sampled_from([*dates[2:], "2026-11-21T00:00:00Z"]),
        "segmentIds": st.lists(st.integers(1, 16).map(str), min_size=1, max_size=3),
        "nextCursor": st.builds("{}.{}".format, st.text(min_size=1, max_size=24), st.text(min_size=1, max_size=48)),
    }


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, phases=[Phase.explicit, Phase.generate],
          suppress_health_check=list(HealthCheck))
def test_operation_conforms(case):
    response = case.call(allow_redirects=False)  # a 302 to a download is the documented answer
    checks = [not_a_server_error, status_code_conformance, response_schema_conformance]
    # Content type only where the answer is JSON: a 302 has no body, and a download serves the export
    # file itself (CSV or JSON, whatever the file is).
    is_file = case.operation.path == DOWNLOAD_PATH and response.status_code == 200
    if response.status_code != 302 and not is_file:
        checks.append(content_type_conformance)
    case.validate_response(response, checks=checks)
