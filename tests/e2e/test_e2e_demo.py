"""End to end: the whole demo stack (camera-sim, engine, MQTT, a real Home Assistant).

The stack runs in a private network namespace (``unshare -n``) so its fixed ports can
never clash with anything on the machine and nothing it does reaches a network. Its
services then listen on that namespace's loopback only, which a client in this test
process could not reach. So the test starts a single namespaced driver
(tests/e2e/e2e_driver.py) that starts ``scripts/demo --headless``, performs every check
through Home Assistant's APIs, takes the dashboard screenshot, stops the demo and writes
what it observed to a JSON file; the assertions below are made on those observations.
The driver runs in its own process group, killed at teardown whatever happens.
"""

from __future__ import annotations

import json
import os
import re
import signal
import struct
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
DRIVER = ROOT / "tests" / "e2e" / "e2e_driver.py"
DOCS_IMAGES = ROOT / "docs" / "images"
UPDATE_DOCS_ENV = "SCHOOL_GUARD_UPDATE_SCREENSHOT"
"""Set to 1 to refresh the docs' screenshots; otherwise test runs leave the tree clean."""
ENGINE_ID = re.compile(r"\b[0-9a-f]{32}\b")
"""An alert or engine id: never something staff should have to read."""
RUN_TIMEOUT = 900
FORMS = (
    "fight_response",
    "person_down_response",
    "intrusion_response",
    "camera_health",
    "all_clear",
)
"""The forms the driver reads besides the weapon playbook's (which it also screenshots)."""
NO_MATCH = "No matching entities found"
"""Home Assistant 2025.4's entity picker shows this placeholder in the box when nothing fits."""


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from a PNG's IHDR chunk (after checking the signature)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


@pytest.fixture
def screenshots(tmp_path: Path) -> Path:
    """Where the driver saves its screenshots (docs/images when refreshing the docs)."""
    if os.environ.get(UPDATE_DOCS_ENV) == "1":
        return DOCS_IMAGES
    return tmp_path / "screenshots"


@pytest.fixture
def driver_run(socket_enabled: None, tmp_path: Path, screenshots: Path) -> dict[str, Any]:
    """Run the namespaced driver to completion; its observations (plus its output)."""
    result = tmp_path / "result.json"
    log_path = tmp_path / "driver.log"
    command = [
        "unshare",
        "-n",
        "sh",
        "-c",
        'ip link set lo up && exec "$0" "$@"',
        sys.executable,
        str(DRIVER),
        "--result",
        str(result),
        "--state-dir",
        str(tmp_path / "demo"),
        "--screenshots",
        str(screenshots),
    ]
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            process.wait(timeout=RUN_TIMEOUT)
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                try:
                    process.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait()
    output = log_path.read_text(errors="replace")
    demo_log = tmp_path / "demo.log"
    if demo_log.exists():
        output += "\n--- scripts/demo ---\n" + demo_log.read_text(errors="replace")[-6000:]
    observations: dict[str, Any] = (
        json.loads(result.read_text()) if result.exists() else {"error": "no result file"}
    )
    observations["output"] = output[-12000:]
    observations["exit_status"] = process.returncode
    return observations


def shown(run: dict[str, Any], page: str) -> str:
    """The visible text of a page the driver opened, after checking its screenshot."""
    seen = run[page]
    data = Path(seen["path"]).read_bytes()
    assert seen["bytes"] == len(data)
    assert png_size(data) == (1440, 1500)
    assert len(data) > 50_000, f"{page}: a rendered page, not a blank one"
    text: str = seen["text"]
    assert not ENGINE_ID.findall(text), f"{page} shows raw ids: {ENGINE_ID.findall(text)}"
    return text


