"""``school-guard bench --pipeline``: N file cameras through the whole engine pipeline.

Each camera is a looped file read by its own :class:`CameraReader`, paced so that the
cameras together offer more frames than inference can take (as real cameras do on an edge
box), then motion gate, shared async inference, tracker, frame quality and rules. The same
run measures the detector's raw throughput (all infer requests busy, no pipeline), so the
``ratio`` says how much of the hardware the pipeline turns into analysed frames. The
pipeline runs with the lying-person search off and on (the default) in alternating rounds,
so what the search costs is a ratio measured in the same run (``lying_search``).
"""

from __future__ import annotations

import asyncio
import resource
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from detectors.bench import measure_throughput_for
from detectors.inference import InferenceRuntime, InferenceSettings
from detectors.media import iter_video
from detectors.pipeline.defaults import default_rule_engine, default_rule_options
from detectors.pipeline.motion import MotionGate
from detectors.pipeline.processor import FrameProcessor, Models
from detectors.pipeline.reader import CameraReader
from detectors.pipeline.sources import FileSource
from detectors.pipeline.worker import CameraWorker
from detectors.rules.engine import RuleEngine
from detectors.types import Detection
from detectors.vision import load_detector
from detectors.zoo.store import ModelStore

type Progress = Callable[[str], None]

_OFFER_FACTOR = 1.5  # cameras offer 1.5x what raw inference can take


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
            timed(lambda i: processor._finish(images[i], i / 10.0, list(found[i]), [])), 3
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


def rule_engine(camera_id: str, *, lying_search: bool) -> RuleEngine:
    """The default rules, with the lying-person search on (the default) or off."""
    options = default_rule_options()
    options["person_down"] = dict(options["person_down"])
    options["person_down"]["search"] = {**options["person_down"]["search"], "enabled": lying_search}
    return RuleEngine(camera_id, options, zones=(), lines=(), schedules={})


def _search_views(workers: list[CameraWorker]) -> dict[str, int]:
    """Every camera's lying-search views so far by reason, plus ``yielded`` frames."""
    views: dict[str, int] = {}
    for worker in workers:
        lying = worker.processor.lying
        if lying is not None:
            for reason, count in (*lying.stats.views.items(), ("yielded", lying.stats.yielded)):
                views[reason] = views.get(reason, 0) + count
    return views


@dataclass(frozen=True, slots=True)
class _Run:
    """What one pipeline run measured (internal)."""

    analysed: int
    elapsed: float
    latencies: list[float]
    rss_growth: float
    dropped: int
    search_inferences: int
    search_views: dict[str, int]
    search_yielded: int

    @property
    def fps(self) -> float:
        """Frames analysed per second, all cameras together."""
        return self.analysed / self.elapsed if self.elapsed > 0 else 0.0

    def __add__(self, other: _Run) -> _Run:
        """Two runs of the same condition as one (ABBA rounds cancel load drift)."""
        views = dict(self.search_views)
        for reason, count in other.search_views.items():
            views[reason] = views.get(reason, 0) + count
        return _Run(
            self.analysed + other.analysed,
            self.elapsed + other.elapsed,
            self.latencies + other.latencies,
            max(self.rss_growth, other.rss_growth),
            self.dropped + other.dropped,
            self.search_inferences + other.search_inferences,
            views,
            self.search_yielded + other.search_yielded,
        )


