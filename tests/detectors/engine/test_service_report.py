"""The after-action report over the API: the summary numbers and the HTML page."""

from __future__ import annotations

from tests.detectors.engine.conftest import RunningEngine


async def test_the_summary_counts_drills_apart_and_the_page_is_html(
    running_engine: RunningEngine,
) -> None:
    empty = await (await running_engine.get("/report/summary")).json()
    assert (empty["days"], empty["incidents"]) == (30, {"real": 0, "drill": 0})
    assert empty["false_alarm_share"] == {"real": None, "drill": None}
    ids = []
    for rule in ("weapon", "fight"):
        created = await running_engine.send(
            "POST", "/test_alert", {"camera_id": "plaza", "rule": rule, "seconds": 60}
        )
        ids.append((await created.json())["event_id"])
    await running_engine.send("POST", f"/events/{ids[0]}/acknowledge", {"by": "SRO"})
    dismissed = await running_engine.send("POST", f"/events/{ids[1]}/dismiss", {"by": "SRO"})
    decided = [(await (await running_engine.get(f"/events/{i}")).json()) for i in ids]
    waits = sorted(
        [
            decided[0]["acknowledged_at"] - decided[0]["started_at"],
            decided[1]["dismissed_at"] - decided[1]["started_at"],
        ]
    )
    assert dismissed.status == 200
    summary = await (await running_engine.get("/report/summary?days=7")).json()
    assert summary["days"] == 7
    assert summary["to"] - summary["from"] == 7 * 86_400
    assert summary["incidents"] == {"real": 0, "drill": 2}
    assert summary["dismissed"] == {"real": 0, "drill": 1}
    assert summary["false_alarm_share"] == {"real": None, "drill": 0.5}
    assert summary["median_seconds_to_decision"] == {"real": None, "drill": sum(waits) / 2}
    assert summary["median_seconds_to_lockdown"] == {"real": None, "drill": None}

    page = await running_engine.get("/report.html?days=7")
    assert (page.status, page.content_type) == (200, "text/html")
    text = await page.text()
    assert text.startswith("<!DOCTYPE html>") and text.count("<svg") == 3
    assert text.count("class=incident") == 2

    for bad in ("days=0", "days=367", "days=week"):
        for path in ("/report/summary", "/report.html"):
            answer = await running_engine.get(f"{path}?{bad}")
            error = (await answer.json())["error"]
            assert (answer.status, error["code"]) == (400, "bad_request"), (path, bad)
            assert "days" in error["message"]
