"""Blueprint: what the map draws besides the network, ``GET /api/map.json``.

* ``places``: every entity with WGS84 coordinates (``geo:lat`` / ``geo:long``), with its
  label, type and page;
* ``offers``: every job offer with its duty stations, each placed at its own coordinates
  or, failing that, at those of the nearest place it lies in (``cg:within``: the deepest
  enclosing place with coordinates), else named with its country for the map to place on
  the base map; and its period: from the posting date to the deadline
  (``schema:datePosted`` → ``schema:validThrough``).

``?asOf=YYYY-MM-DD`` gives each offer a ``status``: ``valid`` (posted on or before the
date and not past its deadline), ``not-yet``, ``expired``, or ``undated`` when the dates
needed to decide are missing (an offer with no posting date is not "valid forever").
Dates keep their precision: a year (``xsd:gYear``) stays ``"2005"``.

What the map shows is a maintained view (:class:`~coopgraph.views.View`, issue 12): read
from the store once per store generation in the background (the four queries take
seconds at 1M triples), kept beside a disk store as ``<store>.map.pickle``, and each
answer rendered once per build, language and date. After a write the previous build
answers (``X-Coopgraph-Stale: true``) until the new one is ready.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask import Blueprint, Response, current_app, request
from flask.blueprints import BlueprintSetupState

from coopgraph import network
from coopgraph.errors import BadRequest
from coopgraph.netview import persist_path, store_fingerprint
from coopgraph.queries import internal_sparql
from coopgraph.store.base import Store
from coopgraph.views import BodyCache, View
from coopgraph.web.appstate import current_lang
from coopgraph.web.completion import best_label, label_candidates
from coopgraph.web.researchers import entity_href

bp = Blueprint("geo", __name__)

VIEW_KEY = "coopgraph.map"
#: Seconds a request waits for the first build of the map before a 503 with Retry-After.
FIRST_BUILD_WAIT = 30.0


def _day(value: str | None, *, end: bool = False) -> date | None:
    """The first (or last) day a date, a year-month or a year stands for."""
    if not value:
        return None
    try:
        return network.parse_date(value, end=end)
    except BadRequest:  # an unreadable date is an undated one
        return None


def offer_status(posted: str | None, deadline: str | None, as_of: date) -> str:
    """``valid``, ``not-yet``, ``expired`` or ``undated`` on ``as_of``.

    >>> offer_status("2022-11-03", "2022-12-03", date(2022, 11, 20))
    'valid'
    >>> offer_status(None, "2023-04-02", date(2000, 1, 1))
    'undated'
    >>> offer_status(None, "2023-04-02", date(2024, 1, 1))
    'expired'
    """
    start, end = _day(posted), _day(deadline, end=True)
    if end is not None and as_of > end:
        return "expired"
    if start is not None and as_of < start:
        return "not-yet"
    if start is None or end is None:
        return "undated"
    return "valid"


def _value(row: dict[str, Any], key: str) -> str | None:
    term = row.get(key)
    return term.value if term is not None else None


@dataclass(frozen=True)
class MapLayers:
    """What the map draws, read from the store, before labels and statuses are chosen."""

    #: id, lat, long, type (the local name of one schema.org type)
    places: list[dict[str, Any]]
    #: id, title, employer, posted, deadline, stations (id, lat/long/located_at, country)
    offers: list[dict[str, Any]]
    #: every label of the places, offers, employers, stations and countries: (tag, text)
    labels: dict[str, list[tuple[str, str]]]


def _rows(store: Store, name: str) -> list[dict[str, Any]]:
    return list(store.query(internal_sparql(name)).dicts())  # type: ignore[union-attr]


def _coordinates(row: dict[str, Any]) -> tuple[float, float] | None:
    """The row's ``?lat`` and ``?long`` as numbers; ``None`` when either is missing or
    not a number (such a place is left off the map)."""
    try:
        return float(row["lat"].value), float(row["long"].value)
    except (KeyError, ValueError):
        return None


def _nearest_located(store: Store) -> dict[str, tuple[float, float, str]]:
    """Each duty station's (lat, long, place): its own coordinates or its nearest enclosing
    place's. ``cg:within`` is transitive and materialised, so a place lies in every place
    that contains any of its containers: the deepest candidate is the nearest (the
    station itself when located); ties go to the smallest IRI."""
    best: dict[str, tuple[int, str, float, float]] = {}
    for row in _rows(store, "map-stations"):
        if (coordinates := _coordinates(row)) is None:
            continue
        lat, long = coordinates
        station, located = row["station"].value, row["located"].value
        rank = (-int(row["depth"].value), located, lat, long)
        if station not in best or rank < best[station]:
            best[station] = rank
    return {s: (lat, long, located) for s, (_, located, lat, long) in best.items()}


def read_layers(store: Store) -> MapLayers:
    """The places and offers of the map (four queries; labels for every IRI shown)."""
    places: list[dict[str, Any]] = []
    for row in _rows(store, "map-places"):
        if (coordinates := _coordinates(row)) is None:
            continue
        lat, long = coordinates
        places.append({"id": row["place"].value, "lat": lat, "long": long,
                       "type": (_value(row, "type") or "").rsplit("/", 1)[-1]})
    located = _nearest_located(store)
    countries: dict[str, str] = {}
    for row in _rows(store, "map-countries"):
        station, country = row["station"].value, row["country"].value
        countries[station] = min(country, countries.get(station, country))
    offers: dict[str, dict[str, Any]] = {}
    for row in _rows(store, "map-offers"):
        iri = row["offer"].value
        offer = offers.setdefault(iri, {
            "id": iri, "title": _value(row, "title"), "employer": _value(row, "employer"),
            "posted": _value(row, "posted"), "deadline": _value(row, "deadline"),
            "stations": {},
        })
        station = _value(row, "station")
        if station is None or station in offer["stations"]:
            continue
        entry: dict[str, Any] = {"id": station}
        if station in located:
            lat, long, at = located[station]
            entry.update(lat=lat, long=long, located_at=at)
        if station in countries:
            entry["country"] = countries[station]
        offer["stations"][station] = entry
    iris = {p["id"] for p in places}
    for offer in offers.values():
        iris.update((offer["id"], offer["employer"] or ""))
        for entry in offer["stations"].values():
            iris.update((entry["id"], entry.get("country", "")))
    iris.discard("")
    return MapLayers(
        places=sorted(places, key=lambda p: p["id"]),
        offers=[offers[k] for k in sorted(offers)],
        labels=label_candidates(store, sorted(iris)),
    )


def map_data(layers: MapLayers, as_of: date | None, lang: str) -> dict[str, Any]:
    """Places with coordinates and offers at their duty stations (see the module doc),
    labelled in ``lang``, each offer with its status on ``as_of`` when given."""

    def label(iri: str | None, fallback: str | None) -> str | None:
        candidates = layers.labels.get(iri or "")
        return best_label(candidates, lang) if candidates else fallback

    places = [place | {"label": label(place["id"], place["id"].rsplit("/", 1)[-1]),
                       "href": entity_href(place["id"])} for place in layers.places]
    offers = []
    for stored in layers.offers:
        offer = {k: v for k, v in stored.items() if k != "stations"}
        offer["href"] = entity_href(offer["id"])
        offer["title"] = offer["title"] or label(offer["id"], offer["id"])
        offer["employer_label"] = label(offer["employer"], None)
        stations = []
        for entry in stored["stations"].values():
            station = dict(entry, href=entity_href(entry["id"]),
                           label=label(entry["id"], entry["id"].rsplit("/", 1)[-1]))
            if "country" in entry:
                candidates = layers.labels.get(entry["country"])
                station["country_label_en"] = best_label(candidates, "en") if candidates else None
            stations.append(station)
        offer["stations"] = stations
        if as_of is not None:
            offer["status"] = offer_status(offer["posted"], offer["deadline"], as_of)
        offers.append(offer)
    return {"asOf": as_of.isoformat() if as_of else None, "places": places, "offers": offers}


def map_view(store: Store) -> View[MapLayers]:
    """The maintained map layers of ``store`` (kept beside a disk store)."""
    return View("map", store, lambda progress: read_layers(store),
                fingerprint=lambda: store_fingerprint(store), persist=persist_path(store, "map"))


@bp.record_once
def _keep_map(setup: BlueprintSetupState) -> None:
    """One view per app, on the app's store (``coopgraph serve`` starts it at once), and
    the rendered answers of its latest builds."""
    app = setup.app
    app.extensions[VIEW_KEY] = map_view(app.extensions["coopgraph"].store)
    app.extensions[VIEW_KEY + ".bodies"] = BodyCache(size=12)


@bp.get("/api/map.json")
def api_map() -> Response:
    """Places and offers for the map; ``?asOf=`` adds each offer's status.

    :raises BadRequest: a malformed date.
    :raises ViewNotReady: the first build is not finished after 30 s (503).
    """
    as_of_text = request.args.get("asOf", "").strip()
    as_of = network.parse_date(as_of_text) if as_of_text else None
    view: View[MapLayers] = current_app.extensions[VIEW_KEY]
    built = view.get(wait=FIRST_BUILD_WAIT)
    lang = current_lang()
    key = (built.generation, built.built_at, as_of, lang, request.url_root)
    body = current_app.extensions[VIEW_KEY + ".bodies"].get(
        key, lambda: json.dumps(map_data(built.value, as_of, lang), ensure_ascii=False))
    response = Response(body, mimetype="application/json")
    response.headers["X-Coopgraph-Generation"] = str(built.generation)
    response.headers["X-Coopgraph-Stale"] = "true" if view.stale else "false"
    return response
