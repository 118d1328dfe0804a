"""PyTorch reference logits of the fight model, for scripts/fight-reference (not the engine).

Runs only in the separate Python 3.11 venv that scripts/fight-reference makes
(``.venv-torch-ref``, torch 2.13.0 CPU): the engine never imports PyTorch. PyPI's
torchvision does not import beside that torch build, so ``mc3_18`` is written out here in
plain torch, layer for layer as torchvision's ``torchvision/models/video/resnet.py``
defines it (BasicStem, Conv3DSimple for layer1, Conv3DNoTemporal for layers 2-4, two
BasicBlocks per stage), with the 2-class head the fight model was fine-tuned with. The
weights are loaded with ``torch.load(weights_only=True)``, torch's own restricted unpickler.

Input: a folder of ``<name>.npy`` uint8 BGR clips ``[16, 112, 112, 3]`` written by
``scripts/fight_reference_inputs.py``. The clip is normalised exactly as the model's own
``Fight_utils.py`` does (albumentations ``Normalize``: RGB, ``(x / 255 - mean) / std``),
then transposed to ``[1, 3, 16, 112, 112]``. Output: JSON ``{name: [logit0, logit1]}``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch
from torch import nn

MEAN = (0.43216, 0.394666, 0.37645)
STD = (0.22803, 0.22145, 0.216989)


def conv_simple(in_c: int, out_c: int, stride: int) -> nn.Conv3d:
    """torchvision's Conv3DSimple: 3x3x3, padding 1."""
    return nn.Conv3d(in_c, out_c, (3, 3, 3), stride=stride, padding=1, bias=False)


def conv_no_temporal(in_c: int, out_c: int, stride: int) -> nn.Conv3d:
    """torchvision's Conv3DNoTemporal: 1x3x3, spatial stride only."""
    return nn.Conv3d(
        in_c, out_c, (1, 3, 3), stride=(1, stride, stride), padding=(0, 1, 1), bias=False
    )


class BasicBlock(nn.Module):
    """torchvision's video BasicBlock (expansion 1)."""

    def __init__(self, in_c: int, out_c: int, stride: int, full_3d: bool) -> None:
        super().__init__()
        make = conv_simple if full_3d else conv_no_temporal
        self.conv1 = nn.Sequential(make(in_c, out_c, stride), nn.BatchNorm3d(out_c), nn.ReLU(True))
        self.conv2 = nn.Sequential(make(out_c, out_c, 1), nn.BatchNorm3d(out_c))
        self.relu = nn.ReLU(True)
        self.downsample: nn.Module | None = None
        if stride != 1 or in_c != out_c:
            ds_stride = (stride,) * 3 if full_3d else (1, stride, stride)
            self.downsample = nn.Sequential(
                nn.Conv3d(in_c, out_c, 1, stride=ds_stride, bias=False), nn.BatchNorm3d(out_c)
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        residual = x if self.downsample is None else self.downsample(x)
        return self.relu(self.conv2(self.conv1(x)) + residual)


class MC3_18(nn.Module):
    """torchvision.models.video.mc3_18 with a ``num_classes`` head."""

    def __init__(self, num_classes: int = 2) -> None:
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv3d(3, 64, (3, 7, 7), stride=(1, 2, 2), padding=(1, 3, 3), bias=False),
            nn.BatchNorm3d(64),
            nn.ReLU(True),
        )
        stages = []
        in_c = 64
        for index, (out_c, stride) in enumerate(((64, 1), (128, 2), (256, 2), (512, 2))):
            full_3d = index == 0
            stages.append(
                nn.Sequential(
                    BasicBlock(in_c, out_c, stride, full_3d), BasicBlock(out_c, out_c, 1, full_3d)
                )
            )
            in_c = out_c
        self.layer1, self.layer2, self.layer3, self.layer4 = stages
        self.avgpool = nn.AdaptiveAvgPool3d((1, 1, 1))
        self.fc = nn.Linear(512, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stem(x)
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(self.avgpool(x).flatten(1))


def normalise(clip_bgr: np.ndarray) -> torch.Tensor:
    """Fight_utils.py's transform on an already resized and cropped uint8 BGR clip."""
    rgb = clip_bgr[..., ::-1].astype(np.float32) / 255.0
    normed = (rgb - np.asarray(MEAN, np.float32)) / np.asarray(STD, np.float32)
    return torch.from_numpy(np.ascontiguousarray(normed.transpose(3, 0, 1, 2)[None]))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", type=Path, required=True)
    parser.add_argument("--inputs", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    torch.set_num_threads(1)  # deterministic summation order, whatever the machine
    model = MC3_18()
    state = torch.load(args.weights, map_location="cpu", weights_only=True)
    model.load_state_dict(state, strict=True)
    model.eval()
    logits: dict[str, list[float]] = {}
    with torch.no_grad():
        for path in sorted(args.inputs.glob("*.npy")):
            clip = np.load(path, allow_pickle=False)
            logits[path.stem] = [float(v) for v in model(normalise(clip))[0]]
    args.out.write_text(
        json.dumps({"torch": torch.__version__, "logits": logits}, indent=2) + "\n",
        encoding="utf-8",
    )
    print(f"wrote {len(logits)} reference logits to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
