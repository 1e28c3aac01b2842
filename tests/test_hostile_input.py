"""Bad and hostile writes: the right status, a precise message, and the store unchanged
quad for quad (count + sha256 of the sorted N-Quads, conftest.store_fingerprint).

The broken fixtures and their expected outcome come from tests/data/invalid/expected.toml
(written with the shapes); the hostile bodies are built here.
"""

from __future__ import annotations

import io
import json
import tomllib
from collections.abc import Iterator
from typing import Any

import pyoxigraph as ox
import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient

from conftest import DATA, build_store, store_fingerprint
from coopgraph import entries
from coopgraph.cli import main
from coopgraph.errors import ParseError, ValidationFailed
from coopgraph.settings import Settings
from coopgraph.store import Store, open_store
from coopgraph.validate import Validator
from coopgraph.vocab import ENTRY_GRAPH_PREFIX, INFERRED_GRAPH, PROVENANCE_GRAPH, RDFS
from coopgraph.web import create_app

INVALID = DATA / "invalid"
EXPECTED: dict[str, dict[str, Any]] = tomllib.loads((INVALID / "expected.toml").read_text("utf-8"))
ALICE = {"Authorization": "Bearer alice-secret-token"}
TURTLE = {"Content-Type": "text/turtle"}
LIMIT = 4096
ORGANISATION = (DATA / "valid" / "new-organisation.ttl").read_bytes()


@pytest.fixture(scope="module")
def app(settings: Settings) -> Flask:
    """One app for the module: every test here checks that nothing was written."""
    return create_app(settings.replace(max_body_bytes=LIMIT), store=build_store(settings))


@pytest.fixture
def client(app: Flask) -> Iterator[FlaskClient]:
    with app.test_client() as client:
        yield client


@pytest.fixture
def store(app: Flask) -> Store:
    return app.extensions["coopgraph.store"]  # type: ignore[no-any-return]


@pytest.fixture
def unchanged(store: Store) -> Iterator[None]:
    """Fails the test when the store changed."""
    before = store_fingerprint(store)
    yield
    assert store_fingerprint(store) == before, "a refused write changed the store"


def test_every_fixture_has_an_expectation() -> None:
    files = {p.name for p in INVALID.iterdir() if p.suffix != ".toml"}
    assert files == set(EXPECTED)


# -- the broken fixtures -----------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_broken_fixture_over_http(
    client: FlaskClient, unchanged: None, name: str
) -> None:
    expected = EXPECTED[name]
    data = (INVALID / name).read_bytes()
    for lang, key in (("fr", "message"), ("en", "message_en")):
        if key not in expected:
            continue
        response = client.post(f"/entries?lang={lang}", data=data,
                               headers={**ALICE, **TURTLE, "Accept-Language": lang})
        body = response.get_json()
        if expected["exit"] == 1:
            assert response.status_code == 422, body
            results = body["report"]["results"]
            cited = [r for r in results if r["rule"] == expected["rule"]
                     or r.get("parentRule") == expected["rule"]]
            assert cited, f"{name}: {expected['rule']} not cited in {results}"
            assert any(expected[key] in r["message"] for r in cited), cited
            assert expected["rule"] in body["detail"]
        else:
            assert response.status_code == 400, body
            assert expected[key] in body["detail"]
            if "line" in expected:
                assert body["line"] == expected["line"]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_broken_fixture_through_the_pipeline(
    store: Store, unchanged: None, name: str
) -> None:
    expected = EXPECTED[name]
    path = INVALID / name
    error = ValidationFailed if expected["exit"] == 1 else ParseError
    with pytest.raises(error) as info:
        entries.add_entry(
            store, path.read_bytes(), path.suffix, graph=None, agent="alice",
            source=path.name, validator=Validator(store),
        )
    assert info.value.exit_code == expected["exit"]
    if expected["exit"] == 2:
        assert info.value.message.startswith(path.name + ":")


