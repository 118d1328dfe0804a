"""A publisher in its own process, so a test can SIGKILL it and watch the last will.

Usage: ``python -m tests.detectors.mqtt.mqtt_will_child <port> <engine_id>``; prints
``ready`` once connected and its mode is acknowledged, then waits to be killed.
"""

from __future__ import annotations

import asyncio
import sys
import time

from detectors.config import MqttSection
from detectors.mqtt import MqttPublisher

CONNECT_TIMEOUT_S = 15.0


async def main(port: int, engine_id: str) -> int:
    publisher = MqttPublisher(MqttSection(host="127.0.0.1", port=port), engine_id)
    publisher.publish_mode("normal", False, 1_760_000_000.0)
    await publisher.start()
    deadline = time.monotonic() + CONNECT_TIMEOUT_S
    while publisher.stats()["published"] < 2:
        if time.monotonic() > deadline:
            print("not connected", flush=True)
            return 1
        await asyncio.sleep(0.02)
    print("ready", flush=True)
    await asyncio.Event().wait()
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(int(sys.argv[1]), sys.argv[2])))
