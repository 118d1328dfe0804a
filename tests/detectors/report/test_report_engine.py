"""The after-action report of drills and a false alarm driven through the real engine.

The engine runs on a clock the test sets, so every step of every incident happens at a
known second; the steps go through the engine's API like a playbook's. The report is then
read from the engine's incident log (read-only, while the engine still runs) and its
numbers are checked against the timeline the test drove.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from detectors.cli import main
from detectors.report.document import Period
from detectors.report.write import write_report
from detectors.rules.confirmation import AlertTransition
from detectors.zoo.store import ModelStore
from tests.real_engine import ServedEngine, serve_engine

TOKEN = "report-token"
T0 = datetime(2026, 11, 2, 8, 0, tzinfo=UTC).timestamp()
"""The first drill: Monday 2 November 2026, 08:00 UTC."""


class SetClock:
    """The engine's clock: the time the test says it is."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@dataclass
class Driver:
    """Plays the incidents against the served engine, as a playbook and the SRO would."""

    served: ServedEngine
    session: aiohttp.ClientSession
    clock: SetClock

    async def send(self, path: str, body: dict[str, Any], at: float) -> dict[str, Any]:
        self.clock.now = at
        async with self.session.post(
            self.served.base + path, json=body, headers={"Authorization": f"Bearer {TOKEN}"}
        ) as response:
            assert response.status in (200, 201), await response.text()
            answer: dict[str, Any] = await response.json()
            return answer

    async def drill(self, rule: str, at: float) -> str:
        body = {"camera_id": "plaza", "rule": rule, "seconds": 600}
        return str((await self.send("/test_alert", body, at))["event_id"])

    async def real_alert(self, rule: str, at: float) -> str:
        """A real (non-drill) alert through the engine's own alert path, as a rule raises it."""
        self.clock.now = at
        engine = self.served.engine
        transition = AlertTransition(
            alert_id=uuid.uuid4().hex,
            camera_id="plaza",
            rule=rule,
            zone=None,
            state="started",
            timestamp=at,
            started_at=at,
            confidence=0.8,
            scores=(0.8,),
        )
        change = await engine.alerts.record(engine.camera("plaza"), transition, None)
        assert change is not None
        return transition.alert_id

    async def page(self, event_id: str, at: float) -> None:
        body = {"recipients": ["notify.sro_phone"], "channel": "page", "by": "Playbook"}
        await self.send(f"/events/{event_id}/notified", body, at)
        step = {"step": "paged", "step_id": f"{event_id}-page", "by": "Playbook"}
        await self.send(f"/events/{event_id}/actions", step | {"targets": ["notify.sro_phone"]}, at)

    async def step(self, event_id: str, step: str, at: float, **extra: Any) -> None:
        body = {"step": step, "step_id": f"{event_id}-{step}", "by": "Playbook"} | extra
        await self.send(f"/events/{event_id}/actions", body, at)
        # A retry of the same step (a playbook run that repeated the call) changes nothing.
        await self.send(f"/events/{event_id}/actions", body, at + 1)


@pytest.fixture
async def driver(
    tmp_path: Path, samples_dir: Path, model_store: ModelStore, socket_enabled: None
) -> AsyncIterator[Driver]:
    clock = SetClock(T0 - 60)
    served = await serve_engine(tmp_path / "data", samples_dir, model_store, TOKEN, clock=clock)
    async with aiohttp.ClientSession() as session:
        yield Driver(served, session, clock)
    await served.stop()


LOCKS = {"targets": ["lock.front_door"], "confirmed": {"lock.front_door": True}}


