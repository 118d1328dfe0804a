"""Run inside a private network namespace: advertise, find, withdraw, no longer find.

Prints one JSON line with what it saw; the test that starts it asserts on that line.
"""

import asyncio
import json

from zeroconf import IPVersion
from zeroconf.asyncio import AsyncServiceInfo, AsyncZeroconf

from detectors.engine.advertise import SERVICE_TYPE, Advertiser


async def _lookup(name: str, timeout_ms: int) -> dict[str, str] | None:
    zeroconf = AsyncZeroconf(interfaces=["127.0.0.1"], ip_version=IPVersion.V4Only)
    try:
        info = AsyncServiceInfo(SERVICE_TYPE, name)
        if not await info.async_request(zeroconf.zeroconf, timeout_ms):
            return None
        props = {k.decode(): (v or b"").decode() for k, v in info.properties.items()}
        return props | {"port": str(info.port)}
    finally:
        await zeroconf.async_close()


async def main() -> None:
    advertiser = Advertiser(
        "abc123def456", "Lincoln High", "127.0.0.1", 8765, interfaces=["127.0.0.1"]
    )
    await advertiser.start()
    found = await _lookup(advertiser.info.name, 3000)
    await advertiser.stop()
    gone = await _lookup(advertiser.info.name, 1500)
    print(json.dumps({"found": found, "after_stop": gone}))


asyncio.run(main())
