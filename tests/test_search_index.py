"""The search index (coopgraph.search): kept in step with add / replace / remove through
the entries pipeline, HTTP and the CLI, rebuilt when it does not match its store."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest
from click.testing import CliRunner
from flask.testing import FlaskClient

from conftest import DATA
from coopgraph import entries, events, provenance
from coopgraph.cli import main
from coopgraph.lookup import lookup
from coopgraph.search import FILE_NAME, attach, index_for, store_fingerprint
from coopgraph.search.build import build_elsewhere, open_target, write_index
from coopgraph.search.terms import store_rows, store_tsv
from coopgraph.settings import Settings
from coopgraph.store import Store
from coopgraph.store.base import Changes
from coopgraph.store.embedded import EmbeddedStore
from coopgraph.validate import Validator
from coopgraph.vocab import ENTRY_GRAPH_PREFIX, ID, RDFS
from coopgraph.web import create_app

ORGANISATION = (DATA / "valid" / "new-organisation.ttl").read_bytes()
PARTNERSHIP = (DATA / "valid" / "new-partnership.ttl").read_bytes()
TOURNAI = ID["org/test-commune-tournai"]
PLACES = "https://w3id.org/coopgraph/graph/reference/places"
ALICE = {"Authorization": "Bearer alice-secret-token", "Content-Type": "text/turtle"}


def found(store: Store, text: str) -> set[str]:
    return {m.iri for m in lookup(store, text)}


def test_add_replace_remove_through_entries(fresh_store: Store) -> None:
    assert TOURNAI not in found(fresh_store, "Doornik")
    validator = Validator(fresh_store)
    write = {"agent": "alice", "source": "test", "validator": validator}
    entries.add_entry(fresh_store, ORGANISATION, "turtle", graph="tournai", **write)
    assert TOURNAI in found(fresh_store, "Doornik")
    assert TOURNAI in found(fresh_store, "stad doorn")
    entries.replace_entry(fresh_store, PARTNERSHIP, "turtle", graph="tournai", **write)
    assert TOURNAI not in found(fresh_store, "Doornik")
    entries.replace_entry(fresh_store, ORGANISATION, "turtle", graph="tournai", **write)
    assert TOURNAI in found(fresh_store, "Doornik")
    entries.remove_entry(fresh_store, "tournai", agent="alice", source="test")
    assert TOURNAI not in found(fresh_store, "Doornik")
    assert index_for(fresh_store).state == "ready"


@pytest.fixture
def client(settings: Settings, fresh_store: Store) -> Iterator[FlaskClient]:
    with create_app(settings, store=fresh_store).test_client() as client:
        yield client


def iris(client: FlaskClient, text: str) -> set[str]:
    response = client.get("/lookup", query_string={"q": text, "limit": 10})
    assert response.status_code == 200
    body = response.get_json()
    assert body["index"] == "ready"
    return {m["iri"] for m in body["matches"]}


def test_add_replace_remove_through_http(client: FlaskClient) -> None:
    assert TOURNAI not in iris(client, "doornik")
    assert client.put("/entries/tournai", data=ORGANISATION, headers=ALICE).status_code == 201
    assert TOURNAI in iris(client, "doornik")
    assert client.put("/entries/tournai", data=PARTNERSHIP, headers=ALICE).status_code == 200
    assert TOURNAI not in iris(client, "doornik")
    assert client.put("/entries/tournai", data=ORGANISATION, headers=ALICE).status_code == 200
    assert client.delete("/entries/tournai", headers=ALICE).status_code == 200
    assert TOURNAI not in iris(client, "doornik")


def label(entity: str, text: str, graph: str) -> ox.Quad:
    return ox.Quad(ox.NamedNode(entity), ox.NamedNode(RDFS.label), ox.Literal(text),
                   ox.NamedNode(graph))


def commit(store: Store, graph: str, *, insert=(), remove=()) -> None:
    """A write as the pipeline does it: transaction with provenance, then the event."""
    store.apply(Changes(
        delete=list(remove),
        insert=[*insert, *provenance.activity(provenance.ADDED, graph, agent="t")],
    ))
    events.publish(store, events.Commit((graph,), removed=tuple(remove), inserted=tuple(insert)))


def test_a_label_from_two_graphs_survives_the_removal_of_one() -> None:
    store = EmbeddedStore(None)
    entity, g1, g2 = ID["org/zephyr"], ENTRY_GRAPH_PREFIX + "a", ENTRY_GRAPH_PREFIX + "b"
    assert found(store, "Zephyr") == set()
    first, second = label(entity, "Zephyr", g1), label(entity, "Zephyr", g2)
    commit(store, g1, insert=[first])
    commit(store, g2, insert=[second, label(entity, "Zéphyr Ouest", g2)])
    assert found(store, "zephyr ou") == {entity}
    commit(store, g1, remove=[first])
    assert found(store, "Zephyr") == {entity}
    commit(store, g2, remove=[second])
    assert [m.matched for m in lookup(store, "zephyr")] == ["Zéphyr Ouest"]
    assert index_for(store).size() == 1


def test_subjects_outside_cgid_and_inferred_graph_are_not_indexed() -> None:
    store = EmbeddedStore(None)
    graph = ENTRY_GRAPH_PREFIX + "x"
    commit(store, graph, insert=[label("http://example.org/zephyr", "Zephyr", graph)])
    commit(store, graph, insert=[label(ID["org/z"], "Zephyr", str(ID).replace(
        "/id/", "/graph/") + "inferred")])
    assert found(store, "Zephyr") == set()


def disk_store(path: Path) -> EmbeddedStore:
    store = EmbeddedStore(path)
    attach(store)
    return store


def test_on_disk_index_rebuilt_when_it_does_not_match(tmp_path: Path) -> None:
    graph = ENTRY_GRAPH_PREFIX + "x"
    store = disk_store(tmp_path / "store")
    commit(store, graph, insert=[label(ID["org/a"], "Alpha", graph)])
    assert found(store, "alpha") == {ID["org/a"]}
    assert (tmp_path / "store" / FILE_NAME).exists()
    store.close()
    del store

    # reopened: the fingerprint matches, nothing is rebuilt
    store = EmbeddedStore(tmp_path / "store")
    index = attach(store)
    assert index.state == "ready"
    # a write the index does not see (no event): the next start finds a mismatch
    store.apply(Changes(insert=[label(ID["org/b"], "Beta", graph),
                                *provenance.activity(provenance.ADDED, graph, agent="t")]))
    store.close()
    del store, index

    store = EmbeddedStore(tmp_path / "store")
    index = attach(store)
    assert index.state == "stale"
    assert found(store, "beta") == {ID["org/b"]} and index.state == "ready"
    conn = sqlite3.connect(tmp_path / "store" / FILE_NAME)
    fingerprint = conn.execute("SELECT value FROM meta WHERE key = 'fingerprint'").fetchone()
    assert fingerprint[0] == store_fingerprint(store)
    store.close()


def test_background_rebuild_answers_with_building_then_ready(tmp_path: Path) -> None:
    graph = ENTRY_GRAPH_PREFIX + "x"
    store = EmbeddedStore(tmp_path / "store")
    store.apply(Changes(insert=[label(ID["org/a"], "Alpha", graph)]))
    index = attach(store, background=True)
    assert index.state in ("building", "ready")
    assert index.wait(30)
    assert found(store, "alpha") == {ID["org/a"]}
    # a full load marks it stale and rebuilds it in the background again
    store.apply(Changes(insert=[label(ID["org/c"], "Gamma", graph)]))
    events.publish(store, events.Commit((graph,), everything=True))
    assert index.wait(30) and found(store, "gamma") == {ID["org/c"]}
    store.close()


def test_the_separate_build_writes_the_same_index_as_this_process(
    tmp_path: Path, fresh_store: Store
) -> None:
    """serve's background rebuild (a forked low-priority child given the rows query's
    TSV answer) and a rebuild here give the same rows and fingerprint."""
    fingerprint = store_fingerprint(fresh_store)
    here = open_target(str(tmp_path / "here.sqlite3"))
    count = write_index(here, store_rows(fresh_store), fingerprint)
    tsv = store_tsv(fresh_store)
    assert tsv is not None
    assert build_elsewhere(str(tmp_path / "there.sqlite3"), fingerprint, tsv) == count > 100
    there = sqlite3.connect(tmp_path / "there.sqlite3")
    table = "SELECT * FROM terms ORDER BY id"
    assert here.execute(table).fetchall() == there.execute(table).fetchall()
    meta = "SELECT key, value FROM meta ORDER BY key"
    assert here.execute(meta).fetchall() == there.execute(meta).fetchall()


def test_cli_writes_keep_the_on_disk_index_in_step(tmp_path: Path) -> None:
    store_dir = str(tmp_path / "store")
    runner = CliRunner()
    first = runner.invoke(main, ["lookup", "--store", store_dir, "--json", "Oujda"])
    assert first.exit_code == 0, first.output
    organisation = DATA / "valid" / "new-organisation.ttl"
    added = runner.invoke(main, ["add", str(organisation), "--graph", "tournai",
                                 "--agent", "alice", "--store", store_dir])
    assert added.exit_code == 0, added.output
    store = EmbeddedStore(store_dir)
    index = attach(store)
    assert index.state == "ready"  # the CLI's write updated the index and its fingerprint
    assert TOURNAI in found(store, "Doornik")
    store.close()
    del store, index
    removed = runner.invoke(main, ["remove", "--graph", "tournai", "--agent", "alice",
                                   "--store", store_dir])
    assert removed.exit_code == 0, removed.output
    got = runner.invoke(main, ["lookup", "--store", store_dir, "--json", "Doornik"])
    assert got.exit_code == 0 and TOURNAI not in got.output


def test_entity_404_suggests_known_names(client: FlaskClient) -> None:
    response = client.get("/id/org/ville-de-lile")
    assert response.status_code == 404
    assert "did you mean cgid:org/ville-de-lille (Ville de Lille)" in response.get_json()["detail"]
    assert "did you mean" not in client.get("/id/org/zzzz-qqqq").get_json()["detail"]


def test_spreadsheet_resolver_did_you_mean(project_store: Store) -> None:
    from coopgraph.tabular.cells import CellError
    from coopgraph.tabular.resolver import Resolver

    with pytest.raises(CellError) as caught:
        Resolver(project_store).entity("Ville de Lile", "org")
    assert "did you mean “Ville de Lille”" in caught.value.messages["en"]


def test_commit_with_quads_and_everything_is_applied_not_rebuilt() -> None:
    """The bulk import sets ``everything`` (deferred inferences) but lists its quads: the
    index applies them and stays ready; a load without quads marks it stale."""
    store = EmbeddedStore(None)
    graph = ENTRY_GRAPH_PREFIX + "bulk"
    index = index_for(store)
    assert found(store, "anything") == set() and index.state == "ready"
    quad = label(ID["org/omega"], "Omega", graph)
    store.apply(Changes(insert=[quad, *provenance.activity(provenance.ADDED, graph, agent="t")]))
    events.publish(store, events.Commit((graph,), inserted=(quad,), everything=True))
    assert index.state == "ready" and found(store, "omeg") == {ID["org/omega"]}
    events.publish(store, events.Commit((graph,), everything=True))
    assert index.state == "stale"
    assert found(store, "omega") == {ID["org/omega"]} and index.state == "ready"


def test_remote_store_index_in_a_local_file(
    virtuoso_url: str, settings: Settings, project_store: Store, tmp_path: Path
) -> None:
    """Virtuoso: the index is built from the remote store into a local file and ranks as
    on the embedded store (datatypes as Virtuoso reports them do not change the rows)."""
    from coopgraph.load import load_project
    from coopgraph.store.remote import RemoteStore

    remote = RemoteStore(virtuoso_url, timeout=20.0)
    load_project(remote, settings)
    index = attach(remote, tmp_path / "remote-index.sqlite3")
    for text in ("Oujda", "Q648", "59350", "lil", "Région"):
        expected = [(m.iri, m.score, m.matched) for m in lookup(project_store, text)]
        assert [(m.iri, m.score, m.matched) for m in lookup(remote, text)] == expected, text
    assert index.state == "ready" and (tmp_path / "remote-index.sqlite3").exists()
    quads = list(remote.quads(PLACES))
    rows_before = index.size()
    # the rows of a graph as the store reports it are the rows its quads give (same keys)
    events.publish(remote, events.Commit((PLACES,), removed=tuple(quads)))
    assert index.size() < rows_before
    events.publish(remote, events.Commit((PLACES,), inserted=tuple(quads)))
    assert index.size() == rows_before
    remote.close()


def test_lookup_route_suggests_when_nothing_matches(client: FlaskClient) -> None:
    body = client.get("/lookup", query_string={"q": "Oujdda"}).get_json()
    assert body["matches"] == []
    assert ID["place/oujda"] in [s["iri"] for s in body["suggestions"]]
    assert "suggestions" not in client.get("/lookup?q=Oujda").get_json()


def test_writes_keep_the_fingerprint_without_reading_the_whole_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, settings: Settings
) -> None:
    """Each write's activities bring the recorded fingerprint up to date (no query of
    every activity on the write's path: 40–170 ms at 1M); it equals the store's, so the
    next start trusts the index."""
    from coopgraph.search import index as index_module

    organisation = (DATA / "valid" / "new-organisation.ttl").read_bytes()
    from coopgraph.load import load_project

    store = disk_store(tmp_path / "store")
    index = attach(store)
    load_project(store, settings)
    found(store, "Lille")  # rebuilt after the load: the fingerprint is known
    assert index.state == "ready"
    validator = Validator(store)
    asked: list[int] = []
    real = index_module.store_fingerprint
    monkeypatch.setattr(index_module, "store_fingerprint",
                        lambda s: asked.append(1) or real(s))
    for _ in range(2):  # added, then replaced
        entries.replace_entry(store, organisation, "ttl", graph="fp", agent="alice",
                              source="t.ttl", validator=validator, create=True)
    entries.remove_entry(store, ENTRY_GRAPH_PREFIX + "fp", agent="alice", source="t")
    assert asked == []
    conn = sqlite3.connect(tmp_path / "store" / FILE_NAME)
    recorded = conn.execute("SELECT value FROM meta WHERE key = 'fingerprint'").fetchone()[0]
    conn.close()
    assert recorded == real(store)
    store.close()
