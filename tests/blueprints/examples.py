"""One complete set of inputs per playbook: used for schema checks and check_config."""

from __future__ import annotations

from typing import Any

AUTOMATIONS: dict[str, dict[str, Any]] = {
    "weapon_response.yaml": {
        "camera_ids": ["plaza"],
        "sro_targets": ["notify.mobile_app_sro_phone"],
        "staff_targets": ["notify.front_office"],
        "outside_targets": ["notify.police_dispatch"],
        "backup_targets": ["notify.principal"],
        "locks": ["lock.front_door", "lock.gym_door"],
        "tts_entity": {"entity_id": "tts.pa_voice"},
        "media_players": ["media_player.pa_hall"],
        "response_mode": "lockdown",
    },
    "fight_response.yaml": {
        "camera_ids": ["plaza"],
        "responder_targets": ["notify.mobile_app_sro_phone"],
        "staff_targets": ["notify.front_office"],
        "outside_targets": ["notify.police_dispatch"],
        "set_hold": True,
        "tts_entity": {"entity_id": "tts.pa_voice"},
        "media_players": ["media_player.pa_hall"],
        "cooldown_seconds": 0,
    },
    "person_down_response.yaml": {
        "camera_ids": ["plaza"],
        "responder_targets": ["notify.mobile_app_sro_phone", "notify.mobile_app_nurse"],
        "staff_targets": ["notify.front_office"],
        "outside_targets": ["notify.police_dispatch"],
        "cooldown_seconds": 0,
    },
    "intrusion_response.yaml": {
        "camera_ids": ["plaza"],
        "responder_targets": ["notify.mobile_app_sro_phone"],
        "staff_targets": ["notify.principal"],
        "outside_targets": ["notify.police_dispatch"],
        "lights_script": "script.lights_on",
        "siren_script": "script.siren",
        "cooldown_seconds": 0,
    },
    "camera_health.yaml": {
        "camera_ids": ["plaza"],
        "facilities_targets": ["notify.facilities"],
        "outside_targets": ["notify.police_dispatch"],
        "offline_minutes": 2,
        "cooldown_seconds": 0,
    },
}

SCRIPTS: dict[str, dict[str, Any]] = {
    "all_clear.yaml": {
        "tts_entity": {"entity_id": "tts.pa_voice"},
        "media_players": ["media_player.pa_hall"],
        "notify_targets": ["notify.mobile_app_sro_phone", "notify.front_office"],
        "outside_targets": ["notify.police_dispatch"],
    },
}