async def _run_cameras(
    models: Models,
    source: Path,
    *,
    cameras: int,
    speed: float,
    seconds: float,
    warmup: float,
    lying_search: bool = True,
) -> _Run:
    """Run the cameras; return analysed fps, latencies, RSS growth, drops and search cost."""
    rss_before = _rss_mb()
    workers = []
    for index in range(cameras):
        camera_id = f"bench-{index}"
        reader = CameraReader(camera_id, FileSource(source, loop=True, realtime=True, speed=speed))
        rules = rule_engine(camera_id, lying_search=lying_search)
        processor = FrameProcessor(camera_id, models, rules)
        motion = MotionGate(keep_watching=processor.watching)
        workers.append(
            CameraWorker(reader, processor, detect_fps=0, motion=motion, keep_latencies=True)
        )
    for worker in workers:
        await worker.start()
    try:
        await asyncio.sleep(warmup)
        start_counts = [w.stats.analysed for w in workers]
        start_views = _search_views(workers)
        for worker in workers:
            assert worker.stats.latency_ms is not None
            worker.stats.latency_ms.clear()
        started = time.perf_counter()
        await asyncio.sleep(seconds)
        elapsed = time.perf_counter() - started
        analysed = sum(w.stats.analysed - c for w, c in zip(workers, start_counts, strict=True))
        views = {k: v - start_views.get(k, 0) for k, v in _search_views(workers).items()}
        latencies = [ms for w in workers for ms in (w.stats.latency_ms or [])]
        rss_growth = _rss_mb() - rss_before
        dropped = sum(w.reader.counters().dropped for w in workers)
    finally:
        for worker in workers:
            await worker.stop()
    models.detector.runner.wait_idle()
    yielded = views.pop("yielded", 0)
    return _Run(
        analysed=analysed,
        elapsed=elapsed,
        latencies=latencies,
        rss_growth=rss_growth,
        dropped=dropped,
        search_inferences=sum(views.values()),
        search_views=views,
        search_yielded=yielded,
    )


def lying_search_report(on: _Run, off: _Run, raw: float, cameras: int) -> dict[str, object]:
    """What the lying-person search adds: its inferences and the throughput it costs.

    Both conditions offer the same frames; ``throughput_on_vs_off`` is the share of
    analysed frames left with the search on (1.0 = free), ``inferences_per_camera_per_second``
    counts every extra inference the search ran (sweeps, checks, fall model), and
    ``yielded_frames`` the frames on which a view was due but the device was saturated.
    """
    per_camera = on.search_inferences / on.elapsed / cameras
    return {
        "inferences_per_camera_per_second": round(per_camera, 3),
        "inferences_per_analysed_frame": round(on.search_inferences / max(1, on.analysed), 3),
        "yielded_frames": on.search_yielded,
        "views": on.search_views,
        "off": {"throughput_fps": round(off.fps, 2), "ratio": round(off.fps / raw, 3)},
        "on": {"throughput_fps": round(on.fps, 2), "ratio": round(on.fps / raw, 3)},
        "throughput_on_vs_off": round(on.fps / off.fps, 3) if off.fps else None,
    }


def run_pipeline_benchmark(
    store: ModelStore,
    source: Path,
    *,
    cameras: int = 4,
    seconds: float = 20.0,
    warmup: float = 3.0,
    device: str = "CPU",
    precision: str = "auto",
    progress: Progress = lambda _: None,
) -> dict[str, object]:
    """Measure raw and pipeline throughput in one run and report their ratio."""
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
    runs: dict[bool, list[_Run]] = {False: [], True: []}
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
                    lying_search=lying_search,
                )
            )
        )
    on, off = runs[True][0] + runs[True][1], runs[False][0] + runs[False][1]
    fps, latencies, rss_growth, dropped = on.fps, on.latencies, on.rss_growth, on.dropped
    progress("raw inference throughput (after)")
    raw_after = measure_throughput_for(detector.runner, tensor, seconds / 2)
    raw = (raw_before + raw_after) / 2
    progress("motion gate on a still scene and on the source")
    skip = motion_skip_share(source)
    progress("CPU per frame outside inference")
    overhead = per_frame_cpu_ms(Models(detector), source)
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
        "rss_mb_per_camera": round(rss_growth / cameras, 1),
        "frames_dropped": dropped,
        "motion_skipped_share": skip,
        "cpu_ms_per_frame_outside_inference": overhead,
        "lying_search": lying_search_report(on, off, raw, cameras),
    }
