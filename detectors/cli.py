"""The ``school-guard`` command line.

Every command turns :class:`~detectors.errors.SchoolGuardError` into one line on stderr and
exit status 1 (argparse uses 2 for usage errors), so scripts can rely on the exit code and
people see what to fix instead of a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, tzinfo
from pathlib import Path

from detectors import __version__
from detectors.errors import ConfigError, SchoolGuardError
from detectors.inference import DEVICES, PRECISIONS, InferenceRuntime, InferenceSettings
from detectors.zoo.catalog import DEFAULT_MODELS, ZOO
from detectors.zoo.store import ModelStore

type Handler = Callable[[argparse.Namespace], int]


def _progress(message: str) -> None:
    print(f"[school-guard] {message}", file=sys.stderr, flush=True)


def _store(args: argparse.Namespace) -> ModelStore:
    return ModelStore(cache_dir=args.model_cache, mirror_dir=args.model_mirror)


def _runtime(args: argparse.Namespace) -> InferenceRuntime:
    return InferenceRuntime(
        InferenceSettings(device=args.device, precision=args.precision, performance="latency")
    )


def cmd_models(args: argparse.Namespace) -> int:
    """``models list | fetch | verify``.

    ``list`` shows every zoo entry, opt-in ones too, each with its licence; ``fetch`` and
    ``verify`` touch only the defaults unless models are named: an opt-in model is never
    downloaded by accident.
    """
    store = _store(args)
    names = args.names or list(ZOO if args.action == "list" else DEFAULT_MODELS)
    entries = [store.entry(name) for name in names]
    if args.action == "list":
        rows = []
        for entry in entries:
            described = entry.describe()
            try:
                store.verify(entry)
                described["cached"] = "verified"
            except SchoolGuardError as err:
                optional = " (optional: fights are judged by pose alone)"
                described["cached"] = f"not ready: {err}{optional if entry.task == 'fight' else ''}"
            rows.append(described)
        if args.json:
            print(json.dumps(rows, indent=2))
        else:
            for row in rows:
                opt_in = f" opt-in, accept {row['acknowledge']}" if row["opt_in"] else ""
                print(
                    f"{row['name']:<30} {row['task']:<9} {row['source']}  [{row['cached']}]\n"
                    f"{'':<30} licence: {row['licence']}{opt_in}"
                )
        return 0
    for entry in entries:
        if entry.acknowledge:
            _progress(
                f"{entry.name} is licensed {entry.licence}; it is opt-in and runs only if the "
                f"configuration lists {entry.acknowledge!r} in models.accept_licences"
            )
        if args.action == "fetch":
            prepared = store.prepare(entry, _progress)
            print(f"{entry.name}: ready at {prepared.path}")
        else:
            path = store.verify(entry)
            print(f"{entry.name}: OK ({path})")
    return 0


def cmd_samples(args: argparse.Namespace) -> int:
    """``samples list | fetch | verify``: the demo's, tests' and benchmarks' media."""
    from detectors.artifacts.samples import SAMPLES, SampleStore

    store = SampleStore(folder=args.samples_dir, mirror_dir=args.sample_mirror)
    names = args.names or list(SAMPLES)
    samples = [store.sample(name) for name in names]
    if args.action == "list":
        rows = []
        for sample in samples:
            described = sample.describe()
            try:
                store.path(sample.name)
                described["cached"] = "verified"
            except SchoolGuardError as err:
                described["cached"] = f"not ready: {err}"
            rows.append(described)
        if args.json:
            print(json.dumps(rows, indent=2))
        else:
            for row in rows:
                print(f"{row['name']:<16} {row['source']:<56} [{row['cached']}]")
        return 0
    for sample in samples:
        if args.action == "fetch":
            print(f"{sample.name}: ready at {store.fetch(sample.name, _progress)}")
        else:
            print(f"{sample.name}: OK ({store.path(sample.name)})")
    return 0


