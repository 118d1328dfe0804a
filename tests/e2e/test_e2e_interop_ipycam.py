"""An ONVIF camera implementation that is not ours, through discovery, probe and the engine.

What our own simulator accepts proves little: ``ipycam`` (PyPI, pinned, installed by
scripts/setup into ``.venv-interop`` because it needs the full ``opencv-python``, which
cannot share a venv with our headless build) has its own ONVIF, WS-Discovery and RTSP
code. It answers WS-Discovery with a bare ``ProbeMatch`` and an unencoded space in its
name scope, both real-camera quirks the engine must read.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
INTEROP_PYTHON = ROOT / ".venv-interop" / "bin" / "python"


@pytest.fixture(scope="module")
def ipycam_run(samples_dir: Path) -> dict[str, Any]:
    assert INTEROP_PYTHON.exists(), "run scripts/setup: it installs ipycam into .venv-interop"
    driver = Path(__file__).with_name("ipycam_driver.py")
    school_guard = Path(sys.executable).with_name("school-guard")
    command = (
        f'ip link set lo up && exec "{sys.executable}" "{driver}" '
        f'"{samples_dir / "vtest.avi"}" "{INTEROP_PYTHON}" "{school_guard}"'
    )
    result = subprocess.run(
        ["unshare", "-n", "sh", "-c", command],
        capture_output=True,
        text=True,
        timeout=420,
        cwd=ROOT,
        check=False,
        env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "HOME": str(Path.home())},
    )
    assert result.returncode == 0, result.stderr[-4000:]
    return dict(json.loads(result.stdout.strip().splitlines()[-1]))


def test_an_independent_camera_is_discovered_with_its_quirks(ipycam_run: dict[str, Any]) -> None:
    assert ipycam_run["discovered"] == [["Gym Hallway", "127.0.0.1", 18080]]


def test_an_independent_camera_is_probed(ipycam_run: dict[str, Any]) -> None:
    assert ipycam_run["device"] == ["PythonCam", "VirtualCam-1"]
    assert ipycam_run["profiles"] == [
        ["MainStream", "H264", 640, 480, "rtsp"],
        ["SubStream", "H264", 320, 240, "rtsp"],
    ]


def test_the_engine_reads_and_analyses_an_independent_camera(ipycam_run: dict[str, Any]) -> None:
    camera = ipycam_run["camera"]
    assert camera["status"]["online"], camera["status"]
    assert camera["stats"]["analysed"] >= 25
    assert ipycam_run["most_people"] >= 2  # vtest.avi shows 2-10 pedestrians
    # Detection reads the smallest profile at least 640 px wide: the 640x480 one here.
    detection = camera["streams"]["detection"]
    assert (detection["profile"]["name"], detection["profile"]["width"]) == ("MainStream", 640)
    assert detection["stream"]["codec"] == "h264"
    assert not ipycam_run["engine_log_has_password"]
