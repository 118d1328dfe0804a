"""Actions: acknowledge, dismiss, record who was told or a response step; mode; test alert.

They are registered once in ``async_setup`` (not per config entry) so that automations
and blueprints that call them validate even while an engine is not loaded; each call
then finds the loaded engine it concerns and fails with a translated error if there is
none.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Final, cast

import voluptuous as vol
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import ATTR_DEVICE_ID
from homeassistant.core import (
    HomeAssistant,
    ServiceCall,
    ServiceResponse,
    SupportsResponse,
    callback,
)
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers import device_registry as dr
from homeassistant.util import dt as dt_util

from .client import EngineInfo, SchoolGuardApiError, SchoolGuardClient, SchoolGuardError
from .const import DOMAIN
from .errors import ask_engine, engine_error
from .subentries import camera_device_identifier

if TYPE_CHECKING:
    from . import SchoolGuardConfigEntry

SERVICE_ACKNOWLEDGE_ALERT: Final = "acknowledge_alert"
SERVICE_DISMISS_ALERT: Final = "dismiss_alert"
SERVICE_RECORD_NOTIFICATION: Final = "record_notification"
SERVICE_RECORD_STEP: Final = "record_step"
SERVICE_SET_RESPONSE_MODE: Final = "set_response_mode"
SERVICE_TEST_ALERT: Final = "test_alert"
SERVICE_WRITE_REPORT: Final = "write_report"

ATTR_CONFIG_ENTRY_ID: Final = "config_entry_id"
ATTR_EVENT_ID: Final = "event_id"
ATTR_NOTE: Final = "note"
ATTR_REASON: Final = "reason"
ATTR_MODE: Final = "mode"
ATTR_DRILL: Final = "drill"
ATTR_RULE: Final = "rule"
ATTR_SECONDS: Final = "seconds"
ATTR_RECIPIENTS: Final = "recipients"
ATTR_CHANNEL: Final = "channel"
ATTR_BY: Final = "by"
ATTR_STEP: Final = "step"
ATTR_STEP_ID: Final = "step_id"
ATTR_TARGETS: Final = "targets"
ATTR_CONFIRMED: Final = "confirmed"
ATTR_DAYS: Final = "days"
ATTR_PATH: Final = "path"
REPORT_FOLDER: Final = "school_guard"
"""Reports go to this folder of Home Assistant's local media (the media browser lists it)."""
WRITE_REPORT_SCHEMA = vol.Schema(
    {
        vol.Optional(ATTR_DAYS, default=30): vol.All(vol.Coerce(int), vol.Range(min=1, max=366)),
        vol.Optional(ATTR_CONFIG_ENTRY_ID): cv.string,
    }
)

LOCK_STEPS: Final = {"doors_locked": "locked", "doors_unlocked": "unlocked"}
"""Steps whose targets are locks: left without ``confirmed``, each lock's own state says
whether it confirmed (a lock that is still ``locking`` has not)."""

DEFAULT_BY: Final = "Home Assistant"
"""Who acknowledged or dismissed when no user started the call (an automation)."""

EVENT_ID = vol.All(cv.string, vol.Match(r"^[A-Za-z0-9_-]{1,64}$"))
"""Engine event ids are hex; anything else could not name an event and must not reach a URL."""
TEXT = vol.All(cv.string, vol.Length(max=1000))
"""Notes and reasons: the engine keeps at most 1000 characters."""

NAME = vol.All(cv.string, vol.Strip, vol.Length(min=1, max=100))
"""A recipient, channel or author as the engine stores it."""
ACKNOWLEDGE_SCHEMA = vol.Schema(
    {
        vol.Required(ATTR_EVENT_ID): EVENT_ID,
        vol.Optional(ATTR_NOTE, default=""): TEXT,
        vol.Optional(ATTR_BY): NAME,
    }
)
DISMISS_SCHEMA = vol.Schema(
    {
        vol.Required(ATTR_EVENT_ID): EVENT_ID,
        vol.Optional(ATTR_REASON, default=""): TEXT,
        vol.Optional(ATTR_BY): NAME,
    }
)
RECORD_NOTIFICATION_SCHEMA = vol.Schema(
    {
        vol.Required(ATTR_EVENT_ID): EVENT_ID,
        vol.Required(ATTR_RECIPIENTS): vol.All(cv.ensure_list, [NAME], vol.Length(min=1, max=50)),
        vol.Optional(ATTR_CHANNEL, default="notify"): NAME,
        vol.Optional(ATTR_BY): NAME,
    }
)