def test_demo_stack_end_to_end(driver_run: dict[str, Any]) -> None:
    """Person counts, drill -> playbook -> locked doors, dismissal, camera outage, pages."""
    run = driver_run
    assert run["error"] is None, f"{run['error']}\n{run['output']}"
    assert run["exit_status"] == 0, run["output"]

    assert set(run["processes"]) == {
        "demo",
        "mosquitto",
        "camera-sim-main-entrance",
        "camera-sim-cafeteria",
        "engine",
        "homeassistant",
    }
    counts = run["person_counts"]
    assert sorted(counts) == ["cafeteria", "main-entrance"]
    assert all(float(value) >= 0 for value in counts.values()), counts
    # As a school's cameras: RTSP, detection on the sub-stream, evidence from the snapshot URI.
    sub_stream = {"codec": "h264", "width": 640, "height": 480, "decoder": "cpu"}
    assert run["engine_streams"] == {
        camera: {"profile": "sub", "stream": sub_stream, "snapshot": ["uri", "main"]}
        for camera in ("main-entrance", "cafeteria")
    }

    drill = run["drill"]
    assert drill["drill"] is True
    assert drill["weapon"] == "on"
    # The playbook's logbook lines; "DRILL:" may or may not be followed by a space.
    playbook = r"^Weapon response: DRILL: ?"
    assert re.match(
        rf"{playbook}weapon alert at Building A, ground floor \(camera Main entrance, 100 %\); "
        r"paging sro phone, front office$",
        run["paged"],
    ), run["paged"]
    assert drill["event_id"] not in run["paged"], "no alert id in what staff read"

    response = run["response"]
    assert response["front_doors"] == "locked"
    assert response["cafeteria_doors"] == "locked"
    assert response["announcement"] == "This is a drill. Lockdown. Locks, lights, out of sight."
    assert re.match(
        rf"{playbook}.+ confirmed the alert at Building A, ground floor$",
        response["confirmed_line"],
    )
    assert run["mode"] == "lockdown_drill", "a drilled lockdown reads as one"

    dismissal = run["dismissal"]
    assert dismissal["weapon"] == "off"
    assert dismissal["alert_line"] == (
        "Main entrance: Weapon alert dismissed as a false alarm at Building A, ground floor — DRILL"
    )
    # Nobody outside was paged: a drill never reaches outside recipients.
    assert re.match(
        rf"{playbook}the alert at Building A, ground floor was dismissed; telling "
        r"sro phone, front office$",
        dismissal["playbook_line"],
    ), dismissal["playbook_line"]

    assert run["outage"] == {"before": "on", "down": "off", "back": "on"}

    # What staff see in a browser: a drill that reads as one, names instead of ids.
    during = shown(run, "drill_dashboard")
    assert "Main entrance: Weapon (DRILL)" in during, during
    assert "Lockdown (drill)" in during, during
    camera_page = shown(run, "camera_page")
    assert "Main entrance" in camera_page
    assert "School Guard simulator" in camera_page, "the camera's make, from its ONVIF probe"
    form = shown(run, "playbook_form")
    assert "School Guard: weapon seen (Lockdown or Secure)" in form, form
    assert "SRO's phone (gets Confirm / Dismiss)" in form, "phones are picked as devices"
    # Every playbook's form, as a facilities person reads it: no ids, no action names, no
    # "school_guard", recipients as phones, and no picker showing its placeholder ("No
    # matching entities found") as if it were the value of an empty field.
    forms = {"weapon_response": run["playbook_form"]}
    forms |= {name: run[f"form_{name}"] for name in FORMS}
    for name, seen in forms.items():
        text, fields = seen["text"], seen["fields"]
        assert not ENGINE_ID.findall(text), (name, ENGINE_ID.findall(text))
        assert "school_guard" not in text, (name, text)
        assert "notify." not in text, (name, "recipients are phones, not typed actions")
        assert "Cameras to watch" in fields or name == "all_clear", (name, sorted(fields))
        assert any(row.startswith("People outside the school") for row in fields), name
        for row, values in fields.items():
            if NO_MATCH in values:
                assert any(v and v != NO_MATCH for v in values), (name, row, values)
        voice = fields.get("Voice for the announcement (optional)")
        assert voice is None or voice == [], (name, "the voice field reads empty", voice)
    assert {
        name
        for name, seen in forms.items()
        if "Voice for the announcement (optional)" in seen["fields"]
    } == {"weapon_response", "fight_response", "all_clear"}
    assert run["playbooks"] == {
        f"school_guard_demo_{name}": "on" for name in forms if name != "all_clear"
    }
    after = shown(run, "dashboard")
    assert "Main entrance: Weapon (DRILL)" in after

    # The drill's clip and strip in the media browser, the clip played by Chromium through
    # Home Assistant's signed path (the engine token never reaches the browser).
    media = run["media_browser"]
    assert re.match(
        r"^\d\d:\d\d:\d\d weapon DRILL 100% \((open|acknowledged)\)$", media["incident"]
    )
    assert media["files"] == ["Clip", "Keyframe strip"]
    assert (media["mime_type"], media["signed"]) == ("video/mp4", True)
    played = run["clip_played"]
    assert played["error"] is None, played
    assert played["t"] > 1.0, "currentTime advanced"
    assert (played["w"], played["h"]) == (640, 480), "a frame of the sub-stream"

    assert run["shutdown"] == {"exit_status": 0, "survivors": []}
    assert run["engine_log"] == {"fatal": [], "readers_stopped": True}
