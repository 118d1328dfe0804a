"""The camera subentry flows: add an ONVIF camera to the engine, and reconfigure it.

Every camera operation goes through the engine (it is the one on the cameras' network
and the one that will read the stream): the engine discovers, probes and stores the
camera; Home Assistant keeps only the subentry (unique id = the engine's camera id),
never the camera's password. Reconfiguring changes the camera on the engine with one
``PATCH``: a new address or password is probed first, and the stored password is kept
(by the engine, which never hands it out) when neither changes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import voluptuous as vol
from homeassistant.config_entries import ConfigEntryState, ConfigSubentryFlow, SubentryFlowResult
from homeassistant.const import CONF_HOST, CONF_NAME, CONF_PASSWORD, CONF_PORT, CONF_USERNAME
from homeassistant.data_entry_flow import AbortFlow
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers.selector import (
    SelectOptionDict,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
)
from homeassistant.util import slugify

from . import SchoolGuardData
from .client import CameraState, OnvifCamera, OnvifProbe, SchoolGuardApiError, SchoolGuardError
from .const import SUBENTRY_CAMERA
from .errors import form_error, refused_token

CONF_CAMERA = "camera"
CONF_CAMERA_ID = "camera_id"
CONF_LOCATION = "location"
CONF_RULES = "rules"

DEFAULT_ONVIF_PORT = 80
DISCOVER_REQUEST: dict[str, object] = {"timeout": 3.0}
"""Body of ``POST /onvif/discover``: the engine multicasts WS-Discovery on its own LAN."""

PASSWORD_SELECTOR = TextSelector(TextSelectorConfig(type=TextSelectorType.PASSWORD))
TEXT_SELECTOR = TextSelector()


def _credentials_schema(username: str) -> dict[vol.Marker, Any]:
    return {
        vol.Optional(CONF_USERNAME, default=username): TEXT_SELECTOR,
        vol.Optional(CONF_PASSWORD, default=""): PASSWORD_SELECTOR,
    }


def _camera_label(camera: OnvifCamera) -> str:
    """What the pick list shows: the camera's own name and place, then its address."""
    described = " · ".join(part for part in (camera.name, camera.location) if part)
    address = f"{camera.host}:{camera.port}"
    return f"{described} ({address})" if described else address


def _rules_selector(rules: Sequence[str]) -> SelectSelector:
    """The rules the engine runs, translated."""
    return SelectSelector(
        SelectSelectorConfig(
            options=list(rules),
            multiple=True,
            mode=SelectSelectorMode.LIST,
            translation_key="camera_rules",
        )
    )


def _reconfigure_schema(rules: Sequence[str], shown: Mapping[str, Any]) -> vol.Schema:
    """The reconfigure form: the camera as it is (or as typed), credentials left empty."""
    return vol.Schema(
        {
            vol.Required(CONF_NAME, default=shown[CONF_NAME]): TEXT_SELECTOR,
            vol.Optional(CONF_LOCATION, default=shown.get(CONF_LOCATION, "")): TEXT_SELECTOR,
            vol.Optional(CONF_RULES, default=shown.get(CONF_RULES, [])): _rules_selector(rules),
            vol.Required(CONF_HOST, default=shown[CONF_HOST]): TEXT_SELECTOR,
            vol.Required(CONF_PORT, default=shown[CONF_PORT]): cv.port,
            vol.Optional(CONF_USERNAME, default=""): TEXT_SELECTOR,
            vol.Optional(CONF_PASSWORD, default=""): PASSWORD_SELECTOR,
        }
    )


def _reconfigure_patch(
    camera: CameraState, user_input: Mapping[str, Any], source: Mapping[str, object]
) -> dict[str, object]:
    """The engine's ``PATCH`` for a reconfigure (``source`` only when something changed)."""
    kept = camera.rule_options
    patch: dict[str, object] = {
        "name": user_input[CONF_NAME].strip(),
        "location": user_input.get(CONF_LOCATION, "").strip(),
        # Kept rules keep their options (zones, thresholds); new ones get defaults.
        "rules": {rule: kept.get(rule, {}) for rule in user_input[CONF_RULES]},
    }
    if source:
        patch["source"] = dict(source)
    return patch


