"""``school-guard bench --pipeline``: N file cameras through the whole engine pipeline.

Each camera is a looped file read by its own :class:`CameraReader`, paced so that the
cameras together offer more frames than inference can take (as real cameras do on an edge
box), then motion gate, shared async inference, tracker, frame quality and rules. The same
run measures the detector's raw throughput (all infer requests busy, no pipeline), so the
``ratio`` says how much of the hardware the pipeline turns into analysed frames. The
pipeline runs with the lying-person search off and on (the default) in alternating rounds,
so what the search costs is a ratio measured in the same run (``lying_search``).

Every pipeline camera also fills the frame ring alert clips are cut from, as in the engine,
so its JPEG encoding is inside the main figures; ``evidence`` reports the ring's bytes per
camera at the end of each run and what one alert's clip and strip cost to encode.

The ``fight`` section runs the same cameras twice more with the pose model: once with the
fight rule on pose alone, once with the fight model and the pose gate opened wide
(:data:`GATE_OPEN_OPTIONS`), so that the model judges a clip around nearly every group of
people every second on every camera. The ratio of the two is what the model costs while
its gate is open; on real footage the gate is shut nearly all the time (never on
vtest.avi with the default settings).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import resource
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from detectors.background import background_executor
from detectors.bench import measure_throughput_for
from detectors.config import EvidenceSection
from detectors.engine.evidence_clips import RingFeeder, build_evidence
from detectors.inference import InferenceRuntime, InferenceSettings
from detectors.media import iter_video
from detectors.pipeline.defaults import default_rule_engine, default_rule_options
from detectors.pipeline.frame_ring import FrameRing
from detectors.pipeline.motion import MotionGate
from detectors.pipeline.processor import FrameProcessor, Models, ProcessedFrame
from detectors.pipeline.reader import CameraReader
from detectors.pipeline.sources import FileSource
from detectors.pipeline.worker import CameraWorker
from detectors.rules.confirmation import AlertTransition
from detectors.rules.engine import RuleEngine
from detectors.types import Detection
from detectors.vision import load_detector, load_fight_classifier, load_pose_estimator
from detectors.zoo.store import ModelStore

type Progress = Callable[[str], None]
type RulesFactory = Callable[[str], RuleEngine]

_OFFER_FACTOR = 1.5  # cameras offer 1.5x what raw inference can take

GATE_OPEN_OPTIONS: dict[str, Any] = {"method": "both", "limb_speed": 0.1, "proximity": 10.0}
"""Fight options that hold the pose gate open whenever two people in view are walking: the
cost of the model is measured, not its judgement (the crops are then nearly whole frames)."""


def rules_with(rule: str, options: dict[str, Any]) -> RulesFactory:
    """Default rules per camera with ``rule``'s options updated by ``options``."""

    def build(camera_id: str) -> RuleEngine:
        rules = default_rule_options()
        rules[rule] = {**rules[rule], **options}
        return RuleEngine(camera_id, rules, (), (), {}, tz=dt.UTC)

    return build


def fight_rules(options: dict[str, Any]) -> RulesFactory:
    """Default rules per camera with the fight rule's options replaced by ``options``."""
    return rules_with("fight", options)


def lying_search_rules(enabled: bool) -> RulesFactory:
    """The default rules, with the lying-person search on (the default) or off."""
    search = default_rule_options()["person_down"]["search"]
    return rules_with("person_down", {"search": {**search, "enabled": enabled}})


