"""Drive the whole demo stack end to end from inside its private network namespace.

test_e2e_demo.py runs this script under ``unshare -n``: every process of the demo listens
on the namespace's own loopback, so the checks must run in that same namespace. This
driver starts ``scripts/demo --headless``, waits for its token, exercises the stack through
Home Assistant's REST and WebSocket APIs exactly as a user or script would, opens the
dashboard (during the drill and at the end), the camera's device page and the weapon
playbook's form in headless Chromium over the DevTools protocol (a screenshot and the
visible text of each), stops the demo and
writes everything it observed to a JSON file. The test then asserts on those observations,
so a failure shows what was seen rather than just "the driver failed".
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import json
import os
import re
import shutil
import signal
import sys
import tempfile
import time
import traceback
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))
from ha_bootstrap import HomeAssistantClient, wait_for  # noqa: E402

CAMERAS = ("main-entrance", "cafeteria")
PLAYBOOKS = ("fight_response", "person_down_response", "intrusion_response", "camera_health")
"""The demo's playbooks besides the weapon one (demo/homeassistant/playbooks.yaml ids)."""
STEP_TIMEOUT = 120.0
CDP_PORT = 9222


class Observations:
    """What the driver saw, step by step; written as JSON for the test."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.data: dict[str, Any] = {"error": None, "steps": []}

    def record(self, key: str, value: Any) -> None:
        self.data[key] = value
        self.data["steps"].append(key)
        print(f"e2e: {key} = {json.dumps(value)[:300]}", flush=True)
        self.save()

    def save(self) -> None:
        partial = self.path.with_suffix(".partial")
        partial.write_text(json.dumps(self.data, indent=2))
        partial.replace(self.path)


async def state_until(
    ha: HomeAssistantClient,
    entity_id: str,
    accept: Callable[[str], bool],
    what: str,
    timeout: float = STEP_TIMEOUT,
) -> dict[str, Any]:
    """Poll an entity until ``accept(state)``; its whole state object."""

    async def probe() -> dict[str, Any] | None:
        state = await ha.state(entity_id)
        return state if state is not None and accept(state["state"]) else None

    return await wait_for(f"{entity_id} {what}", probe, timeout, 0.5)


def numeric(value: str) -> bool:
    try:
        float(value)
    except ValueError:
        return False
    return True


async def logbook_messages(ha: HomeAssistantClient, since: str) -> list[str]:
    """Every logbook line since ``since`` as "name: message" (state changes included)."""
    entries = await ha.get(f"/api/logbook/{since}")
    return [f"{e.get('name', '')}: {e.get('message', e.get('state', ''))}" for e in entries]


async def wait_logbook(ha: HomeAssistantClient, since: str, pattern: str) -> str:
    """Wait for a logbook line matching ``pattern``; the line."""
    regex = re.compile(pattern)

    async def probe() -> str | None:
        return next((m for m in await logbook_messages(ha, since) if regex.search(m)), None)

    return await wait_for(f"a logbook line matching {pattern!r}", probe, STEP_TIMEOUT)


async def registry(ha: HomeAssistantClient) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    devices, entities = await ha.ws_commands(
        {"type": "config/device_registry/list"}, {"type": "config/entity_registry/list"}
    )
    return devices, entities


def entity_for(entities: list[dict[str, Any]], camera: str, key: str) -> str:
    """The school_guard entity of ``camera`` whose unique id ends in ``_<camera>_<key>``."""
    suffix = f"_{camera}_{key}"
    for entity in entities:
        if entity["platform"] == "school_guard" and entity["unique_id"].endswith(suffix):
            return str(entity["entity_id"])
    raise LookupError(f"no school_guard entity with unique id ending {suffix}")


def device_for(devices: list[dict[str, Any]], camera: str) -> str:
    """The device id of a school_guard camera (identifier ``<engine_id>_<camera>``)."""
    for device in devices:
        for domain, identifier in device["identifiers"]:
            if domain == "school_guard" and identifier.endswith(f"_{camera}"):
                return str(device["id"])
    raise LookupError(f"no school_guard device for camera {camera}")


async def weapon_drill(
    ha: HomeAssistantClient, obs: Observations, devices: list[Any], entities: list[Any]
) -> str:
    """test_alert -> playbook pages -> SRO confirms -> doors lock, PA speaks; the event id."""
    since = datetime.now(UTC).isoformat()
    event_entity = entity_for(entities, "main-entrance", "alert")
    before = await ha.state(event_entity)
    await ha.call_service(
        "school_guard",
        "test_alert",
        {"device_id": device_for(devices, "main-entrance"), "rule": "weapon", "seconds": 600},
    )

    async def drill_event() -> dict[str, Any] | None:
        state = await ha.state(event_entity)
        if state is None or (before is not None and state["state"] == before["state"]):
            return None
        attributes = state["attributes"]
        return attributes if attributes.get("event_type") == "weapon" else None

    alert = await wait_for("the weapon drill on the event entity", drill_event, STEP_TIMEOUT)
    event_id = str(alert["event_id"])
    weapon_sensor = entity_for(entities, "main-entrance", "weapon")
    sensor = await state_until(ha, weapon_sensor, lambda s: s == "on", "on")
    obs.record(
        "drill", {"event_id": event_id, "drill": alert.get("drill"), "weapon": sensor["state"]}
    )
    paged = await wait_logbook(ha, since, r"weapon alert at .*paging")
    obs.record("paged", paged)

    # The SRO's phone would send this when Confirm is tapped. The playbook only listens
    # once it reaches its wait step, so a confirmation sent a moment too early is repeated.
    fired = 0

    async def confirmed() -> bool | None:
        nonlocal fired
        state = await ha.state("lock.front_doors")
        if state is not None and state["state"] == "locked":
            return True
        fired += 1
        await ha.post(
            "/api/events/mobile_app_notification_action", {"action": f"SG_CONFIRM_{event_id}"}
        )
        return None

    await wait_for("the doors to lock after Confirm", confirmed, STEP_TIMEOUT, 3.0)
    cafeteria = await state_until(ha, "lock.cafeteria_doors", lambda s: s == "locked", "locked")
    announcement = await state_until(
        ha, "input_text.pa_last_announcement", lambda s: s not in ("unknown", ""), "set"
    )
    obs.record(
        "response",
        {
            "front_doors": "locked",
            "cafeteria_doors": cafeteria["state"],
            "announcement": announcement["state"],
            "confirm_events_fired": fired,
            "confirmed_line": await wait_logbook(ha, since, "confirmed the alert at"),
        },
    )
    mode_entity = next(
        e["entity_id"]
        for e in entities
        if e["platform"] == "school_guard" and e["unique_id"].endswith("_response_mode")
    )
    mode = await state_until(ha, mode_entity, lambda s: s == "lockdown_drill", "lockdown drill")
    obs.record("mode", mode["state"])
    return event_id


async def dismissal(
    ha: HomeAssistantClient, obs: Observations, entities: list[Any], event_id: str
) -> None:
    """dismiss_alert -> the weapon sensor turns off, the logbook says dismissed."""
    since = datetime.now(UTC).isoformat()
    await ha.call_service(
        "school_guard", "dismiss_alert", {"event_id": event_id, "reason": "e2e: a drill"}
    )
    weapon_sensor = entity_for(entities, "main-entrance", "weapon")
    sensor = await state_until(ha, weapon_sensor, lambda s: s == "off", "off")
    alert_line = await wait_logbook(ha, since, r"Weapon alert dismissed as a false alarm at")
    playbook_line = await wait_logbook(ha, since, "was dismissed; telling")
    obs.record(
        "dismissal",
        {"weapon": sensor["state"], "alert_line": alert_line, "playbook_line": playbook_line},
    )


async def camera_outage(
    ha: HomeAssistantClient, obs: Observations, entities: list[Any], state_dir: Path, demo_pid: int
) -> None:
    """Kill the Cafeteria camera-sim: its connectivity goes off; SIGUSR1 brings it back."""
    connectivity = entity_for(entities, "cafeteria", "connectivity")
    before = await state_until(ha, connectivity, lambda s: s == "on", "on")
    sim_pid = int((state_dir / "run" / "camera-sim-cafeteria.pid").read_text())
    os.kill(sim_pid, signal.SIGKILL)
    down = await state_until(ha, connectivity, lambda s: s in ("off", "unavailable"), "off")
    os.kill(demo_pid, signal.SIGUSR1)  # the demo restarts parts that exited
    back = await state_until(ha, connectivity, lambda s: s == "on", "back on")
    obs.record("outage", {"before": before["state"], "down": down["state"], "back": back["state"]})


async def incident_clip(ha: HomeAssistantClient, obs: Observations, event_id: str) -> str:
    """Find the drill in the media browser (School safety → engine → camera → day →
    incident) once its clip is written; the clip's signed path, as the browser gets it."""
    root = "media-source://school_guard"

    async def browse(content_id: str) -> dict[str, Any]:
        command = {"type": "media_source/browse_media", "media_content_id": content_id}
        result: dict[str, Any] = await ha.ws_command(command)
        return result

    async def clip_item() -> dict[str, Any] | None:
        engines = (await browse(root))["children"]
        engine = await browse(engines[0]["media_content_id"])
        camera = next(c for c in engine["children"] if c["title"] == "Main entrance")
        for day in (await browse(camera["media_content_id"]))["children"]:
            for incident in (await browse(day["media_content_id"]))["children"]:
                if incident["media_content_id"].endswith(event_id):
                    files = (await browse(incident["media_content_id"]))["children"]
                    if files:
                        return {"incident": incident["title"], "files": files}
        return None

    found = await wait_for("the drill's clip in the media browser", clip_item, STEP_TIMEOUT, 1.0)
    clip = next(f for f in found["files"] if f["title"] == "Clip")
    resolved = await ha.ws_command(
        {
            "type": "media_source/resolve_media",
            "media_content_id": clip["media_content_id"],
            "expires": 600,
        }
    )
    obs.record(
        "media_browser",
        {
            "incident": found["incident"],
            "files": [f["title"] for f in found["files"]],
            "mime_type": resolved["mime_type"],
            "signed": "authSig=" in resolved["url"],
        },
    )
    return str(resolved["url"])


