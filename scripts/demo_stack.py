"""The whole school_guard stack on one machine: camera-sim x2, MQTT, engine, Home Assistant.

``scripts/demo`` runs this after ``scripts/setup``. It starts every part as a child in its
own process group (and with a parent-death signal, so nothing outlives a killed demo),
waits for each to answer, sets Home Assistant up through its own APIs (scripts/ha_bootstrap.py)
and then keeps running until SIGINT/SIGTERM, when it stops what it started in reverse order.

State lives in ``.demo/`` and is recreated on every run: logs in ``.demo/logs/``, process ids
in ``.demo/run/``, Home Assistant's configuration in ``.demo/homeassistant/``, the engine's
data and API token in ``.demo/engine/``. ``.demo/token`` (a Home Assistant long-lived access
token) is written last: its presence means the stack is up. SIGUSR1 restarts any part that
has exited (kill a camera simulator to see its camera go offline, then bring it back).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ctypes
import os
import secrets
import shutil
import signal
import socket
import sys
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, TextIO

import aiohttp
import yaml

from detectors.artifacts.samples import SampleStore
from detectors.errors import SchoolGuardError

sys.path.insert(0, str(Path(__file__).resolve().parent))
import ha_bootstrap  # a sibling module of this script, not an installed package

ROOT = Path(__file__).resolve().parent.parent
DEMO_CONFIG = ROOT / "demo"
PR_SET_PDEATHSIG = 1
STOP_GRACE_SECONDS = 20.0


@dataclass(frozen=True, slots=True)
class SimCamera:
    """One simulated camera: the engine's camera id and the simulator's port."""

    camera_id: str
    name: str
    location: str
    port: int
    rtsp_port: int


@dataclass(slots=True)
class Service:
    """A child process the demo owns: how to start it and where its output goes."""

    name: str
    argv: list[str]
    log: Path
    env: dict[str, str] = field(default_factory=dict)
    process: asyncio.subprocess.Process | None = None
    stop_signal: int = signal.SIGTERM
    fatal: tuple[str, ...] = ()
    """Log lines that mean the start failed although the process keeps running."""

    @property
    def running(self) -> bool:
        """The process was started and has not exited."""
        return self.process is not None and self.process.returncode is None


def _die_with_parent() -> None:
    """In the child, before exec: get SIGTERM when the demo dies, even by SIGKILL."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


def port_free(port: int) -> bool:
    """Nothing listens on 127.0.0.1:``port`` (the demo only ever binds loopback)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


async def port_open(port: int) -> bool | None:
    """Something accepts connections on 127.0.0.1:``port`` (None: not yet)."""
    try:
        _, writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError:
        return None
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()
    return True


def local_timezone() -> str:
    """The host's IANA time zone name for Home Assistant (UTC when it cannot be told)."""
    if os.environ.get("TZ", "").count("/") == 1:
        return os.environ["TZ"]
    with contextlib.suppress(OSError):
        link = os.readlink("/etc/localtime")
        if "zoneinfo/" in link:
            return link.split("zoneinfo/", 1)[1]
    with contextlib.suppress(OSError):
        name = Path("/etc/timezone").read_text().strip()
        if name:
            return name
    return "UTC"