@dataclass(frozen=True, slots=True)
class CameraRun:
    """What N cameras did in the measured window (fight stage and lying search too)."""

    fps: float
    latencies: list[float]
    rss_growth_mb: float
    dropped: int
    gate_frames: int = 0
    analysed: int = 0
    clips: int = 0
    model_ms_total: float = 0.0
    elapsed: float = 0.0
    search_views: dict[str, int] = field(default_factory=dict)
    """Extra inferences the lying search ran in the window, by reason (sweep, check...)."""
    search_yielded: int = 0
    """Frames on which a search view was due but the device was saturated."""
    ring_bytes: list[int] = field(default_factory=list)
    """Each camera's frame ring (alert clips) at the end of the run, in bytes."""
    ring_frames: list[int] = field(default_factory=list)

    @property
    def search_inferences(self) -> int:
        """Every extra inference the lying search ran in the window."""
        return sum(self.search_views.values())

    def __add__(self, other: CameraRun) -> CameraRun:
        """Two runs of the same condition as one (ABBA rounds cancel load drift)."""
        views = dict(self.search_views)
        for reason, count in other.search_views.items():
            views[reason] = views.get(reason, 0) + count
        elapsed = self.elapsed + other.elapsed
        analysed = self.analysed + other.analysed
        return CameraRun(
            fps=analysed / elapsed if elapsed > 0 else 0.0,
            latencies=self.latencies + other.latencies,
            rss_growth_mb=max(self.rss_growth_mb, other.rss_growth_mb),
            dropped=self.dropped + other.dropped,
            gate_frames=self.gate_frames + other.gate_frames,
            analysed=analysed,
            clips=self.clips + other.clips,
            model_ms_total=self.model_ms_total + other.model_ms_total,
            elapsed=elapsed,
            search_views=views,
            search_yielded=self.search_yielded + other.search_yielded,
            ring_bytes=self.ring_bytes + other.ring_bytes,
            ring_frames=self.ring_frames + other.ring_frames,
        )


def _search_views(workers: list[CameraWorker]) -> dict[str, int]:
    """Every camera's lying-search views so far by reason, plus ``yielded`` frames."""
    views: dict[str, int] = {}
    for worker in workers:
        lying = worker.processor.lying
        if lying is not None:
            for reason, count in (*lying.stats.views.items(), ("yielded", lying.stats.yielded)):
                views[reason] = views.get(reason, 0) + count
    return views


def _rss_mb() -> float:
    """Current resident set size in MB (Linux /proc, falling back to the peak)."""
    try:
        with open("/proc/self/statm", encoding="utf-8") as handle:
            pages = int(handle.read().split()[1])
        return pages * resource.getpagesize() / 1e6
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3


def per_frame_cpu_ms(models: Models, source: Path, frames: int = 100) -> dict[str, float]:
    """Milliseconds of CPU per analysed frame outside inference, step by step.

    On two cores inference and everything else share the same CPU, so the pipeline's
    ratio is roughly inference time / (inference time + these), whatever the machine.
    Measured on one thread over real frames of ``source``, inference done beforehand.
    """
    detector = models.detector
    images = [frame.image for _, frame in zip(range(frames), iter_video(source), strict=False)]
    prepared = [detector.preprocess(image) for image in images]
    outputs = [detector.runner.infer(tensor) for tensor, _ in prepared]
    processor = FrameProcessor("overhead", models, default_rule_engine("overhead"))
    gate = MotionGate()

    def timed(step: Callable[[int], object]) -> float:
        started = time.process_time()
        for index in range(len(images)):
            step(index)
        return (time.process_time() - started) * 1000.0 / len(images)

    found: list[list[Detection]] = [[] for _ in images]

    def postprocess(index: int) -> None:
        found[index] = detector.postprocess(outputs[index], prepared[index][1])

    return {
        "preprocess": round(timed(lambda i: detector.preprocess(images[i])), 3),
        "postprocess": round(timed(postprocess), 3),
        "motion_gate": round(timed(lambda i: gate.check(images[i], i / 10.0)), 3),
        "tracker_quality_rules": round(
            timed(
                lambda i: processor._finish(images[i], i / 10.0, list(found[i]), [], blocking=True)
            ),
            3,
        ),
    }


