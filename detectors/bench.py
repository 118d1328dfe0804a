"""``school-guard bench``: inference speed of the default models on this machine.

Absolute numbers depend on the host and on whatever else it runs, so every figure comes
with a baseline measured in the same run (latency mode, one request, default threads) and
ratios against it. Output keys are documented in docs/benchmarks.md.
"""

from __future__ import annotations

import os
import platform
import statistics
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import numpy as np
import openvino as ov
from numpy.typing import NDArray

from detectors.artifacts.samples import SampleStore
from detectors.errors import SampleError
from detectors.inference import CompiledRunner, InferenceRuntime, InferenceSettings
from detectors.media import read_image
from detectors.vision.detector import self_test_frame
from detectors.vision.loader import load_detector, load_fight_classifier, load_pose_estimator
from detectors.zoo.catalog import DEFAULT_MODELS, ModelEntry
from detectors.zoo.store import ModelStore

type Progress = Callable[[str], None]


def _percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q))


def measure_latency(runner: CompiledRunner, tensor: NDArray[Any], runs: int) -> dict[str, float]:
    """One request at a time: p50/p99 milliseconds and the frames/s that implies."""
    for _ in range(3):
        runner.infer(tensor)
    timings = []
    for _ in range(runs):
        start = time.perf_counter()
        runner.infer(tensor)
        timings.append((time.perf_counter() - start) * 1000.0)
    return {
        "p50_ms": round(_percentile(timings, 50), 3),
        "p99_ms": round(_percentile(timings, 99), 3),
        "mean_ms": round(statistics.fmean(timings), 3),
        "fps": round(1000.0 / statistics.fmean(timings), 2),
        "runs": runs,
    }


def measure_throughput(
    runner: CompiledRunner, tensor: NDArray[Any], frames: int
) -> dict[str, float]:
    """All infer requests busy: frames per second over ``frames`` inferences."""
    queue = ov.AsyncInferQueue(runner.compiled, runner.requests)
    for _ in range(runner.requests):
        queue.start_async({0: tensor})
    queue.wait_all()
    start = time.perf_counter()
    for _ in range(frames):
        queue.start_async({0: tensor})
    queue.wait_all()
    elapsed = time.perf_counter() - start
    return {"fps": round(frames / elapsed, 2), "requests": runner.requests, "frames": frames}


def measure_throughput_for(runner: CompiledRunner, tensor: NDArray[Any], seconds: float) -> float:
    """Frames per second with every infer request busy, measured for ``seconds``."""
    queue = ov.AsyncInferQueue(runner.compiled, runner.requests)
    for _ in range(runner.requests * 2):
        queue.start_async({0: tensor})
    queue.wait_all()
    frames = 0
    start = time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        queue.start_async({0: tensor})
        frames += 1
    queue.wait_all()
    return frames / (time.perf_counter() - start) if elapsed > 0 else 0.0


def _compile(
    entry: ModelEntry, store: ModelStore, settings: InferenceSettings
) -> tuple[CompiledRunner, NDArray[Any]]:
    """Compile ``entry`` with ``settings``; return its runner and a real input tensor."""
    runtime = InferenceRuntime(settings)
    frame = _sample_frame()
    if entry.task == "fight":
        fight = load_fight_classifier(entry, runtime, store)
        height, width = frame.shape[:2]
        clip = [
            fight.prepare_frame(np.roll(frame, 6 * index, axis=1), (0.0, 0.0, width, height))
            for index in range(fight.clip_length)
        ]
        return fight.runner, np.stack(clip)[None]
    if entry.task == "pose":
        pose = load_pose_estimator(entry, runtime, store)
        return pose.runner, pose.preprocess(frame)[0]
    detector = load_detector(entry, runtime, store)
    return detector.runner, detector.preprocess(frame)[0]


def _sample_frame() -> NDArray[np.uint8]:
    """A real photo when the samples are at hand, else the self-test's synthetic frame."""
    try:
        return read_image(SampleStore().path("person.jpg"))
    except SampleError:
        return self_test_frame()


