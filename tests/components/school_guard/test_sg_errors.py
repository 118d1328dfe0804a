"""The one table from engine failures to what Home Assistant says, on every surface."""

from __future__ import annotations

import aiohttp
import pytest
from homeassistant.exceptions import ConfigEntryAuthFailed, ConfigEntryNotReady, HomeAssistantError

from custom_components.school_guard import errors
from custom_components.school_guard.client import (
    SchoolGuardApiError,
    SchoolGuardAuthError,
    SchoolGuardClient,
    SchoolGuardConnectionError,
    SchoolGuardError,
)

AUTH = SchoolGuardAuthError("the engine refused the token")
DOWN = SchoolGuardConnectionError("GET /info: refused")
SKEW = SchoolGuardApiError(422, "camera_clock_skew", "clock is +3600 s off")
TWICE = SchoolGuardApiError(409, "conflict", "already dismissed")
INVALID = SchoolGuardApiError(400, "invalid", "mode: nope")


@pytest.mark.parametrize(
    ("err", "key", "placeholders"),
    [
        (AUTH, "invalid_auth", {"host": "10.0.0.2"}),
        (DOWN, "cannot_connect", {"host": "10.0.0.2", "error": "GET /info: refused"}),
        (SKEW, "engine_rejected", {"code": "camera_clock_skew", "error": "clock is +3600 s off"}),
        (TWICE, "engine_rejected", {"code": "conflict", "error": "already dismissed"}),
        (INVALID, "engine_rejected", {"code": "invalid", "error": "mode: nope"}),
    ],
)
async def test_actions_and_entities_say_one_translated_error(
    err: Exception, key: str, placeholders: dict[str, str]
) -> None:
    async with aiohttp.ClientSession() as session:
        client = SchoolGuardClient(session, "10.0.0.2", 8765, "token")

        async def failing() -> None:
            raise err

        with pytest.raises(HomeAssistantError) as raised:
            await errors.ask_engine(client, failing())
    assert (raised.value.translation_key, raised.value.translation_placeholders) == (
        key,
        placeholders,
    )
    assert raised.value.__cause__ is err


@pytest.mark.parametrize(
    ("err", "probe", "add", "discover", "engine"),
    [
        (AUTH, "invalid_auth", "invalid_auth", "invalid_auth", "invalid_auth"),
        (DOWN, "cannot_connect", "cannot_connect", "cannot_connect", "cannot_connect"),
        (SKEW, "camera_clock_skew", "camera_clock_skew", "discovery_failed", "unknown"),
        (TWICE, "camera_exists", "camera_exists", "discovery_failed", "unknown"),
        (INVALID, "camera_error", "invalid_camera", "discovery_failed", "unknown"),
    ],
)
def test_each_flow_step_says_it_in_its_own_words(
    err: SchoolGuardError, probe: str, add: str, discover: str, engine: str
) -> None:
    assert errors.form_error(err, refused="camera_error") == probe
    assert errors.form_error(err, refused="invalid_camera") == add
    assert errors.form_error(err, refused="discovery_failed", by_code=False) == discover
    assert errors.form_error(err, refused="unknown", by_code=False) == engine
    assert errors.refused_token(err) is (err is AUTH)


def test_setup_asks_for_a_token_or_retries() -> None:
    refused = errors.setup_error(AUTH, "10.0.0.2")
    assert isinstance(refused, ConfigEntryAuthFailed)
    assert refused.translation_placeholders == {"host": "10.0.0.2"}
    for err in (DOWN, INVALID):
        later = errors.setup_error(err, "10.0.0.2")
        assert isinstance(later, ConfigEntryNotReady)
        assert later.translation_key == "cannot_connect"
        assert later.translation_placeholders == {"host": "10.0.0.2", "error": str(err)}
