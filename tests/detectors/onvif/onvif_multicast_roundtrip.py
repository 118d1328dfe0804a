"""Run inside a private network namespace: two simulated cameras answer a multicast probe.

Prints one JSON line with what discovery found; the test that starts it asserts on it.
"""

import asyncio
import faulthandler
import json
import sys
from pathlib import Path

from detectors.onvif.discovery import discover
from detectors.sim.camera import CameraSim


async def main(video: Path) -> None:
    first = CameraSim(
        video,
        name="Gym door",
        location="Building B",
        discovery_port=3702,
        multicast=True,
        stream="mjpeg",
    )
    second = CameraSim(
        video,
        name="Library",
        location="Building C",
        discovery_port=3702,
        multicast=True,
        stream="mjpeg",
    )
    async with first, second:
        found = await discover(
            [("127.0.0.1", 3702)], multicast=True, interface="127.0.0.1", timeout=1.5
        )
        unicast_only = await discover(multicast=False, timeout=0.5)
        print(
            json.dumps(
                {
                    "found": sorted(
                        [c.name, c.location, c.xaddrs[0] == cam.device_url]
                        for c in found
                        for cam in (first, second)
                        if cam.endpoint == c.endpoint
                    ),
                    "count": len(found),
                    "without_targets": len(unicast_only),
                }
            )
        )


# A hang shows where it hangs (on stderr) instead of only timing the test out.
faulthandler.dump_traceback_later(40, exit=True)
asyncio.run(main(Path(sys.argv[1])))
