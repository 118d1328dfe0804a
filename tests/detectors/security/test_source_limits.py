"""File sources through the API: only inside the media folder, symlinks resolved."""

from __future__ import annotations

from pathlib import Path

import pytest

from detectors.config import CameraConfig, SourceConfig
from detectors.engine.source_limits import SourceLimits
from detectors.errors import SourceNotAllowedError


def _file_camera(path: str) -> CameraConfig:
    return CameraConfig("cam", "Cam", SourceConfig(type="file", url=path))


async def test_without_a_media_folder_the_api_adds_no_file_source(tmp_path: Path) -> None:
    clip = tmp_path / "clip.avi"
    clip.write_bytes(b"x")
    with pytest.raises(SourceNotAllowedError, match=r"set security\.media_folder"):
        await SourceLimits().admit(_file_camera(str(clip)))


async def test_the_configuration_files_own_file_sources_may_name_any_path() -> None:
    await SourceLimits().before_connect(_file_camera("/etc/hostname"), from_api=False)


async def test_paths_are_judged_after_resolving_dots_and_symlinks(tmp_path: Path) -> None:
    media = tmp_path / "media"
    media.mkdir()
    (media / "inside.avi").write_bytes(b"x")
    (tmp_path / "outside.avi").write_bytes(b"x")
    (media / "link.avi").symlink_to(tmp_path / "outside.avi")
    (tmp_path / "alias").symlink_to(media)
    limits = SourceLimits(media_folder=tmp_path / "alias")  # the folder itself may be a link
    await limits.admit(_file_camera(str(media / "inside.avi")))
    for refused in (media / "link.avi", media / ".." / "outside.avi", tmp_path / "mediax"):
        with pytest.raises(SourceNotAllowedError, match="inside the media folder"):
            await limits.admit(_file_camera(str(refused)))


async def test_a_relative_name_is_refused_so_ffmpeg_never_reads_it_as_a_protocol(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # the media folder is the working directory
    limits = SourceLimits(media_folder=tmp_path)
    for smuggled in (f"concat:{tmp_path}/a.avi|/etc/hostname", "file:clip.avi", "clip.avi"):
        with pytest.raises(SourceNotAllowedError, match="absolute path"):
            await limits.admit(_file_camera(smuggled))
