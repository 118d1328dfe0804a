"""quality_scale.yaml, manifest.json, hacs.json and translations agree with each other.

hassfest is not installed with Home Assistant (it lives in the core repository's
``script/`` folder), so the rule names of Home Assistant 2025.4's hassfest are written
out here, by tier; the checks mirror its schema: a status of done/todo, or exempt with a
comment, and no unknown rule.
"""

from __future__ import annotations

import json
import re
import string
from pathlib import Path
from typing import Any

import voluptuous as vol
import yaml

from custom_components.school_guard import device_trigger

ROOT = Path(__file__).resolve().parents[3]
PACKAGE = ROOT / "custom_components" / "school_guard"

RULES_2025_4: dict[str, tuple[str, ...]] = {
    "bronze": (
        "action-setup",
        "appropriate-polling",
        "brands",
        "common-modules",
        "config-flow",
        "config-flow-test-coverage",
        "dependency-transparency",
        "docs-actions",
        "docs-high-level-description",
        "docs-installation-instructions",
        "docs-removal-instructions",
        "entity-event-setup",
        "entity-unique-id",
        "has-entity-name",
        "runtime-data",
        "test-before-configure",
        "test-before-setup",
        "unique-config-entry",
    ),
    "silver": (
        "action-exceptions",
        "config-entry-unloading",
        "docs-configuration-parameters",
        "docs-installation-parameters",
        "entity-unavailable",
        "integration-owner",
        "log-when-unavailable",
        "parallel-updates",
        "reauthentication-flow",
        "test-coverage",
    ),
    "gold": (
        "devices",
        "diagnostics",
        "discovery",
        "discovery-update-info",
        "docs-data-update",
        "docs-examples",
        "docs-known-limitations",
        "docs-supported-devices",
        "docs-supported-functions",
        "docs-troubleshooting",
        "docs-use-cases",
        "dynamic-devices",
        "entity-category",
        "entity-device-class",
        "entity-disabled-by-default",
        "entity-translations",
        "exception-translations",
        "icon-translations",
        "reconfiguration-flow",
        "repair-issues",
        "stale-devices",
    ),
    "platinum": ("async-dependency", "inject-websession", "strict-typing"),
}
ALL_RULES = [rule for tier in RULES_2025_4.values() for rule in tier]

RULE_STATUS = vol.Any(
    vol.In(["todo", "done"]),
    vol.Schema({vol.Required("status"): vol.In(["todo", "done"]), vol.Required("comment"): str}),
    vol.Schema({vol.Required("status"): "exempt", vol.Required("comment"): str}),
)
QUALITY_SCALE = vol.Schema(
    {vol.Required("rules"): {vol.Optional(r): RULE_STATUS for r in ALL_RULES}}
)

HACS_JSON = vol.Schema(
    {
        vol.Required("name"): str,
        vol.Optional("content_in_root"): bool,
        vol.Optional("country"): vol.Any(str, [str]),
        vol.Optional("filename"): str,
        vol.Optional("hacs"): str,
        vol.Optional("hide_default_branch"): bool,
        vol.Optional("homeassistant"): str,
        vol.Optional("persistent_directory"): str,
        vol.Optional("render_readme"): bool,
        vol.Optional("zip_release"): bool,
    },
    extra=vol.PREVENT_EXTRA,
)
"""The keys HACS accepts in hacs.json (an unknown key fails its validation)."""

IOT_CLASSES = {
    "assumed_state",
    "calculated",
    "cloud_polling",
    "cloud_push",
    "local_polling",
    "local_push",
}
INTEGRATION_TYPES = {"device", "entity", "hardware", "helper", "hub", "service", "system"}
URL = re.compile(r"^https://\S+$")


def load_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def test_quality_scale_lists_every_rule_with_a_valid_status() -> None:
    assert len(ALL_RULES) == len(set(ALL_RULES)) == 52
    data = yaml.safe_load((PACKAGE / "quality_scale.yaml").read_text(encoding="utf-8"))
    QUALITY_SCALE(data)
    assert list(data["rules"]) == ALL_RULES, "every rule, in tier order, nothing else"


def test_quality_scale_claims_match_the_code() -> None:
    rules = yaml.safe_load((PACKAGE / "quality_scale.yaml").read_text(encoding="utf-8"))["rules"]

    def status(rule: str) -> str:
        value = rules[rule]
        return str(value["status"] if isinstance(value, dict) else value)

    for module in ("diagnostics.py", "device_trigger.py", "logbook.py", "issues.py"):
        assert (PACKAGE / module).is_file(), module
    assert status("diagnostics") == "done"
    assert status("repair-issues") == "done"
    assert status("appropriate-polling") == "exempt"
    manifest = load_json(PACKAGE / "manifest.json")
    assert manifest["iot_class"] == "local_push", "appropriate-polling is exempt for push only"
    assert status("dependency-transparency") == "done"
    assert manifest["requirements"] == []


def test_manifest_has_what_hassfest_and_hacs_need() -> None:
    manifest = load_json(PACKAGE / "manifest.json")
    assert manifest["domain"] == PACKAGE.name
    assert isinstance(manifest["name"], str) and manifest["name"]
    assert re.fullmatch(r"\d+\.\d+\.\d+", manifest["version"])
    assert manifest["codeowners"] and all(o.startswith("@") for o in manifest["codeowners"])
    assert URL.match(manifest["documentation"])
    assert URL.match(manifest["issue_tracker"])
    assert manifest["iot_class"] in IOT_CLASSES
    assert manifest["integration_type"] in INTEGRATION_TYPES
    assert manifest["config_flow"] is True
    assert all(entry.endswith("._tcp.local.") for entry in manifest["zeroconf"])
    assert "quality_scale" not in manifest, "a custom integration declares no tier"


def test_hacs_json_is_valid_for_hacs() -> None:
    hacs = HACS_JSON(load_json(ROOT / "hacs.json"))
    assert hacs["name"] == "School Guard"
    assert hacs.get("content_in_root") is False
    assert (ROOT / "README.md").is_file(), "HACS shows the repository's README"
    assert hacs["homeassistant"] == "2025.4.0"


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_trigger_and_issue_translations_are_complete() -> None:
    strings = load_json(PACKAGE / "translations" / "en.json")
    trigger_names = strings["device_automation"]["trigger_type"]
    assert list(trigger_names) == list(device_trigger.TRIGGER_TYPES)
    assert all(isinstance(name, str) and name for name in trigger_names.values())

    issues = strings["issues"]
    expected = {
        "engine_unreachable": {"name", "address", "minutes"},
        "camera_offline": {"camera", "location", "reason", "minutes"},
        "camera_clock_skew": {"camera", "location", "reason"},
        "model_missing": {"name"},
        "pose_model_missing": {"name"},
    }
    assert set(issues) >= set(expected)
    for key, placeholders in expected.items():
        assert _placeholders(issues[key]["title"]) <= placeholders, key
        assert _placeholders(issues[key]["description"]) == placeholders, key
