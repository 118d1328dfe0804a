"""The SOAP bodies the simulated camera answers with (ONVIF 1.2 style, SOAP 1.2).

Only what clients read is filled in, in schema order, so zeep (and onvif-zeep-async on
top of it) parses the answers like those of a real camera. Prefixes are the ones
declared by :func:`detectors.onvif.soap.envelope`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from detectors.onvif.soap import TDS, TEV, TRT, attr, text
from detectors.sim.pullpoint import MotionMessage


@dataclass(frozen=True, slots=True)
class SimProfile:
    """One media profile of the simulator."""

    token: str
    name: str
    encoding: str
    width: int
    height: int
    fps: float


def _xs_datetime(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def _bool(value: bool) -> str:
    return "true" if value else "false"


def system_date_and_time(camera_now: datetime) -> str:
    """``GetSystemDateAndTimeResponse`` reporting ``camera_now`` (UTC, NTP off)."""
    return (
        "<tds:GetSystemDateAndTimeResponse><tds:SystemDateAndTime>"
        "<tt:DateTimeType>Manual</tt:DateTimeType>"
        "<tt:DaylightSavings>false</tt:DaylightSavings>"
        "<tt:TimeZone><tt:TZ>UTC0</tt:TZ></tt:TimeZone>"
        "<tt:UTCDateTime>"
        f"<tt:Time><tt:Hour>{camera_now.hour}</tt:Hour><tt:Minute>{camera_now.minute}"
        f"</tt:Minute><tt:Second>{camera_now.second}</tt:Second></tt:Time>"
        f"<tt:Date><tt:Year>{camera_now.year}</tt:Year><tt:Month>{camera_now.month}"
        f"</tt:Month><tt:Day>{camera_now.day}</tt:Day></tt:Date>"
        "</tt:UTCDateTime>"
        "</tds:SystemDateAndTime></tds:GetSystemDateAndTimeResponse>"
    )


def device_information(manufacturer: str, model: str, firmware: str, serial: str) -> str:
    """``GetDeviceInformationResponse``."""
    return (
        "<tds:GetDeviceInformationResponse>"
        f"<tds:Manufacturer>{text(manufacturer)}</tds:Manufacturer>"
        f"<tds:Model>{text(model)}</tds:Model>"
        f"<tds:FirmwareVersion>{text(firmware)}</tds:FirmwareVersion>"
        f"<tds:SerialNumber>{text(serial)}</tds:SerialNumber>"
        f"<tds:HardwareId>{text(model)}</tds:HardwareId>"
        "</tds:GetDeviceInformationResponse>"
    )


def capabilities(device_url: str, media_url: str, events_url: str) -> str:
    """``GetCapabilitiesResponse``: device, events (PullPoint only) and media."""
    return (
        "<tds:GetCapabilitiesResponse><tds:Capabilities>"
        f"<tt:Device><tt:XAddr>{text(device_url)}</tt:XAddr></tt:Device>"
        f"<tt:Events><tt:XAddr>{text(events_url)}</tt:XAddr>"
        "<tt:WSSubscriptionPolicySupport>false</tt:WSSubscriptionPolicySupport>"
        "<tt:WSPullPointSupport>true</tt:WSPullPointSupport>"
        "<tt:WSPausableSubscriptionManagerInterfaceSupport>false"
        "</tt:WSPausableSubscriptionManagerInterfaceSupport></tt:Events>"
        f"<tt:Media><tt:XAddr>{text(media_url)}</tt:XAddr>"
        "<tt:StreamingCapabilities><tt:RTPMulticast>false</tt:RTPMulticast>"
        "<tt:RTP_TCP>false</tt:RTP_TCP><tt:RTP_RTSP_TCP>true</tt:RTP_RTSP_TCP>"
        "</tt:StreamingCapabilities></tt:Media>"
        "</tds:Capabilities></tds:GetCapabilitiesResponse>"
    )


def services(device_url: str, media_url: str, events_url: str) -> str:
    """``GetServicesResponse`` listing the three services the simulator offers."""
    entries = "".join(
        "<tds:Service>"
        f"<tds:Namespace>{namespace}</tds:Namespace><tds:XAddr>{text(url)}</tds:XAddr>"
        f"<tds:Version><tt:Major>{major}</tt:Major><tt:Minor>{minor}</tt:Minor></tds:Version>"
        "</tds:Service>"
        for namespace, url, major, minor in (
            (TDS, device_url, 2, 60),
            (TRT, media_url, 2, 60),
            (TEV, events_url, 2, 60),
        )
    )
    return f"<tds:GetServicesResponse>{entries}</tds:GetServicesResponse>"


def _profile(profile: SimProfile, source_size: tuple[int, int]) -> str:
    h264 = (
        "<tt:H264><tt:GovLength>20</tt:GovLength><tt:H264Profile>Main</tt:H264Profile></tt:H264>"
        if profile.encoding == "H264"
        else ""
    )
    return (
        f'<trt:Profiles token={attr(profile.token)} fixed="true">'
        f"<tt:Name>{text(profile.name)}</tt:Name>"
        '<tt:VideoSourceConfiguration token="VideoSourceConfig_1">'
        "<tt:Name>VideoSourceConfig_1</tt:Name><tt:UseCount>2</tt:UseCount>"
        "<tt:SourceToken>VideoSource_1</tt:SourceToken>"
        f'<tt:Bounds x="0" y="0" width="{source_size[0]}" height="{source_size[1]}"/>'
        "</tt:VideoSourceConfiguration>"
        f'<tt:VideoEncoderConfiguration token="VideoEncoder_{text(profile.token)}">'
        f"<tt:Name>{text(profile.name)}</tt:Name><tt:UseCount>1</tt:UseCount>"
        f"<tt:Encoding>{profile.encoding}</tt:Encoding>"
        f"<tt:Resolution><tt:Width>{profile.width}</tt:Width>"
        f"<tt:Height>{profile.height}</tt:Height></tt:Resolution>"
        "<tt:Quality>5</tt:Quality>"
        f"<tt:RateControl><tt:FrameRateLimit>{round(profile.fps)}</tt:FrameRateLimit>"
        "<tt:EncodingInterval>1</tt:EncodingInterval>"
        "<tt:BitrateLimit>4096</tt:BitrateLimit></tt:RateControl>"
        f"{h264}"
        "<tt:Multicast><tt:Address><tt:Type>IPv4</tt:Type>"
        "<tt:IPv4Address>0.0.0.0</tt:IPv4Address></tt:Address>"
        "<tt:Port>0</tt:Port><tt:TTL>1</tt:TTL><tt:AutoStart>false</tt:AutoStart>"
        "</tt:Multicast><tt:SessionTimeout>PT60S</tt:SessionTimeout>"
        "</tt:VideoEncoderConfiguration>"
        "</trt:Profiles>"
    )


def profiles(items: Sequence[SimProfile], source_size: tuple[int, int]) -> str:
    """``GetProfilesResponse``."""
    body = "".join(_profile(p, source_size) for p in items)
    return f"<trt:GetProfilesResponse>{body}</trt:GetProfilesResponse>"


def media_uri(operation: str, uri: str) -> str:
    """``GetStreamUriResponse`` or ``GetSnapshotUriResponse`` carrying ``uri``."""
    return (
        f"<trt:{operation}Response><trt:MediaUri>"
        f"<tt:Uri>{text(uri)}</tt:Uri>"
        "<tt:InvalidAfterConnect>false</tt:InvalidAfterConnect>"
        "<tt:InvalidAfterReboot>false</tt:InvalidAfterReboot>"
        "<tt:Timeout>PT0S</tt:Timeout>"
        f"</trt:MediaUri></trt:{operation}Response>"
    )


def pullpoint_created(address: str, now: datetime, terminates_at: datetime) -> str:
    """``CreatePullPointSubscriptionResponse``."""
    return (
        "<tev:CreatePullPointSubscriptionResponse>"
        f"<tev:SubscriptionReference><wsa5:Address>{text(address)}</wsa5:Address>"
        "</tev:SubscriptionReference>"
        f"<wsnt:CurrentTime>{_xs_datetime(now)}</wsnt:CurrentTime>"
        f"<wsnt:TerminationTime>{_xs_datetime(terminates_at)}</wsnt:TerminationTime>"
        "</tev:CreatePullPointSubscriptionResponse>"
    )


def _notification(message: MotionMessage) -> str:
    return (
        "<wsnt:NotificationMessage>"
        '<wsnt:Topic Dialect="http://www.onvif.org/ver10/tev/topicExpression/ConcreteSet">'
        "tns1:VideoSource/MotionAlarm</wsnt:Topic>"
        "<wsnt:Message>"
        f'<tt:Message UtcTime="{_xs_datetime(message.utc_time)}" '
        f'PropertyOperation="{message.operation}">'
        '<tt:Source><tt:SimpleItem Name="Source" Value="VideoSource_1"/></tt:Source>'
        f'<tt:Data><tt:SimpleItem Name="State" Value="{_bool(message.state)}"/></tt:Data>'
        "</tt:Message></wsnt:Message></wsnt:NotificationMessage>"
    )


def pull_messages(now: datetime, terminates_at: datetime, messages: Sequence[MotionMessage]) -> str:
    """``PullMessagesResponse``."""
    return (
        "<tev:PullMessagesResponse>"
        f"<tev:CurrentTime>{_xs_datetime(now)}</tev:CurrentTime>"
        f"<tev:TerminationTime>{_xs_datetime(terminates_at)}</tev:TerminationTime>"
        f"{''.join(_notification(m) for m in messages)}"
        "</tev:PullMessagesResponse>"
    )


def renewed(now: datetime, terminates_at: datetime) -> str:
    """``RenewResponse``."""
    return (
        "<wsnt:RenewResponse>"
        f"<wsnt:TerminationTime>{_xs_datetime(terminates_at)}</wsnt:TerminationTime>"
        f"<wsnt:CurrentTime>{_xs_datetime(now)}</wsnt:CurrentTime>"
        "</wsnt:RenewResponse>"
    )


def unsubscribed() -> str:
    """``UnsubscribeResponse``."""
    return "<wsnt:UnsubscribeResponse/>"


def empty_response(operation: str, prefix: str) -> str:
    """An empty ``<operation>Response`` (e.g. ``SetSynchronizationPoint``)."""
    return f"<{prefix}:{operation}Response/>"
