"""The integration's manifest and hacs.json satisfy hassfest's and HACS's rules."""

import json
from pathlib import Path

from homeassistant.core import HomeAssistant
from homeassistant.loader import async_get_custom_components

from custom_components.school_guard import DOMAIN

ROOT = Path(__file__).resolve().parents[3]
MANIFEST = ROOT / "custom_components" / "school_guard" / "manifest.json"


def test_manifest_has_required_keys_in_hassfest_order() -> None:
    manifest = json.loads(MANIFEST.read_text())
    assert manifest["domain"] == DOMAIN == "school_guard"
    required = {
        "domain",
        "name",
        "version",
        "codeowners",
        "documentation",
        "issue_tracker",
        "iot_class",
        "config_flow",
    }
    assert required <= set(manifest)
    keys = list(manifest)
    assert keys[:2] == ["domain", "name"]
    assert keys[2:] == sorted(keys[2:])
    assert manifest["requirements"] == [], "the integration must need nothing Home Assistant lacks"


def test_hacs_json_names_the_integration() -> None:
    hacs = json.loads((ROOT / "hacs.json").read_text())
    assert hacs["name"] == "School Guard"


async def test_home_assistant_finds_the_custom_integration(
    hass: HomeAssistant, enable_custom_integrations: None
) -> None:
    integrations = await async_get_custom_components(hass)
    assert DOMAIN in integrations
    assert integrations[DOMAIN].version is not None
    assert str(integrations[DOMAIN].version) == json.loads(MANIFEST.read_text())["version"]
