"""Set up a fresh Home Assistant for the school_guard demo through Home Assistant's own APIs.

Everything a person would click during onboarding and "Add integration" is done here with
the same HTTP and WebSocket calls the frontend makes, so the demo exercises the real paths:
the owner account (onboarding), the school_guard config flow, the playbook automations
(``use_blueprint`` + ``automation.reload``), the dashboard (``lovelace/config/save``) and a
long-lived access token for scripts and tests. Home Assistant specifics live here, never in
``detectors/``.

``HomeAssistantClient`` is also what the end-to-end test drives Home Assistant with.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import shutil
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import aiohttp
import yaml

DEMO_USER = "demo"
CLIENT_NAME = "school_guard demo"
ONBOARDED_EXCEPT_USER = ("core_config", "analytics", "integration")
"""Onboarding steps marked done before Home Assistant starts.

Finishing "core_config" through the API would start the met, radio_browser,
google_translate and shopping_list config flows, whose requirements Home Assistant would
try to pip-install from the internet; the demo sets its location in configuration.yaml
instead and only creates the owner through onboarding.
"""


class BootstrapError(Exception):
    """A set-up step failed; the message says which and what Home Assistant answered."""


type JsonObject = dict[str, Any]


async def wait_for[T](
    what: str, probe: Callable[[], Awaitable[T | None]], timeout: float, interval: float = 1.0
) -> T:
    """Poll ``probe`` until it returns something other than None, or fail naming ``what``."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while True:
        try:
            result = await probe()
        except (aiohttp.ClientError, OSError, BootstrapError) as err:
            result, last_error = None, err
        if result is not None:
            return result
        if time.monotonic() > deadline:
            detail = f" (last error: {last_error})" if last_error else ""
            raise BootstrapError(f"timed out after {timeout:.0f} s waiting for {what}{detail}")
        await asyncio.sleep(interval)


class HomeAssistantClient:
    """A small Home Assistant API client: REST calls and one-shot WebSocket commands."""

    def __init__(self, session: aiohttp.ClientSession, base_url: str, token: str = "") -> None:
        """Talk to ``base_url`` (``http://127.0.0.1:8123``) with ``token`` once it is known."""
        self.session = session
        self.base_url = base_url.rstrip("/")
        self.token = token

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    async def request(
        self, method: str, path: str, body: object = None, *, expect: int = 200
    ) -> Any:
        """Call a REST endpoint and return its JSON; another status than ``expect`` fails."""
        async with self.session.request(
            method,
            f"{self.base_url}{path}",
            json=body,
            headers=self._headers(),
            timeout=aiohttp.ClientTimeout(total=60),
        ) as response:
            text = await response.text()
            if response.status != expect:
                raise BootstrapError(f"{method} {path}: HTTP {response.status}: {text[:300]}")
            return json.loads(text) if text else None

    async def get(self, path: str) -> Any:
        """GET a REST endpoint's JSON."""
        return await self.request("GET", path)

    async def post(self, path: str, body: object = None) -> Any:
        """POST to a REST endpoint and return its JSON."""
        return await self.request("POST", path, {} if body is None else body)

    async def state(self, entity_id: str) -> JsonObject | None:
        """One entity's state object, or None while the entity does not exist."""
        async with self.session.get(
            f"{self.base_url}/api/states/{entity_id}", headers=self._headers()
        ) as response:
            if response.status == 404:
                return None
            if response.status != 200:
                raise BootstrapError(f"GET state of {entity_id}: HTTP {response.status}")
            return cast(JsonObject, await response.json())

    async def call_service(
        self, domain: str, service: str, data: Mapping[str, object] | None = None
    ) -> Any:
        """Call an action the way the frontend does (waits until it has run)."""
        return await self.post(f"/api/services/{domain}/{service}", dict(data or {}))

    async def ws_commands(self, *commands: Mapping[str, object]) -> list[Any]:
        """Run WebSocket commands in order on one authenticated connection; their results."""
        url = self.base_url.replace("http", "ws", 1) + "/api/websocket"
        results: list[Any] = []
        async with self.session.ws_connect(url, timeout=aiohttp.ClientWSTimeout(ws_close=10)) as ws:
            hello = await ws.receive_json(timeout=30)
            if hello.get("type") != "auth_required":
                raise BootstrapError(f"websocket: unexpected greeting {hello}")
            await ws.send_json({"type": "auth", "access_token": self.token})
            auth = await ws.receive_json(timeout=30)
            if auth.get("type") != "auth_ok":
                raise BootstrapError(f"websocket: authentication failed: {auth}")
            for number, command in zip(itertools.count(1), commands, strict=False):
                await ws.send_json({**command, "id": number})
                while True:
                    reply = await ws.receive_json(timeout=60)
                    if reply.get("id") == number and reply.get("type") == "result":
                        break
                if not reply.get("success"):
                    raise BootstrapError(f"websocket {command['type']}: {reply.get('error')}")
                results.append(reply.get("result"))
        return results

    async def ws_command(self, command: Mapping[str, object]) -> Any:
        """Run one WebSocket command and return its result."""
        return (await self.ws_commands(command))[0]


