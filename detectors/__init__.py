"""school_guard engine: OpenVINO detectors for ONVIF cameras.

This package never imports Home Assistant; the integration talks to it only through the
engine API, so the engine can run on a glibc edge box while Home Assistant runs anywhere.
"""

__version__ = "0.1.0"
