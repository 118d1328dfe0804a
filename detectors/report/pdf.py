"""The HTML report printed to PDF by headless Chromium (``--print-to-pdf``).

Chromium renders the same page a person opens, SVG charts and embedded snapshots included;
a second renderer would draw a second, different report. Debian's ``chromium`` (scripts/
setup installs it) is looked up on PATH; without it the report says so and names the fix.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from detectors.errors import SchoolGuardError

BROWSERS = ("chromium", "chromium-browser", "google-chrome")


def find_chromium() -> str:
    """The Chromium binary; a clear error when none is installed."""
    for name in BROWSERS:
        found = shutil.which(name)
        if found is not None:
            return found
    raise SchoolGuardError(
        "PDF output needs Chromium, and none was found on PATH (looked for "
        f"{', '.join(BROWSERS)}); install Debian's chromium package, or write "
        "--format html and print it from a browser"
    )


def html_to_pdf(html: str, output: Path, *, timeout: float = 120.0) -> None:
    """Print ``html`` to ``output`` through headless Chromium."""
    browser = find_chromium()
    with tempfile.TemporaryDirectory(prefix="sg-report-") as scratch:
        folder = Path(scratch)
        page = folder / "report.html"
        page.write_text(html, encoding="utf-8")
        target = folder / "report.pdf"
        command = [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-extensions",
            f"--user-data-dir={folder / 'profile'}",
            "--no-pdf-header-footer",
            f"--print-to-pdf={target}",
            page.as_uri(),
        ]
        try:
            done = subprocess.run(
                command, capture_output=True, text=True, timeout=timeout, check=False
            )
        except subprocess.TimeoutExpired as err:
            raise SchoolGuardError(f"Chromium did not print the report in {timeout:.0f} s") from err
        if done.returncode != 0 or not target.is_file() or target.stat().st_size == 0:
            raise SchoolGuardError(
                f"Chromium could not print the report (exit {done.returncode}): "
                f"{done.stderr.strip()[-500:]}"
            )
        output.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(target), output)