@pytest.fixture(scope="module")
def cli_store(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = str(tmp_path_factory.mktemp("hostile") / "store")
    assert CliRunner().invoke(main, ["load", "--store", path]).exit_code == 0
    return path


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_broken_fixture_through_the_cli(cli_store: str, name: str) -> None:
    expected = EXPECTED[name]
    store = open_store(cli_store)
    before = store_fingerprint(store)
    store.close()
    result = CliRunner().invoke(main, ["add", str(INVALID / name), "--store", cli_store])
    assert result.exit_code == expected["exit"], result.output
    if expected["exit"] == 1:
        assert expected["rule"] in result.stdout and expected["message"] in result.stdout
    else:
        assert expected["message"] in result.stderr
    store = open_store(cli_store)
    assert store_fingerprint(store) == before
    store.close()


# -- hostile bodies ----------------------------------------------------------------------


class _Recording(io.BytesIO):
    """A request body that remembers how much of it was read."""

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.consumed = 0

    def read(self, size: int | None = -1) -> bytes:
        chunk = super().read(size)
        self.consumed += len(chunk)
        return chunk


def test_oversized_body_is_refused_before_it_is_read(client: FlaskClient, unchanged: None) -> None:
    stream = _Recording(b"#" * (LIMIT * 4))
    response = client.post("/entries", input_stream=stream,
                           headers={**ALICE, **TURTLE, "Content-Length": str(LIMIT * 4)})
    assert response.status_code == 413
    assert f"{LIMIT} bytes" in response.get_json()["detail"]
    assert stream.consumed == 0


def test_oversized_body_without_length_is_cut_at_the_limit(
    client: FlaskClient, unchanged: None
) -> None:
    stream = _Recording(b"#" * (LIMIT * 4))
    response = client.post("/entries", input_stream=stream, headers={**ALICE, **TURTLE},
                           environ_overrides={"wsgi.input_terminated": True})
    assert response.status_code == 413
    assert stream.consumed <= LIMIT + 1


def test_json_ld_with_a_remote_context_is_refused(client: FlaskClient, unchanged: None) -> None:
    body = json.dumps({
        "@context": "https://evil.example.org/context.jsonld",
        "@id": "https://w3id.org/coopgraph/id/org/x", "name": "X",
    }).encode()
    response = client.post("/entries", data=body,
                           headers={**ALICE, "Content-Type": "application/ld+json"})
    assert response.status_code == 400
    detail = response.get_json()["detail"]
    assert "remote JSON-LD context" in detail and "evil.example.org" in detail


def test_rdf_xml_with_an_external_entity_is_refused(client: FlaskClient, unchanged: None) -> None:
    body = b"""<?xml version="1.0"?>
<!DOCTYPE rdf:RDF [ <!ENTITY xxe SYSTEM "file:///etc/passwd"> ]>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
         xmlns:rdfs="http://www.w3.org/2000/01/rdf-schema#">
  <rdf:Description rdf:about="https://w3id.org/coopgraph/id/org/xxe">
    <rdfs:label>&xxe;</rdfs:label>
  </rdf:Description>
</rdf:RDF>"""
    response = client.post("/entries", data=body,
                           headers={**ALICE, "Content-Type": "application/rdf+xml"})
    assert response.status_code == 400
    assert "ENTITY" in response.get_json()["detail"]
    assert b"root:" not in response.data


def test_rdf_xml_entity_expansion_bomb_is_refused(client: FlaskClient, unchanged: None) -> None:
    # e0 = "ha", e1 = ten e0, …: e9 would expand to 2 GB of text
    levels = '<!ENTITY e0 "ha">' + "".join(
        f'<!ENTITY e{i} "{f"&e{i - 1};" * 10}">' for i in range(1, 10)
    )
    body = f"""<?xml version="1.0"?>
<!DOCTYPE rdf:RDF [ {levels} ]>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
         xmlns:rdfs="http://www.w3.org/2000/01/rdf-schema#">
  <rdf:Description rdf:about="https://w3id.org/coopgraph/id/org/lol">
    <rdfs:label>&e9;</rdfs:label>
  </rdf:Description>
</rdf:RDF>""".encode()
    assert len(body) < LIMIT
    response = client.post("/entries", data=body,
                           headers={**ALICE, "Content-Type": "application/rdf+xml"})
    assert response.status_code == 400
    assert "entity declarations" in response.get_json()["detail"]


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer wrong-token-value"}, {"Authorization": "Basic YWxpY2U6eA=="}],
    ids=["missing", "wrong", "basic"],
)
def test_writes_without_a_valid_token_are_401(
    client: FlaskClient, unchanged: None, headers: dict[str, str]
) -> None:
    response = client.post("/entries", data=ORGANISATION, headers={**headers, **TURTLE})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="coopgraph"'
    assert "Bearer" in response.get_json()["detail"] or "not valid" in \
        response.get_json()["detail"]


