"""The seed pages' own examples against the real server (`api` fixture, real HTTP on loopback).

`tests/data/seed_examples.json` holds every request (Python, curl) and response example of the seed
pages, extracted by `scripts/extract_seed_examples.py` (the seeds are not in the repository; the test that
re-extracts them is skipped without them). Here:

1. the committed file is what the script extracts today;
2. our response to the same endpoint has the SHAPE of each response example: the same keys at every
   level, the same JSON types (numbers are one type), lists item by item against the seed's first item,
   columnar exports (`columns` + `data`) by their exact columns and per-position row types;
3. every Python and curl request example runs unchanged but for the host and the token, and succeeds.
"""

from __future__ import annotations

import importlib.util
import json
import re
import shlex
import sys
import types
from pathlib import Path
from typing import Any

import httpx
import pytest

REPO = Path(__file__).resolve().parent.parent
DATA = REPO / "tests" / "data" / "seed_examples.json"
SEEDS = REPO.parent / "shared" / "seeds"
SEED_HOSTS = ("https://ht-api.coinmarketman.com", "https://api.example.com")
SEED_TOKEN = "YOUR_API_TOKEN"

EXAMPLES: list[dict[str, Any]] = json.loads(DATA.read_text(encoding="utf-8"))["examples"]
RESPONSES = [e for e in EXAMPLES if e["kind"] == "response"]
PYTHON = [e for e in EXAMPLES if e["kind"] == "python"]
CURL = [e for e in EXAMPLES if e["kind"] == "curl"]

# --- 2. the shape of our responses -------------------------------------------------------------------

SERIES_START = "2026-11-19T00:00:00Z"  # the landed store holds 2026-11-18T00:00Z .. 2026-11-20T00:00Z
# The request for each seed endpoint: a path and parameters that give data (and, for paginated series, a
# `nextCursor`, which the seeds show as a string). Exports and the open-positions file answer 302 and
# are followed to the file; the open-positions preview is the JSON form (`Accept: application/json`, sent
# with every request here: a JSON client's header).
REQUESTS: dict[str, tuple[str, dict[str, Any]]] = {
    "/api/external/positions/open/coin/{coin}": ("/api/external/positions/open/coin/BTC", {}),
    "/api/external/positions": ("/api/external/positions", {"start": SERIES_START, "limit": 20}),
    "/api/external/positions/coins": ("/api/external/positions/coins", {}),
    "/api/external/position-metrics/coin/{coin}": ("/api/external/position-metrics/coin/BTC",
                                                   {"start": SERIES_START, "limit": 5}),
    "/api/external/exports/coins/{coin}/position-metrics": ("/api/external/exports/coins/BTC/position-metrics", {}),
    "/api/external/exports/coins/{coin}/position-breakdown-by-size": (
        "/api/external/exports/coins/BTC/position-breakdown-by-size", {}),
    "/api/external/positions/heatmap": ("/api/external/positions/heatmap", {}),
    "/api/external/exports/total-wallets-equity-chart-data": (
        "/api/external/exports/total-wallets-equity-chart-data", {}),
    "/api/external/position-metrics/general": ("/api/external/position-metrics/general",
                                               {"start": SERIES_START, "limit": 5}),
    "/api/external/metrics/perp-volume": ("/api/external/metrics/perp-volume", {"start": SERIES_START, "limit": 5}),
}

# Keys our response may carry beyond the seed example, documented by the seed text ("$" the body, "[*]"
# any list item). The `/positions/coins` text says each entry includes the coin ticker; the example
# shows it too, so this entry is kept only as the documented exception.
ALLOWED_EXTRA_KEYS: dict[str, set[str]] = {
    "/api/external/positions/coins": {"$[*].coin"},
}
# Fields documented as nullable: our null is fine where the seed example shows a number or a string.
NULLABLE = {"liquidationPrice", "liquidationProgress", "closeTime", "bias", "midPrice", "premiumPrice",
            "percentRisk"}


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"  # ints and floats are one JSON type (a count shown as 25640 may be 25640.0)
    if isinstance(value, str):
        return "str"
    if isinstance(value, list):
        return "list"
    if isinstance(value, dict):
        return "dict"
    raise TypeError(f"not a JSON value: {value!r}")


def _pattern(path: str) -> str:
    return re.sub(r"\[\d+\]", "[*]", path)