class DevTools:
    """Just enough of the Chrome DevTools protocol to load a page and screenshot it."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.next_id = 0

    async def call(self, method: str, **params: Any) -> dict[str, Any]:
        self.next_id += 1
        await self.ws.send_json({"id": self.next_id, "method": method, "params": params})
        while True:
            message = await self.ws.receive_json(timeout=60)
            if message.get("id") == self.next_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return dict(message.get("result", {}))

    async def evaluate(self, expression: str) -> Any:
        result = await self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        return result.get("result", {}).get("value")


VISIBLE_TEXT_JS = """(() => {
  const out = [];
  const walk = (root) => {
    for (const node of root.childNodes) {
      if (node.nodeType === Node.TEXT_NODE) {
        const text = node.textContent.trim();
        const parent = node.parentElement;
        if (text && parent && parent.getClientRects().length > 0) out.push(text);
      } else if (node.nodeType === Node.ELEMENT_NODE && !['STYLE', 'SCRIPT'].includes(node.tagName)) {
        if (node.shadowRoot) walk(node.shadowRoot);
        walk(node);
      }
    }
  };
  walk(document);
  return out.join('\\n');
})()"""
"""Every rendered text node, through Home Assistant's shadow roots (innerText stops at them)."""

FORM_FIELDS_JS = """(() => {
  const fields = {};
  const deep = (root, out) => {
    for (const node of root.querySelectorAll('*')) {
      out.push(node);
      if (node.shadowRoot) deep(node.shadowRoot, out);
    }
    return out;
  };
  for (const row of deep(document, []).filter((n) => n.tagName === 'HA-SETTINGS-ROW')) {
    if (row.getClientRects().length === 0) continue;
    const heading = row.querySelector('[slot=heading]');
    if (!heading) continue;
    const boxes = deep(row, []).filter(
      (n) => ['INPUT', 'TEXTAREA'].includes(n.tagName) && n.getClientRects().length > 0
    );
    fields[heading.textContent.trim()] = boxes.map((n) => n.value);
  }
  return fields;
})()"""
"""Each visible form row (a blueprint input) -> what its text boxes show: a picker's value
is an input's value, not a text node, so the visible text alone does not show it."""