def prepare_config_dir(
    config_dir: Path, demo_dir: Path, blueprints_dir: Path, component_dir: Path
) -> None:
    """Lay out a fresh Home Assistant configuration folder for the demo.

    configuration.yaml and scripts.yaml come from ``demo_dir``; automations start empty
    (the playbooks are imported once school_guard is set up); the blueprints are copied
    where Home Assistant looks for them; the integration is linked, not copied, so the
    demo always runs the code in the checkout.
    """
    if config_dir.exists():
        shutil.rmtree(config_dir)
    (config_dir / ".storage").mkdir(parents=True)
    for name in ("configuration.yaml", "scripts.yaml"):
        shutil.copyfile(demo_dir / name, config_dir / name)
    (config_dir / "automations.yaml").write_text("[]\n")
    for domain in ("automation", "script"):
        source = blueprints_dir / domain / "school_guard"
        if source.is_dir():
            shutil.copytree(source, config_dir / "blueprints" / domain / "school_guard")
    (config_dir / "custom_components").mkdir()
    (config_dir / "custom_components" / "school_guard").symlink_to(component_dir.resolve())
    onboarding = {
        "version": 4,
        "minor_version": 1,
        "key": "onboarding",
        "data": {"done": list(ONBOARDED_EXCEPT_USER)},
    }
    (config_dir / ".storage" / "onboarding").write_text(json.dumps(onboarding))
    # Only the loopback adapter: Home Assistant's HTTP client session always creates a
    # zeroconf (mDNS) resolver, which joins the multicast group on every enabled non-
    # loopback adapter. With just "lo" enabled it joins none, so the demo never multicasts.
    network = {
        "version": 1,
        "minor_version": 1,
        "key": "core.network",
        "data": {"configured_adapters": ["lo"]},
    }
    (config_dir / ".storage" / "core.network").write_text(json.dumps(network))


@dataclass(frozen=True, slots=True)
class EngineAddress:
    """Where the school_guard engine listens, and its API token (for the config flow)."""

    host: str
    port: int
    token: str


@dataclass(frozen=True, slots=True)
class BootstrapResult:
    """What the demo prints and keeps: the login and the long-lived access token."""

    username: str
    password: str
    token: str
    entry_id: str
    camera_entities: dict[str, list[str]]


async def wait_until_up(client: HomeAssistantClient, timeout: float) -> None:
    """Wait until Home Assistant's HTTP server answers the onboarding status."""

    async def probe() -> bool | None:
        async with client.session.get(f"{client.base_url}/api/onboarding") as response:
            return True if response.status == 200 else None

    await wait_for("Home Assistant's HTTP server", probe, timeout)


