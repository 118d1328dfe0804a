"""Fixed clips for the fight model's parity check against PyTorch (scripts/fight-reference).

Each clip is the model's uint8 BGR input ``[16, 112, 112, 3]``, built the engine's way
(:meth:`FightClassifier.prepare_frame`) from the sample media or from a seeded generator,
so the same bytes come out on every machine; their SHA-256 is recorded with the logits.

``python -m tests.detectors.zoo.fight_parity_clips inputs DIR`` writes them as
``DIR/<name>.npy`` for the PyTorch reference; ``... record TORCH_JSON`` folds the
reference's logits and the clips' SHA-256 into ``tests/data/fight_reference.json``.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from detectors.artifacts.samples import SampleStore
from detectors.media import iter_video
from detectors.vision.fight import prepare_clip_frame
from detectors.zoo.catalog import FIGHT_MC3_18

REFERENCE = Path(__file__).resolve().parents[2] / "data" / "fight_reference.json"

LOGIT_TOLERANCE = 1e-4
"""Largest allowed |OpenVINO - PyTorch| per logit, both f32 on CPU (docs/models.md)."""
PROBABILITY_TOLERANCE = 1e-5
"""Largest allowed difference of P(fight)."""

_WHOLE = (0.0, 0.0, 768.0, 576.0)
_PAIR = (480.0, 110.0, 768.0, 326.0)
_GROUP = (150.0, 120.0, 390.0, 300.0)


def _prepare(
    image: NDArray[np.uint8], window: tuple[float, float, float, float]
) -> NDArray[np.uint8]:
    height, width = FIGHT_MC3_18.options["resize"]
    return prepare_clip_frame(image, window, (height, width), FIGHT_MC3_18.input_size[0])


def _vtest_clip(
    samples: Path, start: int, window: tuple[float, float, float, float]
) -> NDArray[np.uint8]:
    """16 frames at the model's 8 fps from vtest.avi (10 fps) starting at ``start``."""
    wanted = {start + round(k * 10 / 8): k for k in range(16)}
    frames: dict[int, NDArray[np.uint8]] = {}
    for frame in iter_video(samples / "vtest.avi"):
        if frame.index in wanted:
            frames[wanted[frame.index]] = _prepare(frame.image, window)
        if len(frames) == 16:
            break
    return np.stack([frames[k] for k in range(16)])


def _noise() -> NDArray[np.uint8]:
    return np.random.default_rng(2024).integers(0, 256, (16, 112, 112, 3), dtype=np.uint8)


def _moving_bars() -> NDArray[np.uint8]:
    """Vertical bars sliding 7 px a frame over a vertical ramp: motion with no people."""
    x = np.arange(112)[None, :]
    y = np.arange(112)[:, None]
    frames = []
    for t in range(16):
        bars = ((x + 7 * t) // 14) % 2 * 160
        ramp = y * 0.8
        image = np.stack([bars + ramp, np.full_like(bars + ramp, 90), 255 - bars - ramp * 0.5], -1)
        frames.append(np.clip(image, 0, 255).astype(np.uint8))
    return np.stack(frames)


def parity_clips(samples: Path) -> dict[str, NDArray[np.uint8]]:
    """Every parity clip by name."""
    return {
        "noise": _noise(),
        "moving-bars": _moving_bars(),
        "vtest-whole-0": _vtest_clip(samples, 0, _WHOLE),
        "vtest-whole-720": _vtest_clip(samples, 720, _WHOLE),
        "vtest-pair-300": _vtest_clip(samples, 300, _PAIR),
        "vtest-group-300": _vtest_clip(samples, 300, _GROUP),
    }


def clip_sha256(clip: NDArray[np.uint8]) -> str:
    """SHA-256 of a clip's bytes (C order), recorded beside its reference logits."""
    return hashlib.sha256(np.ascontiguousarray(clip).tobytes()).hexdigest()


def _write_inputs(folder: Path, samples: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, clip in parity_clips(samples).items():
        np.save(folder / f"{name}.npy", clip, allow_pickle=False)
        print(f"{folder / name}.npy  {clip_sha256(clip)}")


def _record(torch_json: Path, samples: Path) -> None:
    reference = json.loads(torch_json.read_text(encoding="utf-8"))
    clips = parity_clips(samples)
    if set(reference["logits"]) != set(clips):
        raise SystemExit(f"{torch_json}: clips {sorted(reference['logits'])} != {sorted(clips)}")
    record = {
        "what": "PyTorch logits of fight-mc3-18 for the clips of fight_parity_clips.py",
        "made_by": "scripts/fight-reference",
        "torch": reference["torch"],
        "model_sha256": FIGHT_MC3_18.primary.sha256,
        "clips": {
            name: {"sha256": clip_sha256(clip), "logits": reference["logits"][name]}
            for name, clip in clips.items()
        },
    }
    REFERENCE.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {REFERENCE}")


def main(argv: list[str]) -> int:
    """``inputs DIR`` or ``record TORCH_JSON``."""
    samples = SampleStore().path("vtest.avi").parent
    if len(argv) == 2 and argv[0] == "inputs":
        _write_inputs(Path(argv[1]), samples)
        return 0
    if len(argv) == 2 and argv[0] == "record":
        _record(Path(argv[1]), samples)
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