HASS_READY_JS = (
    "(() => { const ha = document.querySelector('home-assistant');"
    " return !!(ha && ha.hass && ha.hass.connected && ha.hass.states['lock.front_doors']); })()"
)


class Browser:
    """Headless Chromium logged in to the demo's Home Assistant, one page at a time."""

    def __init__(self, tools: DevTools, ha_url: str, folder: Path, obs: Observations) -> None:
        self.tools = tools
        self.ha_url = ha_url
        self.folder = folder
        self.obs = obs

    async def capture(
        self, name: str, path: str, settle: float = 8.0, *, screenshot: bool = True
    ) -> None:
        """Open ``path``, let it paint, save ``<name>.png`` and record its visible text.

        A form's rows are recorded too, each with what its boxes show. Without
        ``screenshot`` only the text and the rows are recorded.
        """
        tools = self.tools
        await tools.call("Page.navigate", url=f"{self.ha_url}{path}")

        async def rendered() -> bool | None:
            return True if await tools.evaluate(HASS_READY_JS) else None

        await wait_for(f"{path} to load", rendered, 90, 1.0)
        await asyncio.sleep(settle)  # let the cards, pictures and forms paint
        seen: dict[str, Any] = {}
        if screenshot:
            shot = await tools.call("Page.captureScreenshot", format="png")
            data = base64.b64decode(shot["data"])
            target = self.folder / f"{name}.png"
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
            seen |= {"path": str(target), "bytes": len(data)}
        seen["text"] = str(await tools.evaluate(VISIBLE_TEXT_JS) or "")
        seen["fields"] = await tools.evaluate(FORM_FIELDS_JS) or {}
        self.obs.record(name, seen)


