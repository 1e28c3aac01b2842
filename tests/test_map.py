"""``/api/map.json``: what the map draws, a maintained view (issue 12: read from the
store once per generation, never inside a request) that follows the writes."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from flask.testing import FlaskClient

from conftest import DATA
from coopgraph.settings import Settings
from coopgraph.store import Store
from coopgraph.web import create_app

ID = "https://w3id.org/coopgraph/id/"
OFFER = (DATA / "valid" / "new-offer.ttl").read_bytes()
NEW_OFFER = ID + "offer/test-lille-kortrijk-stage"
ALICE = {"Authorization": "Bearer alice-secret-token", "Content-Type": "text/turtle"}


@pytest.fixture
def client(settings: Settings, fresh_store: Store) -> Iterator[FlaskClient]:
    with create_app(settings, store=fresh_store).test_client() as client:
        yield client


def stations(body: dict) -> dict[tuple[str, str], dict]:
    return {(o["id"], s["id"]): s for o in body["offers"] for s in o["stations"]}


def within(store: Store) -> dict[str, set[str]]:
    """Every place and the places that contain it (``cg:within``, materialised)."""
    result = store.query(
        "SELECT ?a ?b WHERE { ?a <https://w3id.org/coopgraph/ontology#within> ?b }")
    out: dict[str, set[str]] = {}
    for row in result.dicts():  # type: ignore[union-attr]
        out.setdefault(row["a"].value, set()).add(row["b"].value)
    return out


def test_each_station_is_placed_at_itself_or_its_nearest_located_container(
    client: FlaskClient, fresh_store: Store,
) -> None:
    body = client.get("/api/map.json").get_json()
    located = {p["id"] for p in body["places"]}
    containers = within(fresh_store)
    placed = stations(body)
    assert placed, "the seeds' offers have duty stations"
    for (_, station), entry in placed.items():
        candidates = ({station} & located) | (containers.get(station, set()) & located)
        if not candidates:
            assert "lat" not in entry
            continue
        at = entry["located_at"]
        assert at in candidates
        # the nearest: no other located container of the station lies inside it
        assert at == station or not any(
            at in containers.get(other, set()) for other in candidates - {at})
    pellevoisin = placed[(ID + "offer/004-lille-participation-citoyenne",
                          ID + "place/saint-maurice-pellevoisin")]
    assert pellevoisin["located_at"] == ID + "place/lille"
    oujda = placed[(ID + "offer/000-lille-oujda", ID + "place/oujda")]
    assert (oujda["located_at"], oujda["country"]) == (ID + "place/oujda", ID + "place/morocco")


def test_status_and_labels_follow_the_request(client: FlaskClient) -> None:
    response = client.get("/api/map.json?asOf=2022-11-20&lang=en")
    assert response.status_code == 200
    assert response.headers["X-Coopgraph-Generation"].isdigit()
    body = response.get_json()
    assert body["asOf"] == "2022-11-20"
    assert {o["status"] for o in body["offers"]} <= {"valid", "not-yet", "expired", "undated"}
    assert all("status" not in o for o in client.get("/api/map.json").get_json()["offers"])
    assert client.get("/api/map.json?asOf=2022-13-45").status_code == 400
    morocco = ID + "place/morocco"
    station = stations(body)[(ID + "offer/001-brulocalis-maroc", morocco)]
    assert station["country_label_en"] == "Morocco"


def test_a_write_reaches_the_map(client: FlaskClient) -> None:
    before = client.get("/api/map.json")
    assert NEW_OFFER not in {o["id"] for o in before.get_json()["offers"]}
    assert client.put("/entries/map-test", data=OFFER, headers=ALICE).status_code == 201
    deadline = time.monotonic() + 60
    while True:  # the view is rebuilt in the background after the commit
        response = client.get("/api/map.json")
        offers = {o["id"]: o for o in response.get_json()["offers"]}
        if NEW_OFFER in offers or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert NEW_OFFER in offers
    assert int(response.headers["X-Coopgraph-Generation"]) > int(
        before.headers["X-Coopgraph-Generation"])
    [kortrijk] = offers[NEW_OFFER]["stations"]
    assert kortrijk["located_at"] == ID + "place/kortrijk"
    assert client.delete("/entries/map-test", headers=ALICE).status_code in (200, 204)
    deadline = time.monotonic() + 60
    while NEW_OFFER in {o["id"] for o in client.get("/api/map.json").get_json()["offers"]}:
        assert time.monotonic() < deadline, "the removed offer stayed on the map"
        time.sleep(0.2)
