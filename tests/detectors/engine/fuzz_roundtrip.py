"""Run inside a private network namespace: serve the engine, fuzz it with schemathesis.

A fuzzer that generates valid camera bodies makes the engine open the cameras it names
(``rtsp://<random host>``): inside the namespace only loopback exists, so nothing it
generates can leave the machine. Arguments: the engine configuration, then the
schemathesis arguments. Prints schemathesis' output and exits with its status; the
engine's log goes to ``engine.log`` beside the configuration.
"""

import shutil
import subprocess
import sys
from pathlib import Path

TOKEN = "fuzz-token-0123456789"
PORT = 8765


def main() -> int:
    config, *arguments = sys.argv[1:]
    log = (Path(config).parent / "engine.log").open("wb")
    serve = ["serve", "--config", config, "--port", str(PORT), "--token", TOKEN]
    engine = subprocess.Popen(
        [sys.executable, "-m", "detectors.cli", *serve],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    binary = shutil.which("schemathesis") or str(Path(sys.executable).parent / "schemathesis")
    try:
        url = f"http://127.0.0.1:{PORT}/api/v1/openapi.json"
        header = f"Authorization: Bearer {TOKEN}"
        fuzz = subprocess.run(
            [binary, "run", url, "-H", header, "--wait-for-schema", "180", *arguments],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            check=False,
        )
    finally:
        engine.terminate()
        engine.wait(timeout=60)
        log.close()
    print(fuzz.stdout)
    return fuzz.returncode


sys.exit(main())