@contextlib.asynccontextmanager
async def browser(
    session: aiohttp.ClientSession, ha_url: str, token: str, folder: Path, obs: Observations
) -> AsyncIterator[Browser]:
    """Start Chromium, log the frontend in with the demo token, and stop it afterwards."""
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    if binary is None:
        raise RuntimeError("chromium is not installed (scripts/setup installs it)")
    profile = Path(tempfile.mkdtemp(prefix="sg-e2e-chromium-"))
    process = await asyncio.create_subprocess_exec(
        binary,
        "--headless=new",
        "--no-sandbox",  # root in a container: Chromium's sandbox needs user namespaces
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--no-default-browser-check",
        "--hide-scrollbars",
        "--autoplay-policy=no-user-gesture-required",
        f"--user-data-dir={profile}",
        "--remote-debugging-address=127.0.0.1",
        f"--remote-debugging-port={CDP_PORT}",
        "about:blank",
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
        start_new_session=True,
    )
    try:

        async def page_socket() -> str | None:
            async with session.get(f"http://127.0.0.1:{CDP_PORT}/json/list") as response:
                pages = [p for p in await response.json() if p.get("type") == "page"]
            return str(pages[0]["webSocketDebuggerUrl"]) if pages else None

        url = await wait_for("Chromium's DevTools endpoint", page_socket, 60, 0.5)
        async with session.ws_connect(url, max_msg_size=0) as ws:
            tools = DevTools(ws)
            await tools.call(
                "Emulation.setDeviceMetricsOverride",
                width=1440,
                height=1500,
                deviceScaleFactor=1,
                mobile=False,
            )
            await tools.call("Page.enable")
            # Same origin first, so the token can go where the frontend keeps its login.
            await tools.call("Page.navigate", url=f"{ha_url}/robots.txt")
            await asyncio.sleep(1)
            tokens = {
                "hassUrl": ha_url,
                "clientId": f"{ha_url}/",
                "access_token": token,
                "refresh_token": "",
                "token_type": "Bearer",
                "expires_in": 315360000,
                "expires": int(time.time() * 1000) + 315360000000,
            }
            await tools.evaluate(
                f"localStorage.setItem('hassTokens', {json.dumps(json.dumps(tokens))})"
            )
            yield Browser(tools, ha_url, folder, obs)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        await process.wait()
        shutil.rmtree(profile, ignore_errors=True)


async def drill_pages(view: Browser, devices: list[dict[str, Any]]) -> None:
    """What staff see while the drill runs: the dashboard, the camera's page, the playbook."""
    await view.capture("drill_dashboard", "/lovelace/school")
    await view.capture(
        "camera_page", f"/config/devices/device/{device_for(devices, 'main-entrance')}"
    )
    await view.capture("playbook_form", "/config/automation/edit/school_guard_demo_weapon_response")
    # Every other playbook's form, read the same way (no screenshot for the docs).
    for playbook in PLAYBOOKS:
        await view.capture(
            f"form_{playbook}",
            f"/config/automation/edit/school_guard_demo_{playbook}",
            screenshot=False,
        )
    await view.capture("form_all_clear", "/config/script/edit/all_clear", screenshot=False)


async def play_clip(tools: DevTools, url: str, obs: Observations) -> None:
    """Open the clip (Chromium's own video page), wait until it has played a while."""
    await tools.call("Page.navigate", url=url)
    probe = (
        "(() => { const v = document.querySelector('video');"
        " return v ? {t: v.currentTime, w: v.videoWidth, h: v.videoHeight,"
        " d: v.duration, error: v.error && v.error.code} : null; })()"
    )

    async def played() -> dict[str, Any] | None:
        video = await tools.evaluate(probe)
        return video if video and (video["error"] or video["t"] > 1.0) else None

    video = await wait_for("the clip to play in Chromium", played, 60, 0.5)
    obs.record("clip_played", video)


