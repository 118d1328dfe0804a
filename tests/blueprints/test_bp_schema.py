"""Every playbook loads with Home Assistant's own blueprint code and passes check_config."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import pytest
import yaml
from homeassistant.components.automation.config import (
    AUTOMATION_BLUEPRINT_SCHEMA,
    PLATFORM_SCHEMA,
)
from homeassistant.components.blueprint.models import Blueprint, BlueprintInputs
from homeassistant.components.blueprint.schemas import BLUEPRINT_SCHEMA
from homeassistant.components.script.config import SCRIPT_ENTITY_SCHEMA
from homeassistant.helpers import selector
from homeassistant.util.yaml import load_yaml_dict

from .examples import AUTOMATIONS, SCRIPTS
from .playbook import BLUEPRINTS, ROOT

AUTOMATION_DIR = BLUEPRINTS / "automation" / "school_guard"
SCRIPT_DIR = BLUEPRINTS / "script" / "school_guard"


def test_every_blueprint_file_has_example_inputs() -> None:
    assert sorted(p.name for p in AUTOMATION_DIR.glob("*.yaml")) == sorted(AUTOMATIONS)
    assert sorted(p.name for p in SCRIPT_DIR.glob("*.yaml")) == sorted(SCRIPTS)


def accept(config: dict[str, Any], value: Any) -> Any:
    """Validate ``value`` with the selector the blueprint declares (as the UI would)."""
    chosen = cast("Callable[[Any], Any]", selector.selector(config))
    return chosen(value)


CASES = [(AUTOMATION_DIR / name, "automation", inputs) for name, inputs in AUTOMATIONS.items()] + [
    (SCRIPT_DIR / name, "script", inputs) for name, inputs in SCRIPTS.items()
]
DEMO_PLAYBOOKS = yaml.safe_load((ROOT / "demo" / "homeassistant" / "playbooks.yaml").read_text())
DEMO_CASES = [
    (
        BLUEPRINTS / "automation" / item["use_blueprint"]["path"],
        "automation",
        item["use_blueprint"]["input"],
    )
    for item in DEMO_PLAYBOOKS
]


def test_the_demo_imports_every_automation_playbook() -> None:
    """The demo shows what a school would see: every playbook, each once."""
    paths = [item["use_blueprint"]["path"] for item in DEMO_PLAYBOOKS]
    assert sorted(paths) == sorted(f"school_guard/{name}" for name in AUTOMATIONS)


@pytest.mark.parametrize(
    ("path", "domain", "inputs"), CASES + DEMO_CASES, ids=lambda v: getattr(v, "name", "")
)
def test_blueprint_schema_inputs_and_selectors(
    path: Path, domain: str, inputs: dict[str, Any]
) -> None:
    """Home Assistant's Blueprint refuses an undefined !input; selectors must accept the values."""
    schema = AUTOMATION_BLUEPRINT_SCHEMA if domain == "automation" else BLUEPRINT_SCHEMA
    blueprint = Blueprint(
        load_yaml_dict(str(path)), path=str(path), expected_domain=domain, schema=schema
    )
    assert blueprint.validate() is None
    assert blueprint.metadata["source_url"].endswith(
        f"blueprints/{domain}/school_guard/{path.name}"
    )
    declared = blueprint.inputs
    assert set(inputs) <= set(declared)
    for key, value in inputs.items():
        accept(declared[key]["selector"], value)
    for key, spec in declared.items():
        if "default" in spec:
            assert (
                spec["default"] in ("", [], None)
                or accept(spec["selector"], spec["default"]) is not None
            ), key

    config = {"use_blueprint": {"path": f"school_guard/{path.name}", "input": inputs}}
    bound = BlueprintInputs(blueprint, config)
    bound.validate()
    substituted = bound.async_substitute()
    if domain == "automation":
        PLATFORM_SCHEMA({"id": "x", "alias": "x", **substituted})
    else:
        SCRIPT_ENTITY_SCHEMA(substituted)


@pytest.mark.parametrize(("path", "domain", "inputs"), CASES, ids=lambda v: getattr(v, "name", ""))
def test_every_input_is_optional_so_phones_alone_make_a_playbook(
    path: Path, domain: str, inputs: dict[str, Any]
) -> None:
    """A facilities person can save any playbook after picking only phones.

    Home Assistant refuses an instance that leaves out an input without a default
    (``MissingInput``); none of the playbooks has one, so an instance with nothing but a
    phone validates and substitutes.
    """
    schema = AUTOMATION_BLUEPRINT_SCHEMA if domain == "automation" else BLUEPRINT_SCHEMA
    blueprint = Blueprint(load_yaml_dict(str(path)), expected_domain=domain, schema=schema)
    assert [key for key, spec in blueprint.inputs.items() if "default" not in spec] == []
    phones = [key for key, spec in blueprint.inputs.items() if "device" in spec["selector"]]
    phones = [key for key in phones if key.endswith("_phones")]
    assert phones, "recipients are picked as phones"
    for key in phones:
        assert blueprint.inputs[key]["selector"]["device"]["filter"] == [
            {"integration": "mobile_app"}
        ]
    config = {"use_blueprint": {"path": "x", "input": {phones[0]: ["phone-device-id"]}}}
    bound = BlueprintInputs(blueprint, config)
    bound.validate()
    assert bound.async_substitute()