async def play_the_term(d: Driver) -> dict[str, str]:
    """Four drills (one dismissed) and one real false alarm, each second known."""
    ids = {}
    ids["d1"] = one = await d.drill("weapon", T0)
    await d.page(one, T0 + 4)
    await d.send(f"/events/{one}/acknowledge", {"by": "SRO Diaz"}, T0 + 20)
    await d.step(one, "doors_locked", T0 + 30, **LOCKS)
    await d.step(one, "pa_played", T0 + 32, targets=["media_player.pa_hall"])
    await d.step(one, "mode_set", T0 + 33, note="lockdown")
    await d.step(one, "all_clear", T0 + 600)

    ids["d2"] = two = await d.drill("fight", T0 + 3600)
    await d.page(two, T0 + 3606)
    await d.send(f"/events/{two}/acknowledge", {"by": "SRO Diaz"}, T0 + 3640)
    await d.step(two, "doors_locked", T0 + 3650, **LOCKS)

    ids["d3"] = three = await d.drill("weapon", T0 + 7200)
    await d.page(three, T0 + 7210)
    await d.send(f"/events/{three}/acknowledge", {"by": "Officer Lee"}, T0 + 7212)
    await d.step(three, "doors_locked", T0 + 7290, **LOCKS)

    ids["d4"] = four = await d.drill("weapon", T0 + 10800)
    await d.page(four, T0 + 10803)
    await d.send(f"/events/{four}/dismiss", {"by": "SRO Diaz", "reason": "umbrella"}, T0 + 10815)

    ids["r1"] = real = await d.real_alert("weapon", T0 + 14400)
    await d.page(real, T0 + 14402)
    await d.send(f"/events/{real}/dismiss", {"by": "SRO Diaz", "reason": "phone"}, T0 + 14408)
    return ids


def _spread(count: int, median: float | None, p90: float | None) -> dict[str, object]:
    return {"count": count, "median": median, "p90": p90}


async def test_the_report_numbers_are_the_timeline_that_happened(
    driver: Driver, tmp_path: Path
) -> None:
    ids = await play_the_term(driver)
    log = tmp_path / "data" / "incidents.db"
    period = Period(T0 - 3600, T0 + 86400, UTC)
    output = tmp_path / "report.json"
    document = write_report(log, period, "json", output)  # the engine still runs
    assert json.loads(output.read_text()) == json.loads(json.dumps(document))
    totals = document["totals"]
    assert totals["incidents"] == {"real": 1, "drill": 4}
    assert totals["by_rule"] == {
        "fight": {"real": 0, "drill": 1},
        "weapon": {"real": 1, "drill": 3},
    }
    assert totals["by_camera"] == {"Plaza": {"real": 1, "drill": 4}}
    busy = {hour: row for hour, row in totals["by_hour"].items() if row != {"real": 0, "drill": 0}}
    assert busy == {
        "08": {"real": 0, "drill": 1},
        "09": {"real": 0, "drill": 1},
        "10": {"real": 0, "drill": 1},
        "11": {"real": 0, "drill": 1},
        "12": {"real": 1, "drill": 0},
    }
    assert totals["false_alarms"] == {
        "real": {"dismissed": 1, "total": 1, "share": 1.0},
        "drill": {"dismissed": 1, "total": 4, "share": 0.25},
    }
    # Drills: first pages after 4, 6, 10, 3 s; decisions after 20, 40, 12, 15 s; doors
    # locked after 30, 50, 90 s. Nearest-rank 90th percentile of four: the 4th value.
    assert totals["response_times"] == {
        "first_page": {"real": _spread(1, 2.0, 2.0), "drill": _spread(4, 5.0, 10.0)},
        "decision": {"real": _spread(1, 8.0, 8.0), "drill": _spread(4, 17.5, 40.0)},
        "lockdown": {"real": _spread(0, None, None), "drill": _spread(3, 50.0, 90.0)},
    }
    assert document["coverage"]["known"] is False
    incidents = {i["id"]: i for i in document["incidents"]}
    first = incidents[ids["d1"]]
    assert [(m["step"], m["seconds"], m["by"]) for m in first["timeline"]] == [
        ("detected", 0.0, ""),
        ("paged", 4.0, "Playbook"),
        ("confirmed", 20.0, "SRO Diaz"),
        ("doors_locked", 30.0, "Playbook"),
        ("pa_played", 32.0, "Playbook"),
        ("mode_set", 33.0, "Playbook"),
        ("all_clear", 600.0, "Playbook"),
    ]
    assert first["timeline"][3]["detail"] == "lock.front_door ✓"
    assert first["timeline"][5]["detail"] == "lockdown"
    assert (first["kind"], first["outcome"], first["rule"]) == ("drill", "confirmed", "weapon")
    assert first["model"]["name"] == "nanodet-m-416"
    assert isinstance(first["thresholds"], dict)
    false_alarm = incidents[ids["r1"]]
    assert (false_alarm["kind"], false_alarm["outcome"]) == ("real", "dismissed")
    assert [(m["step"], m["seconds"], m["by"], m["detail"]) for m in false_alarm["timeline"]] == [
        ("detected", 0.0, "", "Plaza"),
        ("paged", 2.0, "Playbook", "notify.sro_phone (page)"),
        ("dismissed", 8.0, "SRO Diaz", "phone"),
        ("ended", 8.0, "", "dismissed"),
    ]
    # Filters: one rule, one camera; an empty period is an empty report, not an error.
    fights = write_report(
        log, Period(period.start, period.end, UTC, rules=("fight",)), "json", output
    )
    assert [i["id"] for i in fights["incidents"]] == [ids["d2"]]
    nothing = write_report(
        log, Period(period.start, period.end, UTC, cameras=("gym",)), "json", output
    )
    assert nothing["totals"]["incidents"] == {"real": 0, "drill": 0}


