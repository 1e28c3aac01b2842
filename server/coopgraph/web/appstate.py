"""The app's state and the request helpers every blueprint shares: :func:`state`, the one
accessor of what ``create_app`` built (settings, store, caches), the visitor's language,
and the maintained graph totals.

Blueprints import this module, never the :mod:`coopgraph.web` package that registers them
(the package imports every blueprint: importing it back made an import cycle, issue 15).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from flask import Response, current_app, request

from coopgraph import i18n
from coopgraph.netview import NetworkView
from coopgraph.queries import CatalogQuery
from coopgraph.settings import Settings
from coopgraph.store.base import Store
from coopgraph.summary import GraphTotals
from coopgraph.views import BodyCache, View
from coopgraph.web.writequeue import WriteQueue

if TYPE_CHECKING:
    from coopgraph.rules import Rule


@dataclass
class Stats:
    """Counters shown on ``/stats``; thread-safe."""

    started: float = field(default_factory=time.time)
    queries: int = 0
    errors: int = 0
    timeouts: int = 0
    truncated: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def count(self, name: str) -> None:
        with self._lock:
            setattr(self, name, getattr(self, name) + 1)

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "queries": self.queries,
                "errors": self.errors,
                "timeouts": self.timeouts,
                "truncated": self.truncated,
                "uptime_seconds": round(time.time() - self.started, 1),
            }


@dataclass
class AppState:
    """What the views need, kept in ``app.extensions["coopgraph"]``."""

    settings: Settings
    store: Store
    stats: Stats
    catalog: list[CatalogQuery]
    #: the actor network, its metrics and layout: one build per store generation
    network: NetworkView
    #: named graphs' sizes and totals by kind (``/stats``): one build per generation
    totals: View[GraphTotals]
    #: VoID and the service description, rendered once per build of ``totals``
    descriptions: BodyCache = field(default_factory=lambda: BodyCache(size=16))
    #: writes take turns in it (:mod:`coopgraph.web.writequeue`)
    write_queue: WriteQueue = field(default_factory=WriteQueue)
    #: the validation rules of the shapes graph (``/rules``), read on first use
    rules: list[Rule] | None = None
    #: the writes' validators by store id (:func:`coopgraph.web.writing.get_validator`)
    validators: dict[int, Any] = field(default_factory=dict)


def state() -> AppState:
    """The current app's :class:`AppState`."""
    return current_app.extensions["coopgraph"]  # type: ignore[no-any-return]


#: How long a request waits for the very first count of the graph totals (later requests
#: read the newest count at once, even while a recount after a write runs).
TOTALS_FIRST_BUILD_WAIT = 30.0


def maintained_totals() -> GraphTotals:
    """The maintained graph sizes (``/stats``, VoID, the service description):
    one count per store generation, never one per request (1.5 s at 1M triples)."""
    return state().totals.get(wait=TOTALS_FIRST_BUILD_WAIT).value


def described(kind: str, variant: str, render: Callable[[], Response]) -> Response:
    """A dataset description (VoID, the service description: one line per named graph,
    megabytes at 1M triples) rendered once per build of the graph totals and ``variant``
    (format, language), then served from memory."""
    app_state = state()
    built = app_state.totals.get(wait=TOTALS_FIRST_BUILD_WAIT)
    key = (kind, built.generation, built.built_at, variant, request.url_root, current_lang())

    def frozen() -> tuple[bytes, str, list[tuple[str, str]]]:
        response = render()
        return response.get_data(), response.content_type, list(response.headers.items())

    body, content_type, headers = app_state.descriptions.get(key, frozen)
    response = Response(body, content_type=content_type)
    for name, value in headers:
        if name.lower() not in ("content-type", "content-length"):
            response.headers[name] = value
    return response


#: The cookie that keeps the visitor's language choice across pages and forms.
LANG_COOKIE = "coopgraph_lang"
SUPPORTED_LANGS = i18n.LANGS


def current_lang() -> str:
    """The visitor's language, ``fr``, ``en`` or ``nl``: ``?lang=``, then the language
    cookie, then Accept-Language, then the configured default."""
    supported = SUPPORTED_LANGS
    asked = request.args.get("lang", "").lower()
    if asked in supported:
        return asked
    kept = request.cookies.get(LANG_COOKIE, "").lower()
    if kept in supported:
        return kept
    best = request.accept_languages.best_match(supported)
    if best:
        return best
    default = state().settings.lang
    return default if default in supported else i18n.DEFAULT_LANG
