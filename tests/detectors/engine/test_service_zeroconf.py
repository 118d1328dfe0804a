"""zeroconf advertisement, inside a private network namespace so nothing leaves the machine."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def test_engine_is_advertised_and_withdrawn() -> None:
    script = Path(__file__).with_name("zeroconf_roundtrip.py")
    result = subprocess.run(
        ["unshare", "-n", "sh", "-c", f'ip link set lo up && exec "{sys.executable}" "{script}"'],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        check=False,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"},
    )
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen["found"] == {
        "engine_id": "abc123def456",
        "name": "Lincoln High",
        "version": "0.1.0",
        "api": "/api/v1",
        "port": "8765",
    }
    assert seen["after_stop"] is None
