"""FFmpeg opens camera streams with a protocol whitelist: nothing can be smuggled in a URL.

Real PyAV against a real file on disk: the same URL opens without the whitelist (so each
case could fail) and is refused with the engine's RTSP options.
"""

from __future__ import annotations

from pathlib import Path

import av
import pytest

from detectors.pipeline.sources.rtsp import RTSP_OPTIONS


def _smuggled(clip: Path) -> dict[str, str]:
    size = clip.stat().st_size
    return {
        "file": f"file:{clip}",
        "concat": f"concat:{clip}|{clip}",
        "subfile": f"subfile,,start,0,end,{size},,:{clip}",
    }


@pytest.mark.parametrize("kind", ["file", "concat", "subfile"])
def test_a_smuggled_protocol_opens_without_the_whitelist_and_not_with_it(
    samples_dir: Path, kind: str
) -> None:
    clip = samples_dir / "vtest.avi"
    url = _smuggled(clip)[kind]
    with av.open(url) as container:  # what an unguarded open would read
        assert container.streams.video
    with pytest.raises(av.FFmpegError):
        av.open(url, options=RTSP_OPTIONS).close()
