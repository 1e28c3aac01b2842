"""Serve the web app with waitress: :func:`make_server` (tests keep the handle) and
:func:`run_server` (``coopgraph serve``: blocks until interrupted).

Why waitress holds up against slow clients (issue 16): its event loop reads requests
and writes responses for every connection, and hands a request to one of the
``threads`` workers only once it is complete, so a client sending a byte every few
seconds (slowloris) or never reading its answer holds a socket, not a worker. What took
the server offline were waitress's defaults: at most 100 connections (past them it stops
accepting, so ``/healthz`` waited behind the slow ones) and ``select()`` (1,024
descriptors at most). Here the limit is ``connection_limit`` (4,096), the loop uses
``poll()``, the listen backlog is 2,048, a connection silent for ``channel_timeout``
seconds is closed, and the process may open enough files for all of them. waitress
accepts one connection per turn of its loop, and each turn polls every open connection:
after a burst of 1,000 connections a probe waited over a second in the listen queue, so
each turn here accepts up to :data:`ACCEPT_BATCH` waiting connections.
"""

from __future__ import annotations

import logging
import resource
import signal
import sys
import threading
import time
from typing import Any

from flask import Flask
from waitress.server import BaseWSGIServer, MultiSocketServer, create_server

from coopgraph import served
from coopgraph.gcquiet import IdleCollector
from coopgraph.settings import Settings
from coopgraph.store.base import Store
from coopgraph.web import create_app
from coopgraph.web.accesslog import AccessLog, open_log

#: seconds a thread holding the interpreter runs before a waiting thread gets it
SWITCH_INTERVAL = 0.001

#: connections accepted per turn of waitress's loop (it accepts one)
ACCEPT_BATCH = 64


def _accept_in_batches(listener: Any) -> None:
    """Make ``listener`` accept every waiting connection (up to :data:`ACCEPT_BATCH`, within
    ``connection_limit``) each time its socket is readable."""
    accept_one = listener.handle_accept

    def handle_accept() -> None:
        for _ in range(ACCEPT_BATCH):
            if len(listener._map) >= listener.adj.connection_limit:
                return  # readable() stops listening until connections close
            before = len(listener._map)
            accept_one()
            if len(listener._map) == before:
                return  # nothing was waiting (or accept failed): back to the loop

    listener.handle_accept = handle_accept


def _raise_open_files(wanted: int) -> None:
    """Lift the soft limit on open files towards ``wanted`` (at most to the hard limit)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    ceiling = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < ceiling:
        resource.setrlimit(resource.RLIMIT_NOFILE, (ceiling, hard))


def make_server(settings: Settings, store: Store) -> tuple[Any, str]:
    """A waitress server bound to ``settings.host``/``settings.port`` (0: a free port).

    :returns: the server (``.run()``, ``.close()``) and its base URL.
    :raises OSError: the address is in use or cannot be bound.
    """
    return serve_app(create_app(settings, store), settings)


def serve_app(app: Flask, settings: Settings) -> tuple[Any, str]:
    """A waitress server for ``app`` (see :func:`make_server`), with the access log and
    the connection limits of issue 16 (module doc)."""
    stream = open_log(settings.access_log)
    log = None if stream is None else AccessLog(app, stream)
    _raise_open_files(settings.connection_limit + 256)
    server: Any = create_server(
        log or app,
        host=settings.host,
        port=settings.port,
        threads=settings.threads,
        ident="coopgraph",
        max_request_body_size=settings.max_body_bytes,
        clear_untrusted_proxy_headers=True,
        connection_limit=settings.connection_limit,
        channel_timeout=settings.channel_timeout,
        cleanup_interval=max(1, min(30, int(settings.channel_timeout // 2) or 1)),
        backlog=2048,
        asyncore_use_poll=True,
    )
    # one listener per address of the host name ("localhost": 127.0.0.1 and ::1)
    several = isinstance(server, MultiSocketServer)
    for listener in list((server.map or {}).values()) if several else [server]:
        if isinstance(listener, BaseWSGIServer):
            _accept_in_batches(listener)
            if log is not None:  # waitress's own answers (413, 400) in the log too
                listener.channel_class = log.channel_class()
    port = server.effective_port
    host = settings.host if ":" not in settings.host else f"[{settings.host}]"
    return server, f"http://{host}:{port}/"


def run_server(settings: Settings, store: Store) -> None:
    """Serve until interrupted; prints ``Serving on <url>`` to stderr.

    :raises OSError: the address cannot be bound.
    """
    from coopgraph.web.writing import warm_up

    # A write validates and reasons in Python for seconds to minutes: a waiting request's
    # thread gets the interpreter back after 1 ms instead of 5 (issue 16: reads are not
    # held behind writes, a runaway gets its 503 on time).
    sys.setswitchinterval(SWITCH_INTERVAL)
    if threading.current_thread() is threading.main_thread():
        # `kill`, systemd and container runtimes stop a server with SIGTERM: stop as on
        # Ctrl-C (the views keep their latest builds, the served-store note is removed)
        signal.signal(signal.SIGTERM, _interrupt)
    app = create_app(settings, store)
    # before listening (0.2 s at 1M): in the background it competed with the views'
    # start, and the first write waited 0.5-0.9 s for it
    _warm(warm_up, app)
    server, url = serve_app(app, settings)
    print(f"coopgraph: serving on {url}", file=sys.stderr, flush=True)
    # write commands that find the store locked send their files here (coopgraph.served)
    served.record(settings.store, url)
    collector = _idle_collector(app)
    app_state = app.extensions["coopgraph"]
    views = (
        app_state.totals, app_state.network,
        app.extensions["coopgraph.completion"],  # the query page's completion
        app.extensions["coopgraph.map"],  # what /api/map.json draws
    )
    for view in views:
        # derived views: read back or computed in the background once listening
        view.progress = lambda message: print(f"coopgraph: {message}", file=sys.stderr, flush=True)
        view.start()
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        served.forget(settings.store)
        collector.close()
        for view in views:
            view.close()
        server.close()


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def _idle_collector(app: Flask) -> IdleCollector:
    """Start the :class:`~coopgraph.gcquiet.IdleCollector`, quiet meaning no request
    began for its ``quiet`` seconds."""
    last = [time.monotonic()]

    @app.before_request
    def _active() -> None:
        last[0] = time.monotonic()

    collector = IdleCollector(lambda: last[0])
    collector.start()
    return collector


def _warm(warm_up: Any, app: Any) -> None:
    """Prepare what the first write needs; a failure only costs that write the time."""
    try:
        warm_up(app)
    except Exception:  # noqa: BLE001 - the server serves on; the write will report it
        logging.getLogger("coopgraph.web").exception("warm-up failed")