def shape_mismatches(ours: Any, seeds: list[Any], path: str = "$", *, name: str | None = None,
                     allowed_extra: frozenset[str] = frozenset()) -> list[str]:
    """Every place where `ours` does not have the shape the seed example shows, as 'path: problem'.

    `seeds` are the seed's values at this place: one at the top, then, inside a list, the values of every
    seed item (the seed's first item fixes the keys; all items tell the types and whether null occurs).
    `name` is the key or column the value sits under. A null of ours is accepted where the seed shows null
    (in any item) or for a documented nullable field (NULLABLE); where the seed shows only nulls, any value.
    """
    present = [s for s in seeds if s is not None]
    kinds = sorted({json_type(s) for s in present})
    kind = json_type(ours)
    if kind == "null":
        if len(present) < len(seeds) or (name in NULLABLE and set(kinds) <= {"number", "str"}):
            return []
        return [f"{path}: null where the seed has {'/'.join(kinds)} ({_short(present[0])})"]
    if not present:
        return []
    if kind not in kinds:
        return [f"{path}: {kind} ({_short(ours)}) where the seed has {'/'.join(kinds)} ({_short(present[0])})"]
    found: list[str] = []
    if kind == "dict":
        dicts = [s for s in present if isinstance(s, dict)]
        reference = dicts[0]
        missing = sorted(set(reference) - set(ours))
        extra = sorted(k for k in set(ours) - set(reference) if f"{_pattern(path)}.{k}" not in allowed_extra)
        if missing:
            found.append(f"{path}: missing keys {missing}")
        if extra:
            found.append(f"{path}: extra keys {extra}")
        columnar = _is_columnar(reference)
        if columnar:
            found += _columnar_mismatches(ours, [d for d in dicts if _is_columnar(d)], path)
        for key in reference:
            if key in ours and not (columnar and key in ("columns", "data")):
                found += shape_mismatches(ours[key], [d[key] for d in dicts if key in d], f"{path}.{key}",
                                          name=key, allowed_extra=allowed_extra)
    elif kind == "list":
        items = [item for s in present if isinstance(s, list) for item in s]
        if items and not ours:
            found.append(f"{path}: empty list where the seed has items (nothing to compare: use other parameters)")
        for i, item in enumerate(ours):
            found += shape_mismatches(item, items, f"{path}[{i}]", name=name, allowed_extra=allowed_extra)
    return found


def _is_columnar(seed: dict) -> bool:
    columns = seed.get("columns")
    return ("data" in seed and isinstance(columns, list) and all(isinstance(c, str) for c in columns)
            and isinstance(seed["data"], list))


def _columnar_mismatches(ours: dict, seeds: list[dict], path: str) -> list[str]:
    """`columns` exactly; the `data` rows (or the one flat row, as in `athData`) by length and per-position
    type, against every row of the seed."""
    found: list[str] = []
    columns = seeds[0]["columns"]
    if ours.get("columns") != columns:
        found.append(f"{path}.columns: {ours.get('columns')} where the seed has {columns}")
    data = ours.get("data")
    if not isinstance(data, list):
        return [*found, f"{path}.data: {json_type(data)} where the seed has list"]
    if seeds[0]["data"] and isinstance(seeds[0]["data"][0], list):  # rows
        seed_rows = [row for s in seeds for row in s["data"] if isinstance(row, list)]
        if not data:
            found.append(f"{path}.data: no rows where the seed has rows")
        rows = [(f"{path}.data[{i}]", row) for i, row in enumerate(data)]
    else:  # one flat row
        seed_rows = [s["data"] for s in seeds]
        rows = [(f"{path}.data", data)]
    width = len(seed_rows[0])
    # Name a position by its column only where the columns line up with the rows (the seed's position-metrics
    # rows leave out their first column, `coin`).
    names = columns if len(columns) == width else [None] * width
    for row_path, row in rows:
        if not isinstance(row, list):
            found.append(f"{row_path}: {json_type(row)} where the seed has a row (list)")
        elif len(row) != width:
            found.append(f"{row_path}: row of {len(row)} values where the seed's rows have {width}")
        else:
            for j, value in enumerate(row):
                found += shape_mismatches(value, [r[j] for r in seed_rows if len(r) > j], f"{row_path}[{j}]",
                                          name=names[j])
    return found