@pytest.mark.parametrize("graph", [INFERRED_GRAPH, PROVENANCE_GRAPH, ENTRY_GRAPH_PREFIX + "other"])
def test_trig_naming_another_graph_is_refused(
    client: FlaskClient, unchanged: None, graph: str
) -> None:
    body = f"<{graph}> {{ <https://w3id.org/coopgraph/id/org/x> <{RDFS.label}> \"x\" }}".encode()
    response = client.put("/entries/target", data=body,
                          headers={**ALICE, "Content-Type": "application/trig"})
    assert response.status_code == 400
    assert "exactly one graph" in response.get_json()["detail"]


def test_rdf_12_triple_terms_are_refused(client: FlaskClient, unchanged: None) -> None:
    body = (b"<https://w3id.org/coopgraph/id/org/x> <http://example.org/says> "
            b"<<( <http://example.org/a> <http://example.org/b> <http://example.org/c> )>> .")
    response = client.post("/entries", data=body, headers={**ALICE, **TURTLE})
    assert response.status_code == 400
    assert "triple terms" in response.get_json()["detail"]


@pytest.mark.parametrize("entry_id", ["..%2Fontology", "%2E%2E", "UPPER", "a%20b"])
def test_odd_entry_ids_are_refused(client: FlaskClient, unchanged: None, entry_id: str) -> None:
    response = client.put(f"/entries/{entry_id}", data=ORGANISATION, headers={**ALICE, **TURTLE})
    assert response.status_code in (400, 404)
    assert response.get_json()["status"] == response.status_code


def test_update_syntax_in_literals_stays_a_literal(settings: Settings) -> None:
    """Text that looks like SPARQL UPDATE is data: the entry is written verbatim and no
    other graph changes."""
    store = build_store(settings)
    app = create_app(settings, store=store)
    label = 'Ville " } ; DROP ALL ; INSERT DATA { <http://x/a> <http://x/b> "c'
    body = ORGANISATION.replace(
        b'"Ville de Tournai (organisation de test)"@fr',
        ox.Literal(label, language="fr").__str__().encode(),
    )
    assert body != ORGANISATION

    def others() -> tuple[int, str]:
        kept = open_store(":memory:")
        kept.bulk_load(q for q in store.quads()
                       if q.graph_name.value not in (INFERRED_GRAPH, PROVENANCE_GRAPH)
                       and not q.graph_name.value.startswith(ENTRY_GRAPH_PREFIX))
        return store_fingerprint(kept)

    before = others()
    with app.test_client() as client:
        response = client.put("/entries/quoted", data=body, headers={**ALICE, **TURTLE})
    assert response.status_code == 201, response.get_json()
    labels = {q.object for q in store.quads(ENTRY_GRAPH_PREFIX + "quoted")
              if q.predicate.value == RDFS.label}
    assert ox.Literal(label, language="fr") in labels
    assert others() == before


def test_every_fixture_file_is_small() -> None:
    """The fixtures fit under the module's body limit (so the HTTP tests test them)."""
    assert all(p.stat().st_size < LIMIT for p in INVALID.iterdir())
