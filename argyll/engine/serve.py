"""Run the engine under uvicorn (uvloop and httptools when installed)."""

from __future__ import annotations

import gc
import importlib.util
import logging

from argyll.engine.config import Config

__all__ = ["configure_logging", "serve", "tune_gc"]

# Young-generation threshold of the cyclic garbage collector while serving
# (CPython's default is 700). See tune_gc.
GC_THRESHOLDS = (20_000, 20, 20)

_LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warn": logging.WARNING,
    "error": logging.ERROR,
}


def configure_logging(config: Config) -> None:
    """One line per record on stderr, with the ENV label when set; JSON with LOG_FORMAT=json."""
    from argyll.engine.logfmt import JSONFormatter, RedactQuery

    handler = logging.StreamHandler()
    handler.addFilter(RedactQuery())
    if config.log_format == "json":
        handler.setFormatter(JSONFormatter({"env": config.env_label} if config.env_label else {}))
    else:
        env = f" env={config.env_label}" if config.env_label else ""
        handler.setFormatter(
            logging.Formatter(f"%(asctime)s %(levelname)s %(name)s{env}: %(message)s")
        )
    logging.basicConfig(level=_LEVELS.get(config.log_level, logging.INFO), handlers=[handler])


def tune_gc() -> None:
    """Make the cyclic garbage collector cheap for a long-running engine.

    The engine allocates many short-lived objects per flow (events, states,
    coroutines), almost all freed by reference counting. With CPython's
    default thresholds the collector ran about every 700 allocations and,
    every few seconds, a full collection walked every object still alive
    (the cached flow states): about a fifth of the engine's CPU and pauses
    of tens of milliseconds under load (docs/reference/performance.md).
    Freezing what start-up created (modules, the catalog, the app) takes it
    out of every later collection; a higher young threshold makes
    collections rarer. Cycles are still collected, only later.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


def serve(config: Config) -> None:
    """Serve until SIGINT/SIGTERM; in-flight requests get 10 s to finish (CFG-3)."""
    import uvicorn

    from argyll.engine.engine import Engine
    from argyll.engine.listen import listen_socket
    from argyll.engine.server.app import create_app
    from argyll.engine.store.factory import claim_store, describe_store

    configure_logging(config)
    # The port first, then the store: each raises a one-line ConfigError or
    # StoreError before anything is created or served. The data-directory
    # lock is held until the process ends.
    sock = listen_socket(config.host, config.port)
    try:
        lock = claim_store(config)
    except BaseException:
        sock.close()
        raise
    engine = Engine(config)
    app = create_app(engine)
    logging.getLogger("argyll").info(
        "serving on http://%s:%d (node %s, store: %s)",
        config.host,
        config.port,
        config.node_id,
        describe_store(config),
    )
    tune_gc()
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host=config.host,
            port=config.port,
            log_level=config.log_level if config.log_level != "warn" else "warning",
            access_log=False,
            # uvicorn's own records go through the root handler (format, redaction).
            log_config=None,
            loop="uvloop" if importlib.util.find_spec("uvloop") else "asyncio",
            http="httptools" if importlib.util.find_spec("httptools") else "h11",
            timeout_graceful_shutdown=10,
            # WS-8: ping every 54 s, close without a pong within 60 s; 64 KiB inbound
            # frames; no compression (the reference sends plain frames).
            ws_ping_interval=54,
            ws_ping_timeout=6,
            ws_max_size=64 * 1024,
            ws_per_message_deflate=False,
            ws="websockets-sansio" if importlib.util.find_spec("websockets") else "auto",
        )
    )
    server.run(sockets=[sock])
    if lock is not None:
        lock.release()
    if not server.started:
        raise SystemExit(3)  # start-up failed (logged by uvicorn), as uvicorn.run does
