"""The simulated camera's ONVIF SOAP services: device, media, events and PullPoint.

Split from :class:`~detectors.sim.camera.CameraSim`, which owns the state (credentials,
faults, clock, footage, subscriptions) and the HTTP server; this class only answers the
operations, with the same checks a camera makes (WS-UsernameToken against the camera's
clock, profile tokens, live subscriptions).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from aiohttp import web

from detectors.onvif.soap import (
    SoapFault,
    SoapRequest,
    XmlRejectedError,
    envelope,
    find_local,
    text_of,
)
from detectors.onvif.wsse import UsernameToken, token_is_valid
from detectors.sim import soap_templates as templates
from detectors.sim.pullpoint import (
    MotionMessage,
    PullPointSubscription,
    parse_duration,
    termination_after,
)

if TYPE_CHECKING:
    from detectors.sim.camera import CameraSim

type SoapHandler = Callable[[SoapRequest, web.Request], Awaitable[str]]


class SimSoapService:
    """Answers the SOAP operations of one :class:`CameraSim`."""

    def __init__(self, camera: CameraSim) -> None:
        """Bind every supported (service, operation) to its answer."""
        self.camera = camera
        self._handlers: dict[tuple[str, str], SoapHandler] = {
            ("device", "GetDeviceInformation"): self._device_information,
            ("device", "GetCapabilities"): self._capabilities,
            ("device", "GetServices"): self._services,
            ("media", "GetProfiles"): self._profiles,
            ("media", "GetStreamUri"): self._stream_uri,
            ("media", "GetSnapshotUri"): self._snapshot_uri,
            ("events", "CreatePullPointSubscription"): self._create_pullpoint,
            ("pullpoint", "PullMessages"): self._pull_messages,
            ("pullpoint", "Renew"): self._renew,
            ("pullpoint", "Unsubscribe"): self._unsubscribe,
            ("pullpoint", "SetSynchronizationPoint"): self._synchronization_point,
        }

    def route(self, service: str) -> Callable[[web.Request], Awaitable[web.Response]]:
        """The aiohttp handler of one service's endpoint."""

        async def handle(request: web.Request) -> web.Response:
            with self.camera.answering():
                return await self._answer_soap(service, request)

        return handle

    async def _answer_soap(self, service: str, request: web.Request) -> web.Response:
        if self.camera.faults.slow_seconds > 0:
            await asyncio.sleep(self.camera.faults.slow_seconds)
        try:
            soap = SoapRequest.parse(await request.read())
            body = await self._dispatch(service, soap, request)
        except XmlRejectedError as error:
            return self._fault_response(SoapFault(str(error), "WellFormed"))
        except SoapFault as fault:
            return self._fault_response(fault)
        return web.Response(text=envelope(body), content_type="application/soap+xml")

    @staticmethod
    def _fault_response(fault: SoapFault) -> web.Response:
        return web.Response(
            status=fault.status, text=fault.to_xml(), content_type="application/soap+xml"
        )

    async def _dispatch(self, service: str, soap: SoapRequest, request: web.Request) -> str:
        if service == "device" and soap.operation == "GetSystemDateAndTime":
            return templates.system_date_and_time(self.camera.camera_now())
        handler = self._handlers.get((service, soap.operation))
        if handler is None:
            raise SoapFault(
                f"{soap.operation} is not supported here",
                "ActionNotSupported",
                sender=False,
            )
        if self.camera.faults.wrong_credentials or not token_is_valid(
            UsernameToken.from_header(soap.header),
            self.camera.username,
            self.camera.password,
            camera_now=self.camera.camera_now(),
        ):
            raise SoapFault("Sender not Authorized", "NotAuthorized")
        return await handler(soap, request)

    async def _device_information(self, _: SoapRequest, __: web.Request) -> str:
        return templates.device_information(
            "School Guard simulator",
            self.camera.hardware,
            "1.0.0",
            self.camera.endpoint.rpartition(":")[2][:12],
        )

    async def _capabilities(self, _: SoapRequest, __: web.Request) -> str:
        return templates.capabilities(
            self.camera.device_url,
            self.camera.media_service_url,
            f"{self.camera.base_url}/onvif/events_service",
        )

    async def _services(self, _: SoapRequest, __: web.Request) -> str:
        return templates.services(
            self.camera.device_url,
            self.camera.media_service_url,
            f"{self.camera.base_url}/onvif/events_service",
        )

    async def _profiles(self, _: SoapRequest, __: web.Request) -> str:
        items = [] if self.camera.faults.no_profiles else self.camera.profiles()
        return templates.profiles(items, self.camera.video.size)

    def _profile_token(self, soap: SoapRequest) -> str:
        token = text_of(find_local(soap.body, "ProfileToken")) or ""
        known = {p.token for p in self.camera.profiles()}
        if self.camera.faults.no_profiles or token not in known:
            raise SoapFault(f"no profile {token!r}", "InvalidArgVal", "NoProfile")
        return token

    async def _stream_uri(self, soap: SoapRequest, _: web.Request) -> str:
        return templates.media_uri(
            "GetStreamUri", self.camera.stream_url(self._profile_token(soap))
        )

    async def _snapshot_uri(self, soap: SoapRequest, _: web.Request) -> str:
        token = self._profile_token(soap)
        return templates.media_uri("GetSnapshotUri", self.camera.snapshot_url(token))

    async def _create_pullpoint(self, soap: SoapRequest, _: web.Request) -> str:
        requested = text_of(find_local(soap.body, "InitialTerminationTime"))
        subscription = self.camera.pullpoints.create(requested, self.camera.video.moving)
        return templates.pullpoint_created(
            f"{self.camera.base_url}/onvif/pullpoint/{subscription.token}",
            self.camera.camera_now(),
            subscription.terminates_at,
        )

    def _live_subscription(self, request: web.Request) -> PullPointSubscription:
        token = request.match_info["token"]
        subscription = self.camera.pullpoints.get(token)
        if subscription is None:
            raise SoapFault(f"no subscription {token}", "InvalidArgVal", "ResourceUnknown")
        return subscription

    async def _pull_messages(self, soap: SoapRequest, request: web.Request) -> str:
        subscription = self._live_subscription(request)
        wait = parse_duration(text_of(find_local(soap.body, "Timeout")) or "PT1S")
        limit_text = text_of(find_local(soap.body, "MessageLimit")) or "10"
        limit = int(limit_text) if limit_text.isdigit() else 10
        messages = await self.camera.pullpoints.pull(
            subscription, wait.total_seconds() if wait is not None else 1.0, limit
        )
        # A reboot while the pull waited loses the subscription and what it held.
        subscription = self._live_subscription(request)
        return templates.pull_messages(
            self.camera.camera_now(), subscription.terminates_at, messages
        )

    async def _renew(self, soap: SoapRequest, request: web.Request) -> str:
        subscription = self._live_subscription(request)
        now = self.camera.camera_now()
        requested = text_of(find_local(soap.body, "TerminationTime"))
        subscription.terminates_at = termination_after(requested, now)
        return templates.renewed(now, subscription.terminates_at)

    async def _unsubscribe(self, _: SoapRequest, request: web.Request) -> str:
        token = request.match_info["token"]
        if not self.camera.pullpoints.remove(token):
            raise SoapFault(f"no subscription {token}", "InvalidArgVal", "ResourceUnknown")
        return templates.unsubscribed()

    async def _synchronization_point(self, _: SoapRequest, request: web.Request) -> str:
        subscription = self._live_subscription(request)
        subscription.push(
            MotionMessage(self.camera.camera_now(), self.camera.video.moving, "Initialized")
        )
        return templates.empty_response("SetSynchronizationPoint", "tev")
