"""The engine's exception hierarchy.

Every failure a person can act on has its own class and a message that names the file,
device or input at fault, so the CLI can print it and exit non-zero instead of a traceback.
"""

from __future__ import annotations


class SchoolGuardError(Exception):
    """Base class for every error the engine raises on purpose."""


class ConfigError(SchoolGuardError):
    """A configuration value is invalid; the message names the key and why.

    ``problems`` lists every problem found (one ``path: why`` line each), so a caller
    such as the API can report all of them at once instead of one per attempt.
    """

    def __init__(self, message: str, problems: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.problems: tuple[str, ...] = problems or (message,)


class DeviceError(SchoolGuardError):
    """An inference device was asked for that OpenVINO does not offer here."""


class ArtifactError(SchoolGuardError):
    """A verified file (a model's or a sample's) cannot be had or is not the expected one."""


class ArtifactNotFoundError(ArtifactError):
    """A file is not in the cache, the mirror or any reachable source."""


class ArtifactChecksumError(ArtifactError):
    """A file's SHA-256 differs from the one recorded for it."""


class ArtifactFetchError(ArtifactError):
    """Downloading or extracting a file from its registry package failed."""


class ModelError(SchoolGuardError):
    """A model cannot be used: unknown, missing, corrupted or of the wrong shape."""


class ModelNotFoundError(ModelError, ArtifactNotFoundError):
    """A model file is not in the cache, the mirror or any reachable source."""


class ModelChecksumError(ModelError, ArtifactChecksumError):
    """A model file's SHA-256 differs from the one recorded in the zoo."""


class ModelFormatError(ModelError):
    """A model file loads but its inputs/outputs are not what its decoder expects."""


class SampleError(ArtifactError):
    """A sample file (footage or photo for the demo, tests and benchmarks) is not at hand."""


class MediaError(SchoolGuardError):
    """An image or video cannot be opened or decoded."""


class IncidentLogError(SchoolGuardError):
    """The incident log cannot be opened or a request to it is invalid."""


class EventNotFoundError(IncidentLogError, KeyError):
    """No event with the given id is in the incident log.

    It is also a ``KeyError`` so mapping-style callers can catch it the usual way; its
    text is the plain message (``KeyError`` would otherwise quote it).
    """

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class EventStateError(IncidentLogError):
    """The event's state forbids the change (e.g. dismissing it twice)."""


class CameraNotFoundError(SchoolGuardError):
    """No camera with that id."""


class CameraConflictError(SchoolGuardError):
    """The camera exists already, or is defined in the configuration file."""


class HostNotAllowedError(SchoolGuardError):
    """A camera host lies outside ``security.camera_networks``; the message says how to widen it."""


class HostLookupError(SchoolGuardError):
    """A camera's host name does not resolve, so it can neither be checked nor reached."""


class SourceNotAllowedError(SchoolGuardError):
    """The API may not create this source (a file outside ``security.media_folder``)."""
