"""OpenVINO inference runtime: one Core per engine, compiled models shared by callers.

The settings (:mod:`.settings`) import without OpenVINO; the runtime is loaded on first
use, so reading a configuration never pays for it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from detectors.inference.settings import DEVICES, PERFORMANCE_MODES, PRECISIONS, InferenceSettings

if TYPE_CHECKING:
    from detectors.inference.runtime import CompiledRunner, InferenceRuntime

__all__ = [
    "DEVICES",
    "PERFORMANCE_MODES",
    "PRECISIONS",
    "CompiledRunner",
    "InferenceRuntime",
    "InferenceSettings",
]


def __getattr__(name: str) -> Any:
    """Load the OpenVINO runtime when one of its names is first asked for."""
    if name in ("CompiledRunner", "InferenceRuntime"):
        from detectors.inference import runtime

        return getattr(runtime, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
