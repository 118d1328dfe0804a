"""Which video decoder a camera uses: the CPU, or the host's GPU through FFmpeg.

Intel iGPUs decode H.264/H.265 through VAAPI or Quick Sync (QSV), which frees the CPU for
inference. Two things must both hold for that: the FFmpeg inside PyAV was built with the
device type (PyAV's wheels have QSV through oneVPL but no VAAPI; a PyAV built against the
system's FFmpeg has VAAPI), and the host exposes a DRM render node (``/dev/dri/renderD*``,
which a container only has when the device is passed in). :func:`choose_decoder` checks
both, like the inference runtime checks OpenVINO's available devices, and says in plain
words why a requested decoder is not used; the camera then decodes on the CPU and logs
that once.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal

type DecodeMode = Literal["auto", "cpu", "vaapi", "qsv"]
type Decoder = Literal["cpu", "vaapi", "qsv"]
DECODE_MODES: Final[tuple[DecodeMode, ...]] = ("auto", "cpu", "vaapi", "qsv")
HARDWARE: Final[tuple[Decoder, ...]] = ("qsv", "vaapi")
"""Tried in this order by ``auto``: QSV is the faster path on Intel iGPUs."""
DRI_DIR: Final = Path("/dev/dri")


def render_nodes(dri_dir: Path = DRI_DIR) -> tuple[Path, ...]:
    """The DRM render nodes of this host (empty without a GPU or device pass-through)."""
    try:
        return tuple(sorted(dri_dir.glob("renderD*")))
    except OSError:
        return ()


def ffmpeg_device_types() -> tuple[str, ...]:
    """The hardware device types the FFmpeg inside PyAV was built with."""
    from av.codec.hwaccel import hwdevices_available

    return tuple(str(name) for name in hwdevices_available())


@dataclass(frozen=True, slots=True)
class HardwareDecoders:
    """What this host offers: FFmpeg's device types and the render nodes present."""

    ffmpeg_types: tuple[str, ...]
    nodes: tuple[Path, ...]

    @classmethod
    def detect(cls) -> HardwareDecoders:
        """Look at this host."""
        return cls(ffmpeg_device_types(), render_nodes())

    @property
    def available(self) -> tuple[Decoder, ...]:
        """Hardware decoders that can work here, best first."""
        if not self.nodes:
            return ()
        return tuple(kind for kind in HARDWARE if kind in self.ffmpeg_types)

    def why_not(self, kind: Decoder) -> str:
        """Why ``kind`` cannot be used here (for the fallback message)."""
        reasons = []
        if kind not in self.ffmpeg_types:
            built = ", ".join(self.ffmpeg_types) or "none"
            reasons.append(f"PyAV's FFmpeg has no {kind} (it has: {built})")
        if not self.nodes:
            reasons.append(f"no GPU render node in {DRI_DIR}")
        return "; ".join(reasons) or f"{kind} failed to start"


@dataclass(frozen=True, slots=True)
class DecodeChoice:
    """The decoder a camera will use and, when it is not the one asked for, why."""

    requested: DecodeMode
    decoder: Decoder
    device: Path | None = None
    fallback_reason: str | None = None

    def to_json(self) -> dict[str, object]:
        """What the API shows about the camera's decoder."""
        return {
            "requested": self.requested,
            "decoder": self.decoder,
            "fallback_reason": self.fallback_reason,
        }


def choose_decoder(requested: DecodeMode, host: HardwareDecoders) -> DecodeChoice:
    """Pick the decoder for ``requested`` on ``host``.

    ``auto`` takes the best hardware decoder present and otherwise the CPU, which is not a
    fallback (nothing was asked for). An explicit ``vaapi``/``qsv`` the host cannot give
    falls back to the CPU with the reason, so the camera still works.
    """
    if requested == "cpu":
        return DecodeChoice(requested, "cpu")
    available = host.available
    device = host.nodes[0] if host.nodes else None
    if requested == "auto":
        if available:
            return DecodeChoice(requested, available[0], device)
        return DecodeChoice(requested, "cpu")
    if requested in available:
        return DecodeChoice(requested, requested, device)
    return DecodeChoice(requested, "cpu", None, host.why_not(requested))
