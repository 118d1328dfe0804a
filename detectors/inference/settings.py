"""How models are compiled: the ``inference`` section of the engine configuration.

A module of its own, without OpenVINO, so that reading a configuration file does not load
the inference runtime: the configuration's ``inference`` section *is* this type.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

DEVICES: Final = ("CPU", "GPU", "NPU", "AUTO")
PRECISIONS: Final = ("auto", "f32", "f16", "bf16")
PERFORMANCE_MODES: Final = ("latency", "throughput")

type Precision = Literal["auto", "f32", "f16", "bf16"]
type PerformanceMode = Literal["latency", "throughput"]


@dataclass(frozen=True, slots=True)
class InferenceSettings:
    """How models are compiled: the ``inference`` section of the engine configuration.

    ``requests`` is the number of infer requests in the async queue; 0 takes OpenVINO's
    optimal number for the device and performance mode. ``threads`` 0 lets OpenVINO decide.
    """

    device: str = "AUTO"
    precision: Precision = "auto"
    performance: PerformanceMode = "throughput"
    requests: int = 0
    threads: int = 0
