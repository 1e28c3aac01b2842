"""Blueprint: what the map draws besides the network, ``GET /api/map.json``.

* ``places``: every entity with WGS84 coordinates (``geo:lat`` / ``geo:long``), with its
  label, type and page;
* ``offers``: every job offer with its duty stations, each placed at its own coordinates
  or, failing that, at those of the nearest place it lies in (``cg:within``), else named
  with its country for the map to place on the base map; and its period: from the
  posting date to the deadline (``schema:datePosted`` → ``schema:validThrough``).

``?asOf=YYYY-MM-DD`` gives each offer a ``status``: ``valid`` (posted on or before the
date and not past its deadline), ``not-yet``, ``expired``, or ``undated`` when the dates
needed to decide are missing (an offer with no posting date is not "valid forever").
Dates keep their precision: a year (``xsd:gYear``) stays ``"2005"``.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, Response, jsonify, request

from coopgraph import network
from coopgraph.errors import BadRequest
from coopgraph.queries import internal_sparql
from coopgraph.web.appstate import current_lang, state
from coopgraph.web.completion import labels_of
from coopgraph.web.researchers import entity_href

bp = Blueprint("geo", __name__)

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


def map_data(as_of: date | None, lang: str) -> dict[str, Any]:
    """Places with coordinates and offers at their duty stations (see the module doc)."""
    store = state().store
    places: list[dict[str, Any]] = []
    for row in store.query(internal_sparql("map-places")).dicts():  # type: ignore[union-attr]
        try:
            lat, long = float(row["lat"].value), float(row["long"].value)
        except (KeyError, ValueError):
            continue
        places.append({"id": row["place"].value, "lat": lat, "long": long,
                       "type": (_value(row, "type") or "").rsplit("/", 1)[-1]})
    offers: dict[str, dict[str, Any]] = {}
    for row in store.query(internal_sparql("map-offers")).dicts():  # type: ignore[union-attr]
        iri = row["offer"].value
        offer = offers.setdefault(iri, {
            "id": iri, "href": entity_href(iri), "title": _value(row, "title"),
            "employer": _value(row, "employer"), "posted": _value(row, "posted"),
            "deadline": _value(row, "deadline"), "stations": {},
        })
        station = _value(row, "station")
        if station is None:
            continue
        entry = offer["stations"].setdefault(station, {"id": station, "href": entity_href(station)})
        if "lat" not in entry and row.get("lat") is not None:
            entry.update(lat=float(row["lat"].value), long=float(row["long"].value),
                         located_at=_value(row, "located"))
        if row.get("country") is not None:
            entry["country"] = row["country"].value
    iris = [p["id"] for p in places]
    for offer in offers.values():
        iris += [offer["id"], offer["employer"] or ""]
        for station in offer["stations"].values():
            iris += [station["id"], station.get("country", "")]
    labels = labels_of(sorted({i for i in iris if i}), lang)
    for place in places:
        place["label"] = labels.get(place["id"], place["id"].rsplit("/", 1)[-1])
        place["href"] = entity_href(place["id"])
    out_offers = []
    for offer in sorted(offers.values(), key=lambda o: o["id"]):
        offer["title"] = offer["title"] or labels.get(offer["id"], offer["id"])
        offer["employer_label"] = labels.get(offer["employer"] or "", None)
        stations = list(offer.pop("stations").values())
        for station in stations:
            station["label"] = labels.get(station["id"], station["id"].rsplit("/", 1)[-1])
            if "country" in station:
                station["country_label_en"] = labels_of([station["country"]], "en").get(
                    station["country"])
        offer["stations"] = stations
        if as_of is not None:
            offer["status"] = offer_status(offer["posted"], offer["deadline"], as_of)
        out_offers.append(offer)
    return {"asOf": as_of.isoformat() if as_of else None, "places": places,
            "offers": out_offers}


@bp.get("/api/map.json")
def api_map() -> Response:
    """Places and offers for the map; ``?asOf=`` adds each offer's status.

    :raises BadRequest: a malformed date.
    """
    as_of_text = request.args.get("asOf", "").strip()
    as_of = network.parse_date(as_of_text) if as_of_text else None
    return jsonify(map_data(as_of, current_lang()))