async def onboard(client: HomeAssistantClient, password: str) -> None:
    """Create the owner account and log in as it (the token lands in ``client.token``)."""
    client_id = f"{client.base_url}/"
    created = await client.post(
        "/api/onboarding/users",
        {
            "client_id": client_id,
            "name": "Demo",
            "username": DEMO_USER,
            "password": password,
            "language": "en",
        },
    )
    async with client.session.post(
        f"{client.base_url}/auth/token",
        data={
            "grant_type": "authorization_code",
            "code": created["auth_code"],
            "client_id": client_id,
        },
    ) as response:
        if response.status != 200:
            raise BootstrapError(f"login as {DEMO_USER}: HTTP {response.status}")
        tokens = await response.json()
    client.token = tokens["access_token"]


async def add_engine(client: HomeAssistantClient, engine: EngineAddress) -> str:
    """Add the engine with the school_guard config flow (the "user" step); its entry id."""
    flow = await client.post(
        "/api/config/config_entries/flow",
        {"handler": "school_guard", "show_advanced_options": False},
    )
    if flow.get("type") != "form" or flow.get("step_id") != "user":
        raise BootstrapError(f"school_guard config flow did not ask for the engine: {flow}")
    result = await client.post(
        f"/api/config/config_entries/flow/{flow['flow_id']}",
        {"host": engine.host, "port": engine.port, "token": engine.token},
    )
    if result.get("type") != "create_entry":
        raise BootstrapError(f"school_guard config flow refused the engine: {result}")
    return cast(str, result["result"]["entry_id"])


async def entry_loaded(client: HomeAssistantClient, entry_id: str, timeout: float) -> None:
    """Wait until the config entry is set up (not retrying, not failed)."""

    async def probe() -> bool | None:
        entries = await client.get("/api/config/config_entries/entry?domain=school_guard")
        for entry in entries:
            if entry["entry_id"] == entry_id:
                if entry["state"] in ("setup_error", "migration_error", "failed_unload"):
                    raise BootstrapError(f"school_guard failed to set up: {entry}")
                return True if entry["state"] == "loaded" else None
        return None

    await wait_for("the school_guard config entry to load", probe, timeout)


async def camera_entities(
    client: HomeAssistantClient, entry_id: str, camera_ids: list[str], timeout: float
) -> dict[str, list[str]]:
    """Wait until every camera has entities; camera id -> its entity ids (by unique id)."""

    async def probe() -> dict[str, list[str]] | None:
        registry = await client.ws_command({"type": "config/entity_registry/list"})
        found: dict[str, list[str]] = {camera: [] for camera in camera_ids}
        for entity in registry:
            if entity.get("config_entry_id") != entry_id:
                continue
            for camera in camera_ids:
                if f"_{camera}_" in entity["unique_id"]:
                    found[camera].append(entity["entity_id"])
        complete = all(
            any(e.startswith("sensor.") for e in entities) for entities in found.values()
        )
        return {c: sorted(e) for c, e in found.items()} if complete else None

    return await wait_for("school_guard's camera entities", probe, timeout)


async def import_playbooks(
    client: HomeAssistantClient, config_dir: Path, playbooks: Path, timeout: float
) -> list[str]:
    """Write the playbook automations, reload, and check each one loaded (state on)."""
    shutil.copyfile(playbooks, config_dir / "automations.yaml")
    await client.call_service("automation", "reload")
    wanted = {item["id"] for item in yaml.safe_load(playbooks.read_text())}

    async def probe() -> list[str] | None:
        registry = await client.ws_command({"type": "config/entity_registry/list"})
        ids = [
            e["entity_id"]
            for e in registry
            if e["platform"] == "automation" and e.get("unique_id") in wanted
        ]
        if len(ids) < len(wanted):
            return None
        for entity_id in ids:
            state = await client.state(entity_id)
            if state is None or state["state"] == "unavailable":
                reason = state and state["attributes"].get("friendly_name")
                raise BootstrapError(f"playbook {entity_id} did not load ({reason}); see HA's log")
        return sorted(ids)

    return await wait_for("the playbook automations", probe, timeout)


