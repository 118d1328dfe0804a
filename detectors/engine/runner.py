"""``school-guard serve``: configuration → engine → API, until SIGTERM."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import socket
import sys

from aiohttp import web

from detectors.config import load_config
from detectors.engine.advertise import SERVICE_TYPE, Advertiser
from detectors.engine.api import create_app
from detectors.engine.identity import load_token
from detectors.engine.logs import configure_logging
from detectors.engine.mqtt_bridge import MqttBridge
from detectors.engine.service import Engine
from detectors.mqtt.publisher import MqttPublisher
from detectors.zoo.store import ModelStore

_LOGGER = logging.getLogger("detectors.engine")


async def serve(args: argparse.Namespace) -> int:
    """Run the engine; graceful shutdown on SIGTERM/SIGINT (open alerts end, log closes)."""
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    config = load_config(args.config)
    data_dir = args.data_dir or config.engine.data_dir
    data_dir.mkdir(parents=True, exist_ok=True)
    token, created = load_token(data_dir, args.token)
    secrets = [token] + [c.source.password or "" for c in config.cameras]
    if config.mqtt is not None:
        secrets.append(config.mqtt.password or "")
    redactor = configure_logging(secrets, json_lines=args.log_format == "json")
    if created:
        # Logs go to journald and collectors: name the file (mode 0600), never the token.
        print(
            f"school-guard: API token created; read it from {data_dir / 'token'}"
            " (readable by this user only)",
            flush=True,
        )
    engine = Engine(
        config,
        data_dir=data_dir,
        store=ModelStore(cache_dir=args.model_cache, mirror_dir=args.model_mirror),
    )
    engine.on_secret = redactor.add
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await engine.start()
    publisher = bridge = None
    if config.mqtt is not None:
        publisher = MqttPublisher(config.mqtt, engine.id)
        await publisher.start()
        bridge = MqttBridge(engine, publisher)
        bridge.attach()
    runner = web.AppRunner(create_app(engine, token), access_log=None)
    await runner.setup()
    host = args.host or config.api.host
    port = args.port if args.port is not None else config.api.port
    site = web.TCPSite(runner, host, port)
    await site.start()
    _LOGGER.info(
        "engine %s (%s) serving on http://%s:%s/api/v1", engine.id, engine.name, host, port
    )
    print(f"school-guard: engine {engine.id} listening on http://{host}:{port}/api/v1", flush=True)
    advertiser = None
    if args.zeroconf:
        address = args.advertise_address or (
            host if host not in ("0.0.0.0", "") else socket.gethostbyname(socket.gethostname())  # noqa: S104
        )
        advertiser = Advertiser(engine.id, engine.name, address, port)
        await advertiser.start()
        _LOGGER.info("announced as %s on %s:%s", SERVICE_TYPE, address, port)
    try:
        await stop.wait()
    finally:
        _LOGGER.info("stopping")
        if advertiser is not None:
            await advertiser.stop()
        await runner.cleanup()
        await engine.stop()
        if bridge is not None:
            await bridge.stop()
        if publisher is not None:
            await publisher.stop()
    sys.stdout.flush()
    return 0
