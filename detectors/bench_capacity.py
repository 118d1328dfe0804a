"""``school-guard bench --capacity``: how many RTSP cameras this box holds at ``detect_fps``.

Everything is real and on loopback: GStreamer's RTSP server serves the sample footage
(encoded once, H.264, 15 fps, one-second GOPs) to N cameras of a real engine (PyAV
ingest, motion gate, shared OpenVINO inference, tracker, rules, incident log, API,
MQTT to a real Mosquitto), while a WebSocket client and an MQTT subscriber note when
alert messages arrive. The same run measures two baselines, so the result is a ratio
and not a number that depends on the machine's other load:

* decode only: cameras read and converted at ``detect_fps``, no inference: CPU per
  camera, hence ``decode_capacity = cores / cpu_per_camera``;
* inference only: the detector with every infer request busy: inferences per second,
  hence ``inference_capacity = inferences_per_s / (detect_fps * inferences_per_frame)``.

N then rises until a camera misses more than 1 % of its analysis slots, goes offline or
reconnects, or p99 frame -> rules latency exceeds 1 s. Held N is reported as a ratio of the
machine's limit. Where decoding and inference have hardware of their own (inference on an
iGPU or NPU), that limit is ``min(decode_capacity, inference_capacity)``. Where both run on
the same CPU cores, as here, a camera costs the cores both take, so the limit is
``cores / (decode + inference CPU per camera)``: the minimum would count the same cores
twice. Both are reported. A crowd rule set at the footage's typical head count gives the
latency samples.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from aiohttp import web

from detectors.bench import measure_throughput_for
from detectors.bench_loopback import (
    Arrivals,
    Mosquitto,
    MqttListener,
    cpu_seconds,
    listen_websocket,
    rss_mb,
)
from detectors.config import parse_config
from detectors.engine.api import create_app
from detectors.engine.mqtt_bridge import MqttBridge
from detectors.engine.service import Engine
from detectors.inference import InferenceRuntime, InferenceSettings
from detectors.media import iter_video
from detectors.mqtt.publisher import MqttPublisher
from detectors.pipeline.reader import CameraReader
from detectors.pipeline.sources import RtspSource
from detectors.sim.media import StreamSpec, encode
from detectors.sim.rtsp_server import RtspMount, RtspServerProcess
from detectors.vision import load_detector
from detectors.zoo.store import ModelStore

type Progress = Callable[[str], None]

PROFILES = {"sub": (640, 480), "main": (1920, 1080)}
MISSED_LIMIT = 0.01
LATENCY_LIMIT_MS = 1000.0
CROWD = {"max_people": 4, "quiet_seconds": 1.0, "cooldown_seconds": 30.0}
"""Starts on vtest.avi (2-10 people in view) about once per camera every half minute, for
latency samples. Every alert's clip and strip are encoded as in a school (0.3-0.4 CPU
seconds each, in the background), so the rate is bounded: with a one-second cooldown the
cameras raised about two alerts a second, and clip encoding, not the cameras, filled the
box (docs/benchmarks.md)."""
TOKEN = "bench-capacity-token-0123456789"  # noqa: S105 - a throw-away engine on loopback
USER, PASSWORD = "bench", "bench-pw"


@dataclass
class StepResult:
    """One N of the ramp."""

    cameras: int
    held: bool
    why: str | None
    missed_share: float
    analysed_fps_min: float
    reconnects: int
    frame_to_rules_ms: dict[str, float | None]
    frame_to_websocket_ms: dict[str, float | None]
    frame_to_mqtt_ms: dict[str, float | None]
    cores_used: float
    rss_mb_per_camera: float
    inferences_per_frame: float

    def to_json(self) -> dict[str, object]:
        """The step as JSON."""
        return dict(self.__dict__)


@dataclass
class ProfileReport:
    """The ramp of one stream profile."""

    name: str
    size: tuple[int, int]
    decode_cpu_per_camera: float
    decode_capacity: float
    steps: list[StepResult] = field(default_factory=list)


def _percentiles(values: list[float]) -> dict[str, float | None]:
    if not values:
        return {"p50": None, "p99": None, "samples": 0}
    array = np.asarray(values)
    return {
        "p50": round(float(np.percentile(array, 50)), 1),
        "p99": round(float(np.percentile(array, 99)), 1),
        "samples": len(values),
    }


async def decode_only(url: str, cameras: int, detect_fps: float, seconds: float) -> float:
    """CPU cores per camera for reading and decoding, converting ``detect_fps`` frames/s."""
    readers = [CameraReader(f"decode-{i}", RtspSource(url, decode="cpu")) for i in range(cameras)]
    for reader in readers:
        await reader.start()
    period = 1.0 / detect_fps

    async def consume(reader: CameraReader) -> None:
        while True:
            await asyncio.sleep(period)
            item = reader.slot.take()
            if item is not None and not item.frame.converted:
                await asyncio.to_thread(getattr, item.frame, "image")

    consumers = [asyncio.create_task(consume(r)) for r in readers]
    try:
        deadline = time.monotonic() + 30.0
        while not all(r.status().online for r in readers) and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
        await asyncio.sleep(2.0)
        before = cpu_seconds()
        started = time.monotonic()
        await asyncio.sleep(seconds)
        used = (cpu_seconds() - before) / (time.monotonic() - started)
    finally:
        for task in consumers:
            task.cancel()
        for reader in readers:
            await reader.stop()
    return used / cameras


@dataclass(frozen=True, slots=True)
class InferenceBaseline:
    """The detector alone, every infer request busy."""

    fps: float
    cpu_per_inference: float
    """CPU seconds of this process per inference (the host's cores, whatever the device)."""
    on_cpu: bool
    """Whether inference ran on the CPU, so it shares the cores that decode."""


def inference_only(  # noqa: PLR0917 - the run's settings, in the order _run has them
    store: ModelStore, footage: Path, device: str, precision: str, seconds: float, detector: str
) -> InferenceBaseline:
    """Detector inferences per second with every request busy, and CPU seconds per inference.

    The settings are the engine's (throughput mode, the configured device and precision).
    """
    runtime = InferenceRuntime(
        InferenceSettings(device=device, precision=precision, performance="throughput")  # type: ignore[arg-type]
    )
    model = load_detector(store.entry(detector), runtime, store)
    frame = next(iter(iter_video(footage))).image
    tensor, _ = model.preprocess(frame)
    cpu_before, started = cpu_seconds(), time.monotonic()
    fps = measure_throughput_for(model.runner, tensor, seconds)
    inferences = fps * (time.monotonic() - started)
    devices = [str(d) for d in model.runner.describe()["execution_devices"]]  # type: ignore[attr-defined]
    return InferenceBaseline(
        fps,
        (cpu_seconds() - cpu_before) / inferences if inferences else 0.0,
        on_cpu=all(d.startswith("CPU") for d in devices),
    )


def _camera(index: int, url: str, detect_fps: float) -> dict[str, object]:
    return {
        "id": f"cam-{index:02d}",
        "name": f"Camera {index}",
        "source": {"type": "rtsp", "url": url, "username": USER, "password": PASSWORD},
        "detect_fps": detect_fps,
        "timeout_seconds": 10,
        "decode": "cpu",
        "rules": {"crowd": CROWD},
    }


class Ramp:
    """The engine under test and its listeners, for one run of every profile."""

    def __init__(self, engine: Engine, detect_fps: float, ws: Arrivals, mqtt: Arrivals) -> None:
        self.engine = engine
        self.detect_fps = detect_fps
        self.ws = ws
        self.mqtt = mqtt
        self.rss_idle = rss_mb()

    async def set_cameras(self, url: str, count: int) -> None:
        """Add or remove API cameras until ``count`` read ``url``."""
        ids = sorted(self.engine.cameras)
        for camera_id in ids[count:]:
            await self.engine.remove_camera(camera_id)
        for index in range(len(ids), count):
            await self.engine.add_camera(_camera(index, url, self.detect_fps))

    async def clear(self) -> None:
        """Remove every camera."""
        for camera_id in sorted(self.engine.cameras):
            await self.engine.remove_camera(camera_id)

    async def step(self, url: str, count: int, warmup: float, seconds: float) -> StepResult:
        """Run ``count`` cameras; measure for ``seconds`` after ``warmup``."""
        await self.set_cameras(url, count)
        deadline = time.monotonic() + warmup + 20.0
        workers = []
        while time.monotonic() < deadline:
            workers = [r.worker for r in self.engine.cameras.values() if r.worker is not None]
            if len(workers) == count and all(w.reader.status().online for w in workers):
                break
            await asyncio.sleep(0.2)
        await asyncio.sleep(warmup)
        runner = self.engine.models.detector.runner if self.engine.models else None
        before = [(w.stats.slots, w.stats.missed_slots, w.stats.analysed) for w in workers]
        reconnects = [w.reader.counters().reconnects for w in workers]
        for worker in workers:
            if worker.stats.latency_ms is not None:
                worker.stats.latency_ms.clear()
        submitted = runner.submitted if runner else 0
        cpu_before = cpu_seconds()
        wall_before = time.time()
        started = time.monotonic()
        offline_seen = False
        while time.monotonic() - started < seconds:
            await asyncio.sleep(0.5)
            offline_seen |= not all(w.reader.status().online for w in workers)
        elapsed = time.monotonic() - started
        cores = (cpu_seconds() - cpu_before) / elapsed
        slots = missed = analysed = 0
        fps_min = math.inf
        for worker, (s0, m0, a0) in zip(workers, before, strict=True):
            slots += worker.stats.slots - s0
            missed += worker.stats.missed_slots - m0
            analysed += worker.stats.analysed - a0
            fps_min = min(fps_min, (worker.stats.analysed - a0) / elapsed)
        inferences = (runner.submitted - submitted) if runner else 0
        latencies = [ms for w in workers for ms in (w.stats.latency_ms or [])]
        new_reconnects = sum(
            w.reader.counters().reconnects - r for w, r in zip(workers, reconnects, strict=True)
        )
        missed_share = missed / slots if slots else 1.0
        rules = _percentiles(latencies)
        why = None
        if offline_seen or len(workers) < count:
            why = "a camera was offline"
        elif new_reconnects:
            why = f"{new_reconnects} reconnects"
        elif missed_share > MISSED_LIMIT:
            why = f"{missed_share:.1%} of analysis slots missed"
        elif rules["p99"] is not None and rules["p99"] > LATENCY_LIMIT_MS:
            why = f"p99 frame -> rules latency {rules['p99']} ms"
        return StepResult(
            cameras=count,
            held=why is None,
            why=why,
            missed_share=round(missed_share, 4),
            analysed_fps_min=round(fps_min if workers else 0.0, 2),
            reconnects=new_reconnects,
            frame_to_rules_ms=rules,
            frame_to_websocket_ms=_percentiles(self.ws.latencies_ms(wall_before)),
            frame_to_mqtt_ms=_percentiles(self.mqtt.latencies_ms(wall_before)),
            cores_used=round(cores, 3),
            rss_mb_per_camera=round((rss_mb() - self.rss_idle) / max(count, 1), 1),
            inferences_per_frame=round(inferences / analysed, 2) if analysed else 0.0,
        )


def _schedule(limit: float, max_cameras: int, start: int = 0) -> tuple[int, int]:
    """First N and step for a machine whose computed limit is ``limit`` cameras.

    ``start`` (``--start-cameras``) replaces the first N: re-checking a number of cameras
    known from an earlier run, or profiling the engine at one N.
    """
    first = max(1, min(max_cameras, start or math.floor(limit * 0.6)))
    return first, max(1, round(limit * 0.1))


async def _run(
    store: ModelStore,
    footage: Path,
    *,
    profiles: list[str],
    detect_fps: float,
    seconds: float,
    warmup: float,
    max_cameras: int,
    start_cameras: int,
    time_limit_s: float,
    device: str,
    precision: str,
    detector: str,
    progress: Progress,
) -> dict[str, object]:
    run_started = time.monotonic()
    cores = len(os.sched_getaffinity(0))
    media = {}
    for name in profiles:
        width, height = PROFILES[name]
        progress(f"encoding the {name} stream {width}x{height} (once per machine)")
        spec = StreamSpec("h264", width, height, fps=15.0, seconds=30.0)
        media[name] = await asyncio.to_thread(encode, footage, spec)
    progress("inference-only baseline")
    baseline = await asyncio.to_thread(
        inference_only, store, footage, device, precision, seconds / 2, detector
    )
    raw_fps = baseline.fps
    mounts = [RtspMount(f"/{name}", path) for name, path in media.items()]
    reports: list[ProfileReport] = []
    time_limited = False
    async with (
        RtspServerProcess(mounts, username=USER, password=PASSWORD) as server,
        Mosquitto() as broker,
    ):
        server_cpu_before = cpu_seconds(server.pid)
        for name in profiles:
            progress(f"decode-only baseline, {name} stream")
            sample = 8 if name == "sub" else 3
            url = server.url(f"/{name}", credentials=True)
            per_camera = await decode_only(url, sample, detect_fps, seconds / 2)
            reports.append(
                ProfileReport(name, PROFILES[name], per_camera, cores / max(per_camera, 1e-6))
            )
        with tempfile.TemporaryDirectory(prefix="sg-bench-") as folder:
            data_dir = Path(folder)
            config = parse_config(
                {
                    "engine": {"name": "Capacity bench", "data_dir": str(data_dir)},
                    "inference": {"device": device, "precision": precision},
                    "models": {"detector": detector, "pose": None},
                    "mqtt": {"host": "127.0.0.1", "port": broker.port},
                }
            )
            engine = Engine(config, data_dir=data_dir, store=store, keep_latencies=True)
            await engine.start()
            assert config.mqtt is not None
            publisher = MqttPublisher(config.mqtt, engine.id)
            await publisher.start()
            bridge = MqttBridge(engine, publisher)
            bridge.attach()
            app = web.AppRunner(create_app(engine, TOKEN), access_log=None)
            await app.setup()
            site = web.TCPSite(app, "127.0.0.1", 0)
            await site.start()
            port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
            ws_arrivals, mqtt_arrivals = Arrivals(), Arrivals()
            ws_task = asyncio.create_task(
                listen_websocket(f"http://127.0.0.1:{port}/api/v1/ws", TOKEN, ws_arrivals)
            )
            mqtt = MqttListener(broker.port, f"school_guard/{engine.id}/events", mqtt_arrivals)
            ramp = Ramp(engine, detect_fps, ws_arrivals, mqtt_arrivals)
            try:
                for report in reports:
                    time_limited |= await _ramp_profile(
                        ramp,
                        report,
                        server.url(f"/{report.name}"),
                        raw_fps=raw_fps,
                        shared_cpu=baseline.on_cpu,
                        detect_fps=detect_fps,
                        seconds=seconds,
                        warmup=warmup,
                        max_cameras=max_cameras,
                        start_cameras=start_cameras,
                        budget_end=run_started + time_limit_s,
                        progress=progress,
                    )
                    await ramp.clear()
            finally:
                ws_task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await ws_task
                mqtt.close()
                await app.cleanup()
                await engine.stop()
                await bridge.stop()
                await publisher.stop()
        server_cores = (cpu_seconds(server.pid) - server_cpu_before) / (
            time.monotonic() - run_started
        )
    return _report(
        reports,
        detector=detector,
        raw_fps=raw_fps,
        detect_fps=detect_fps,
        cores=cores,
        baseline=baseline,
        server_cores=server_cores,
        seconds=seconds,
        time_limited=time_limited,
        duration=time.monotonic() - run_started,
    )


async def _ramp_profile(
    ramp: Ramp,
    report: ProfileReport,
    url: str,
    *,
    raw_fps: float,
    shared_cpu: bool,
    detect_fps: float,
    seconds: float,
    warmup: float,
    max_cameras: int,
    start_cameras: int,
    budget_end: float,
    progress: Progress,
) -> bool:
    """Raise N for one profile until it no longer holds; True if the time budget ran out."""
    limit = machine_limit(report.decode_capacity, raw_fps / detect_fps, shared=shared_cpu)
    count, step = _schedule(limit, max_cameras, start_cameras)
    while count <= max_cameras:
        if time.monotonic() + warmup + seconds + 10 > budget_end:
            return True
        progress(f"{report.name}: {count} cameras")
        result = await ramp.step(url, count, warmup, seconds)
        report.steps.append(result)
        progress(f"{report.name}: {count} cameras {'held' if result.held else result.why}")
        following = next_count(report.steps, step)
        if following is None:
            return False
        count = following
    return False


def next_count(steps: list[StepResult], step: int) -> int | None:
    """The next N of the ramp after ``steps``, or None once the largest N held is known.

    Up by ``step`` while steps hold, down by ``step`` until one holds, then one at a time
    between the largest N that held and the smallest that did not: a ramp that went from
    10 (held) to 12 (missed slots) would otherwise never try 11.
    """
    held = [s.cameras for s in steps if s.held]
    failed = [s.cameras for s in steps if not s.held]
    if not failed:
        return held[-1] + step
    if not held:
        lowest = min(failed)
        return None if lowest == 1 else max(1, lowest - step)
    best = max(held)
    above = [f for f in failed if f > best]
    if not above:
        return best + step
    return best + 1 if best + 1 < min(above) else None


def machine_limit(decode_capacity: float, inference_capacity: float, *, shared: bool) -> float:
    """Cameras the box could hold if the engine cost nothing beyond decoding and inference.

    ``shared``: both run on the same cores, so each camera's fractions of them add up
    (``1 / (1 / decode + 1 / inference)``); otherwise the scarcer device decides.
    """
    if decode_capacity <= 0 or inference_capacity <= 0:
        return 0.0
    if shared:
        return 1.0 / (1.0 / decode_capacity + 1.0 / inference_capacity)
    return min(decode_capacity, inference_capacity)


def _report(
    reports: list[ProfileReport],
    *,
    detector: str,
    raw_fps: float,
    detect_fps: float,
    cores: int,
    baseline: InferenceBaseline,
    server_cores: float,
    seconds: float,
    time_limited: bool,
    duration: float,
) -> dict[str, object]:
    profiles: dict[str, object] = {}
    for report in reports:
        held = [s for s in report.steps if s.held]
        best = max(held, key=lambda s: s.cameras) if held else None
        per_frame = max((s.inferences_per_frame for s in report.steps), default=1.0) or 1.0
        inference_capacity = raw_fps / (detect_fps * per_frame)
        separate = machine_limit(report.decode_capacity, inference_capacity, shared=False)
        shared = machine_limit(report.decode_capacity, inference_capacity, shared=True)
        limit = shared if baseline.on_cpu else separate
        profiles[report.name] = {
            "stream": f"{report.size[0]}x{report.size[1]} H.264 15 fps",
            "largest_held": best.cameras if best else 0,
            "ratio_to_limit": round(best.cameras / limit, 3) if best and limit else 0.0,
            "limit": round(limit, 1),
            "limit_basis": "shared CPU" if baseline.on_cpu else "separate devices",
            "separate_devices_limit": round(separate, 1),
            "ratio_to_separate_devices_limit": (
                round(best.cameras / separate, 3) if best and separate else 0.0
            ),
            "decode_capacity": round(report.decode_capacity, 1),
            "inference_capacity": round(inference_capacity, 1),
            "inferences_per_frame": per_frame,
            "cpu_per_camera": {
                "decode": round(report.decode_cpu_per_camera, 4),
                "inference": round(baseline.cpu_per_inference * detect_fps * per_frame, 4),
            },
            "rss_mb_per_camera": best.rss_mb_per_camera if best else None,
            "latency_at_largest_held_ms": {
                "frame_to_rules": best.frame_to_rules_ms if best else None,
                "frame_to_websocket": best.frame_to_websocket_ms if best else None,
                "frame_to_mqtt": best.frame_to_mqtt_ms if best else None,
            },
            "steps": [s.to_json() for s in report.steps],
        }
    return {
        "detector": detector,
        "detect_fps": detect_fps,
        "machine_cores": cores,
        "inference_only_fps": round(raw_fps, 1),
        "measured_seconds_per_step": seconds,
        "rtsp_server_cores": round(server_cores, 3),
        "confirmation_window_ms": round((3 - 1) / detect_fps * 1000.0),
        "profiles": profiles,
        "time_limited": time_limited,
        "duration_s": round(duration, 1),
    }


def run_capacity_benchmark(
    store: ModelStore,
    footage: Path,
    *,
    profiles: list[str] | None = None,
    detect_fps: float = 5.0,
    seconds: float = 15.0,
    warmup: float = 8.0,
    max_cameras: int = 40,
    start_cameras: int = 0,
    time_limit_s: float = 900.0,
    device: str = "CPU",
    precision: str = "auto",
    detector: str = "nanodet-m-416",
    progress: Progress = lambda _: None,
) -> dict[str, object]:
    """Run the whole capacity benchmark (bounded by ``time_limit_s``) and report it."""
    return asyncio.run(
        _run(
            store,
            footage,
            profiles=profiles or list(PROFILES),
            detect_fps=detect_fps,
            seconds=seconds,
            warmup=warmup,
            max_cameras=max_cameras,
            start_cameras=start_cameras,
            time_limit_s=time_limit_s,
            device=device,
            precision=precision,
            detector=detector,
            progress=progress,
        )
    )