async def test_the_cli_writes_html_and_a_pdf_whose_first_page_is_an_image(
    driver: Driver, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    await play_the_term(driver)
    data = tmp_path / "data"
    common = ["report", "--data-dir", str(data), "--from", "2026-11-02", "--to", "2026-11-02"]
    html = tmp_path / "out" / "report.html"
    assert main([*common, "--timezone", "UTC", "--format", "html", "--output", str(html)]) == 0
    assert f"{html}: 1 real and 4 drill alert(s)" in capsys.readouterr().out
    page = html.read_text()
    assert page.count("<svg") == 3  # matplotlib's charts, inline
    assert page.count("class=incident") == 5
    assert 'src="http' not in page and "<script" not in page  # nothing loaded from elsewhere
    assert "Dismissed as a false alarm" in page and "Doors locked" in page
    kept = write_report(
        data / "incidents.db", Period(T0 - 60, T0 + 86400, UTC), "json", tmp_path / "r.json"
    )
    # The evidence the log kept, embedded; nothing else is a picture.
    assert page.count("data:image/jpeg;base64,") == sum(i["snapshot"] for i in kept["incidents"])
    assert (html.stat().st_mode & 0o777) == 0o600

    pdf = tmp_path / "out" / "report.pdf"
    assert main([*common, "--timezone", "UTC", "--format", "pdf", "--output", str(pdf)]) == 0
    assert pdf.read_bytes().startswith(b"%PDF-")
    pdftoppm = shutil.which("pdftoppm")
    assert pdftoppm is not None, "scripts/setup installs poppler-utils"
    subprocess.run(
        [pdftoppm, "-png", "-r", "50", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "page")],
        check=True,
        timeout=120,
    )
    png = tmp_path / "page-1.png"
    assert png.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert png.stat().st_size > 10_000  # a page with text and charts, not a blank one


def test_bad_arguments_and_a_missing_log_say_what_is_wrong(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = str(tmp_path / "r.json")
    base = ["report", "--format", "json", "--output", out]
    cases = [
        ([*base, "--from", "02/11/2026", "--to", "2026-11-30"], "expected a date (YYYY-MM-DD)"),
        ([*base, "--from", "2026-11-30", "--to", "2026-11-01"], "--to must be after --from"),
        (
            [*base, "--from", "2026-11-01", "--to", "2026-11-30", "--timezone", "Mars/Base"],
            "unknown time zone 'Mars/Base'",
        ),
        (
            [*base, "--from", "2026-11-01", "--to", "2026-11-30", "--log", str(tmp_path / "no.db")],
            "no incident log at",
        ),
    ]
    for argv, message in cases:
        assert main(argv) == 1
        assert message in capsys.readouterr().err
    assert not (tmp_path / "r.json").exists()