def cmd_analyze(args: argparse.Namespace) -> int:
    """``analyze PATH``: detections (and poses) per analysed frame."""
    from detectors.analyze import FrameAnalyzer, Summary, write_json_line
    from detectors.pipeline.defaults import default_rule_engine
    from detectors.pipeline.processor import FrameProcessor, Models
    from detectors.vision import (
        load_detector,
        load_optional_fight_classifier,
        load_pose_estimator,
    )

    runtime = _runtime(args)
    store = _store(args)
    detector = load_detector(
        store.entry(args.detector), runtime, store, score_threshold=args.score, progress=_progress
    )
    pose = None
    if not args.no_pose:
        pose = load_pose_estimator(store.entry(args.pose), runtime, store, progress=_progress)
    fight, skipped = load_optional_fight_classifier(
        None if args.no_fight_model else args.fight_model,
        runtime,
        store,
        with_pose=pose is not None,
        progress=_progress,
    )
    if skipped is not None and pose is not None and not args.no_fight_model:
        _progress(f"fight model {args.fight_model} {skipped}: fight is judged by pose alone")
    camera_id = args.camera or "analyze"
    processor = FrameProcessor(
        camera_id, Models(detector, pose, fight=fight), default_rule_engine(camera_id)
    )
    analyzer = FrameAnalyzer(processor)
    summary = Summary()
    for result in analyzer.run(args.path, args.every):
        if args.json:
            write_json_line(result, sys.stdout)
        summary.add(result)
    if not args.json:
        summary.write(sys.stdout)
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    """``bench``: inference speed, the pipeline (``--pipeline``), or ``--capacity``."""
    if args.capacity:
        from detectors.bench_capacity import run_capacity_benchmark

        capacity = run_capacity_benchmark(
            _store(args),
            _default_source(),
            profiles=args.profiles,
            detect_fps=args.detect_fps,
            seconds=args.seconds or 15.0,
            max_cameras=args.max_cameras,
            start_cameras=args.start_cameras,
            detector=args.detector,
            time_limit_s=args.time_limit,
            device=args.device,
            precision=args.precision,
            progress=_progress,
        )
        print(json.dumps(capacity, indent=2 if args.json else None))
        return 0
    if args.pipeline:
        from detectors.bench_pipeline import run_pipeline_benchmark

        source = args.source or _default_source()
        pipeline = run_pipeline_benchmark(
            _store(args),
            source,
            cameras=args.cameras,
            seconds=args.seconds or 20.0,
            device=args.device,
            precision=args.precision,
            with_fight=not args.no_fight,
            progress=_progress,
        )
        print(json.dumps(pipeline, indent=2 if args.json else None))
        return 0
    from detectors.bench import run_benchmark

    report = run_benchmark(
        _store(args),
        device=args.device,
        precision=args.precision,
        runs=args.runs,
        frames=args.frames,
        models=args.models or None,
        progress=_progress,
    )
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        for name, figures in report["models"].items():  # type: ignore[attr-defined]
            print(f"{name}:")
            for key, value in figures.items():
                print(f"  {key}: {value}")
    return 0


def _default_source() -> Path:
    """The sample footage (vtest.avi) that ``scripts/setup`` fetched."""
    from detectors.artifacts.samples import SampleStore

    return SampleStore().path("vtest.avi")


def cmd_serve(args: argparse.Namespace) -> int:
    """``serve``: the whole engine until SIGTERM or Ctrl-C."""
    import asyncio

    from detectors.engine.runner import serve

    return asyncio.run(serve(args))


def cmd_camera_sim(args: argparse.Namespace) -> int:
    """``camera-sim``: a virtual ONVIF camera playing a video file."""
    import asyncio

    from detectors.sim.camera import run_camera_sim

    def announce(addresses: dict[str, object]) -> None:
        print(json.dumps(addresses), flush=True)

    try:
        asyncio.run(
            run_camera_sim(
                args.video,
                host=args.host,
                port=args.port,
                username=args.username,
                password=args.password,
                name=args.name,
                location=args.location,
                discovery_port=args.discovery_port,
                multicast=args.multicast,
                stream=args.stream,
                rtsp_port=args.rtsp_port,
                codec=args.codec,
                fps=args.fps,
                clip_seconds=args.clip_seconds,
                announce=announce,
            )
        )
    except KeyboardInterrupt:
        return 0
    return 0