def run_benchmark(
    store: ModelStore,
    *,
    device: str = "CPU",
    precision: str = "auto",
    runs: int = 50,
    frames: int = 100,
    models: list[str] | None = None,
    progress: Progress = lambda _: None,
) -> dict[str, object]:
    """Benchmark each model in latency and throughput mode, default threads and one thread."""
    started = time.perf_counter()
    base = InferenceSettings(device=device, precision=precision)  # type: ignore[arg-type]
    results: dict[str, object] = {}
    for name in models or list(DEFAULT_MODELS):
        entry = DEFAULT_MODELS[name]
        if entry.task == "fight":
            results[name] = _bench_clip_model(
                entry, store, base, runs=runs, frames=frames, progress=progress
            )
            continue
        figures: dict[str, Any] = {"input_size": list(entry.input_size)}
        for label, threads in (("", 0), ("_1_thread", 1)):
            progress(f"{name}: latency mode{label.replace('_', ' ')}")
            runner, tensor = _compile(
                entry, store, replace(base, performance="latency", threads=threads)
            )
            figures[f"latency{label}"] = measure_latency(runner, tensor, runs)
            progress(f"{name}: throughput mode{label.replace('_', ' ')}")
            runner, tensor = _compile(
                entry, store, replace(base, performance="throughput", threads=threads)
            )
            figures[f"throughput{label}"] = measure_throughput(runner, tensor, frames)
        baseline = figures["latency"]["fps"]
        figures["ratios"] = {
            "throughput_vs_latency": round(figures["throughput"]["fps"] / baseline, 3),
            "latency_1_thread_vs_latency": round(figures["latency_1_thread"]["fps"] / baseline, 3),
            "throughput_1_thread_vs_latency": round(
                figures["throughput_1_thread"]["fps"] / baseline, 3
            ),
        }
        results[name] = figures
    return {
        "machine": {
            "processor": _cpu_name(),
            "cores": os.cpu_count(),
            "python": platform.python_version(),
            "openvino": ov.get_version(),
            "device": device,
            "precision": precision,
        },
        "models": results,
        "duration_s": round(time.perf_counter() - started, 1),
    }


def _bench_clip_model(
    entry: ModelEntry,
    store: ModelStore,
    base: InferenceSettings,
    *,
    runs: int,
    frames: int,
    progress: Progress,
) -> dict[str, Any]:
    """The fight clip model at the requested precision and at f32, default threads.

    A clip costs about fifty NanoDet frames, so it gets a fifth of the runs; one-thread
    figures are left out for the same reason. Precision matters more here than for the
    detector: the default (bf16 on CPUs that have it) moves P(fight), which is compared
    with a threshold (docs/models.md).
    """
    runs, frames = max(3, runs // 5), max(4, frames // 5)
    figures: dict[str, Any] = {
        "input_size": list(entry.input_size),
        "clip_length": int(entry.options["clip_length"]),
        "precision": base.precision,
    }
    for label, precision in (("", base.precision), ("_f32", "f32")):
        settings = replace(base, precision=precision)
        progress(f"{entry.name}: latency mode, precision {precision}")
        runner, tensor = _compile(entry, store, replace(settings, performance="latency"))
        figures[f"latency{label}"] = measure_latency(runner, tensor, runs)
        progress(f"{entry.name}: throughput mode, precision {precision}")
        runner, tensor = _compile(entry, store, replace(settings, performance="throughput"))
        figures[f"throughput{label}"] = measure_throughput(runner, tensor, frames)
    figures["ratios"] = {
        "throughput_vs_latency": round(figures["throughput"]["fps"] / figures["latency"]["fps"], 3),
        "latency_vs_latency_f32": round(
            figures["latency"]["fps"] / figures["latency_f32"]["fps"], 3
        ),
        "throughput_vs_throughput_f32": round(
            figures["throughput"]["fps"] / figures["throughput_f32"]["fps"], 3
        ),
    }
    return figures


def _cpu_name() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()