def motion_skip_share(source: Path, frames: int = 300) -> dict[str, float]:
    """Share of frames the motion gate skips on ``source`` and on a still scene.

    The still scene is the source's first frame repeated with camera-like sensor noise
    (Gaussian, sigma 2 grey levels), at the source's 10 fps.
    """
    real = MotionGate()
    skipped_real = 0
    first = None
    count = 0
    for frame in iter_video(source):
        if first is None:
            first = frame.image
        skipped_real += not real.check(frame.image, frame.time).needs_inference
        count += 1
        if count >= frames:
            break
    assert first is not None
    still = MotionGate()
    rng = np.random.default_rng(7)
    skipped_still = 0
    for index in range(frames):
        noise = rng.normal(0.0, 2.0, first.shape)
        image = np.clip(first.astype(np.float32) + noise, 0, 255).astype(np.uint8)
        skipped_still += not still.check(image, index / 10.0).needs_inference
    return {
        "still_scene": round(skipped_still / frames, 3),
        "source": round(skipped_real / count, 3),
    }


async def _run_cameras(
    models: Models,
    source: Path,
    *,
    cameras: int,
    speed: float,
    seconds: float,
    warmup: float,
    rules: RulesFactory = default_rule_engine,
    rings: bool = True,
) -> CameraRun:
    """Run the cameras; fps, latencies (ms), RSS growth (MB), drops, fight stage, search.

    ``rings`` fills each camera's frame ring for alert clips, as the engine does.
    """
    rss_before = _rss_mb()
    workers = []
    settings = EvidenceSection()
    ring_encoder = background_executor("bench-ring")
    feeders = []
    for index in range(cameras):
        camera_id = f"bench-{index}"
        reader = CameraReader(camera_id, FileSource(source, loop=True, realtime=True, speed=speed))
        processor = FrameProcessor(camera_id, models, rules(camera_id))
        motion = MotionGate(keep_watching=processor.watching)
        ring = FrameRing(seconds=settings.buffer_seconds, max_bytes=settings.buffer_bytes)
        feeders.append(RingFeeder(ring, ring_encoder, settings.clip_fps))
        workers.append(
            CameraWorker(
                reader,
                processor,
                detect_fps=0,
                motion=motion,
                keep_latencies=True,
                on_result=_feed(feeders[-1]) if rings else None,
            )
        )
    for worker in workers:
        await worker.start()
    try:
        await asyncio.sleep(warmup)
        start_counts = [w.stats.analysed for w in workers]
        stages = [w.processor.fight for w in workers if w.processor.fight is not None]
        gate_before = sum(stage.stats.gate_frames for stage in stages)
        clips_before = sum(stage.stats.clips for stage in stages)
        model_ms_before = sum(stage.stats.model_ms_total for stage in stages)
        start_views = _search_views(workers)
        for worker in workers:
            assert worker.stats.latency_ms is not None
            worker.stats.latency_ms.clear()
        started = time.perf_counter()
        await asyncio.sleep(seconds)
        elapsed = time.perf_counter() - started
        analysed = sum(w.stats.analysed - c for w, c in zip(workers, start_counts, strict=True))
        views = {k: v - start_views.get(k, 0) for k, v in _search_views(workers).items()}
        yielded = views.pop("yielded", 0)
        latencies = [ms for w in workers for ms in (w.stats.latency_ms or [])]
        run = CameraRun(
            fps=analysed / elapsed,
            latencies=latencies,
            rss_growth_mb=_rss_mb() - rss_before,
            dropped=sum(w.reader.counters().dropped for w in workers),
            gate_frames=sum(stage.stats.gate_frames for stage in stages) - gate_before,
            analysed=analysed,
            clips=sum(stage.stats.clips for stage in stages) - clips_before,
            model_ms_total=sum(stage.stats.model_ms_total for stage in stages) - model_ms_before,
            elapsed=elapsed,
            search_views=views,
            search_yielded=yielded,
            ring_bytes=[feeder.ring.bytes for feeder in feeders],
            ring_frames=[len(feeder.ring) for feeder in feeders],
        )
    finally:
        for worker in workers:
            await worker.stop()
            worker.processor.close(time.time())
        ring_encoder.shutdown(wait=True, cancel_futures=True)
    models.wait_idle()
    return run


