"""One table from engine failures to what Home Assistant says about them.

Every flow, action and entity that calls the engine for a person turns a failure into
words through :data:`TRANSLATIONS`: actions and entities raise a translated
:class:`HomeAssistantError` (:func:`ask_engine`), flows show a translated form error
(:func:`form_error`) or abort when the token was refused, and setup asks for a new token
or retries later (:func:`setup_error`). Codes come from the engine (``error.code``);
Home Assistant never reads the engine's prose to decide.
"""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Final

from homeassistant.exceptions import (
    ConfigEntryAuthFailed,
    ConfigEntryNotReady,
    HomeAssistantError,
)

from .client import SchoolGuardApiError, SchoolGuardAuthError, SchoolGuardClient, SchoolGuardError
from .const import DOMAIN


@dataclass(frozen=True, slots=True)
class Translation:
    """How one kind of failure is said: in an action's error, and in a flow's form.

    ``form`` None means the step names its own "the engine refused this" (an ``Add
    camera`` step that could not probe says ``camera_error``, one that could not add
    says ``invalid_camera``).
    """

    action: str
    form: str | None


AUTH: Final = "auth"
CONNECTION: Final = "connection"
REFUSED: Final = "refused"
CAMERA_CODES: Final = (
    "camera_unreachable",
    "camera_timeout",
    "camera_not_onvif",
    "camera_auth",
    "camera_clock_skew",
    "camera_no_profile",
    "camera_error",
    "host_not_allowed",
)
"""The engine's camera codes (422, and 403 for a host outside its camera networks): a
camera it cannot use, each with its own form error."""

TRANSLATIONS: Final[dict[str, Translation]] = {
    AUTH: Translation("invalid_auth", "invalid_auth"),
    CONNECTION: Translation("cannot_connect", "cannot_connect"),
    **{code: Translation("engine_rejected", code) for code in CAMERA_CODES},
    "conflict": Translation("engine_rejected", "camera_exists"),
    REFUSED: Translation("engine_rejected", None),
}
"""Failure kind (an engine error code, or auth/connection/refused) -> its words."""


def kind(err: SchoolGuardError) -> str:
    """The row of :data:`TRANSLATIONS` that speaks for ``err``."""
    if isinstance(err, SchoolGuardAuthError):
        return AUTH
    if isinstance(err, SchoolGuardApiError):
        return err.code if err.code in TRANSLATIONS else REFUSED
    return CONNECTION


def engine_error(client: SchoolGuardClient, err: SchoolGuardError) -> HomeAssistantError:
    """A failed engine call made for a user, as a translated Home Assistant error."""
    key = TRANSLATIONS[kind(err)].action
    placeholders = {"host": client.host}
    if isinstance(err, SchoolGuardApiError):
        placeholders = {"code": err.code, "error": err.message}
    elif not isinstance(err, SchoolGuardAuthError):
        placeholders["error"] = str(err)
    return HomeAssistantError(
        translation_domain=DOMAIN, translation_key=key, translation_placeholders=placeholders
    )


async def ask_engine[T](client: SchoolGuardClient, request: Awaitable[T]) -> T:
    """Await an engine call made for a user; a failure becomes a translated error."""
    try:
        return await request
    except SchoolGuardError as err:
        raise engine_error(client, err) from err


def form_error(err: SchoolGuardError, *, refused: str, by_code: bool = True) -> str:
    """A flow step's form error for ``err``; ``refused`` is the step's own word.

    ``by_code`` False says ``refused`` for every answer the engine refused, whatever its
    code (a search that could not run is "discovery failed", not a camera's fault).
    """
    row = kind(err)
    if not by_code and row not in (AUTH, CONNECTION):
        return refused
    return TRANSLATIONS[row].form or refused


def refused_token(err: SchoolGuardError) -> bool:
    """Whether the engine refused the token (flows abort rather than show a form)."""
    return kind(err) == AUTH


def setup_error(err: SchoolGuardError, host: str) -> HomeAssistantError:
    """Why an entry cannot be set up: a refused token asks for a new one, else retry later."""
    if refused_token(err):
        return ConfigEntryAuthFailed(
            translation_domain=DOMAIN,
            translation_key=TRANSLATIONS[AUTH].action,
            translation_placeholders={"host": host},
        )
    return ConfigEntryNotReady(
        translation_domain=DOMAIN,
        translation_key=TRANSLATIONS[CONNECTION].action,
        translation_placeholders={"host": host, "error": str(err)},
    )
