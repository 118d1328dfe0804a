"""Property-based fuzzing of the OpenAPI document's operations: no 5xx, ever.

The two ONVIF operations are left out on purpose: fuzzed, they would make the engine probe
arbitrary hosts and send multicast, and only loopback may ever be a target here. They have
their own tests against the camera simulator.
"""

from __future__ import annotations

import asyncio
import shutil
import sys
from pathlib import Path

from tests.detectors.service.conftest import TOKEN, RunningEngine


async def test_schemathesis_finds_no_server_error(running_engine: RunningEngine) -> None:
    binary = shutil.which("schemathesis") or str(Path(sys.executable).parent / "schemathesis")
    process = await asyncio.create_subprocess_exec(
        binary,
        "run",
        running_engine.base + "/openapi.json",
        "-H",
        f"Authorization: Bearer {TOKEN}",
        "--checks",
        "not_a_server_error",
        "--max-examples",
        "15",
        "--exclude-path-regex",
        "^/api/v1/onvif/",
        "--seed",
        "20261128",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(process.communicate(), timeout=600)
    text = output.decode(errors="replace")
    assert process.returncode == 0, text[-3000:]
    assert "Selected: 18/20" in text, text[-3000:]
    assert "Tested: 18" in text, text[-3000:]
    assert "No issues found" in text