def _feed(feeder: RingFeeder) -> Callable[[ProcessedFrame], None]:
    """Hand every analysed frame to the camera's ring, as the engine's registry does."""

    def on_result(result: ProcessedFrame) -> None:
        if result.image is not None:
            feeder.offer(result.image, result.analysis.timestamp)

    return on_result


def evidence_report(
    run: CameraRun, without: CameraRun, source: Path, detect_fps: float = 5.0
) -> dict[str, object]:
    """The frame rings' bytes per camera, their cost, and one alert's evidence cost.

    ``run`` had rings and ``without`` none (the same cameras, between the same rounds); the
    evidence is cut at the engine's default ``detect_fps``.

    The clip is cut as the engine cuts it: pre-roll + post-roll of frames at the engine's
    default analysis rate, encoded with the rule's boxes, plus the strip of three frames.
    """
    settings = EvidenceSection()
    roll = settings.pre_roll_seconds + settings.post_roll_seconds
    count = round(roll * detect_fps) + 1
    ring = FrameRing(seconds=roll + 1.0, max_bytes=1 << 30)
    encode_ms = []
    for index, (frame, _) in enumerate(zip(iter_video(source), range(count), strict=False)):
        started = time.perf_counter()
        ring.add_image(frame.image, 1_000.0 + index / detect_fps)
        encode_ms.append((time.perf_counter() - started) * 1000.0)
    frames = list(ring)
    start = frames[0].timestamp + settings.pre_roll_seconds
    transition = AlertTransition(
        alert_id="bench",
        camera_id="bench",
        rule="weapon",
        zone=None,
        state="started",
        timestamp=start,
        started_at=start,
        confidence=0.8,
        scores=(0.7, 0.8, 0.9),
        boxes=((100.0, 100.0, 300.0, 400.0),),
        score_times=tuple(start - i / detect_fps for i in (2, 1, 0)),
    )
    started = time.perf_counter()
    evidence = build_evidence(
        frames, transition, [], end=start + settings.post_roll_seconds, tz=dt.UTC
    )
    encode_s = time.perf_counter() - started
    return {
        "throughput_without_rings_fps": round(without.fps, 2),
        "throughput_rings_vs_none": round(run.fps / without.fps, 3) if without.fps else None,
        "ring_seconds": settings.buffer_seconds,
        "ring_budget_bytes": settings.buffer_bytes,
        "ring_bytes_per_camera": round(statistics.fmean(run.ring_bytes)) if run.ring_bytes else 0,
        "ring_bytes_per_camera_max": max(run.ring_bytes, default=0),
        "ring_frames_per_camera": (
            round(statistics.fmean(run.ring_frames), 1) if run.ring_frames else 0
        ),
        "ring_bytes_per_camera_at_detect_fps": round(
            ring.bytes * settings.buffer_seconds / (roll + 1.0)
        ),
        "ring_jpeg_ms_per_frame": round(statistics.fmean(encode_ms), 2),
        "clip_frames": evidence.frames,
        "clip_seconds": round(evidence.seconds, 2),
        "clip_bytes": len(evidence.clip),
        "strip_bytes": len(evidence.strip),
        "clip_and_strip_encode_s": round(encode_s, 2),
    }