def _short(value: Any) -> str:
    text = json.dumps(value)
    return text if len(text) <= 60 else text[:57] + "..."


def test_every_response_example_has_a_request():
    assert RESPONSES, "no response examples in tests/data/seed_examples.json"
    assert {e["endpoint"] for e in RESPONSES} <= set(REQUESTS), "a seed endpoint without a request in REQUESTS"


@pytest.mark.parametrize("example", RESPONSES, ids=lambda e: e["endpoint"].removeprefix("/api/external"))
def test_response_has_the_seed_shape(api, example):
    path, params = REQUESTS[example["endpoint"]]
    with api.client(follow_redirects=True) as client:
        response = client.get(path, params=params, headers={"Accept": "application/json"})
    assert response.status_code == 200, f"GET {path} {params}: {response.status_code} {response.text[:500]}"
    assert response.headers["content-type"].startswith("application/json"), response.headers["content-type"]
    allowed = frozenset(ALLOWED_EXTRA_KEYS.get(example["endpoint"], ()))
    found = shape_mismatches(response.json(), [example["json"]], allowed_extra=allowed)
    assert not found, (f"GET {path} {params} differs from the seed example of {example['endpoint']} "
                       f"({example['page']}):\n  " + "\n  ".join(found[:60])
                       + (f"\n  ... and {len(found) - 60} more" if len(found) > 60 else ""))


def test_shape_comparison_itself():
    seed = {"a": 1, "b": [{"c": "x", "bias": 0.5, "lo": None}, {"c": "w", "bias": 0.1, "lo": 3}], "n": None,
            "m": {"columns": ["t", "v"], "data": [["2026-01-01", None], ["2026-01-02", 1.5]]}}
    good = {"a": 2.5, "b": [{"c": "y", "bias": None, "lo": None}, {"c": "z", "bias": 1, "lo": 2}], "n": [1],
            "m": {"columns": ["t", "v"], "data": [["2026-01-02", 3], ["2026-01-03", None]]}}
    assert shape_mismatches(good, [seed]) == []
    bad = {"a": "1", "b": [{"c": None, "d": 1, "bias": "x", "lo": "y"}], "n": None,
           "m": {"columns": ["t"], "data": [["x"], "y"]}}
    assert shape_mismatches(bad, [seed]) == [
        '$.a: str ("1") where the seed has number (1)',
        "$.b[0]: extra keys ['d']",
        '$.b[0].c: null where the seed has str ("x")',
        '$.b[0].bias: str ("x") where the seed has number (0.5)',
        '$.b[0].lo: str ("y") where the seed has number (3)',
        "$.m.columns: ['t'] where the seed has ['t', 'v']",
        "$.m.data[0]: row of 1 values where the seed's rows have 2",
        "$.m.data[1]: str where the seed has a row (list)",
    ]
    assert shape_mismatches({"b": 1}, [{"a": 1}]) == ["$: missing keys ['a']", "$: extra keys ['b']"]
    assert shape_mismatches([{"coin": "BTC"}], [[{}]], allowed_extra=frozenset({"$[*].coin"})) == []
    assert shape_mismatches([], [[{}]]) == ["$: empty list where the seed has items (nothing to compare: use other "
                                            "parameters)"]


# --- 1. the committed file is a fresh extraction ------------------------------------------------------

