"""schemathesis hooks for the API fuzz: the ONVIF operations pinned to hostile peers.

Loaded by schemathesis through ``SCHEMATHESIS_HOOKS`` inside the fuzz's private network
namespace. Just before each request (every phase: examples, coverage, fuzzing, stateful)
a probe body's host becomes 127.0.0.1 and its port one of the hostile HTTP/TLS peers of
``tests/detectors/onvif/hostile_peers.py``; a discovery body's targets become the hostile
WS-Discovery responder (``hostile_datagrams.py``). Everything else the fuzzer generated
stays, so credentials, timeouts' types and the multicast flag are still fuzzed; timeouts
are only shortened so that stalling peers do not make the run long. The peers' ports come
in ``SG_FUZZ_PEERS`` (JSON ``{"tcp": [...], "udp": [...]}``); each ONVIF answer's status
and error code is appended to the file ``SG_FUZZ_RECORD`` so the test can see the peers
were really reached.
"""

from __future__ import annotations

import json
import os
import zlib
from typing import Any

import schemathesis

PEERS: dict[str, list[int]] = json.loads(os.environ["SG_FUZZ_PEERS"])
RECORD = os.environ["SG_FUZZ_RECORD"]


def _pick(ports: list[int], body: dict[str, Any]) -> int:
    """One of ``ports``, the same for the same body (so a failure replays)."""
    return ports[zlib.crc32(repr(sorted(body.items(), key=str)).encode()) % len(ports)]


@schemathesis.hook
def before_call(context: Any, case: Any, kwargs: dict[str, Any]) -> None:
    """Pin ONVIF targets to the loopback peers before the request leaves."""
    body = case.body
    path = str(case.operation.path)
    if not isinstance(body, dict):
        return
    if path.endswith("/onvif/probe"):
        body["host"] = "127.0.0.1"
        body["port"] = _pick(PEERS["tcp"], body)
        body["timeout"] = 2.0
    elif path.endswith("/onvif/discover"):
        body["targets"] = [f"127.0.0.1:{_pick(PEERS['udp'], body)}"]
        body["timeout"] = 0.5


@schemathesis.hook
def after_call(context: Any, case: Any, response: Any) -> None:
    """Record ``<operation> <status> <error code>`` for each ONVIF answer."""
    path = str(case.operation.path)
    if "/onvif/" not in path:
        return
    try:
        code = json.loads(response.content)["error"]["code"]
    except (ValueError, KeyError, TypeError):
        code = "-"
    with open(RECORD, "a", encoding="utf-8") as record:
        record.write(f"{path.rpartition('/')[2]} {response.status_code} {code}\n")