class CameraSubentryFlow(ConfigSubentryFlow):
    """Add one camera to the engine of the config entry."""

    def __init__(self) -> None:
        """Start with nothing found and nothing probed."""
        self._found: dict[str, OnvifCamera] = {}
        self._host = ""
        self._port = DEFAULT_ONVIF_PORT
        self._username = ""
        self._password = ""
        self._suggested_name = ""
        self._suggested_location = ""
        self._details = ""
        self._probe: OnvifProbe | None = None

    def _data(self) -> SchoolGuardData:
        """The loaded entry's client and hub; the flow needs a connected engine."""
        entry = self._get_entry()
        if entry.state is not ConfigEntryState.LOADED:
            raise AbortFlow("engine_not_loaded")
        data: SchoolGuardData = entry.runtime_data
        return data

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> SubentryFlowResult:
        """Choose between a camera the engine finds and one typed in."""
        self._data()
        return self.async_show_menu(step_id="user", menu_options=["discover", "manual"])

    async def async_step_discover(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Pick one of the cameras that answered the engine's WS-Discovery probe."""
        errors: dict[str, str] = {}
        if user_input is not None:
            camera = self._found[user_input[CONF_CAMERA]]
            self._set_camera(camera.host, camera.port, user_input)
            self._suggested_name = camera.name or ""
            self._suggested_location = camera.location or ""
            if await self._probe_camera(errors):
                return await self.async_step_camera()
            return self._discover_form(errors)
        client = self._data().client
        try:
            found = await client.onvif_discover(DISCOVER_REQUEST)
        except SchoolGuardError as err:
            error = form_error(err, refused="discovery_failed", by_code=False)
            if not isinstance(err, SchoolGuardApiError):
                # No engine to search with (gone, or the token refused): nothing to retry here.
                return self.async_abort(reason=error)
            self._details = err.message
            return self._manual_form({"base": error})
        added = {
            (subentry.data.get(CONF_HOST), subentry.data.get(CONF_PORT))
            for subentry in self._get_entry().subentries.values()
            if subentry.subentry_type == SUBENTRY_CAMERA
        }
        self._found = {
            f"{camera.host}:{camera.port}": camera
            for camera in found
            if (camera.host, camera.port) not in added
        }
        if not self._found:
            return self._manual_form({"base": "no_cameras_found"})
        return self._discover_form(errors)

    def _discover_form(self, errors: dict[str, str]) -> SubentryFlowResult:
        options = [
            SelectOptionDict(value=key, label=_camera_label(camera))
            for key, camera in self._found.items()
        ]
        schema: dict[vol.Marker, Any] = {
            vol.Required(CONF_CAMERA): SelectSelector(
                SelectSelectorConfig(options=options, mode=SelectSelectorMode.LIST)
            ),
            **_credentials_schema(self._username),
        }
        return self.async_show_form(
            step_id="discover",
            data_schema=vol.Schema(schema),
            errors=errors,
            description_placeholders={"details": self._details},
        )

    async def async_step_manual(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Type the camera's address and credentials."""
        errors: dict[str, str] = {}
        if user_input is not None:
            self._set_camera(user_input[CONF_HOST], user_input[CONF_PORT], user_input)
            if await self._probe_camera(errors):
                return await self.async_step_camera()
        return self._manual_form(errors)

    def _manual_form(self, errors: dict[str, str]) -> SubentryFlowResult:
        host_key = (
            vol.Required(CONF_HOST, default=self._host) if self._host else vol.Required(CONF_HOST)
        )
        schema: dict[vol.Marker, Any] = {
            host_key: TEXT_SELECTOR,
            vol.Required(CONF_PORT, default=self._port): cv.port,
            **_credentials_schema(self._username),
        }
        return self.async_show_form(
            step_id="manual",
            data_schema=vol.Schema(schema),
            errors=errors,
            description_placeholders={"details": self._details},
        )

    def _set_camera(self, host: str, port: int, user_input: dict[str, Any]) -> None:
        self._host = host.strip()
        self._port = int(port)
        self._username = user_input.get(CONF_USERNAME, "")
        self._password = user_input.get(CONF_PASSWORD, "")

    async def _probe_camera(self, errors: dict[str, str]) -> bool:
        """Have the engine probe the camera; on failure record why and return False."""
        client = self._data().client
        self._details = ""
        try:
            self._probe = await client.onvif_probe(
                self._host, self._port, self._username, self._password
            )
        except SchoolGuardError as err:
            self._refused(err, errors, refused="camera_error")
        return not errors

    def _refused(self, err: SchoolGuardError, errors: dict[str, str], *, refused: str) -> None:
        """Say why the engine could not do this step (abort when it refused the token)."""
        if refused_token(err):
            raise AbortFlow(form_error(err, refused=refused)) from err
        errors["base"] = form_error(err, refused=refused)
        if isinstance(err, SchoolGuardApiError):
            self._details = err.message

    async def async_step_camera(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Name the camera, say where it is, choose its rules; then the engine adds it."""
        assert self._probe is not None
        data = self._data()
        errors: dict[str, str] = {}
        if user_input is not None:
            name = user_input[CONF_NAME].strip()
            location = user_input.get(CONF_LOCATION, "").strip()
            camera_id = self._new_camera_id(data, name)
            body = {
                "id": camera_id,
                "name": name,
                "location": location,
                "source": self._onvif_source(),
                "rules": {rule: {} for rule in user_input[CONF_RULES]},
            }
            # The engine pushes the new camera at once, maybe before this flow ends: the
            # hub waits for the subentry so the device is created under it.
            data.hub.awaiting_subentry.add(camera_id)
            try:
                await data.client.add_camera(body)
            except SchoolGuardError as err:
                data.hub.awaiting_subentry.discard(camera_id)
                self._refused(err, errors, refused="invalid_camera")
            else:
                return self.async_create_entry(
                    title=name,
                    data={
                        CONF_CAMERA_ID: camera_id,
                        CONF_HOST: self._host,
                        CONF_PORT: self._port,
                        CONF_LOCATION: location,
                    },
                    unique_id=camera_id,
                )
        else:
            user_input = {}
        # The engine lists its rules, and those worth switching on for a camera without
        # zones (not intrusion: on the whole frame at all hours it alerts on passers-by).
        probe = self._probe
        default_name = (
            self._suggested_name
            or f"{probe.manufacturer} {probe.model}".strip()
            or f"{self._host}:{self._port}"
        )
        schema = {
            vol.Required(CONF_NAME, default=user_input.get(CONF_NAME, default_name)): TEXT_SELECTOR,
            vol.Optional(
                CONF_LOCATION, default=user_input.get(CONF_LOCATION, self._suggested_location)
            ): TEXT_SELECTOR,
            vol.Optional(
                CONF_RULES,
                default=user_input.get(CONF_RULES, list(data.hub.info.default_rules)),
            ): _rules_selector(data.hub.info.rules),
        }
        offset = probe.clock_offset_s
        return self.async_show_form(
            step_id="camera",
            data_schema=vol.Schema(schema),
            errors=errors,
            description_placeholders={
                "device": f"{probe.manufacturer} {probe.model}".strip() or "ONVIF",
                "address": f"{probe.host}:{probe.port}",
                "resolution": f"{probe.width}x{probe.height}",
                "clock_offset": "?" if offset is None else f"{offset:+.0f}",
                "details": self._details,
            },
        )

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Change the camera's name, place, rules, address or credentials on the engine."""
        data = self._data()
        subentry = self._get_reconfigure_subentry()
        camera = data.hub.cameras.get(subentry.unique_id or "")
        if camera is None:
            return self.async_abort(reason="camera_gone")
        errors: dict[str, str] = {}
        if user_input is not None:
            host, port = user_input[CONF_HOST].strip(), int(user_input[CONF_PORT])
            moved = (host, port) != (subentry.data.get(CONF_HOST), subentry.data.get(CONF_PORT))
            self._set_camera(host, port, user_input)
            source: dict[str, object] = {}
            if moved or self._password:
                # New credentials or a new address: the engine tests them before it stores.
                if await self._probe_camera(errors):
                    source = self._onvif_source()
            elif self._username:
                source = {"username": self._username}
            patch = _reconfigure_patch(camera, user_input, source)
            if not errors:
                try:
                    await data.client.patch_camera(camera.camera_id, patch)
                except SchoolGuardError as err:
                    self._refused(err, errors, refused="invalid_camera")
                else:
                    return self.async_update_and_abort(
                        self._get_entry(),
                        subentry,
                        title=str(patch["name"]),
                        data_updates={
                            CONF_HOST: host,
                            CONF_PORT: port,
                            CONF_LOCATION: patch["location"],
                        },
                    )
        else:
            user_input = {
                CONF_HOST: subentry.data.get(CONF_HOST, ""),
                CONF_PORT: subentry.data.get(CONF_PORT, DEFAULT_ONVIF_PORT),
                CONF_NAME: camera.name,
                CONF_LOCATION: camera.location,
                CONF_RULES: list(camera.rule_options),
            }
        return self.async_show_form(
            step_id="reconfigure",
            data_schema=_reconfigure_schema(data.hub.info.rules, user_input),
            errors=errors,
            description_placeholders={"name": camera.name, "details": self._details},
        )

    def _onvif_source(self) -> dict[str, object]:
        """The engine's ``source`` for the camera this flow probed."""
        return {
            "type": "onvif",
            "host": self._host,
            "port": self._port,
            "username": self._username or None,
            "password": self._password or None,
        }

    def _new_camera_id(self, data: SchoolGuardData, name: str) -> str:
        """A free engine camera id from the name (``[a-z0-9_]``, numbered when taken)."""
        taken = set(data.hub.cameras) | {
            subentry.unique_id
            for subentry in self._get_entry().subentries.values()
            if subentry.unique_id is not None
        }
        base = slugify(name) or "camera"
        camera_id, number = base, 2
        while camera_id in taken:
            camera_id, number = f"{base}_{number}", number + 1
        return camera_id
