"""The school_guard integration: a thin, push-driven client of a school_guard engine.

It imports nothing from the engine package (``detectors``); everything it knows about an
engine comes through the documented engine API (docs/engine-api.md).
"""

DOMAIN = "school_guard"
