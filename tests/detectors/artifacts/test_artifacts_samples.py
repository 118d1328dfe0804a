"""Sample media as verified artefacts: the store, the mirror, the CLI in a plain shell."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from detectors.artifacts.samples import SAMPLES, SampleStore
from detectors.cli import main
from detectors.errors import ArtifactChecksumError, SampleError

ROOT = Path(__file__).resolve().parents[3]


def test_every_sample_names_its_package_licence_and_checksum() -> None:
    for sample in SAMPLES.values():
        described = sample.describe()
        assert described["source"].startswith(("Debian package ", "PyPI "))  # type: ignore[attr-defined]
        assert len(str(described["sha256"])) == 64
        assert described["licence"]
    assert SAMPLES["vtest.avi"].source.package == "opencv-doc"
    assert SAMPLES["person.jpg"].source.package == "darknet"
    assert SAMPLES["astronaut.png"].source.describe() == "PyPI scikit-image==0.25.2"


def test_a_missing_sample_says_how_to_get_it(tmp_path: Path) -> None:
    store = SampleStore(folder=tmp_path, mirror_dir=None)
    with pytest.raises(SampleError) as err:
        store.path("vtest.avi")
    assert str(err.value) == (
        f"sample vtest.avi is not in {tmp_path}: run scripts/setup or `school-guard samples "
        "fetch` (it comes from Debian package opencv-doc (4.6.0+dfsg-12))"
    )
    with pytest.raises(SampleError, match=r"unknown sample 'gun\.mp4'; the samples are: astron"):
        store.path("gun.mp4")


def test_samples_come_from_the_mirror_verified(samples_dir: Path, tmp_path: Path) -> None:
    store = SampleStore(folder=tmp_path / "cache", mirror_dir=samples_dir)
    progress: list[str] = []
    paths = store.fetch_all(progress=progress.append)
    assert [p.name for p in paths] == list(SAMPLES)
    assert all(line.endswith(f"copied from mirror {samples_dir}") for line in progress)
    assert store.path("person.jpg").read_bytes() == (samples_dir / "person.jpg").read_bytes()
    # Fetching again finds them in place: nothing is copied twice.
    progress.clear()
    store.fetch_all(progress=progress.append)
    assert progress == []


def test_a_corrupted_sample_is_refused_by_name(samples_dir: Path, tmp_path: Path) -> None:
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    data = bytearray((samples_dir / "person.jpg").read_bytes())
    data[500] ^= 0x10
    (mirror / "person.jpg").write_bytes(bytes(data))
    store = SampleStore(folder=tmp_path / "cache", mirror_dir=mirror)
    with pytest.raises(ArtifactChecksumError, match=r"person\.jpg from mirror .*: SHA-256"):
        store.fetch("person.jpg")
    (tmp_path / "cache").mkdir()
    (tmp_path / "cache" / "person.jpg").write_bytes(bytes(data))
    with pytest.raises(ArtifactChecksumError, match=r"cache/person\.jpg: SHA-256 .* the sample"):
        store.path("person.jpg")


def test_samples_cli_lists_fetches_and_verifies(
    samples_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "samples"
    assert main(["samples", "list", "--json", "--samples-dir", str(folder)]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["name"] for r in rows] == list(SAMPLES)
    assert all(r["cached"].startswith("not ready: sample ") for r in rows)
    args = ["--samples-dir", str(folder), "--sample-mirror", str(samples_dir)]
    assert main(["samples", "fetch", "vtest.avi", *args]) == 0
    assert capsys.readouterr().out == f"vtest.avi: ready at {folder / 'vtest.avi'}\n"
    assert main(["samples", "verify", "person.jpg", "--samples-dir", str(folder)]) == 1
    assert "sample person.jpg is not in" in capsys.readouterr().err


def test_a_plain_shell_finds_what_setup_fetched() -> None:
    """The README's commands, run as printed after scripts/setup, use setup's caches.

    Only the mirror variables are dropped: they are scripts' download savers, and with them
    gone nothing may need fetching.
    """
    env = {k: v for k, v in os.environ.items() if not k.endswith("_MIRROR")}
    cli = shutil.which("school-guard", path=str(Path(sys.executable).parent))
    assert cli is not None
    for command in ("models", "samples"):
        result = subprocess.run(
            [cli, command, "list", "--json"],
            env=env,
            cwd="/",
            capture_output=True,
            text=True,
            check=True,
        )
        rows = json.loads(result.stdout)
        assert rows
        assert {r["name"]: r["cached"] for r in rows} == {r["name"]: "verified" for r in rows}
