"""The model cache: where fetched and converted files live, and the checks at every load.

Layout: ``<cache>/<model name>/<file>`` for source files, and for models converted by
us (TF.js graphs, PyTorch state_dicts) ``<cache>/<model name>/ir/model.xml|.bin`` plus
``ir/manifest.json`` recording the SHA-256 of the IR files, of the sources they came from,
the converter's version and the OpenVINO version that wrote them. The IR is re-verified
against that manifest at every load, so a bit flip in a converted weights file is caught
exactly like one in a downloaded file.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from detectors.artifacts.fetch import copy_from_mirror, fetch_files
from detectors.artifacts.files import cache_root, sha256_of, verify_file
from detectors.errors import (
    ArtifactNotFoundError,
    ModelChecksumError,
    ModelError,
    ModelNotFoundError,
)
from detectors.zoo.catalog import ZOO, ModelEntry

type Progress = Callable[[str], None]

MIRROR_ENV = "SCHOOL_GUARD_MODEL_MIRROR"
CACHE_ENV = "SCHOOL_GUARD_MODEL_CACHE"
_IR_MANIFEST_VERSION = 1
CONVERTER_VERSIONS = {"tfjs": 1, "pytorch": 1}
"""Raised when a converter's output changes, so IR written by the old one is rebuilt."""


def converter_version(entry: ModelEntry) -> int | str:
    """What the IR manifest records as the converter of ``entry`` (with its quantizer)."""
    version = CONVERTER_VERSIONS.get(entry.format, 0)
    if not entry.quantize:
        return version
    from detectors.zoo.quantize import QUANTIZER_VERSION

    return f"{version}+{entry.quantize}-{QUANTIZER_VERSION}"


def _quantizer_record(entry: ModelEntry) -> dict[str, str]:
    """The NNCF version that quantized ``entry``, for its IR manifest (none if float)."""
    if not entry.quantize:
        return {}
    from detectors.zoo.quantize import nncf_version

    return {"nncf": nncf_version()}


def default_cache_dir() -> Path:
    """``$SCHOOL_GUARD_MODEL_CACHE``, else ``~/.cache/school-guard/models`` (XDG)."""
    if env := os.environ.get(CACHE_ENV):
        return Path(env)
    return cache_root() / "models"


def default_mirror_dir() -> Path | None:
    """The mirror folder named by ``$SCHOOL_GUARD_MODEL_MIRROR``, if any."""
    env = os.environ.get(MIRROR_ENV)
    return Path(env) if env else None


def _silent(_: str) -> None:
    """Progress sink for callers that want none."""


@dataclass(frozen=True, slots=True)
class PreparedModel:
    """A verified model ready for OpenVINO: the file to read and the entry it belongs to."""

    entry: ModelEntry
    path: Path


