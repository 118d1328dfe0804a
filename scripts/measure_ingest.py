"""Compare the two ways to read many RTSP cameras: PyAV threads, or one ffmpeg per camera.

Both read the same GStreamer RTSP server on loopback (the simulator's sub-stream: 640x480
H.264, 15 fps, one-second GOPs, or --main for 1920x1080), and both convert to BGR only
``--detect-fps`` frames a second, as the engine does: PyAV by converting every n-th decoded
frame, ffmpeg with its ``fps`` filter before ``-pix_fmt bgr24``. Prints JSON: time to the
first frame of every camera, frames received and converted per camera, CPU cores used
(this process, or the ffmpeg children), and proportional memory (PSS) per camera.

    .venv/bin/python scripts/measure_ingest.py --cameras 20 --seconds 20

docs/pipeline.md records what it measured and why the engine uses PyAV.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

from detectors.artifacts.samples import SampleStore
from detectors.pipeline.sources.rtsp import RtspSource
from detectors.sim.media import StreamSpec, encode
from detectors.sim.rtsp_server import RtspMount, RtspServerProcess

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def proc_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process from /proc (0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def proc_pss_mb(pid: int) -> float:
    """Proportional set size of a process in MB: shared libraries counted once overall."""
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) / 1000.0
    except OSError:
        pass
    return 0.0


def spread(values: list[float]) -> dict[str, float]:
    """Min, median and max of a list."""
    ordered = sorted(values)
    return {"min": ordered[0], "median": ordered[len(ordered) // 2], "max": ordered[-1]}


def pyav_threads(url: str, cameras: int, seconds: float, every: int) -> dict[str, object]:
    """N reader threads through the engine's own RtspSource."""
    started = time.monotonic()
    first: list[float] = [0.0] * cameras
    counts = [[0, 0] for _ in range(cameras)]
    pss_before = proc_pss_mb(os.getpid())
    cpu_before = proc_cpu_seconds(os.getpid())
    pss_during: list[float] = []

    def read(index: int) -> None:
        source = RtspSource(url, decode="cpu")
        source.open()
        end = time.monotonic() + seconds
        try:
            while time.monotonic() < end:
                frame = source.read()
                if frame is None:
                    continue
                if not first[index]:
                    first[index] = time.monotonic() - started
                counts[index][0] += 1
                if counts[index][0] % every == 0:
                    _ = frame.image
                    counts[index][1] += 1
        finally:
            source.close()

    threads = [threading.Thread(target=read, args=(i,)) for i in range(cameras)]
    for thread in threads:
        thread.start()
    time.sleep(seconds * 0.8)
    pss_during.append(proc_pss_mb(os.getpid()))
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    return {
        "first_frame_s": spread([round(t, 2) for t in first]),
        "frames": spread([float(c[0]) for c in counts]),
        "converted": spread([float(c[1]) for c in counts]),
        "cores": round((proc_cpu_seconds(os.getpid()) - cpu_before) / elapsed, 3),
        "pss_mb_per_camera": round((pss_during[0] - pss_before) / cameras, 1),
    }


def ffmpeg_processes(
    url: str, cameras: int, seconds: float, fps: float, size: tuple[int, int]
) -> dict[str, object]:
    """N ``ffmpeg`` processes decoding everything, converting ``fps`` frames/s to BGR."""
    frame_bytes = size[0] * size[1] * 3
    command = [
        "ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin",
        "-rtsp_transport", "tcp", "-fflags", "nobuffer", "-flags", "low_delay",
        "-probesize", "100000", "-analyzeduration", "200000", "-i", url,
        "-an", "-vf", f"fps={fps:g}", "-f", "rawvideo", "-pix_fmt", "bgr24", "pipe:1",
    ]  # fmt: skip
    started = time.monotonic()
    processes = [
        subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        for _ in range(cameras)
    ]
    first = [0.0] * cameras
    counts = [0] * cameras

    def read(index: int) -> None:
        stream = processes[index].stdout
        assert stream is not None
        while len(stream.read(frame_bytes)) == frame_bytes:
            if not first[index]:
                first[index] = time.monotonic() - started
            counts[index] += 1

    readers = [threading.Thread(target=read, args=(i,), daemon=True) for i in range(cameras)]
    for reader in readers:
        reader.start()
    time.sleep(seconds * 0.8)
    pss = sum(proc_pss_mb(p.pid) for p in processes)
    time.sleep(seconds * 0.2)
    cpu = sum(proc_cpu_seconds(p.pid) for p in processes)
    elapsed = time.monotonic() - started
    for process in processes:
        process.terminate()
    for process in processes:
        process.wait()
    return {
        "first_frame_s": spread([round(t, 2) for t in first]),
        "converted": spread([float(c) for c in counts]),
        "cores": round(cpu / elapsed, 3),
        "pss_mb_per_camera": round(pss / cameras, 1),
    }


async def measure(args: argparse.Namespace) -> dict[str, object]:
    """Encode (cached), serve, and run both readers one after the other."""
    size = (1920, 1080) if args.main else (640, 480)
    spec = StreamSpec(args.codec, size[0], size[1], fps=15.0, seconds=30.0)
    media = await asyncio.to_thread(encode, SampleStore().path("vtest.avi"), spec)
    async with RtspServerProcess([RtspMount("/cam", media, args.codec)]) as server:
        url = server.url("/cam")
        every = max(1, round(15.0 / args.detect_fps))
        server_cpu = proc_cpu_seconds(server.pid or 0)
        pyav = await asyncio.to_thread(pyav_threads, url, args.cameras, args.seconds, every)
        await asyncio.sleep(2.0)
        ffmpeg = await asyncio.to_thread(
            ffmpeg_processes, url, args.cameras, args.seconds, args.detect_fps, size
        )
        server_cores = (proc_cpu_seconds(server.pid or 0) - server_cpu) / (2 * args.seconds)
    return {
        "cameras": args.cameras,
        "seconds": args.seconds,
        "stream": f"{size[0]}x{size[1]} {args.codec} 15 fps",
        "detect_fps": args.detect_fps,
        "pyav_threads": pyav,
        "ffmpeg_processes": ffmpeg,
        "rtsp_server_cores": round(server_cores, 3),
        "machine_cores": os.cpu_count(),
    }


def main() -> int:
    """Parse arguments, measure, print JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cameras", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--detect-fps", type=float, default=5.0)
    parser.add_argument("--codec", choices=["h264", "h265"], default="h264")
    parser.add_argument("--main", action="store_true", help="1920x1080 instead of 640x480")
    args = parser.parse_args()
    print(json.dumps(asyncio.run(measure(args)), indent=2))
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
