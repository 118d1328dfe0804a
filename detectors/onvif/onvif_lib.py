"""onvif-zeep-async, imported and constructed without its side effects (NOTES.md).

Version 3.2.5 calls ``logging.basicConfig(INFO)`` when imported (every library logger
would then print to stderr), looks for its WSDL files in a folder that does not exist
unless told otherwise, and deletes ``http_proxy``/``https_proxy`` from the whole
process's environment whenever a camera object is made. This module is the only place
that touches the library, imports it lazily (the CLI starts fast) and undoes all three.
"""

from __future__ import annotations

import logging
import os
from typing import Any

_PROXY_VARIABLES = ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY")
_module: Any = None


def onvif_module() -> Any:
    """Import ``onvif`` once, removing the log handlers its import adds to the root."""
    global _module  # noqa: PLW0603 - a lazily imported module is process-wide by nature
    if _module is None:
        root = logging.getLogger()
        handlers, level = list(root.handlers), root.level
        import onvif  # type: ignore[import-untyped]

        for handler in root.handlers:
            if handler not in handlers:
                root.removeHandler(handler)
        root.setLevel(level)
        _module = onvif
    return _module


def wsdl_dir() -> str:
    """Return the WSDL folder shipped inside the ``onvif`` package."""
    return os.path.join(os.path.dirname(onvif_module().__file__), "wsdl")


def new_camera(host: str, port: int, username: str, password: str, *, adjust_time: bool) -> Any:
    """Return an ``ONVIFCamera``, leaving the proxy environment as it was.

    The library's HTTP clients still honour ``http_proxy`` with ``no_proxy`` like any
    other client; an installation with a proxy lists its cameras in ``no_proxy``.
    """
    module = onvif_module()
    saved = {name: os.environ[name] for name in _PROXY_VARIABLES if name in os.environ}
    try:
        return module.ONVIFCamera(
            host,
            port,
            username,
            password,
            wsdl_dir=wsdl_dir(),
            no_cache=True,
            adjust_time=adjust_time,
        )
    finally:
        os.environ.update(saved)
