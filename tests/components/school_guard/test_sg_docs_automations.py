"""Every device trigger and condition has its own docs page, with options, UI and YAML."""

from __future__ import annotations

from pathlib import Path

import pytest

from custom_components.school_guard.device_condition import CONDITION_TYPES
from custom_components.school_guard.device_trigger import ALERT_TRIGGERS, TRIGGER_TYPES

DOCS = Path(__file__).resolve().parents[3] / "docs" / "automations"


@pytest.mark.parametrize(
    ("folder", "kind"),
    [*(("triggers", t) for t in TRIGGER_TYPES), *(("conditions", c) for c in CONDITION_TYPES)],
)
def test_each_trigger_and_condition_has_its_page(folder: str, kind: str) -> None:
    page = (DOCS / folder / f"{kind}.md").read_text(encoding="utf-8")
    for heading in ("## Options", "## In the automation editor", "## YAML"):
        assert heading in page, (kind, heading)
    assert f"type: {kind}\n" in page, "the YAML example uses this type"
    assert f"({folder}/{kind}.md)" in (DOCS / "README.md").read_text(encoding="utf-8")
    if kind in ALERT_TRIGGERS:
        for option in ("ignore_drills", "min_confidence", "zone"):
            assert f"`{option}`" in page and f"{option}:" in page, (kind, option)
