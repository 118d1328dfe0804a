"""Run inside a private network namespace: serve the engine, fuzz it with schemathesis.

A fuzzer that generates valid camera bodies makes the engine open the cameras it names
(``rtsp://<random host>``): inside the namespace only loopback exists, so nothing it
generates can leave the machine. The ONVIF operations are fuzzed too, against hostile
peers started here on loopback (every HTTP/TLS behaviour of ``hostile_peers.py`` and a
WS-Discovery responder sending every hostile datagram); ``fuzz_hooks.py`` pins each probe
and discovery target to them. Arguments: the engine configuration, then the schemathesis
arguments. Prints schemathesis' output and exits with its status; the engine's log goes to
``engine.log`` beside the configuration.
"""

import asyncio
import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

from tests.detectors.onvif.hostile_datagrams import HOSTILE, FakeCamera
from tests.detectors.onvif.hostile_peers import ALL_KINDS, hostile_peer

TOKEN = "fuzz-token-0123456789"
PORT = 8765


def every_hostile_answer(message_id: str) -> list[bytes]:
    """Each hostile WS-Discovery answer, all sent to every probe."""
    return [datagram for reply in HOSTILE.values() for datagram in reply(message_id)]


def start_peers(folder: Path) -> tuple[dict[str, list[int]], asyncio.AbstractEventLoop]:
    """Start the hostile peers on a loop in a thread; return their ports and the loop."""
    loop = asyncio.new_event_loop()
    ready: dict[str, list[int]] = {}
    started = threading.Event()

    async def serve() -> None:
        async with contextlib.AsyncExitStack() as stack:
            tcp = [await stack.enter_async_context(hostile_peer(k, folder)) for k in ALL_KINDS]
            transport, _ = await asyncio.get_running_loop().create_datagram_endpoint(
                lambda: FakeCamera(every_hostile_answer), local_addr=("127.0.0.1", 0)
            )
            stack.callback(transport.close)
            ready.update(tcp=tcp, udp=[transport.get_extra_info("sockname")[1]])
            started.set()
            await asyncio.Event().wait()  # until the loop is stopped

    threading.Thread(target=loop.run_until_complete, args=(serve(),), daemon=True).start()
    started.wait(timeout=60)
    return ready, loop


def main() -> int:
    config, *arguments = sys.argv[1:]
    peers, _loop = start_peers(Path(tempfile.mkdtemp(prefix="sg-fuzz-tls-")))
    hooks_env = os.environ | {
        "SCHEMATHESIS_HOOKS": "tests.detectors.engine.fuzz_hooks",
        "SG_FUZZ_PEERS": json.dumps(peers),
        "SG_FUZZ_RECORD": str(Path(config).parent / "onvif_answers.txt"),
    }
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
            env=hooks_env,
        )
    finally:
        engine.terminate()
        engine.wait(timeout=60)
        log.close()
    print(fuzz.stdout)
    return fuzz.returncode


sys.exit(main())
