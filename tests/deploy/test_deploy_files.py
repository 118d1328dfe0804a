"""The shipped deployment files start the engine the way the CLI and config accept.

No container runtime or systemd PID 1 runs here, so these check what can be checked
for real: systemd's own verifier on the unit, the CLI parser on every command line the
files run, the configuration loader on the add-on's first-start config, and bash's
parser on the add-on's entry point.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from detectors.cli import build_parser
from detectors.config import parse_config

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
SCHOOL_GUARD = Path(sys.executable).parent / "school-guard"


def _unit_exec_start(text: str) -> list[str]:
    line = next(x for x in text.splitlines() if x.startswith("ExecStart="))
    return shlex.split(line.removeprefix("ExecStart="))


def test_systemd_unit_passes_systemd_analyze_verify(tmp_path: Path) -> None:
    verifier = shutil.which("systemd-analyze")
    assert verifier is not None, "systemd-analyze is installed by scripts/setup"
    text = (DEPLOY / "systemd" / "school-guard.service").read_text()
    # The unit names the installed path; verify against this checkout's executable.
    unit = tmp_path / "school-guard.service"
    unit.write_text(text.replace("/opt/school-guard/bin/school-guard", str(SCHOOL_GUARD)))
    result = subprocess.run(
        [verifier, "verify", str(unit)], capture_output=True, text=True, check=False
    )
    assert (result.returncode, result.stderr) == (0, "")


def test_systemd_unit_runs_serve_with_flags_the_cli_accepts() -> None:
    argv = _unit_exec_start((DEPLOY / "systemd" / "school-guard.service").read_text())
    assert argv[0] == "/opt/school-guard/bin/school-guard"
    args = build_parser().parse_args(argv[1:])
    assert (args.config, args.data_dir, args.log_format) == (
        Path("/etc/school-guard/school_guard.yaml"),
        Path("/var/lib/school-guard"),
        "json",
    )


def test_container_entrypoint_and_copies() -> None:
    text = (DEPLOY / "container" / "Containerfile").read_text()
    entrypoint = json.loads(re.search(r"^ENTRYPOINT (\[.*\])$", text, re.M).group(1))  # type: ignore[union-attr]
    assert entrypoint[0] == "school-guard"
    args = build_parser().parse_args(entrypoint[1:])
    assert (args.host, args.data_dir) == ("0.0.0.0", Path("/data"))
    copied = re.findall(r"^COPY (?!--from)(.+) \S+$", text, re.M)
    sources = [s for line in copied for s in line.split()]
    assert sources == ["pyproject.toml", "README.md", "detectors"]
    for source in sources:
        assert (ROOT / source).exists(), source
    assert "models verify" in text, "models are verified when baked in"


def _addon_config() -> dict[str, object]:
    loaded = yaml.safe_load(
        (DEPLOY / "homeassistant-addon" / "school_guard" / "config.yaml").read_text()
    )
    assert isinstance(loaded, dict)
    return loaded


def test_addon_config_has_what_the_supervisor_needs() -> None:
    config = _addon_config()
    for key in ("name", "version", "slug", "description", "arch", "startup", "boot"):
        assert key in config, key
    assert config["arch"] == ["amd64"]
    devices = config["devices"]
    assert isinstance(devices, list)
    assert any(d.startswith("/dev/dri/") for d in devices)
    assert any(d.startswith("/dev/accel/") for d in devices)
    options, schema = config["options"], config["schema"]
    assert isinstance(options, dict) and isinstance(schema, dict)
    assert set(options) <= set(schema)
    assert config["ports"] == {"8765/tcp": 8765}


def test_addon_entry_point_parses_and_its_first_config_loads(tmp_path: Path) -> None:
    run = DEPLOY / "homeassistant-addon" / "school_guard" / "run.sh"
    assert subprocess.run(["bash", "-n", str(run)], check=False).returncode == 0
    text = run.read_text()
    template = re.search(r"<<YAML\n(.*?)\nYAML\n", text, re.S)
    assert template is not None
    options = _addon_config()["options"]
    assert isinstance(options, dict)
    rendered = template.group(1).replace("$(option device)", str(options["device"]))
    config = parse_config(yaml.safe_load(rendered))
    assert (config.api.host, config.api.port, config.inference.device) == ("0.0.0.0", 8765, "AUTO")
    assert config.cameras == ()


def test_addon_entry_point_runs_serve_with_flags_the_cli_accepts() -> None:
    text = (DEPLOY / "homeassistant-addon" / "school_guard" / "run.sh").read_text()
    line = re.search(r"^args=\((.*)\)$", text, re.M)
    assert line is not None
    argv = shlex.split(line.group(1).replace('"$(option log_format)"', "json"))
    argv += re.findall(r"args\+=\((.*)\)", text)
    args = build_parser().parse_args([a.strip('"') for a in argv])
    assert (args.command, args.log_format, args.zeroconf) == ("serve", "json", True)
    assert args.data_dir == Path("/data/engine")
