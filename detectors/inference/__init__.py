"""OpenVINO inference runtime: one Core per engine, compiled models shared by callers."""

from detectors.inference.runtime import (
    DEVICES,
    PERFORMANCE_MODES,
    PRECISIONS,
    CompiledRunner,
    InferenceRuntime,
    InferenceSettings,
)

__all__ = [
    "DEVICES",
    "PERFORMANCE_MODES",
    "PRECISIONS",
    "CompiledRunner",
    "InferenceRuntime",
    "InferenceSettings",
]