class DemoStack:
    """Starts, watches and stops the demo's processes."""

    def __init__(self, args: argparse.Namespace, out: TextIO) -> None:
        """Lay out paths and ports from the command line; nothing starts yet."""
        self.args = args
        self.out = out
        self.state: Path = args.state_dir.resolve()
        self.logs = self.state / "logs"
        self.run_dir = self.state / "run"
        self.venv_bin = Path(sys.executable).parent
        self.ha_url = f"http://127.0.0.1:{args.ha_port}"
        ports = [int(p) for p in args.camera_ports.split(",")]
        rtsp = [int(p) for p in args.rtsp_ports.split(",")]
        self.cameras = [
            SimCamera(
                "main-entrance", "Main entrance", "Building A, ground floor", ports[0], rtsp[0]
            ),
            SimCamera("cafeteria", "Cafeteria", "Building B, first floor", ports[1], rtsp[1]),
        ]
        self.mosquitto = shutil.which("mosquitto") or (
            "/usr/sbin/mosquitto" if Path("/usr/sbin/mosquitto").exists() else None
        )
        self.services: list[Service] = []
        self.stop_requested = asyncio.Event()
        self.restart_requested = asyncio.Event()

    def say(self, message: str) -> None:
        """One line of progress for the person (or test) watching."""
        print(f"demo: {message}", file=self.out, flush=True)

    # ---- preparing ------------------------------------------------------------------

    def check_ports(self) -> None:
        """Refuse to start when a port the demo needs is taken (another demo running?)."""
        wanted = {
            "Home Assistant": self.args.ha_port,
            "engine": self.args.engine_port,
            **{f"camera-sim {c.camera_id}": c.port for c in self.cameras},
            **{f"camera-sim {c.camera_id} RTSP": c.rtsp_port for c in self.cameras},
        }
        if self.mosquitto:
            wanted["mosquitto"] = self.args.mqtt_port
        busy = [f"{name} ({port})" for name, port in wanted.items() if not port_free(port)]
        if busy:
            raise ha_bootstrap.BootstrapError(
                "ports already in use on 127.0.0.1: "
                + ", ".join(busy)
                + " (is another demo running? choose others with --ha-port, --engine-port, "
                "--camera-ports, --mqtt-port)"
            )

    def fresh_state(self) -> None:
        """Start from an empty ``.demo/`` so every run behaves the same."""
        if self.state.exists():
            shutil.rmtree(self.state)
        self.logs.mkdir(parents=True)
        self.run_dir.mkdir()
        (self.run_dir / "demo.pid").write_text(f"{os.getpid()}\n")

    def engine_config(self) -> Path:
        """The demo engine configuration with this run's ports and data folder."""
        config: dict[str, Any] = yaml.safe_load((DEMO_CONFIG / "engine.yaml").read_text())
        config["engine"]["data_dir"] = str(self.state / "engine")
        config["api"]["port"] = self.args.engine_port
        by_id = {c.camera_id: c for c in self.cameras}
        for camera in config["cameras"]:
            camera["source"]["port"] = by_id[camera["id"]].port
        if self.mosquitto:
            config["mqtt"]["port"] = self.args.mqtt_port
        else:
            del config["mqtt"]
        path = self.state / "engine.yaml"
        path.write_text(yaml.safe_dump(config, sort_keys=False))
        return path

    def build_services(self, samples: Path) -> None:
        """Every process of the stack, in start order."""
        sg = str(self.venv_bin / "school-guard")
        if self.mosquitto:
            conf = self.state / "mosquitto.conf"
            conf.write_text(
                f"listener {self.args.mqtt_port} 127.0.0.1\n"
                "allow_anonymous true\npersistence false\nlog_dest stdout\n"
            )
            self.services.append(
                Service("mosquitto", [self.mosquitto, "-c", str(conf)], self.logs / "mosquitto.log")
            )
        for camera in self.cameras:
            self.services.append(
                Service(
                    f"camera-sim-{camera.camera_id}",
                    [
                        sg,
                        "camera-sim",
                        "--video",
                        str(samples / "vtest.avi"),
                        "--port",
                        str(camera.port),
                        "--rtsp-port",
                        str(camera.rtsp_port),
                        "--discovery-port",
                        "0",
                        "--name",
                        camera.name,
                        "--location",
                        camera.location,
                    ],
                    self.logs / f"camera-sim-{camera.camera_id}.log",
                    stop_signal=signal.SIGINT,
                )
            )
        self.services.append(
            Service(
                "engine",
                [sg, "serve", "--config", str(self.engine_config())],
                self.logs / "engine.log",
            )
        )
        self.services.append(
            Service(
                "homeassistant",
                [str(self.venv_bin / "hass"), "-c", str(self.state / "homeassistant")],
                self.logs / "homeassistant.log",
                fatal=("Home Assistant core failed to initialize", "Unable to install package"),
                env={
                    "SCHOOL_GUARD_DEMO_TZ": local_timezone(),
                    "SCHOOL_GUARD_DEMO_HA_PORT": str(self.args.ha_port),
                    "SCHOOL_GUARD_DEMO_HA_URL": self.ha_url,
                },
            )
        )

    # ---- processes --------------------------------------------------------------------

    async def start(self, service: Service) -> None:
        """Start one child in its own process group, output to its log, pid in run/."""
        log = service.log.open("ab")
        try:
            service.process = await asyncio.create_subprocess_exec(
                *service.argv,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=log,
                stderr=asyncio.subprocess.STDOUT,
                cwd=ROOT,
                env={**os.environ, **service.env},
                start_new_session=True,
                preexec_fn=_die_with_parent,  # only prctl: safe between fork and exec
            )
        finally:
            log.close()
        (self.run_dir / f"{service.name}.pid").write_text(f"{service.process.pid}\n")

    async def stop(self, service: Service) -> None:
        """Stop one child's whole process group: its stop signal, then SIGKILL if it hangs."""
        process = service.process
        if process is None:
            return
        if process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, service.stop_signal)
            try:
                await asyncio.wait_for(process.wait(), STOP_GRACE_SECONDS)
            except TimeoutError:
                self.say(f"{service.name} did not stop in {STOP_GRACE_SECONDS:.0f} s; killing it")
        # Whatever is left in its group (a grandchild) goes too.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        await process.wait()
        (self.run_dir / f"{service.name}.pid").unlink(missing_ok=True)

    async def stop_all(self) -> None:
        """Stop every started child, the last started first (Home Assistant before the engine)."""
        for service in reversed(self.services):
            if service.process is not None:
                await self.stop(service)

    def service(self, name: str) -> Service:
        """The service called ``name``."""
        return next(s for s in self.services if s.name == name)

    async def wait_port(self, service: Service, port: int, timeout: float) -> None:
        """Wait until ``service`` listens on ``port``; fail early if it exits."""

        async def probe() -> bool | None:
            if not service.running:
                raise ha_bootstrap.BootstrapError(f"{service.name} exited ({self.tail(service)})")
            return await port_open(port)

        await ha_bootstrap.wait_for(f"{service.name} on port {port}", probe, timeout, 0.3)

    async def watchdog(self) -> None:
        """Raise as soon as a started part exits or logs a fatal line (runs until cancelled)."""
        while True:
            for service in self.services:
                if service.process is None:
                    continue
                if not service.running:
                    raise ha_bootstrap.BootstrapError(
                        f"{service.name} exited with status {service.process.returncode} "
                        f"({self.tail(service)})"
                    )
                if service.fatal:
                    text = service.log.read_text(errors="replace")
                    if any(line in text for line in service.fatal):
                        raise ha_bootstrap.BootstrapError(
                            f"{service.name} failed to start ({self.tail(service)})"
                        )
            await asyncio.sleep(1.0)

    async def guarded[T](self, work: Coroutine[Any, Any, T]) -> T:
        """Await ``work`` while the watchdog runs; whichever fails first ends both."""
        job = asyncio.ensure_future(work)
        watch = asyncio.ensure_future(self.watchdog())
        try:
            await asyncio.wait([job, watch], return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (job, watch):
                if not task.done():
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task
        if job.cancelled():
            watch.result()  # the watchdog's error
        return job.result()

    def tail(self, service: Service, lines: int = 15) -> str:
        """The end of a service's log, for error messages."""
        try:
            text = service.log.read_text(errors="replace").splitlines()[-lines:]
        except OSError:
            return "no log"
        return f"last lines of {service.log}:\n" + "\n".join(text)

    async def engine_token(self, timeout: float) -> str:
        """The engine's API token, once the engine has written it and answers with it."""
        engine = self.service("engine")
        token_file = self.state / "engine" / "token"
        base = f"http://127.0.0.1:{self.args.engine_port}/api/v1"

        async def probe() -> str | None:
            if not engine.running:
                raise ha_bootstrap.BootstrapError(f"engine exited ({self.tail(engine)})")
            if not token_file.exists():
                return None
            token = token_file.read_text().strip()
            async with (
                aiohttp.ClientSession() as session,
                session.get(
                    f"{base}/health", headers={"Authorization": f"Bearer {token}"}
                ) as response,
            ):
                return token if response.status == 200 else None

        token: str = await ha_bootstrap.wait_for("the engine API", probe, timeout, 0.5)
        return token

    # ---- the run -------------------------------------------------------------------------

    async def bring_up(self) -> ha_bootstrap.BootstrapResult:
        """Start everything and set Home Assistant up; the stack is usable when this returns."""
        try:
            samples = SampleStore().path("vtest.avi").parent
        except SchoolGuardError as err:
            raise ha_bootstrap.BootstrapError(str(err)) from err
        self.check_ports()
        self.fresh_state()
        config_dir = self.state / "homeassistant"
        ha_bootstrap.prepare_config_dir(
            config_dir,
            DEMO_CONFIG / "homeassistant",
            ROOT / "blueprints",
            ROOT / "custom_components" / "school_guard",
        )
        self.build_services(samples)
        timeout = self.args.timeout
        if self.mosquitto:
            self.say(f"starting Mosquitto on 127.0.0.1:{self.args.mqtt_port}")
            await self.start(self.service("mosquitto"))
            await self.wait_port(self.service("mosquitto"), self.args.mqtt_port, timeout)
        else:
            self.say("Mosquitto is not installed: the engine runs without MQTT")
        self.say("encoding the cameras' footage (H.264, main and sub profile; once per machine)")
        await self.encode_footage(samples)
        for camera in self.cameras:
            self.say(
                f"starting camera-sim {camera.name!r} on 127.0.0.1:{camera.port} "
                f"(RTSP {camera.rtsp_port})"
            )
            await self.start(self.service(f"camera-sim-{camera.camera_id}"))
        # Home Assistant takes longest to start: start it while the engine loads its models.
        self.say(f"starting Home Assistant on {self.ha_url}")
        await self.start(self.service("homeassistant"))
        for camera in self.cameras:
            sim = self.service(f"camera-sim-{camera.camera_id}")
            await self.wait_port(sim, camera.port, timeout)
        self.say(f"starting the engine on 127.0.0.1:{self.args.engine_port}")
        await self.start(self.service("engine"))
        token = await self.guarded(self.engine_token(timeout))
        self.say("engine is up; waiting for Home Assistant")
        password = self.args.password or secrets.token_urlsafe(9)
        bootstrapping = ha_bootstrap.bootstrap(
            base_url=self.ha_url,
            config_dir=config_dir,
            demo_dir=DEMO_CONFIG / "homeassistant",
            engine=ha_bootstrap.EngineAddress("127.0.0.1", self.args.engine_port, token),
            camera_ids=[c.camera_id for c in self.cameras],
            password=password,
            timeout=timeout,
            log=self.say,
        )
        result = await self.guarded(bootstrapping)
        self.write_secret("password", result.password)
        self.write_secret("engine-token", token)
        # Written last and atomically: its presence tells scripts and tests the stack is up.
        self.write_secret("token", result.token)
        return result

    async def encode_footage(self, samples: Path) -> None:
        """Encode the simulators' RTSP footage now (cached), so they start at once after."""
        from detectors.sim.camera import RTSP_SIZES
        from detectors.sim.media import StreamSpec, encode

        for width, height in RTSP_SIZES.values():
            await asyncio.to_thread(
                encode, samples / "vtest.avi", StreamSpec("h264", width, height)
            )

    def write_secret(self, name: str, value: str) -> None:
        """Write ``.demo/<name>`` readable by its owner only, atomically."""
        path = self.state / name
        partial = path.with_suffix(".partial")
        partial.write_text(value + "\n")
        partial.chmod(0o600)
        partial.replace(path)

    def print_tour(self, result: ha_bootstrap.BootstrapResult) -> None:
        """What to open and what to try."""
        sim = self.cameras[1]
        demo_pid = os.getpid()
        lines = [
            "",
            "school_guard demo is running",
            f"  Home Assistant  {self.ha_url}   login: {result.username} / {result.password}",
            f"  engine API      http://127.0.0.1:{self.args.engine_port}/api/v1"
            f"   (token in {self.state / 'engine-token'})",
            f"  cameras         {', '.join(f'{c.name} :{c.port}' for c in self.cameras)}",
            f"  HA token        {self.state / 'token'} (long-lived access token)",
            f"  logs            {self.logs}",
        ]
        if self.mosquitto:
            lines.append(
                f"  MQTT            mosquitto_sub -p {self.args.mqtt_port} -t 'school_guard/#' -v"
            )
        lines += [
            "",
            "Try:",
            "  * a weapon drill: Developer tools > Actions > school_guard.test_alert (rule weapon,",
            "    a camera)"
            + (", or type 'w' below" if self.prompting() else "")
            + "; the SRO is paged (bell icon), press",
            '    "SRO phone: Confirm" on the dashboard: the doors lock and the PA speaks.',
            "  * dismiss it: school_guard.dismiss_alert, or 'SRO phone: Dismiss'.",
            "  * 'All clear' resets the mode and (demo only) unlocks the doors.",
            "  * the after-action report of today's drills (docs/reports.md):",
            f"    .venv/bin/school-guard report --data-dir {self.state / 'engine'} --from "
            f"{date.today().isoformat()} --to {date.today().isoformat()} --format pdf "
            "--output drill-report.pdf",
            f"  * camera offline: kill $(cat {self.run_dir / f'camera-sim-{sim.camera_id}.pid'})"
            f" ; back: kill -USR1 {demo_pid}",
        ]
        print("\n".join(lines), file=self.out, flush=True)

    def prompting(self) -> bool:
        """Whether the demo reads 'w'/'p' from the terminal (not headless, a real terminal)."""
        return not self.args.headless and sys.stdin.isatty()

    async def engine_test_alert(self, rule: str) -> None:
        """A drill alert on the first camera straight through the engine API (prompt 'w'/'p')."""
        token = (self.state / "engine-token").read_text().strip()
        url = f"http://127.0.0.1:{self.args.engine_port}/api/v1/test_alert"
        async with (
            aiohttp.ClientSession() as session,
            session.post(
                url,
                json={"camera_id": self.cameras[0].camera_id, "rule": rule, "seconds": 120},
                headers={"Authorization": f"Bearer {token}"},
            ) as response,
        ):
            self.say(f"test alert {rule}: engine answered HTTP {response.status}")

    async def prompt(self) -> None:
        """Read one-letter commands from the terminal until 'q' or end of input."""
        loop = asyncio.get_running_loop()
        cafeteria = self.service("camera-sim-cafeteria")
        commands: dict[str, tuple[str, Callable[[], Any]]] = {
            "w": ("weapon drill", lambda: self.engine_test_alert("weapon")),
            "p": ("person-down drill", lambda: self.engine_test_alert("person_down")),
            "k": ("stop the Cafeteria camera", lambda: self.stop(cafeteria)),
            "r": ("restart stopped parts", self.restart_requested.set),
            "q": ("quit", self.stop_requested.set),
        }
        help_line = "  ".join(f"{key}: {text}" for key, (text, _) in commands.items())
        # A reader callback rather than a thread: a thread blocked in readline() would
        # keep the demo from exiting after Ctrl-C until Enter is pressed.
        lines: asyncio.Queue[str] = asyncio.Queue()
        loop.add_reader(sys.stdin.fileno(), lambda: lines.put_nowait(sys.stdin.readline()))
        try:
            while not self.stop_requested.is_set():
                print(f"[{help_line}] > ", end="", file=self.out, flush=True)
                line = await lines.get()
                if not line:
                    return
                await self.prompt_command(commands, line)
        finally:
            loop.remove_reader(sys.stdin.fileno())

    async def prompt_command(
        self, commands: dict[str, tuple[str, Callable[[], Any]]], line: str
    ) -> None:
        """Run the command a prompt line names (anything else is ignored)."""
        entry = commands.get(line.strip().lower()[:1])
        if entry is None:
            return
        outcome = entry[1]()
        if asyncio.iscoroutine(outcome):
            await outcome

    async def supervise(self) -> None:
        """Until asked to stop: report exited parts; SIGUSR1 (or 'r') restarts them."""
        reported: set[str] = set()
        while not self.stop_requested.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.restart_requested.wait(), 1.0)
            if self.restart_requested.is_set():
                self.restart_requested.clear()
                for service in self.services:
                    if not service.running:
                        self.say(f"restarting {service.name}")
                        await self.start(service)
                        reported.discard(service.name)
            for service in self.services:
                if not service.running and service.name not in reported:
                    reported.add(service.name)
                    code = service.process.returncode if service.process else None
                    self.say(
                        f"{service.name} exited (status {code}); "
                        f"kill -USR1 {os.getpid()} (or 'r') restarts it"
                    )

    async def run(self) -> int:
        """Bring the stack up, serve until signalled, stop everything; the exit status."""
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self.stop_requested.set)
        loop.add_signal_handler(signal.SIGUSR1, self.restart_requested.set)
        started = time.monotonic()
        status = 0
        try:
            up = asyncio.ensure_future(self.bring_up())
            stopped = asyncio.ensure_future(self.stop_requested.wait())
            await asyncio.wait([up, stopped], return_when=asyncio.FIRST_COMPLETED)
            if not up.done():
                up.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await up
                self.say("stopped before the stack was up")
                return 0
            stopped.cancel()
            result = up.result()
            self.say(f"stack up in {time.monotonic() - started:.0f} s")
            self.print_tour(result)
            tasks = [asyncio.ensure_future(self.supervise())]
            if self.prompting():
                tasks.append(asyncio.ensure_future(self.prompt()))
            else:
                self.say("running until SIGINT/SIGTERM (Ctrl-C)")
            await self.stop_requested.wait()
            for task in tasks:
                task.cancel()
        except ha_bootstrap.BootstrapError as err:
            self.say(f"failed: {err}")
            status = 1
        finally:
            self.say("stopping")
            await self.stop_all()
            (self.state / "token").unlink(missing_ok=True)
            self.say("stopped")
        return status


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The demo's command line."""
    parser = argparse.ArgumentParser(
        prog="scripts/demo", description="Run the whole school_guard stack on this machine."
    )
    parser.add_argument("--headless", action="store_true", help="no prompt; run until signalled")
    parser.add_argument("--ha-port", type=int, default=8123)
    parser.add_argument("--engine-port", type=int, default=8765)
    parser.add_argument("--camera-ports", default="8081,8082", help="two ports, comma-separated")
    parser.add_argument(
        "--rtsp-ports", default="8554,8555", help="the cameras' RTSP ports, comma-separated"
    )
    parser.add_argument("--mqtt-port", type=int, default=1884)
    parser.add_argument("--password", default="", help="demo login password (default: random)")
    parser.add_argument("--state-dir", type=Path, default=ROOT / ".demo")
    parser.add_argument(
        "--timeout", type=float, default=240.0, help="seconds each start-up step may take"
    )
    args = parser.parse_args(argv)
    if len(args.camera_ports.split(",")) != 2:
        parser.error("--camera-ports takes two ports, e.g. 8081,8082")
    if len(args.rtsp_ports.split(",")) != 2:
        parser.error("--rtsp-ports takes two ports, e.g. 8554,8555")
    return args


def main(argv: list[str] | None = None) -> int:
    """Run the demo; its exit status."""
    args = parse_args(argv)
    return asyncio.run(DemoStack(args, sys.stdout).run())


if __name__ == "__main__":
    sys.exit(main())