@pytest.mark.skipif(not SEEDS.is_dir(), reason=f"the seed pages are not here ({SEEDS})")
def test_committed_examples_are_a_fresh_extraction():
    script = REPO / "scripts" / "extract_seed_examples.py"
    spec = importlib.util.spec_from_file_location("extract_seed_examples", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    fresh = module.render(module.extract(SEEDS))
    assert DATA.read_text(encoding="utf-8") == fresh, "run: python scripts/extract_seed_examples.py"


# --- 3. the seed's request examples, run as written ---------------------------------------------------

def with_our_server(text: str, api) -> str:
    for host in SEED_HOSTS:
        text = text.replace(host, api.base_url)
    return text.replace(SEED_TOKEN, api.key)


class _Response:
    """An httpx response with the parts of `requests.Response` the examples use."""

    def __init__(self, response: httpx.Response):
        self._response = response
        self.status_code = response.status_code
        self.headers = response.headers
        self.text = response.text
        self.content = response.content
        self.url = str(response.url)
        self.ok = response.status_code < 400
        self.history = response.history

    def json(self) -> Any:
        return self._response.json()

    def raise_for_status(self) -> None:  # requests raises for 4xx and 5xx only
        if self.status_code >= 400:
            raise httpx.HTTPStatusError(f"{self.status_code} for {self.url}: {self.text[:300]}",
                                        request=self._response.request, response=self._response)


def requests_shim(sent: list[_Response]) -> types.ModuleType:
    """A module named `requests` over httpx, enough for the seed examples; every response lands in `sent`."""
    module = types.ModuleType("requests")

    def request(method: str, url: str, params=None, headers=None, allow_redirects: bool = True,
                timeout: float = 60, **kwargs) -> _Response:
        response = _Response(httpx.request(method, url, params=params, headers=headers,
                                           follow_redirects=allow_redirects, timeout=timeout, **kwargs))
        sent.append(response)
        return response

    def get(url: str, params=None, **kwargs) -> _Response:  # like requests: follows redirects unless told not to
        return request("GET", url, params=params, **kwargs)

    module.request, module.get = request, get
    module.Response = _Response
    module.HTTPError = httpx.HTTPStatusError
    return module


@pytest.mark.parametrize("example", PYTHON, ids=lambda e: e["endpoint"].removeprefix("/api/external"))
def test_python_example_runs(api, example, monkeypatch):
    code = with_our_server(example["text"], api)
    sent: list[_Response] = []
    monkeypatch.setitem(sys.modules, "requests", requests_shim(sent))
    namespace: dict[str, Any] = {"__name__": "seed_example"}
    if re.search(r"\bKEY\b", code):
        namespace["KEY"] = api.key  # the heatmap example reads the key from a variable it does not define
    exec(compile(code, f"<{example['page']}: {example['endpoint']}>", "exec"), namespace)

    assert sent, "the example sent no request"
    for response in sent:
        assert response.status_code == 200, f"{response.url}: {response.status_code} {response.text[:500]}"
    produced = {k: namespace[k] for k in ("response", "result", "data", "metrics", "export_data", "csv_data")
                if k in namespace}
    assert produced, "the example produced none of response/result/data/metrics/export_data/csv_data"
    for name, value in produced.items():
        if name == "response":
            assert value.status_code == 200, f"response: {value.status_code}"
        elif name == "csv_data":
            assert isinstance(value, str) and value.startswith("id,address,"), f"csv_data: {value[:200]!r}"
        else:
            assert isinstance(value, dict | list), f"{name}: {type(value).__name__}"
            assert not (isinstance(value, dict) and "statusCode" in value), f"{name} is an error: {value}"


def parse_curl(command: str) -> tuple[str, str, dict[str, str], bool]:
    """(method, url, headers, follow redirects) of a curl command line."""
    tokens = shlex.split(command.replace("\\\n", " "))
    assert tokens and tokens[0] == "curl", command
    method, url, headers, location = "GET", None, {}, False
    it = iter(tokens[1:])
    for token in it:
        if token in ("--request", "-X"):
            method = next(it)
        elif token in ("--header", "-H"):
            name, _, value = next(it).partition(":")
            headers[name.strip()] = value.strip()
        elif token in ("--location", "-L"):
            location = True
        elif token == "--url":
            url = next(it)
        elif not token.startswith("-") and url is None:
            url = token
        else:
            raise AssertionError(f"curl option not understood: {token}")
    assert url, command
    return method, url, headers, location


def test_parse_curl():
    assert parse_curl("curl -X GET \\\n  'https://h/a?b=1' \\\n  -H 'accept: application/json' -L") == (
        "GET", "https://h/a?b=1", {"accept": "application/json"}, True)


@pytest.mark.parametrize("example", CURL, ids=lambda e: e["endpoint"].removeprefix("/api/external"))
def test_curl_example_runs(api, example):
    method, url, headers, location = parse_curl(with_our_server(example["text"], api))
    response = httpx.request(method, url, headers=headers, follow_redirects=location, timeout=60)
    expected = (200,) if location else (200, 302)
    assert response.status_code in expected, f"{method} {url}: {response.status_code} {response.text[:500]}"
    if response.status_code == 302:
        # absolute, as an S3 pre-signed URL: programs that run `new URL(location)` need a base
        assert response.headers["location"].startswith(f"{api.base_url}/api/external/downloads/"), \
            response.headers["location"]