def fight_share(
    store: ModelStore,
    runtime: InferenceRuntime,
    models: Models,
    source: Path,
    *,
    cameras: int,
    seconds: float,
    warmup: float,
    progress: Progress,
) -> dict[str, object]:
    """Pipeline fps with pose only, and with the fight model's gate held open.

    These cameras play the source at its own speed (10 fps for vtest.avi), not faster as
    in the detector run: the pose gate needs the tracker to follow people and limb speeds
    measured in the footage's own time, which a fast-forwarded source breaks.
    """
    speed = 1.0
    pose = load_pose_estimator(store.entry("movenet-multipose-lightning"), runtime, store)
    fight = load_fight_classifier(store.entry("fight-mc3-18"), runtime, store)
    with_pose = Models(models.detector, pose)
    progress(f"fight: {cameras} cameras, detector + pose, fight by pose alone")
    pose_only = asyncio.run(
        _run_cameras(
            with_pose,
            source,
            cameras=cameras,
            speed=speed,
            seconds=seconds,
            warmup=warmup,
            rules=fight_rules({"method": "pose"}),
        )
    )
    progress(f"fight: {cameras} cameras, fight model with its gate held open")
    gate_open = asyncio.run(
        _run_cameras(
            Models(models.detector, pose, fight=fight),
            source,
            cameras=cameras,
            speed=speed,
            seconds=seconds,
            warmup=warmup,
            rules=fight_rules(GATE_OPEN_OPTIONS),
        )
    )
    return {
        "model": fight.name,
        "pose_only_fps": round(pose_only.fps, 2),
        "gate_open_fps": round(gate_open.fps, 2),
        "ratio": round(gate_open.fps / pose_only.fps, 3) if pose_only.fps else None,
        "gate_open_share": (
            round(gate_open.gate_frames / gate_open.analysed, 3) if gate_open.analysed else None
        ),
        "clips_per_s": round(gate_open.clips / seconds, 2),
        "clip_ms_mean": (
            round(gate_open.model_ms_total / gate_open.clips, 1) if gate_open.clips else None
        ),
        "latency_p50_ms": {
            "pose_only": _p50(pose_only.latencies),
            "gate_open": _p50(gate_open.latencies),
        },
    }


def lying_search_report(
    on: CameraRun, off: CameraRun, raw: float, cameras: int
) -> dict[str, object]:
    """What the lying-person search adds: its inferences and the throughput it costs.

    Both conditions offer the same frames; ``throughput_on_vs_off`` is the share of
    analysed frames left with the search on (1.0 = free), ``inferences_per_camera_per_second``
    counts every extra inference the search ran (sweeps, checks, fall model), and
    ``yielded_frames`` the frames on which a view was due but the device was saturated.
    """
    per_camera = on.search_inferences / on.elapsed / cameras if on.elapsed > 0 else 0.0
    return {
        "inferences_per_camera_per_second": round(per_camera, 3),
        "inferences_per_analysed_frame": round(on.search_inferences / max(1, on.analysed), 3),
        "yielded_frames": on.search_yielded,
        "views": on.search_views,
        "off": {"throughput_fps": round(off.fps, 2), "ratio": round(off.fps / raw, 3)},
        "on": {"throughput_fps": round(on.fps, 2), "ratio": round(on.fps / raw, 3)},
        "throughput_on_vs_off": round(on.fps / off.fps, 3) if off.fps else None,
    }


def _p50(values: list[float]) -> float | None:
    return round(float(np.percentile(values, 50)), 1) if values else None


