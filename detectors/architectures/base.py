"""What every detection architecture provides, and the registry it joins by subclassing."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
from numpy.typing import NDArray

from detectors.decoders.raw import RawDetections
from detectors.errors import ModelFormatError

type Outputs = Mapping[str, NDArray[Any]]
type Shapes = Mapping[str, tuple[int, ...]]

# name -> architecture; filled by DetectionArchitecture.__init_subclass__.
REGISTERED: dict[str, DetectionArchitecture] = {}


@dataclass(frozen=True, slots=True)
class Normalisation:
    """What the compiled graph does to the resized BGR ``uint8`` image before the model.

    ``layout`` is the model's own input layout (``NCHW`` or ``NHWC``); ``rgb`` swaps the
    channels first; ``mean`` is subtracted and the result divided by ``scale`` (one value
    or one per channel), in the channel order after the swap.
    """

    layout: str = "NCHW"
    rgb: bool = True
    mean: tuple[float, float, float] | None = None
    scale: float | tuple[float, float, float] = 255.0


class DetectionArchitecture(ABC):
    """One detection model family; subclasses register under ``name`` when defined.

    ``user_models`` says whether a user-model spec (docs/models.md) may name it: an
    architecture whose outputs only one exported graph in the zoo has (NanoDet's six
    outputs) is not offered for arbitrary files. ``stretch`` resizes frames to the input
    without keeping the aspect ratio, for models trained that way.
    """

    name: ClassVar[str]
    user_models: ClassVar[bool] = True
    stretch: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """Register every concrete subclass by its name; two with one name is a bug."""
        super().__init_subclass__(**kwargs)
        if cls.name in REGISTERED:
            raise TypeError(f"detection architecture {cls.name!r} is defined twice")
        REGISTERED[cls.name] = cls()

    def normalisation(self, options: Mapping[str, object]) -> Normalisation:
        """The graph's preprocessing; by default from the entry's options (user models)."""
        scale = options.get("input_scale", 255.0)
        return Normalisation(
            layout=str(options.get("input_layout", "NCHW")),
            rgb=bool(options.get("rgb", True)),
            scale=float(scale) if isinstance(scale, int | float) else 255.0,
        )

    def check_outputs(self, model: str, shapes: Shapes, classes: int) -> None:
        """Refuse a compiled model whose outputs cannot be this architecture's."""
        if not shapes:
            raise ModelFormatError(f"{model}: the model has no outputs")

    @abstractmethod
    def decode(
        self, outputs: Outputs, *, input_size: tuple[int, int], classes: int, score_floor: float
    ) -> RawDetections:
        """Raw outputs to candidates in model-input pixels, before NMS."""

    def check_self_test(self, model: str, outputs: Outputs) -> None:  # noqa: B027 - optional hook
        """Checks on raw self-test outputs beyond finiteness and the decoded score range."""

    @staticmethod
    def first(outputs: Outputs) -> NDArray[np.float32]:
        """The model's only (or first) output, for single-output heads."""
        return next(iter(outputs.values()))