TARGET = vol.All(cv.string, vol.Strip, vol.Length(min=1, max=255))
"""An entity id or notify action a step acted on, as the engine stores it."""
STEP_ID = vol.All(cv.string, vol.Match(r"^[A-Za-z0-9_.:-]{1,64}$"))


def record_step_schema(hass: HomeAssistant) -> vol.Schema:
    """``record_step``: a step the engines know, what it acted on, which confirmed, by whom."""
    return vol.Schema(
        {
            vol.Required(ATTR_EVENT_ID): EVENT_ID,
            vol.Required(ATTR_STEP): engines_know(hass, lambda i: i.response_steps, "step"),
            vol.Optional(ATTR_TARGETS, default=[]): vol.All(
                cv.ensure_list, [TARGET], vol.Length(max=50)
            ),
            vol.Optional(ATTR_CONFIRMED): vol.All({TARGET: cv.boolean}, vol.Length(max=50)),
            vol.Optional(ATTR_NOTE, default=""): TEXT,
            vol.Optional(ATTR_BY): NAME,
            vol.Optional(ATTR_STEP_ID): STEP_ID,
        }
    )


def engines_know(
    hass: HomeAssistant, codes: Callable[[EngineInfo], tuple[str, ...]], what: str
) -> Callable[[object], str]:
    """A validator for a code the loaded engines publish (their rules, their modes).

    The engines say which codes they use (``/info``), so the integration keeps no copy:
    a value no loaded engine lists is refused. With no engine loaded every value passes,
    and the call then fails because no engine is loaded.
    """

    def validate(value: object) -> str:
        text = cv.string(value)
        known = {
            code for entry in _loaded_entries(hass) for code in codes(entry.runtime_data.hub.info)
        }
        if known and text not in known:
            raise vol.Invalid(f"unknown {what} {text!r} (known: {', '.join(sorted(known))})")
        return text

    return validate


def set_response_mode_schema(hass: HomeAssistant) -> vol.Schema:
    """``set_response_mode``: a mode the engines list, optionally a drill, and which engine."""
    return vol.Schema(
        {
            vol.Required(ATTR_MODE): engines_know(hass, lambda i: i.response_modes, "mode"),
            vol.Optional(ATTR_DRILL, default=False): cv.boolean,
            vol.Optional(ATTR_CONFIG_ENTRY_ID): cv.string,
        }
    )


def test_alert_schema(hass: HomeAssistant) -> vol.Schema:
    """``test_alert``: a camera device, one of the engines' rules, how long."""
    return vol.Schema(
        {
            vol.Required(ATTR_DEVICE_ID): cv.string,
            vol.Required(ATTR_RULE): engines_know(hass, lambda i: i.rules, "rule"),
            vol.Optional(ATTR_SECONDS, default=10): vol.All(
                vol.Coerce(float), vol.Range(min=1, max=600)
            ),
        }
    )


def _loaded_entries(hass: HomeAssistant) -> list[SchoolGuardConfigEntry]:
    """The engines that are connected and set up now (only they have a client)."""
    return [
        cast("SchoolGuardConfigEntry", entry)
        for entry in hass.config_entries.async_entries(DOMAIN)
        if entry.state is ConfigEntryState.LOADED
    ]


def _not_loaded(engine: str) -> ServiceValidationError:
    return ServiceValidationError(
        translation_domain=DOMAIN,
        translation_key="engine_not_loaded",
        translation_placeholders={"engine": engine},
    )


async def _user_name(hass: HomeAssistant, call: ServiceCall) -> str | None:
    """The Home Assistant user who made the call (None: an automation or the system)."""
    if call.context.user_id is not None:
        user = await hass.auth.async_get_user(call.context.user_id)
        if user is not None and user.name:
            return user.name
    return None


async def _entry_with_event(hass: HomeAssistant, event_id: str) -> SchoolGuardConfigEntry:
    """The loaded engine that holds ``event_id``.

    An open alert is known from the push feed; an older one (already ended, still worth
    acknowledging for the record) is asked of each engine in turn.
    """
    entries = _loaded_entries(hass)
    for entry in entries:
        if event_id in entry.runtime_data.hub.open_alerts:
            return entry
    failure: tuple[SchoolGuardConfigEntry, SchoolGuardError] | None = None
    for entry in entries:
        try:
            await entry.runtime_data.client.event(event_id)
        except SchoolGuardApiError as err:
            if err.status != 404:
                failure = (entry, err)
            continue
        except SchoolGuardError as err:
            failure = (entry, err)
            continue
        return entry
    if failure is not None:
        # An engine we could not ask may hold the event: say so rather than "unknown".
        failed_entry, failed = failure
        raise engine_error(failed_entry.runtime_data.client, failed) from failed
    raise ServiceValidationError(
        translation_domain=DOMAIN,
        translation_key="unknown_event",
        translation_placeholders={"event_id": event_id},
    )


