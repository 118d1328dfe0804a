"""Config flow against a real engine: user, zeroconf, reauth and reconfigure steps."""

from __future__ import annotations

from ipaddress import ip_address

from homeassistant.config_entries import SOURCE_USER, SOURCE_ZEROCONF
from homeassistant.const import CONF_HOST, CONF_PORT, CONF_TOKEN
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers.service_info.zeroconf import ZeroconfServiceInfo
from pytest_homeassistant_custom_component.common import (  # type: ignore[import-untyped]
    MockConfigEntry,
)

from custom_components.school_guard.const import DOMAIN

from .conftest import TOKEN, RunningEngine


def zeroconf_info(host: str, port: int, properties: dict[str, str]) -> ZeroconfServiceInfo:
    return ZeroconfServiceInfo(
        ip_address=ip_address(host),
        ip_addresses=[ip_address(host)],
        port=port,
        hostname="edge-box.local.",
        type="_school-guard._tcp.local.",
        name="Lincoln High._school-guard._tcp.local.",
        properties=properties,
    )


async def test_user_step_creates_entry_named_after_engine(
    hass: HomeAssistant, running_engine: RunningEngine
) -> None:
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "user"
    assert result["errors"] == {}

    user_input = {CONF_HOST: "127.0.0.1", CONF_PORT: running_engine.port, CONF_TOKEN: TOKEN}
    result = await hass.config_entries.flow.async_configure(result["flow_id"], user_input)
    await hass.async_block_till_done()

    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Lincoln High"
    assert result["data"] == user_input
    assert result["result"].unique_id == running_engine.engine_id


async def test_user_step_cannot_connect_then_recovers(
    hass: HomeAssistant, running_engine: RunningEngine, closed_port: int
) -> None:
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    bad = {CONF_HOST: "127.0.0.1", CONF_PORT: closed_port, CONF_TOKEN: TOKEN}
    result = await hass.config_entries.flow.async_configure(result["flow_id"], bad)
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "cannot_connect"}

    good = {**bad, CONF_PORT: running_engine.port}
    result = await hass.config_entries.flow.async_configure(result["flow_id"], good)
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_user_step_invalid_token(hass: HomeAssistant, running_engine: RunningEngine) -> None:
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    user_input = {CONF_HOST: "127.0.0.1", CONF_PORT: running_engine.port, CONF_TOKEN: "wrong"}
    result = await hass.config_entries.flow.async_configure(result["flow_id"], user_input)
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_TOKEN: "invalid_auth"}


async def test_user_step_engine_already_configured(
    hass: HomeAssistant, running_engine: RunningEngine
) -> None:
    MockConfigEntry(domain=DOMAIN, unique_id=running_engine.engine_id, data={}).add_to_hass(hass)
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    user_input = {CONF_HOST: "127.0.0.1", CONF_PORT: running_engine.port, CONF_TOKEN: TOKEN}
    result = await hass.config_entries.flow.async_configure(result["flow_id"], user_input)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


async def test_zeroconf_discovery_asks_for_token(
    hass: HomeAssistant, running_engine: RunningEngine
) -> None:
    info = zeroconf_info(
        "127.0.0.1",
        running_engine.port,
        {"engine_id": running_engine.engine_id, "name": "Lincoln High", "version": "0.1.0"},
    )
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_ZEROCONF}, data=info
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "zeroconf_confirm"
    assert result["description_placeholders"] == {
        "name": "Lincoln High",
        "host": "127.0.0.1",
        "port": str(running_engine.port),
    }

    result = await hass.config_entries.flow.async_configure(result["flow_id"], {CONF_TOKEN: "bad"})
    assert result["errors"] == {CONF_TOKEN: "invalid_auth"}

    result = await hass.config_entries.flow.async_configure(result["flow_id"], {CONF_TOKEN: TOKEN})
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Lincoln High"
    assert result["data"] == {
        CONF_HOST: "127.0.0.1",
        CONF_PORT: running_engine.port,
        CONF_TOKEN: TOKEN,
    }
    assert result["result"].unique_id == running_engine.engine_id


async def test_zeroconf_updates_address_of_configured_engine(hass: HomeAssistant) -> None:
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id="abc123",
        data={CONF_HOST: "192.0.2.1", CONF_PORT: 8765, CONF_TOKEN: TOKEN},
    )
    entry.add_to_hass(hass)
    info = zeroconf_info("127.0.0.1", 9999, {"engine_id": "abc123"})
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_ZEROCONF}, data=info
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    assert entry.data == {CONF_HOST: "127.0.0.1", CONF_PORT: 9999, CONF_TOKEN: TOKEN}


async def test_zeroconf_without_engine_id_is_not_ours(hass: HomeAssistant) -> None:
    info = zeroconf_info("127.0.0.1", 8765, {"name": "printer"})
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_ZEROCONF}, data=info
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "not_school_guard"


async def test_zeroconf_announcement_answered_by_another_engine(
    hass: HomeAssistant, running_engine: RunningEngine
) -> None:
    info = zeroconf_info("127.0.0.1", running_engine.port, {"engine_id": "someone-else"})
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_ZEROCONF}, data=info
    )
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {CONF_TOKEN: TOKEN})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "wrong_engine"


async def test_reauth_stores_new_token(
    hass: HomeAssistant, running_engine: RunningEngine, config_entry: MockConfigEntry
) -> None:
    config_entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(
        config_entry, data={**config_entry.data, CONF_TOKEN: "old-token"}
    )
    result = await config_entry.start_reauth_flow(hass)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "reauth_confirm"

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_TOKEN: "still-wrong"}
    )
    assert result["errors"] == {CONF_TOKEN: "invalid_auth"}

    result = await hass.config_entries.flow.async_configure(result["flow_id"], {CONF_TOKEN: TOKEN})
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    assert config_entry.data[CONF_TOKEN] == TOKEN


async def test_reconfigure_moves_engine_to_new_address(
    hass: HomeAssistant, running_engine: RunningEngine, closed_port: int
) -> None:
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id=running_engine.engine_id,
        data={CONF_HOST: "127.0.0.1", CONF_PORT: closed_port, CONF_TOKEN: TOKEN},
    )
    entry.add_to_hass(hass)
    result = await entry.start_reconfigure_flow(hass)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "reconfigure"

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_HOST: "127.0.0.1", CONF_PORT: closed_port}
    )
    assert result["errors"] == {"base": "cannot_connect"}

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_HOST: "127.0.0.1", CONF_PORT: running_engine.port}
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert entry.data == {CONF_HOST: "127.0.0.1", CONF_PORT: running_engine.port, CONF_TOKEN: TOKEN}


async def test_reconfigure_refuses_a_different_engine(
    hass: HomeAssistant, running_engine: RunningEngine
) -> None:
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id="another-engine",
        data={CONF_HOST: "192.0.2.1", CONF_PORT: 8765, CONF_TOKEN: TOKEN},
    )
    entry.add_to_hass(hass)
    result = await entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_HOST: "127.0.0.1", CONF_PORT: running_engine.port}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "wrong_engine"
    assert entry.data[CONF_HOST] == "192.0.2.1"