async def engine_streams(session: aiohttp.ClientSession, state_dir: Path) -> dict[str, Any]:
    """How the engine reads each camera: profile per role and the decoded stream."""
    token = (state_dir / "engine-token").read_text().strip()
    headers = {"Authorization": f"Bearer {token}"}

    async def probe() -> dict[str, Any] | None:
        async with session.get("http://127.0.0.1:8765/api/v1/cameras", headers=headers) as got:
            cameras = await got.json()
        seen = {}
        for camera in cameras:
            streams = camera["streams"]
            if streams["detection"]["stream"] is None or not camera["status"]["online"]:
                return None
            seen[camera["id"]] = {
                "profile": streams["detection"]["profile"]["token"],
                "stream": streams["detection"]["stream"],
                "snapshot": [streams["snapshot"]["from"], streams["snapshot"]["profile"]["token"]],
            }
        return seen

    result: dict[str, Any] = await wait_for("the engine's RTSP streams", probe, STEP_TIMEOUT, 1.0)
    return result


async def drive(args: argparse.Namespace, obs: Observations) -> None:
    """Start the demo, run every check, stop the demo."""
    state_dir: Path = args.state_dir
    demo_log = (args.result.parent / "demo.log").open("wb")
    demo = await asyncio.create_subprocess_exec(
        str(ROOT / "scripts" / "demo"),
        "--headless",
        "--state-dir",
        str(state_dir),
        "--password",
        "e2e-demo-password",
        stdin=asyncio.subprocess.DEVNULL,
        stdout=demo_log,
        stderr=asyncio.subprocess.STDOUT,
        start_new_session=True,
    )
    started = time.monotonic()
    pids: dict[str, int] = {}
    try:
        token_file = state_dir / "token"

        async def token() -> str | None:
            if demo.returncode is not None:
                raise RuntimeError(f"scripts/demo exited with {demo.returncode} before it was up")
            return token_file.read_text().strip() if token_file.exists() else None

        ha_token = await wait_for("the demo's .demo/token", token, args.up_timeout, 1.0)
        obs.record("up_seconds", round(time.monotonic() - started))
        pids = {p.stem: int(p.read_text()) for p in (state_dir / "run").glob("*.pid")}
        obs.record("processes", sorted(pids))
        ha_url = f"http://127.0.0.1:{args.ha_port}"
        async with aiohttp.ClientSession() as session:
            ha = HomeAssistantClient(session, ha_url, ha_token)
            devices, entities = await registry(ha)
            playbooks = {}
            for entry in entities:
                if entry["platform"] == "automation":
                    state = await ha.state(entry["entity_id"])
                    playbooks[entry["unique_id"]] = state["state"] if state else None
            obs.record("playbooks", playbooks)
            counts = {}
            for camera in CAMERAS:
                sensor = entity_for(entities, camera, "person_count")
                counts[camera] = (await state_until(ha, sensor, numeric, "numeric"))["state"]
            obs.record("person_counts", counts)
            obs.record("engine_streams", await engine_streams(session, state_dir))
            event_id = await weapon_drill(ha, obs, devices, entities)
            clip_url = await incident_clip(ha, obs, event_id)
            async with browser(session, ha_url, ha_token, args.screenshots, obs) as view:
                await drill_pages(view, devices)
                await play_clip(view.tools, ha_url + clip_url, obs)
                await dismissal(ha, obs, entities, event_id)
                await camera_outage(ha, obs, entities, state_dir, pids["demo"])
                await view.capture("dashboard", "/lovelace/school")
    finally:
        if demo.returncode is None:
            demo.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(demo.wait(), 90)
            except TimeoutError:
                os.killpg(demo.pid, signal.SIGKILL)
                await demo.wait()
        demo_log.close()
    survivors = [name for name, pid in pids.items() if Path(f"/proc/{pid}").exists()]
    obs.record("shutdown", {"exit_status": demo.returncode, "survivors": survivors})
    engine_log = (state_dir / "logs" / "engine.log").read_text(errors="replace")
    obs.record(
        "engine_log",
        {
            "fatal": [line for line in engine_log.splitlines() if "FATAL" in line],
            "readers_stopped": "every camera reader has stopped" in engine_log,
        },
    )


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--result", type=Path, required=True)
    parser.add_argument("--state-dir", type=Path, required=True)
    parser.add_argument("--screenshots", type=Path, required=True, help="folder for the PNGs")
    parser.add_argument("--ha-port", type=int, default=8123)
    parser.add_argument("--up-timeout", type=float, default=300.0)
    args = parser.parse_args()
    obs = Observations(args.result)
    obs.save()
    try:
        asyncio.run(drive(args, obs))
    except Exception as err:
        obs.data["error"] = f"{type(err).__name__}: {err}\n{traceback.format_exc()}"
        obs.save()
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