def test_a_required_input_would_be_refused() -> None:
    """The check above can fail: Home Assistant refuses an instance missing a required input."""
    from homeassistant.components.blueprint.errors import MissingInput

    path = AUTOMATION_DIR / "fight_response.yaml"
    data = load_yaml_dict(str(path))
    del data["blueprint"]["input"]["recipients"]["input"]["responder_phones"]["default"]
    blueprint = Blueprint(data, expected_domain="automation", schema=BLUEPRINT_SCHEMA)
    with pytest.raises(MissingInput, match="responder_phones"):
        BlueprintInputs(blueprint, {"use_blueprint": {"path": "x", "input": {}}}).validate()


def test_no_form_prose_says_school_guard_in_code_spelling() -> None:
    """Names, descriptions and section titles say "School Guard", never ``school_guard``."""

    def prose(node: Any, where: str) -> list[str]:
        found = []
        if isinstance(node, dict):
            for key, value in node.items():
                if key in ("name", "description") and isinstance(value, str):
                    if "school_guard" in value:
                        found.append(f"{where}.{key}: {value}")
                elif key != "selector":
                    found += prose(value, f"{where}.{key}")
        return found

    offenders = []
    for path, _, _ in CASES:
        data = load_yaml_dict(str(path))
        offenders += prose(data["blueprint"], path.name)
        offenders += prose(data.get("fields", {}), f"{path.name}.fields")
    assert offenders == []


def check_config(tmp_path: Path, blueprints: Path) -> tuple[int, str]:
    """Run ``hass --script check_config`` on a configuration using every playbook."""
    config_dir = tmp_path / "config"
    config_dir.mkdir()
    (config_dir / "blueprints").symlink_to(blueprints, target_is_directory=True)
    (config_dir / "custom_components").symlink_to(
        ROOT / "custom_components", target_is_directory=True
    )
    automations = [
        {
            "id": name.removesuffix(".yaml"),
            "alias": name.removesuffix(".yaml"),
            "use_blueprint": {"path": f"school_guard/{name}", "input": inputs},
        }
        for name, inputs in AUTOMATIONS.items()
    ]
    scripts = {
        name.removesuffix(".yaml"): {
            "use_blueprint": {"path": f"school_guard/{name}", "input": inputs}
        }
        for name, inputs in SCRIPTS.items()
    }
    (config_dir / "automations.yaml").write_text(yaml.safe_dump(automations), encoding="utf-8")
    (config_dir / "scripts.yaml").write_text(yaml.safe_dump(scripts), encoding="utf-8")
    (config_dir / "configuration.yaml").write_text(
        "homeassistant:\n  name: Lincoln High\n"
        "automation: !include automations.yaml\n"
        "script: !include scripts.yaml\n",
        encoding="utf-8",
    )
    hass_bin = Path(sys.executable).with_name("hass")
    result = subprocess.run(
        [str(hass_bin), "--script", "check_config", "-c", str(config_dir)],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        cwd=config_dir,
        timeout=300,
    )
    return result.returncode, result.stdout + result.stderr


def test_check_config_passes_with_every_blueprint(tmp_path: Path) -> None:
    """check_config exits 0 even for a broken blueprint, so its log must be clean too."""
    returncode, output = check_config(tmp_path, BLUEPRINTS)
    assert returncode == 0, output
    assert "Testing configuration at" in output, output
    assert "ERROR" not in output, output
    assert "Failed config" not in output, output


def test_check_config_reports_a_broken_blueprint(tmp_path: Path) -> None:
    """The check above can fail: one unknown key in one playbook is reported by name."""
    broken = tmp_path / "blueprints"
    shutil.copytree(BLUEPRINTS, broken)
    weapon = broken / "automation" / "school_guard" / "weapon_response.yaml"
    weapon.write_text(
        weapon.read_text(encoding="utf-8").replace(
            "mode: parallel\n", "mode: parallel\nbogus: 1\n"
        ),
        encoding="utf-8",
    )
    _, output = check_config(tmp_path, broken)
    assert "generated invalid automation" in output, output
    assert "extra keys not allowed @ data['bogus']" in output, output


def test_every_playbook_turns_phones_into_actions_with_the_same_template() -> None:
    """One way from a phone to its notify action, the weapon playbook's, everywhere."""

    def templates(path: Path) -> dict[str, str]:
        data = load_yaml_dict(str(path))
        variables = data.get("variables") or data["sequence"][0]["variables"]
        return {
            key.removesuffix("_targets"): str(value)
            for key, value in variables.items()
            if key.endswith("_targets") and "namespace(phones=" in str(value)
        }

    def general(group: str, template: str) -> str:
        return template.replace(f"{group}_phones", "G_phones").replace(f"{group}_actions", "G_a")

    (reference,) = {
        general(group, template)
        for group, template in templates(AUTOMATION_DIR / "weapon_response.yaml").items()
    }
    for path, _, _ in CASES:
        found = templates(path)
        assert found, path.name
        assert {general(group, t) for group, t in found.items()} == {reference}, path.name
