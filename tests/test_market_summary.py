"""`/state/summary`, `/perps/coin/{coin}/segment-metrics` and the deprecated `/segments/bias` through the
real app, checked against the seed routes that show the same figures."""

from __future__ import annotations

import pytest

P = "/api/external"
START = "2026-11-18T00:00:00Z"


def test_the_state_summary_repeats_the_figures_of_the_seed_routes(api):
    with api.client() as c:
        summary = c.get(f"{P}/state/summary").json()
        general = c.get(f"{P}/position-metrics/general", params={"limit": 1}).json()["metrics"][0]
        volume = c.get(f"{P}/metrics/perp-volume", params={"start": START, "limit": 1}).json()["metrics"][0]
        assert summary["createdAt"] == general["createdAt"] == volume["createdAt"]
        assert summary["perpPositionsMetrics"] == {"count": general["count"], "openInterest": general["openInterest"]}
        assert summary["perpVolume"] == volume["volume"]
        assert summary["countActiveTraders"] == c.get(f"{P}/wallets", params={"limit": 1}).json()["totalCount"]
        for key, window in (("segments", "all"), ("segments24h", "24h"), ("segments7d", "7d"), ("segments30d", "30d")):
            assert [s["segmentId"] for s in summary[key]] == list(range(1, 17))
            for cell in summary[key][:3] + summary[key][10:12]:
                seg = c.get(f"{P}/segments/{cell['segmentId']}/summary", params={"positionAge": window}).json()
                assert cell["countTraders"] == seg["summary"]["countTraders"]
                assert cell["perpBias"] == seg["summary"]["perpBias"]
                assert cell["openValue"] == seg["summary"]["positionValue"]
                assert cell["countOpenPositions"] == seg["openPerpsSummary"]["countOpenPositions"]
        # the cohorts of one axis hold every trader once
        assert sum(s["countTraders"] for s in summary["segments"] if s["segmentId"] in (1, 2, 3, 4, 5, 6, 7, 16)) \
            == sum(s["countTraders"] for s in summary["segments"] if s["segmentId"] in range(8, 16))


def test_coin_segment_metrics_start_with_the_latest_figures_then_every_12_hours(api):
    with api.client() as c:
        body = c.get(f"{P}/perps/coin/btc/segment-metrics", params={"positionRecencyTimeframe": "7d"}).json()
        assert body["coin"] == "BTC" and [s["segment"]["id"] for s in body["segments"]] == list(range(1, 17))
        for series in body["segments"][:4]:
            sid = series["segment"]["id"]
            latest = c.get(f"{P}/position-metrics/coin/BTC/segment/{sid}",
                           params={"start": START, "limit": 1, "positionRecencyTimeframe": "7d"}).json()["metrics"][0]
            now = series["metrics"][0]
            assert now["timestamp"] == latest["createdAt"]
            assert (now["positionCount"], now["totalPositionValue"]) == (latest["positionCount"],
                                                                        latest["totalPositionValue"])
            stamps = [m["timestamp"] for m in series["metrics"][1:]]
            assert stamps == sorted(stamps, reverse=True) and all(t[11:] in ("00:00:00.000Z", "12:00:00.000Z")
                                                                   for t in stamps)
        hip3 = next(r["coin"] for r in c.get(f"{P}/positions/coins").json() if ":" in r["coin"])
        r = c.get(f"{P}/perps/coin/{hip3}/segment-metrics")
        assert r.status_code == 404 and r.json()["message"] == f"{hip3} not found"
        assert c.get(f"{P}/perps/coin/NOPE/segment-metrics").status_code == 404
        assert c.get(f"{P}/perps/coin/BTC/segment-metrics", params={"positionRecencyTimeframe": "1y"}).status_code \
            == 400


@pytest.mark.parametrize("segment", [1, 8, 16])
def test_the_deprecated_segments_bias_matches_the_bias_history(api, segment):
    with api.client() as c:
        body = c.get(f"{P}/segments/bias").json()
        history = c.get(f"{P}/segments/{segment}/bias-history").json()
    assert body["historySnapshotStructure"] == history["historySnapshotStructure"]
    rows = next(s["history"] for s in body["segments"] if s["segment"]["id"] == segment)
    assert len(rows) == 7  # the latest snapshot, then 2-hourly over 12 hours
    by_time = {row[0]: row for row in history["history"]}
    assert all(by_time[row[0]] == row for row in rows[1:])
