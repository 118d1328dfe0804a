"""SOAP 1.2 plumbing shared by the camera simulator and WS-Discovery.

Both parse XML that arrives from the network, so parsing goes through :func:`parse_xml`,
which refuses documents with a DTD (the door to entity-expansion attacks; no SOAP
message needs one) and oversized input before the standard library parser sees them.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

ENV = "http://www.w3.org/2003/05/soap-envelope"
TDS = "http://www.onvif.org/ver10/device/wsdl"
TRT = "http://www.onvif.org/ver10/media/wsdl"
TEV = "http://www.onvif.org/ver10/events/wsdl"
TT = "http://www.onvif.org/ver10/schema"
TER = "http://www.onvif.org/ver10/error"
TNS1 = "http://www.onvif.org/ver10/topics"
WSNT = "http://docs.oasis-open.org/wsn/b-2"
WSA5 = "http://www.w3.org/2005/08/addressing"
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"

NAMESPACE_DECLARATIONS = " ".join(
    f'xmlns:{prefix}="{uri}"'
    for prefix, uri in (
        ("env", ENV),
        ("tds", TDS),
        ("trt", TRT),
        ("tev", TEV),
        ("tt", TT),
        ("ter", TER),
        ("tns1", TNS1),
        ("wsnt", WSNT),
        ("wsa5", WSA5),
    )
)
"""Every prefix the simulator's answers use, declared once on the envelope."""

MAX_SOAP_BYTES = 1024 * 1024


class XmlRejectedError(ValueError):
    """A document is not well-formed, too large, or carries a DTD."""


def parse_xml(data: bytes, *, max_bytes: int = MAX_SOAP_BYTES) -> ET.Element:
    """Parse ``data`` from the network, refusing DTDs and oversized documents."""
    if len(data) > max_bytes:
        raise XmlRejectedError(f"document larger than {max_bytes} bytes")
    if b"<!DOCTYPE" in data.upper() or b"<!ENTITY" in data.upper():
        raise XmlRejectedError("documents with a DTD are refused")
    try:
        return ET.fromstring(data)  # noqa: S314 - DTDs were refused above
    except ET.ParseError as error:
        raise XmlRejectedError(f"not well-formed XML: {error}") from None


def qname(namespace: str, local: str) -> str:
    """Return ElementTree's ``{namespace}local`` spelling."""
    return f"{{{namespace}}}{local}"


def split_qname(tag: str) -> tuple[str, str]:
    """Split ``{namespace}local`` into its parts (empty namespace when absent)."""
    if tag.startswith("{"):
        namespace, _, local = tag[1:].partition("}")
        return namespace, local
    return "", tag


def local_name(tag: str) -> str:
    """Return the local part of an ElementTree tag."""
    return split_qname(tag)[1]


def find_local(element: ET.Element, *path: str) -> ET.Element | None:
    """Follow child local names, ignoring namespaces (cameras and clients vary)."""
    current: ET.Element | None = element
    for name in path:
        if current is None:
            return None
        current = next((c for c in current if local_name(c.tag) == name), None)
    return current


def text_of(element: ET.Element | None) -> str | None:
    """Return an element's stripped text, None when the element is missing."""
    if element is None:
        return None
    return (element.text or "").strip()


def text(value: object) -> str:
    """Escape ``value`` for use as element content."""
    return escape(str(value))


def attr(value: object) -> str:
    """Escape and quote ``value`` for use as an attribute value."""
    return quoteattr(str(value))


@dataclass(frozen=True, slots=True)
class SoapRequest:
    """The parts of an incoming SOAP request the simulator dispatches on."""

    header: ET.Element | None
    operation: str
    operation_namespace: str
    body: ET.Element

    @classmethod
    def parse(cls, data: bytes) -> SoapRequest:
        """Parse an envelope; raise :class:`XmlRejectedError` when it is not one."""
        root = parse_xml(data)
        if local_name(root.tag) != "Envelope":
            raise XmlRejectedError("not a SOAP envelope")
        body = find_local(root, "Body")
        if body is None or len(body) == 0:
            raise XmlRejectedError("SOAP envelope without a body element")
        namespace, operation = split_qname(body[0].tag)
        return cls(find_local(root, "Header"), operation, namespace, body[0])


def envelope(body: str, header: str = "") -> str:
    """Wrap ``body`` (and an optional header) in a SOAP 1.2 envelope."""
    header_xml = f"<env:Header>{header}</env:Header>" if header else ""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f"<env:Envelope {NAMESPACE_DECLARATIONS}>{header_xml}<env:Body>{body}</env:Body>"
        "</env:Envelope>"
    )


class SoapFault(Exception):
    """A SOAP fault to answer with; ``status`` is the HTTP status that carries it.

    ``subcodes`` are ONVIF ``ter:`` names (outermost first), e.g. ``("NotAuthorized",)``
    or ``("InvalidArgVal", "NoProfile")``.
    """

    def __init__(
        self, reason: str, *subcodes: str, sender: bool = True, status: int | None = None
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.subcodes = subcodes
        self.sender = sender
        self.status = status if status is not None else (400 if sender else 500)

    def to_xml(self) -> str:
        """Return the whole SOAP 1.2 fault envelope."""
        nested = ""
        for subcode in reversed(self.subcodes):
            nested = (
                f"<env:Subcode><env:Value>ter:{text(subcode)}</env:Value>{nested}</env:Subcode>"
            )
        code = "env:Sender" if self.sender else "env:Receiver"
        return envelope(
            "<env:Fault>"
            f"<env:Code><env:Value>{code}</env:Value>{nested}</env:Code>"
            f'<env:Reason><env:Text xml:lang="en">{text(self.reason)}</env:Text></env:Reason>'
            "</env:Fault>"
        )