def run_pipeline_benchmark(
    store: ModelStore,
    source: Path,
    *,
    cameras: int = 4,
    seconds: float = 20.0,
    warmup: float = 3.0,
    device: str = "CPU",
    precision: str = "auto",
    with_fight: bool = True,
    progress: Progress = lambda _: None,
) -> dict[str, object]:
    """Measure raw and pipeline throughput in one run and report their ratio.

    ``with_fight`` adds the fight model's share while its gate is open (two more runs).
    """
    cv2.setNumThreads(1)  # decoding threads would compete with inference for 2 cores
    runtime = InferenceRuntime(
        InferenceSettings(device=device, precision=precision, performance="throughput")  # type: ignore[arg-type]
    )
    detector = load_detector(store.entry("nanodet-m-416"), runtime, store)
    frame = next(iter(iter_video(source))).image
    tensor, _ = detector.preprocess(frame)
    # Raw throughput is measured for as long as the pipeline runs, once before and once
    # after it, and averaged: on a shared machine a single short run drifts by 10 %.
    progress("raw inference throughput (before)")
    raw_before = measure_throughput_for(detector.runner, tensor, seconds / 2)
    capture = cv2.VideoCapture(str(source))
    source_fps = float(capture.get(cv2.CAP_PROP_FPS)) or 10.0
    capture.release()
    speed = _OFFER_FACTOR * raw_before / (cameras * source_fps)
    progress(f"pipeline: {cameras} cameras offering {speed * source_fps:.1f} fps each")
    runs: dict[bool, list[CameraRun]] = {False: [], True: []}
    # Off, on, on, off, each for half the time: a machine whose load drifts during the
    # benchmark (a shared one) biases neither condition. The report's main figures are
    # those of the default, search on.
    for lying_search in (False, True, True, False):
        progress(f"pipeline with the lying-person search {'on' if lying_search else 'off'}")
        runs[lying_search].append(
            asyncio.run(
                _run_cameras(
                    Models(detector),
                    source,
                    cameras=cameras,
                    speed=max(speed, 0.1),
                    seconds=seconds / 2,
                    warmup=warmup,
                    rules=lying_search_rules(lying_search),
                )
            )
        )
    run, off = runs[True][0] + runs[True][1], runs[False][0] + runs[False][1]
    # The frame rings' cost: the default pipeline without them, in two halves around one
    # more run with them, so load drift biases neither.
    progress("pipeline without the frame rings for alert clips")
    ringless: list[CameraRun] = []
    with_rings = run
    for rings in (False, True, False):
        measured = asyncio.run(
            _run_cameras(
                Models(detector),
                source,
                cameras=cameras,
                speed=max(speed, 0.1),
                seconds=seconds / 4 if not rings else seconds / 2,
                warmup=warmup,
                rules=lying_search_rules(True),
                rings=rings,
            )
        )
        if rings:
            with_rings = measured
        else:
            ringless.append(measured)
    without_rings = ringless[0] + ringless[1]
    fps, latencies = run.fps, run.latencies
    progress("raw inference throughput (after)")
    raw_after = measure_throughput_for(detector.runner, tensor, seconds / 2)
    raw = (raw_before + raw_after) / 2
    progress("motion gate on a still scene and on the source")
    skip = motion_skip_share(source)
    progress("CPU per frame outside inference")
    overhead = per_frame_cpu_ms(Models(detector), source)
    fight = None
    if with_fight:
        fight = fight_share(
            store,
            runtime,
            Models(detector),
            source,
            cameras=cameras,
            seconds=seconds,
            warmup=warmup,
            progress=progress,
        )
    return {
        "cameras": cameras,
        "source": source.name,
        "device": device,
        "seconds": seconds,
        "offered_fps_per_camera": round(speed * source_fps, 2),
        "raw_throughput_fps": round(raw, 2),
        "raw_throughput_fps_before_after": [round(raw_before, 2), round(raw_after, 2)],
        "throughput_fps": round(fps, 2),
        "ratio": round(fps / raw, 3),
        "latency_ms": {
            "p50": round(float(np.percentile(latencies, 50)), 1) if latencies else None,
            "p99": round(float(np.percentile(latencies, 99)), 1) if latencies else None,
            "mean": round(statistics.fmean(latencies), 1) if latencies else None,
        },
        "rss_mb_per_camera": round(run.rss_growth_mb / cameras, 1),
        "frames_dropped": run.dropped,
        "motion_skipped_share": skip,
        "cpu_ms_per_frame_outside_inference": overhead,
        "lying_search": lying_search_report(run, off, raw, cameras),
        "evidence": evidence_report(with_rings, without_rings, source),
        "fight": fight,
    }