async def _on_event(
    call: ServiceCall,
    send: Callable[[SchoolGuardClient, str, str], Awaitable[object]],
    *,
    person_acts: bool = False,
) -> None:
    """Find the engine holding the call's event and ``send(client, event_id, by)`` to it.

    ``by`` for a person's act (acknowledge, dismiss) is the signed-in user who made the call;
    only a call without one (a playbook answering a phone's button) may name the person in
    ``by``, so nobody signs for someone else from the UI. For a record of who was told, the
    playbook's ``by`` names itself.
    """
    event_id: str = call.data[ATTR_EVENT_ID]
    entry = await _entry_with_event(call.hass, event_id)
    client = entry.runtime_data.client
    user = await _user_name(call.hass, call)
    given: str | None = call.data.get(ATTR_BY)
    by = ((user or given) if person_acts else (given or user)) or DEFAULT_BY
    await ask_engine(client, send(client, event_id, by))


async def _async_acknowledge_alert(call: ServiceCall) -> None:
    """Record that a person saw the alert and is handling it."""
    await _on_event(
        call,
        lambda client, event, by: client.acknowledge(event, by, call.data[ATTR_NOTE]),
        person_acts=True,
    )


async def _async_dismiss_alert(call: ServiceCall) -> None:
    """Mark the alert as a false alarm; the engine tells every client."""
    await _on_event(
        call,
        lambda client, event, by: client.dismiss(event, by, call.data[ATTR_REASON]),
        person_acts=True,
    )


async def _async_record_notification(call: ServiceCall) -> None:
    """Keep in the incident log who a playbook paged (the engine cannot know it)."""
    recipients: list[str] = call.data[ATTR_RECIPIENTS]
    channel: str = call.data[ATTR_CHANNEL]
    await _on_event(call, lambda client, event, by: client.notified(event, recipients, channel, by))


def _step_id(call: ServiceCall, step: str, targets: list[str], note: str) -> str:
    """The step's idempotency key when the caller gave none.

    Derived from the call's context and the step itself, so a retried call (same run, same
    step) is recorded once, while two different steps of one playbook run never collide.
    """
    key = json.dumps([call.context.id, step, targets, note])
    return hashlib.sha256(key.encode()).hexdigest()[:32]


def _confirmed(hass: HomeAssistant, step: str, targets: list[str]) -> dict[str, bool]:
    """For a lock step with no ``confirmed`` given: which target locks are in the state."""
    wanted = LOCK_STEPS.get(step)
    if wanted is None:
        return {}
    return {
        target: state.state == wanted
        for target in targets
        if target.startswith("lock.") and (state := hass.states.get(target)) is not None
    }


async def _async_record_step(call: ServiceCall) -> None:
    """Put a response step (doors locked, PA played, mode set...) on the alert's timeline."""
    step: str = call.data[ATTR_STEP]
    targets: list[str] = call.data[ATTR_TARGETS]
    note: str = call.data[ATTR_NOTE]
    confirmed: dict[str, bool] = call.data.get(ATTR_CONFIRMED) or _confirmed(
        call.hass, step, targets
    )
    strangers = sorted(set(confirmed) - set(targets))
    if strangers:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="confirmed_not_a_target",
            translation_placeholders={"names": ", ".join(strangers)},
        )
    body: dict[str, object] = {
        "step": step,
        "step_id": call.data.get(ATTR_STEP_ID) or _step_id(call, step, targets, note),
        "targets": targets,
        "confirmed": confirmed,
        "note": note,
    }
    await _on_event(call, lambda client, event, by: client.record_step(event, body | {"by": by}))


def _engine_entry(hass: HomeAssistant, entry_id: str | None) -> SchoolGuardConfigEntry:
    """The engine an engine-wide action is for; may be left out when there is only one."""
    if entry_id is None:
        entries = _loaded_entries(hass)
        if len(entries) > 1:
            raise ServiceValidationError(
                translation_domain=DOMAIN, translation_key="engine_required"
            )
        if not entries:
            raise _not_loaded(DOMAIN)
        return entries[0]
    entry = hass.config_entries.async_get_entry(entry_id)
    if entry is None or entry.domain != DOMAIN or entry.state is not ConfigEntryState.LOADED:
        raise _not_loaded(entry_id)
    return cast("SchoolGuardConfigEntry", entry)


