"""Property-based fuzzing of the OpenAPI document's operations: no 5xx, and every answer
conforms to the document (status, content type, response schema).

The engine runs in a private network namespace with the fuzzer (``fuzz_roundtrip.py``):
camera bodies that validate make the engine open what they name, and only loopback may
ever be a target. Every route is fuzzed, the ONVIF operations included: their targets are
pinned to hostile HTTP, TLS and WS-Discovery peers on loopback (``fuzz_hooks.py``), and
whatever multicasts stays inside the namespace.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import yaml

from detectors.protocol.openapi import OPERATIONS
from tests.real_engine import engine_config

ROOT = Path(__file__).resolve().parents[3]


async def test_schemathesis_finds_no_server_error(
    tmp_path: Path, samples_dir: Path, samples_env: dict[str, str]
) -> None:
    config = tmp_path / "engine.yaml"
    config.write_text(yaml.safe_dump(engine_config(tmp_path / "data", samples_dir)))
    script = Path(__file__).with_name("fuzz_roundtrip.py")
    arguments = [
        "--checks",
        "not_a_server_error,status_code_conformance,content_type_conformance,"
        "response_schema_conformance",
        "--max-examples",
        "15",
        "--seed",
        "20261128",
    ]
    quoted = " ".join(f"'{argument}'" for argument in arguments)
    process = await asyncio.create_subprocess_exec(
        "unshare",
        "-n",
        "sh",
        "-c",
        f'ip link set lo up && exec "{sys.executable}" "{script}" "{config}" {quoted}',
        cwd=ROOT,
        env=samples_env | {"PYTHONPATH": str(ROOT)},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(process.communicate(), timeout=900)
    text = output.decode(errors="replace")
    engine_log = (tmp_path / "engine.log").read_text(errors="replace")
    assert process.returncode == 0, text[-3000:] + "\nengine log:\n" + engine_log[-3000:]
    # Every operation of the API is fuzzed (a new route is counted here by itself).
    every = len(OPERATIONS)
    assert f"Selected: {every}/{every}" in text, text[-3000:]
    assert f"Tested: {every}" in text, text[-3000:]
    assert "unexpected error serving" not in engine_log, engine_log[-3000:]
    answers = (tmp_path / "onvif_answers.txt").read_text().splitlines()
    # The hostile peers were reached: answers only they can cause came back, never a 5xx.
    probe_codes = {line.split()[2] for line in answers if line.startswith("probe ")}
    assert probe_codes & {"camera_not_onvif", "camera_timeout", "camera_error"}, answers
    assert "discover 200 -" in answers, answers
    assert "No issues found" in text
