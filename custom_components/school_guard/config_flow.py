"""Config flow: one config entry per engine, found by zeroconf or entered by hand."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import voluptuous as vol
from homeassistant.config_entries import (
    ConfigEntry,
    ConfigFlow,
    ConfigFlowResult,
    ConfigSubentryFlow,
)
from homeassistant.const import CONF_HOST, CONF_PORT, CONF_TOKEN
from homeassistant.core import callback
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.selector import TextSelector, TextSelectorConfig, TextSelectorType
from homeassistant.helpers.service_info.zeroconf import ZeroconfServiceInfo

from .camera_flow import CameraSubentryFlow
from .client import EngineInfo, SchoolGuardClient, SchoolGuardError
from .const import DEFAULT_PORT, DOMAIN, SUBENTRY_CAMERA
from .errors import form_error, refused_token

TOKEN_SELECTOR = TextSelector(TextSelectorConfig(type=TextSelectorType.PASSWORD))
HOST_SELECTOR = TextSelector(TextSelectorConfig(autocomplete="off"))


def _address_schema(host: str | None, port: int) -> dict[vol.Marker, Any]:
    host_key = vol.Required(CONF_HOST) if host is None else vol.Required(CONF_HOST, default=host)
    return {host_key: HOST_SELECTOR, vol.Required(CONF_PORT, default=port): cv.port}


class SchoolGuardConfigFlow(ConfigFlow, domain=DOMAIN):
    """Add an engine; reauthenticate with a new token; move it to a new address."""

    VERSION = 1

    _discovered_host: str
    _discovered_port: int
    _discovered_name: str

    @classmethod
    @callback
    def async_get_supported_subentry_types(
        cls, config_entry: ConfigEntry
    ) -> dict[str, type[ConfigSubentryFlow]]:
        """Cameras are added from the engine's entry ("Add camera")."""
        return {SUBENTRY_CAMERA: CameraSubentryFlow}

    async def _try_engine(
        self, host: str, port: int, token: str, errors: dict[str, str]
    ) -> EngineInfo | None:
        """Ask the engine who it is; on failure record a translated error and return None."""
        client = SchoolGuardClient(async_get_clientsession(self.hass), host, port, token)
        try:
            return await client.info()
        except SchoolGuardError as err:
            # A refused token is the token field's fault; anything else the engine's.
            field = CONF_TOKEN if refused_token(err) else "base"
            errors[field] = form_error(err, refused="unknown", by_code=False)
        return None

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Enter an engine's address and token by hand."""
        errors: dict[str, str] = {}
        if user_input is not None:
            host, port = user_input[CONF_HOST], user_input[CONF_PORT]
            info = await self._try_engine(host, port, user_input[CONF_TOKEN], errors)
            if info is not None:
                await self.async_set_unique_id(info.engine_id, raise_on_progress=False)
                self._abort_if_unique_id_configured()
                return self.async_create_entry(title=info.name, data=user_input)
        else:
            user_input = {}
        schema = _address_schema(user_input.get(CONF_HOST), user_input.get(CONF_PORT, DEFAULT_PORT))
        schema[vol.Required(CONF_TOKEN)] = TOKEN_SELECTOR
        return self.async_show_form(step_id="user", data_schema=vol.Schema(schema), errors=errors)

    async def async_step_zeroconf(self, discovery_info: ZeroconfServiceInfo) -> ConfigFlowResult:
        """An engine announced itself; its TXT ``engine_id`` identifies it across addresses."""
        engine_id = discovery_info.properties.get("engine_id")
        if not engine_id:
            return self.async_abort(reason="not_school_guard")
        await self.async_set_unique_id(engine_id)
        self._abort_if_unique_id_configured(
            updates={CONF_HOST: discovery_info.host, CONF_PORT: discovery_info.port}
        )
        self._discovered_host = discovery_info.host
        self._discovered_port = discovery_info.port or DEFAULT_PORT
        self._discovered_name = discovery_info.properties.get("name") or engine_id
        self.context["title_placeholders"] = {"name": self._discovered_name}
        return await self.async_step_zeroconf_confirm()

    async def async_step_zeroconf_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for the token of the discovered engine (zeroconf never carries it)."""
        errors: dict[str, str] = {}
        if user_input is not None:
            host, port = self._discovered_host, self._discovered_port
            info = await self._try_engine(host, port, user_input[CONF_TOKEN], errors)
            if info is not None:
                if info.engine_id != self.unique_id:
                    return self.async_abort(reason="wrong_engine")
                return self.async_create_entry(
                    title=info.name,
                    data={CONF_HOST: host, CONF_PORT: port, CONF_TOKEN: user_input[CONF_TOKEN]},
                )
        return self.async_show_form(
            step_id="zeroconf_confirm",
            data_schema=vol.Schema({vol.Required(CONF_TOKEN): TOKEN_SELECTOR}),
            description_placeholders={
                "name": self._discovered_name,
                "host": self._discovered_host,
                "port": str(self._discovered_port),
            },
            errors=errors,
        )

    async def async_step_reauth(self, entry_data: Mapping[str, Any]) -> ConfigFlowResult:
        """The engine refused the stored token."""
        return await self.async_step_reauth_confirm()

    async def async_step_reauth_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for the engine's new token."""
        errors: dict[str, str] = {}
        entry = self._get_reauth_entry()
        if user_input is not None:
            host, port = entry.data[CONF_HOST], entry.data[CONF_PORT]
            info = await self._try_engine(host, port, user_input[CONF_TOKEN], errors)
            if info is not None:
                await self.async_set_unique_id(info.engine_id)
                self._abort_if_unique_id_mismatch(reason="wrong_engine")
                return self.async_update_reload_and_abort(
                    entry, data_updates={CONF_TOKEN: user_input[CONF_TOKEN]}
                )
        return self.async_show_form(
            step_id="reauth_confirm",
            data_schema=vol.Schema({vol.Required(CONF_TOKEN): TOKEN_SELECTOR}),
            description_placeholders={"name": entry.title},
            errors=errors,
        )

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Move the engine to a new host or port; it must still be the same engine."""
        errors: dict[str, str] = {}
        entry = self._get_reconfigure_entry()
        host, port = entry.data[CONF_HOST], entry.data[CONF_PORT]
        if user_input is not None:
            host, port = user_input[CONF_HOST], user_input[CONF_PORT]
            info = await self._try_engine(host, port, entry.data[CONF_TOKEN], errors)
            if info is not None:
                await self.async_set_unique_id(info.engine_id)
                self._abort_if_unique_id_mismatch(reason="wrong_engine")
                return self.async_update_reload_and_abort(
                    entry, data_updates={CONF_HOST: host, CONF_PORT: port}
                )
        return self.async_show_form(
            step_id="reconfigure",
            data_schema=vol.Schema(_address_schema(host, port)),
            errors=errors,
        )