def dashboard_config(
    base: JsonObject,
    devices: list[JsonObject],
    registry: list[JsonObject],
    entry_id: str,
) -> JsonObject:
    """The demo dashboard: a card per school_guard device in front of the demo's own cards.

    A camera card shows the camera picture when school_guard offers a camera entity, then
    connectivity and person count first and every other entity of the device after them.
    """

    def rank(entity_id: str) -> tuple[int, str]:
        order = ("connectivity", "person_count", "weapon", "person_down", "fight")
        hits = [i for i, word in enumerate(order) if word in entity_id]
        return (hits[0] if hits else len(order), entity_id)

    cards: list[JsonObject] = []
    ours = [d for d in devices if entry_id in d.get("config_entries", [])]
    # Engine first, then cameras in name order.
    ours.sort(
        key=lambda d: (d.get("via_device_id") is not None, d.get("name_by_user") or d["name"])
    )
    for device in ours:
        entities = sorted(
            (
                e["entity_id"]
                for e in registry
                if e.get("device_id") == device["id"] and not e.get("disabled_by")
            ),
            key=rank,
        )
        if not entities:
            continue
        stack: list[JsonObject] = []
        cameras = [e for e in entities if e.startswith("camera.")]
        if cameras:
            stack.append({"type": "picture-entity", "entity": cameras[0], "show_state": False})
        stack.append(
            {
                "type": "entities",
                "title": device.get("name_by_user") or device["name"],
                "show_header_toggle": False,
                "state_color": True,
                "entities": [e for e in entities if not e.startswith("camera.")],
            }
        )
        cards.append(stack[0] if len(stack) == 1 else {"type": "vertical-stack", "cards": stack})
    config = json.loads(json.dumps(base))
    config["views"][0]["cards"] = cards + config["views"][0]["cards"]
    return cast(JsonObject, config)


async def save_dashboard(client: HomeAssistantClient, base: Path, entry_id: str) -> None:
    """Build the dashboard from the registries and save it as the default dashboard."""
    devices, registry = await client.ws_commands(
        {"type": "config/device_registry/list"}, {"type": "config/entity_registry/list"}
    )
    config = dashboard_config(yaml.safe_load(base.read_text()), devices, registry, entry_id)
    await client.ws_command({"type": "lovelace/config/save", "config": config})


async def long_lived_token(client: HomeAssistantClient) -> str:
    """A long-lived access token for scripts and tests (what a profile page would make)."""
    token = await client.ws_command(
        {"type": "auth/long_lived_access_token", "client_name": CLIENT_NAME, "lifespan": 365}
    )
    return cast(str, token)


async def bootstrap(
    *,
    base_url: str,
    config_dir: Path,
    demo_dir: Path,
    engine: EngineAddress,
    camera_ids: list[str],
    password: str,
    timeout: float,
    log: Callable[[str], None],
) -> BootstrapResult:
    """Onboard, add the engine, import the playbooks, save the dashboard, make a token."""
    async with aiohttp.ClientSession() as session:
        client = HomeAssistantClient(session, base_url)
        await wait_until_up(client, timeout)
        log("Home Assistant is up; creating the demo owner account")
        await onboard(client, password)
        log("adding the school_guard engine (config flow)")
        entry_id = await add_engine(client, engine)
        await entry_loaded(client, entry_id, timeout)
        entities = await camera_entities(client, entry_id, camera_ids, timeout)
        log(
            "importing the playbooks: "
            + ", ".join(
                await import_playbooks(client, config_dir, demo_dir / "playbooks.yaml", timeout)
            )
        )
        await save_dashboard(client, demo_dir / "dashboard.yaml", entry_id)
        token = await long_lived_token(client)
    return BootstrapResult(
        username=DEMO_USER,
        password=password,
        token=token,
        entry_id=entry_id,
        camera_entities=entities,
    )