def cmd_discover(args: argparse.Namespace) -> int:
    """``discover``: WS-Discovery probe for ONVIF cameras."""
    import asyncio

    from detectors.onvif.discovery import discover
    from detectors.protocol.onvif import DISCOVERED
    from detectors.protocol.requests import ONVIF_DISCOVER

    targets = ONVIF_DISCOVER({"targets": args.target})["targets"]
    found = asyncio.run(discover(targets, timeout=args.timeout, multicast=not args.no_multicast))
    if args.json:
        print(json.dumps([DISCOVERED.build(camera) for camera in found], indent=2))
    else:
        for camera in found:
            print(f"{camera.name or '?':<30} {camera.location or '':<30} {' '.join(camera.xaddrs)}")
        print(f"{len(found)} camera(s) found")
    return 0


def cmd_probe(args: argparse.Namespace) -> int:
    """``probe HOST``: device information, profiles and stream URIs of one camera."""
    import asyncio

    from detectors.onvif.probe import probe
    from detectors.protocol.onvif import PROBE

    result = asyncio.run(probe(args.host, args.port, args.username, args.password))
    if args.json:
        print(json.dumps(PROBE.build(result), indent=2))
    else:
        device = result.device
        print(f"{device.manufacturer} {device.model} (firmware {device.firmware_version})")
        print(f"clock offset: {result.clock_offset_s} s")
        for profile in result.profiles:
            print(
                f"  {profile.token}: {profile.codec} {profile.width}x{profile.height} "
                f"{profile.stream_uri}"
            )
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    """``report``: the after-action report of a period, from the incident log (read-only)."""
    from datetime import datetime
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    from detectors.report.document import Period
    from detectors.report.write import parse_moment, write_report

    if args.timezone:
        try:
            zone: tzinfo = ZoneInfo(args.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ConfigError(f"--timezone: unknown time zone {args.timezone!r}") from None
    else:
        zone = datetime.now().astimezone().tzinfo or UTC
    log = args.log if args.log is not None else args.data_dir / "incidents.db"
    period = Period(
        start=parse_moment(args.start, zone, end=False),
        end=parse_moment(args.end, zone, end=True),
        zone=zone,
        cameras=tuple(args.camera),
        rules=tuple(args.rule),
    )
    document = write_report(log, period, args.format, args.output)
    counts = document["totals"]["incidents"]  # type: ignore[index]
    print(f"{args.output}: {counts['real']} real and {counts['drill']} drill alert(s)")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every sub-command."""
    parser = argparse.ArgumentParser(prog="school-guard", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"school-guard {__version__}")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--model-cache",
        type=Path,
        default=None,
        help="model cache (default $SCHOOL_GUARD_MODEL_CACHE or ~/.cache/school-guard/models)",
    )
    common.add_argument(
        "--model-mirror",
        type=Path,
        default=None,
        help="local model mirror (default $SCHOOL_GUARD_MODEL_MIRROR)",
    )
    infer = argparse.ArgumentParser(add_help=False)
    infer.add_argument(
        "--device", default="AUTO", help=f"inference device: {', '.join(DEVICES)} or AUTO:GPU,CPU"
    )
    infer.add_argument("--precision", default="auto", choices=PRECISIONS)
    sub = parser.add_subparsers(dest="command", required=True)

    models = sub.add_parser("models", parents=[common], help="list, fetch or verify models")
    models.add_argument("action", choices=["list", "fetch", "verify"])
    models.add_argument(
        "names",
        nargs="*",
        help="model names (default: every default model; list: every zoo entry, opt-in too)",
    )
    models.add_argument("--json", action="store_true")
    models.set_defaults(handler=cmd_models)

    samples = sub.add_parser("samples", help="list, fetch or verify the sample media")
    samples.add_argument("action", choices=["list", "fetch", "verify"])
    samples.add_argument("names", nargs="*", help="sample names (default: every sample)")
    samples.add_argument("--json", action="store_true")
    samples.add_argument(
        "--samples-dir",
        type=Path,
        default=None,
        help="sample folder (default $SCHOOL_GUARD_SAMPLES or ~/.cache/school-guard/samples)",
    )
    samples.add_argument(
        "--sample-mirror",
        type=Path,
        default=None,
        help="local mirror checked first (default $SCHOOL_GUARD_SAMPLE_MIRROR)",
    )
    samples.set_defaults(handler=cmd_samples)

    analyze = sub.add_parser("analyze", parents=[common, infer], help="analyse a video or image")
    analyze.add_argument("path", type=Path)
    analyze.add_argument("--every", type=int, default=1, help="analyse every N-th frame")
    analyze.add_argument("--json", action="store_true", help="one JSON object per frame")
    analyze.add_argument("--detector", default="nanodet-m-416")
    analyze.add_argument("--pose", default="movenet-multipose-lightning")
    analyze.add_argument("--no-pose", action="store_true", help="skip the pose model")
    analyze.add_argument("--fight-model", default="fight-mc3-18", help="fight clip classifier")
    analyze.add_argument("--no-fight-model", action="store_true", help="judge fights by pose alone")
    analyze.add_argument("--score", type=float, default=0.4, help="detection score floor")
    analyze.add_argument("--camera", default=None, help="camera id reported in events")
    analyze.set_defaults(handler=cmd_analyze)

    bench = sub.add_parser("bench", parents=[common, infer], help="benchmark inference")
    bench.add_argument("--json", action="store_true")
    bench.add_argument("--runs", type=int, default=50, help="latency runs per configuration")
    bench.add_argument("--frames", type=int, default=100, help="frames per throughput run")
    bench.add_argument("--models", nargs="*", choices=sorted(DEFAULT_MODELS))
    bench.add_argument("--pipeline", action="store_true", help="N file cameras, whole pipeline")
    bench.add_argument("--cameras", type=int, default=4, help="cameras for --pipeline")
    bench.add_argument("--source", type=Path, default=None, help="video for --pipeline")
    bench.add_argument(
        "--seconds",
        type=float,
        default=None,
        help="measured time: for --pipeline (default 20), per step of --capacity (default 15)",
    )
    bench.add_argument(
        "--capacity",
        action="store_true",
        help="RTSP cameras from GStreamer's server on loopback through the whole engine: "
        "how many hold detect_fps (docs/benchmarks.md)",
    )
    bench.add_argument(
        "--profiles",
        nargs="+",
        choices=["sub", "main"],
        default=["sub", "main"],
        help="streams for --capacity: sub 640x480, main 1920x1080",
    )
    bench.add_argument("--detect-fps", type=float, default=5.0, help="per camera, --capacity")
    bench.add_argument("--max-cameras", type=int, default=40, help="upper bound, --capacity")
    bench.add_argument(
        "--detector",
        default="nanodet-m-416",
        choices=sorted(n for n, e in DEFAULT_MODELS.items() if e.task == "detector"),
        help="the detector --capacity runs (nanodet-m-416-int8: the INT8 variant)",
    )
    bench.add_argument(
        "--start-cameras",
        type=int,
        default=0,
        help="first N of the --capacity ramp (default: 0.6 x the computed limit)",
    )
    bench.add_argument(
        "--time-limit", type=float, default=900.0, help="seconds --capacity may take at most"
    )
    bench.add_argument(
        "--no-fight",
        action="store_true",
        help="--pipeline without the fight model's share (two runs fewer)",
    )
    bench.set_defaults(handler=cmd_bench)
    sim = sub.add_parser("camera-sim", help="run a simulated ONVIF camera")
    sim.add_argument("--video", type=Path, required=True)
    sim.add_argument("--host", default="127.0.0.1")
    sim.add_argument("--port", type=int, default=8080)
    sim.add_argument("--username", default="admin")
    sim.add_argument("--password", default="admin")
    sim.add_argument("--name", default="Simulated camera")
    sim.add_argument("--location", default="Test lab")
    sim.add_argument(
        "--discovery-port", type=int, default=3702, help="WS-Discovery UDP port (0: any free port)"
    )
    sim.add_argument(
        "--multicast",
        action="store_true",
        help="answer multicast probes (only inside a private network namespace)",
    )
    sim.add_argument(
        "--stream",
        choices=["rtsp", "mjpeg"],
        default="rtsp",
        help="rtsp: GStreamer's RTSP server, main 1920x1080 + sub 640x480 (default); "
        "mjpeg: HTTP MJPEG at the file's size",
    )
    sim.add_argument("--rtsp-port", type=int, default=8554, help="RTSP port (0: any free port)")
    sim.add_argument("--codec", choices=["h264", "h265"], default="h264")
    sim.add_argument("--fps", type=float, default=15.0, help="frame rate of the RTSP profiles")
    sim.add_argument(
        "--clip-seconds",
        type=float,
        default=None,
        help="loop only the first seconds of the video (quicker first encode)",
    )
    sim.set_defaults(handler=cmd_camera_sim)

    disc = sub.add_parser("discover", help="find ONVIF cameras (WS-Discovery)")
    disc.add_argument("--target", action="append", default=[], help="HOST[:PORT] to probe directly")
    disc.add_argument("--timeout", type=float, default=3.0)
    disc.add_argument("--no-multicast", action="store_true", help="unicast targets only")
    disc.add_argument("--json", action="store_true")
    disc.set_defaults(handler=cmd_discover)

    prb = sub.add_parser("probe", help="read an ONVIF camera's profiles and stream URIs")
    prb.add_argument("host")
    prb.add_argument("--port", type=int, default=80)
    prb.add_argument("--username", default="")
    prb.add_argument("--password", default="")
    prb.add_argument("--json", action="store_true")
    prb.set_defaults(handler=cmd_probe)

    serve = sub.add_parser("serve", parents=[common], help="run the engine")
    serve.add_argument("--config", type=Path, required=True, help="engine configuration (YAML)")
    serve.add_argument("--data-dir", type=Path, default=None, help="overrides engine.data_dir")
    serve.add_argument("--host", default=None, help="overrides api.host")
    serve.add_argument("--port", type=int, default=None, help="overrides api.port")
    serve.add_argument("--token", default=None, help="API token (default: <data-dir>/token)")
    serve.add_argument(
        "--log-format",
        choices=["text", "json"],
        default="text",
        help="json: one JSON object per log line",
    )
    serve.add_argument(
        "--zeroconf",
        action="store_true",
        help="announce the engine as _school-guard._tcp.local. (multicast)",
    )
    serve.add_argument(
        "--advertise-address",
        default=None,
        help="address to announce (default: the API host, or this host's)",
    )
    serve.set_defaults(handler=cmd_serve)

    report = sub.add_parser(
        "report", help="after-action report: each incident's timeline and response times"
    )
    report.add_argument("--from", dest="start", required=True, help="YYYY-MM-DD or ISO time")
    report.add_argument(
        "--to", dest="end", required=True, help="YYYY-MM-DD (that day included) or ISO time"
    )
    report.add_argument("--camera", action="append", default=[], help="camera id (repeatable)")
    report.add_argument("--rule", action="append", default=[], help="rule (repeatable)")
    report.add_argument("--format", choices=["json", "html", "pdf"], default="html")
    report.add_argument("--output", type=Path, required=True)
    where = report.add_mutually_exclusive_group()
    where.add_argument("--log", type=Path, default=None, help="the incident log (incidents.db)")
    where.add_argument(
        "--data-dir",
        type=Path,
        default=Path("data"),
        help="the engine's data directory holding incidents.db (default ./data)",
    )
    report.add_argument(
        "--timezone", default=None, help="IANA zone for dates and hours (default: this machine's)"
    )
    report.set_defaults(handler=cmd_report)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``school-guard`` console script."""
    args = build_parser().parse_args(argv)
    handler: Handler = args.handler
    try:
        return handler(args)
    except SchoolGuardError as err:
        print(f"school-guard: error: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
