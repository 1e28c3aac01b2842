"""Serve the web app with waitress: :func:`make_server` (tests keep the handle) and
:func:`run_server` (``coopgraph serve``: blocks until interrupted)."""

from __future__ import annotations

import logging
import sys
import threading
from typing import Any

from flask import Flask
from waitress.server import create_server

from coopgraph.settings import Settings
from coopgraph.store.base import Store
from coopgraph.web import create_app


def make_server(settings: Settings, store: Store) -> tuple[Any, str]:
    """A waitress server bound to ``settings.host``/``settings.port`` (0: a free port).

    :returns: the server (``.run()``, ``.close()``) and its base URL.
    :raises OSError: the address is in use or cannot be bound.
    """
    return serve_app(create_app(settings, store), settings)


def serve_app(app: Flask, settings: Settings) -> tuple[Any, str]:
    """A waitress server for ``app`` (see :func:`make_server`)."""
    server = create_server(
        app,
        host=settings.host,
        port=settings.port,
        threads=settings.threads,
        ident="coopgraph",
        max_request_body_size=settings.max_body_bytes,
        clear_untrusted_proxy_headers=True,
    )
    port = server.effective_port  # type: ignore[union-attr]
    host = settings.host if ":" not in settings.host else f"[{settings.host}]"
    return server, f"http://{host}:{port}/"


def run_server(settings: Settings, store: Store) -> None:
    """Serve until interrupted; prints ``Serving on <url>`` to stderr.

    :raises OSError: the address cannot be bound.
    """
    from coopgraph.web.writes import warm_up

    app = create_app(settings, store)
    server, url = serve_app(app, settings)
    threading.Thread(target=_warm, args=(warm_up, app), daemon=True, name="warm-up").start()
    print(f"coopgraph: serving on {url}", file=sys.stderr, flush=True)
    app_state = app.extensions["coopgraph"]
    for view in (app_state.totals, app_state.network):
        # derived views: read back or computed in the background once listening
        view.progress = lambda message: print(f"coopgraph: {message}", file=sys.stderr, flush=True)
        view.start()
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        app_state.network.close()
        app_state.totals.close()
        server.close()


def _warm(warm_up: Any, app: Any) -> None:
    """Prepare what the first write needs; a failure only costs that write the time."""
    try:
        warm_up(app)
    except Exception:  # noqa: BLE001 - the server serves on; the write will report it
        logging.getLogger("coopgraph.web").exception("warm-up failed")
