"""Announce the engine on the local network with zeroconf (``_school-guard._tcp.local.``).

Home Assistant's zeroconf discovery finds it and offers the integration. The TXT record
carries the engine id (the config entry's unique id), the version and the API path; never
the token. The service is withdrawn on shutdown so Home Assistant does not keep offering a
dead engine.
"""

from __future__ import annotations

import socket

from zeroconf import IPVersion
from zeroconf.asyncio import AsyncServiceInfo, AsyncZeroconf

from detectors import __version__

SERVICE_TYPE = "_school-guard._tcp.local."
API_PATH = "/api/v1"


def service_info(engine_id: str, name: str, address: str, port: int) -> AsyncServiceInfo:
    """The zeroconf record of one engine listening on ``address:port``."""
    return AsyncServiceInfo(
        SERVICE_TYPE,
        f"school-guard-{engine_id}.{SERVICE_TYPE}",
        addresses=[socket.inet_aton(address)],
        port=port,
        properties={"engine_id": engine_id, "name": name, "version": __version__, "api": API_PATH},
        server=f"school-guard-{engine_id}.local.",
    )


class Advertiser:
    """Register on start, unregister on stop."""

    def __init__(
        self,
        engine_id: str,
        name: str,
        address: str,
        port: int,
        interfaces: list[str] | None = None,
    ) -> None:
        """Prepare the record; ``interfaces`` limits where it is announced."""
        self.info = service_info(engine_id, name, address, port)
        self._interfaces = interfaces
        self._zeroconf: AsyncZeroconf | None = None

    async def start(self) -> None:
        """Announce the engine."""
        if self._interfaces is not None:
            self._zeroconf = AsyncZeroconf(interfaces=self._interfaces, ip_version=IPVersion.V4Only)
        else:
            self._zeroconf = AsyncZeroconf(ip_version=IPVersion.V4Only)
        await self._zeroconf.async_register_service(self.info)

    async def stop(self) -> None:
        """Withdraw the announcement and close the sockets."""
        if self._zeroconf is None:
            return
        await self._zeroconf.async_unregister_service(self.info)
        await self._zeroconf.async_close()
        self._zeroconf = None