async def _async_set_response_mode(call: ServiceCall) -> None:
    """Put the school into a response mode (or a drill of it)."""
    entry = _engine_entry(call.hass, call.data.get(ATTR_CONFIG_ENTRY_ID))
    client = entry.runtime_data.client
    await ask_engine(client, client.set_mode(call.data[ATTR_MODE], drill=call.data[ATTR_DRILL]))


def _camera_of_device(hass: HomeAssistant, device_id: str) -> tuple[SchoolGuardConfigEntry, str]:
    """The loaded engine and camera id behind a camera device of this integration."""
    not_a_camera = ServiceValidationError(
        translation_domain=DOMAIN,
        translation_key="not_a_camera",
        translation_placeholders={"device_id": device_id},
    )
    device = dr.async_get(hass).async_get(device_id)
    if device is None:
        raise not_a_camera
    ours = [
        entry
        for entry_id in device.config_entries
        if (entry := hass.config_entries.async_get_entry(entry_id)) is not None
        and entry.domain == DOMAIN
    ]
    if not ours:
        raise not_a_camera
    for entry in ours:
        if entry.state is not ConfigEntryState.LOADED:
            continue
        loaded = cast("SchoolGuardConfigEntry", entry)
        hub = loaded.runtime_data.hub
        for camera_id in hub.cameras:
            if camera_device_identifier(hub.engine_id, camera_id) in device.identifiers:
                return loaded, camera_id
        raise not_a_camera
    raise _not_loaded(ours[0].title)


async def _async_test_alert(call: ServiceCall) -> ServiceResponse:
    """Raise a drill alert on a camera so staff can check notifications end to end."""
    entry, camera_id = _camera_of_device(call.hass, call.data[ATTR_DEVICE_ID])
    client = entry.runtime_data.client
    change = await ask_engine(
        client, client.test_alert(camera_id, call.data[ATTR_RULE], seconds=call.data[ATTR_SECONDS])
    )
    return {ATTR_EVENT_ID: change.event.event_id}


def _media_folder(hass: HomeAssistant) -> Path:
    """Home Assistant's local media folder (``media_dirs.local``, else ``<config>/media``)."""
    return Path(hass.config.media_dirs.get("local") or hass.config.path("media"))


def _write_private(path: Path, page: bytes) -> None:
    """Owner-only: a report names staff and embeds evidence pictures (docs/privacy.md)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as out:
        out.write(page)


async def _async_write_report(call: ServiceCall) -> ServiceResponse:
    """Fetch the engine's after-action report page and keep it in the media folder."""
    entry = _engine_entry(call.hass, call.data.get(ATTR_CONFIG_ENTRY_ID))
    client = entry.runtime_data.client
    days: int = call.data[ATTR_DAYS]
    page = await ask_engine(client, client.report_html(days))
    stamp = dt_util.now().strftime("%Y-%m-%d-%H%M%S")
    path = _media_folder(call.hass) / REPORT_FOLDER / f"after-action-{days}d-{stamp}.html"
    try:
        await call.hass.async_add_executor_job(_write_private, path, page)
    except OSError as err:
        raise HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key="report_not_written",
            translation_placeholders={"path": str(path), "error": err.strerror or str(err)},
        ) from err
    return {ATTR_PATH: str(path)}


@callback
def async_setup_services(hass: HomeAssistant) -> None:
    """Register the integration's actions."""
    hass.services.async_register(
        DOMAIN, SERVICE_ACKNOWLEDGE_ALERT, _async_acknowledge_alert, schema=ACKNOWLEDGE_SCHEMA
    )
    hass.services.async_register(
        DOMAIN, SERVICE_DISMISS_ALERT, _async_dismiss_alert, schema=DISMISS_SCHEMA
    )
    hass.services.async_register(
        DOMAIN,
        SERVICE_RECORD_NOTIFICATION,
        _async_record_notification,
        schema=RECORD_NOTIFICATION_SCHEMA,
    )
    hass.services.async_register(
        DOMAIN, SERVICE_RECORD_STEP, _async_record_step, schema=record_step_schema(hass)
    )
    hass.services.async_register(
        DOMAIN,
        SERVICE_SET_RESPONSE_MODE,
        _async_set_response_mode,
        schema=set_response_mode_schema(hass),
    )
    hass.services.async_register(
        DOMAIN,
        SERVICE_TEST_ALERT,
        _async_test_alert,
        schema=test_alert_schema(hass),
        supports_response=SupportsResponse.OPTIONAL,
    )
    hass.services.async_register(
        DOMAIN,
        SERVICE_WRITE_REPORT,
        _async_write_report,
        schema=WRITE_REPORT_SCHEMA,
        supports_response=SupportsResponse.OPTIONAL,
    )