class ModelStore:
    """Fetch, verify and convert zoo models into a cache folder."""

    def __init__(self, cache_dir: Path | None = None, mirror_dir: Path | None = None) -> None:
        """Use the given folders, else the environment's, else the user's cache."""
        self.cache_dir = cache_dir or default_cache_dir()
        self.mirror_dir = mirror_dir if mirror_dir is not None else default_mirror_dir()

    def entry(self, name: str) -> ModelEntry:
        """The zoo entry called ``name``, or an error listing the known ones.

        Opt-in entries are found too (``models fetch NAME`` works for them); whether one
        may *run* is the configuration's decision (``catalog.licence_problem``).
        """
        try:
            return ZOO[name]
        except KeyError:
            known = ", ".join(sorted(ZOO))
            raise ModelError(f"unknown model {name!r}; the zoo has: {known}") from None

    def folder(self, entry: ModelEntry) -> Path:
        """Where ``entry``'s files are cached (a variant's are its base model's)."""
        return self.cache_dir / entry.files_folder

    def fetch(self, entry: ModelEntry, progress: Progress = _silent) -> Path:
        """Make sure every file of ``entry`` is cached and intact; return its folder.

        Order: the cache (if intact), the mirror, then the declared source.
        """
        folder = self.folder(entry)
        missing = []
        for file in entry.files:
            try:
                verify_file(folder / file.name, file, "model file")
            except ArtifactNotFoundError:
                missing.append(file.name)
        if not missing:
            return folder
        if self.mirror_dir is not None and copy_from_mirror(
            entry.files, self.mirror_dir / entry.files_folder, folder
        ):
            progress(f"{entry.name}: copied from mirror {self.mirror_dir}")
            return folder
        progress(f"{entry.name}: fetching {', '.join(missing)} from {entry.source.describe()}")
        fetch_files(entry.name, entry.source, entry.files, folder, progress)
        return folder

    def verify(self, entry: ModelEntry) -> Path:
        """Check every cached file of ``entry`` (and its IR, if converted); raise if bad."""
        folder = self.folder(entry)
        for file in entry.files:
            verify_file(folder / file.name, file, "model file")
        if entry.converted:
            return self._verified_ir(entry)
        return folder / entry.primary.name

    def installed(self, entry: ModelEntry) -> bool:
        """Whether ``entry`` can be prepared without a registry: in the cache or the mirror.

        For optional models (the fight classifier), which the engine skips rather than
        downloads at start. A cached file with the wrong SHA-256 is not "not installed":
        it raises, as at every load.
        """
        folder = self.folder(entry)
        try:
            for file in entry.files:
                verify_file(folder / file.name, file, "model file")
        except ArtifactNotFoundError:
            mirror = self.mirror_dir
            return mirror is not None and all(
                (mirror / entry.files_folder / file.name).is_file() for file in entry.files
            )
        return True

    def prepare(self, entry: ModelEntry, progress: Progress = _silent) -> PreparedModel:
        """Fetch (if needed), verify, convert (if needed): the file OpenVINO should read."""
        self.fetch(entry, progress)
        for file in entry.files:
            verify_file(self.folder(entry) / file.name, file, "model file")
        if not entry.converted:
            return PreparedModel(entry, self.folder(entry) / entry.primary.name)
        try:
            return PreparedModel(entry, self._verified_ir(entry))
        except ModelNotFoundError:
            return PreparedModel(entry, self._convert(entry, progress))

    def _ir_dir(self, entry: ModelEntry) -> Path:
        return self.cache_dir / entry.name / "ir"

    def _verified_ir(self, entry: ModelEntry) -> Path:
        """The converted IR's path after checking it against its manifest."""
        ir_dir = self._ir_dir(entry)
        manifest_path = ir_dir / "manifest.json"
        if not manifest_path.is_file():
            raise ModelNotFoundError(f"{ir_dir}: {entry.name} has not been converted yet")
        try:
            manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
            recorded = dict(manifest["files"])
            sources = dict(manifest["sources"])
        except (ValueError, KeyError, TypeError) as err:
            raise ModelChecksumError(f"{manifest_path}: unreadable IR manifest ({err})") from err
        if sources != {f.name: f.sha256 for f in entry.files}:
            raise ModelNotFoundError(f"{ir_dir}: converted from other sources; reconverting")
        if manifest.get("converter", 1) != converter_version(entry):
            raise ModelNotFoundError(f"{ir_dir}: written by an older converter; reconverting")
        for name, sha in recorded.items():
            path = ir_dir / name
            if not path.is_file():
                raise ModelNotFoundError(f"{path}: converted model file missing")
            actual = sha256_of(path)
            if actual != sha:
                raise ModelChecksumError(
                    f"{path}: SHA-256 {actual} does not match {sha} recorded at conversion; "
                    "the file is corrupted (delete it and run `school-guard models fetch`)"
                )
        return ir_dir / "model.xml"

    def _convert(self, entry: ModelEntry, progress: Progress) -> Path:
        """Convert a TF.js or PyTorch model to IR once, and record what the IR must hash to."""
        import openvino as ov

        ir_dir = self._ir_dir(entry)
        ir_dir.mkdir(parents=True, exist_ok=True)
        source = self.folder(entry) / entry.primary.name
        scratch = ir_dir / "frozen_graph.pb"
        if entry.format == "pytorch":
            from detectors.zoo.mc3 import convert_state_dict

            progress(f"{entry.name}: rebuilding mc3_18 from its state_dict as OpenVINO IR (once)")
            model = convert_state_dict(source, entry)
        elif entry.format != "tfjs":
            model = ov.Core().read_model(str(source))
        else:
            from detectors.zoo.tfjs import convert_tfjs

            progress(f"{entry.name}: converting TF.js graph to OpenVINO IR (once)")
            model = convert_tfjs(source, scratch, progress)
        if entry.quantize:
            from detectors.zoo.quantize import quantize_int8

            model = quantize_int8(model, entry, progress)
        xml = ir_dir / "model.xml"
        ov.save_model(model, str(xml), compress_to_fp16=False)

        scratch.unlink(missing_ok=True)
        manifest = {
            "version": _IR_MANIFEST_VERSION,
            "model": entry.name,
            "openvino": ov.get_version(),
            "converter": converter_version(entry),
            **_quantizer_record(entry),
            "sources": {f.name: f.sha256 for f in entry.files},
            "files": {name: sha256_of(ir_dir / name) for name in ("model.xml", "model.bin")},
        }
        (ir_dir / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
        progress(f"{entry.name}: IR written to {ir_dir}")
        return xml
