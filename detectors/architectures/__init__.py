"""Detection model architectures: one module per architecture, found by name.

An architecture is everything that differs between detection model families once the
runtime is out of the way: the input layout and normalisation the graph expects, whether
frames are stretched or letterboxed, which outputs a compiled model must have, how raw
outputs decode into candidates, and what a self-test may check about them. The zoo names
an architecture (`ModelEntry.decoder`); the vision layer asks :func:`architecture` for it
and never compares the name itself. Adding one is one file in this package: a subclass of
:class:`DetectionArchitecture` registers itself when the package is scanned.

Nothing here imports OpenVINO (the loader turns :class:`Normalisation` into graph steps),
so architectures are tested on synthetic tensors like the decoders they wrap.
"""

from detectors.architectures.base import DetectionArchitecture, Normalisation, Outputs
from detectors.architectures.registry import architecture, architecture_names

__all__ = [
    "DetectionArchitecture",
    "Normalisation",
    "Outputs",
    "architecture",
    "architecture_names",
]
