"""Run inside a private mount and network namespace with a test /etc/hosts.

Checks two names against the default camera networks with the real resolver and prints
one line per name: ``<name> allowed`` or ``<name> refused: <message>``.
"""

import asyncio

from detectors.camera_networks import CameraNetworks
from detectors.errors import HostNotAllowedError


async def main() -> None:
    networks = CameraNetworks()
    for name in ("good.camera.test", "mixed.camera.test"):
        try:
            await networks.check_host(name, 80)
        except HostNotAllowedError as error:
            print(f"{name} refused: {error}")
        else:
            print(f"{name} allowed")


asyncio.run(main())
