"""Which networks cameras may live on: the one check made before the engine connects to one.

ONVIF makes the engine connect wherever it is told: a probe target, a discovery target, a
camera's URL, and every address a camera hands back (service addresses, stream and
snapshot URIs). Anyone with the API token, or any device that answers as a camera, could
otherwise make the engine reach a cloud metadata service (169.254.169.254), a multicast
group or any host on the Internet. So every such host is resolved and *every* address it
resolves to must lie inside ``security.camera_networks`` before a connection is made.

The default is loopback plus the private ranges, where a school's cameras live.
Link-local and multicast addresses are refused even inside a wider network such as
``0.0.0.0/0``: they are allowed only when a listed network lies within them
(``169.254.10.0/24`` names link-local on purpose; ``0.0.0.0/0`` does not). An IPv4 address
written as IPv6 (``::ffff:169.254.169.254``) is judged as the IPv4 address it is.

What this cannot see: a name resolved again by the connecting library may answer
differently (DNS rebinding). Literal addresses, or a resolver the school controls, close
that gap (docs/security.md).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final
from urllib.parse import urlsplit

from detectors.errors import HostLookupError, HostNotAllowedError

type Network = ipaddress.IPv4Network | ipaddress.IPv6Network
type Address = ipaddress.IPv4Address | ipaddress.IPv6Address

SETTING: Final = "security.camera_networks"
"""Where the list lives in the configuration file (named in every refusal)."""

DEFAULT_CAMERA_NETWORKS: Final[tuple[str, ...]] = (
    "127.0.0.0/8",
    "::1/128",
    "10.0.0.0/8",
    "172.16.0.0/12",
    "192.168.0.0/16",
    "fc00::/7",
)
"""Loopback and the private ranges (RFC 1918, IPv6 unique local addresses)."""

_GUARDED: Final[tuple[Network, ...]] = tuple(
    ipaddress.ip_network(text)
    for text in ("169.254.0.0/16", "fe80::/10", "224.0.0.0/4", "ff00::/8", "255.255.255.255/32")
)
"""Link-local, multicast and broadcast: allowed only by a network listed inside them."""

_DEFAULT_PORTS: Final = {"rtsp": 554, "rtsps": 322, "http": 80, "https": 443}


def parse_network(text: str) -> Network:
    """One CIDR (``10.1.0.0/16``, ``fd00::/8``; a bare address is a /32 or /128).

    Raises ``ValueError`` with the reason (host bits set, not an address...).
    """
    return ipaddress.ip_network(text.strip(), strict=True)


def _plain(address: Address) -> Address:
    """An IPv4-mapped IPv6 address as the IPv4 address it is; IPv6 scope ids dropped."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return address.ipv4_mapped
        if address.scope_id is not None:
            return ipaddress.IPv6Address(str(address).partition("%")[0])
    return address


@dataclass(frozen=True, slots=True)
class CameraNetworks:
    """The networks the engine may connect to for cameras (``security.camera_networks``)."""

    networks: tuple[Network, ...] = tuple(parse_network(n) for n in DEFAULT_CAMERA_NETWORKS)

    @classmethod
    def of(cls, texts: Iterable[str]) -> CameraNetworks:
        """The networks named by ``texts`` (CIDRs, already validated)."""
        return cls(tuple(parse_network(text) for text in texts))

    def texts(self) -> list[str]:
        """The networks as the configuration file writes them."""
        return [str(network) for network in self.networks]

    def allows(self, address: Address) -> bool:
        """Whether a connection to ``address`` is allowed."""
        address = _plain(address)
        inside = [n for n in self.networks if n.version == address.version and address in n]
        if not inside:
            return False
        guard = next((g for g in _GUARDED if g.version == address.version and address in g), None)
        if guard is None:
            return True
        return any(n.subnet_of(guard) for n in inside)  # type: ignore[arg-type]

    async def check_host(self, host: str, port: int | None = None, *, what: str = "camera") -> None:
        """Resolve ``host`` and refuse it unless every address it has is allowed.

        Raises :class:`HostNotAllowedError` (naming the setting to widen) or
        :class:`HostLookupError` when the name does not resolve (nothing to connect to,
        and a name that resolves later must still be checked then).
        """
        for address in await resolve(host, port):
            if not self.allows(address):
                shown = host if str(address) == host.strip("[]") else f"{host} ({address})"
                raise HostNotAllowedError(
                    f"{what} {shown} is outside the networks cameras may be on"
                    f" ({', '.join(self.texts()) or 'none'}); if it really is a camera,"
                    f" add its network to {SETTING} in the engine's configuration file"
                )

    async def check_url(self, url: str, *, what: str = "camera URL") -> None:
        """:meth:`check_host` for the host of ``url`` (a URL without a host is refused)."""
        parts = urlsplit(url)
        try:
            host, port = parts.hostname, parts.port
        except ValueError:
            host, port = None, None
        if not host:
            raise HostNotAllowedError(f"{what} names no host the engine could check")
        await self.check_host(host, port or _DEFAULT_PORTS.get(parts.scheme.lower()), what=what)


async def resolve(host: str, port: int | None = None) -> list[Address]:
    """Every address ``host`` resolves to (a literal address is itself)."""
    literal = host.strip("[]")
    try:
        return [ipaddress.ip_address(literal)]
    except ValueError:
        pass
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(literal, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as error:
        raise HostLookupError(f"cannot resolve the host name {host!r}: {error}") from None
    addresses = [ipaddress.ip_address(str(info[4][0])) for info in infos]
    if not addresses:
        raise HostLookupError(f"the host name {host!r} has no address")
    return addresses
