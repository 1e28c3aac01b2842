"""store/isolated.py: the store in a child process; timeouts and crashes stop a worker only."""

from __future__ import annotations

import csv
import io
import json
import threading
import time
from collections.abc import Callable

import pyoxigraph as ox
import pytest
import rdflib

from coopgraph.errors import (
    NotAcceptable,
    QuerySyntaxError,
    QueryTimeout,
    StartupError,
    StoreError,
)
from coopgraph.formats import rdf_format, result_format
from coopgraph.store import Changes, Dataset, Solutions
from coopgraph.store.base import SerializedResult, serializing
from coopgraph.store.embedded import EmbeddedStore
from coopgraph.store.isolated import IsolatedStore

G = ox.NamedNode("https://w3id.org/coopgraph/graph/entry/test")
CARTESIAN = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?p ?x . ?b ?q ?y . ?c ?r ?z . ?d ?s ?w }"


def eventually(condition: Callable[[], bool], seconds: float = 60.0) -> bool:
    """``condition()`` became true within ``seconds`` (the runaway's child is killed on
    another thread, after its reader got the timeout)."""
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.05)
    return condition()


@pytest.fixture
def store(tmp_path):
    st = IsolatedStore(tmp_path / "store", threads=4)
    st.apply(
        Changes(
            insert=[
                ox.Quad(
                    ox.NamedNode(f"http://example.org/s{i}"),
                    ox.NamedNode("http://example.org/p"),
                    ox.Literal(str(i)),
                    G,
                )
                for i in range(2000)
            ]
        )
    )
    yield st
    st.close()


def test_reads_and_writes_go_through_the_child(store):
    assert store.graph_sizes() == {G.value: 2000}
    result = store.query("SELECT ?o WHERE { <http://example.org/s7> ?p ?o }")
    assert isinstance(result, Solutions) and result.rows[0][0] == ox.Literal("7")


def test_limit_flags_truncation(store):
    result = store.query("SELECT * WHERE { ?s ?p ?o }", limit=10)
    assert len(result) == 10 and result.truncated


def test_syntax_error_keeps_its_class_and_position(store):
    with pytest.raises(QuerySyntaxError, match="1:"):
        store.query("SELECT * WHERE { ?s ?p }")


def test_runaway_query_times_out_and_others_keep_answering(store):
    answers = []

    def normal() -> None:
        answers.append(store.query("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }", timeout=20))

    with pytest.raises(QueryTimeout):
        thread = threading.Thread(target=normal)
        thread.start()
        store.query(CARTESIAN, timeout=1.0)
    thread.join()
    assert answers and int(answers[0].rows[0][0].value) == 2000
    assert eventually(lambda: store.restarts == 1)
    assert store.graph_sizes() == {G.value: 2000}


def test_a_timeout_does_not_wait_for_the_new_child(store, monkeypatch):
    """The reader gets its QueryTimeout while the replacement child is still starting
    (1-2 s on a busy machine); calls made meanwhile wait for it and are answered."""
    starting, go_on = threading.Event(), threading.Event()
    start_child = store._start_child

    def slow_start() -> None:
        starting.set()
        go_on.wait(60)
        start_child()

    monkeypatch.setattr(store, "_start_child", slow_start)
    outcome: list[BaseException] = []

    def runaway() -> None:
        try:
            store.query(CARTESIAN, timeout=1.0)
        except Exception as exc:  # noqa: BLE001 - checked below
            outcome.append(exc)

    reader = threading.Thread(target=runaway)
    reader.start()
    reader.join(60)
    try:
        assert not reader.is_alive() and isinstance(outcome[0], QueryTimeout)
        assert starting.wait(60) and not go_on.is_set()  # the new child is still starting
        later: list[dict[str, int]] = []
        waiting = threading.Thread(target=lambda: later.append(store.graph_sizes()))
        waiting.start()
    finally:
        go_on.set()
    waiting.join(60)
    assert later == [{G.value: 2000}]
    assert store.restarts == 1


def test_truth_testing_a_store_counts_nothing(store, monkeypatch):
    """``if store`` used to call ``__len__``: a count of every quad (0.6 s at 1M triples
    holding the store process) on every ``GET /data``."""
    calls: list[str] = []
    call = store._call
    monkeypatch.setattr(store, "_call", lambda method, *a, **k: calls.append(method)
                        or call(method, *a, **k))
    assert store and calls == []
    assert len(store) == 2000 and calls == ["count"]


def test_quads_cross_the_pipe_exactly(store):
    """Writes and quad reads cross the pipe as N-Quads (coopgraph.store.wire): blank
    nodes, language tags, lexical forms, the default graph and deletions survive; so do
    the terms of lookup patterns."""
    b, p = ox.BlankNode("b1"), ox.NamedNode("http://example.org/p")
    custom = ox.NamedNode("http://example.org/datatype")
    added = [
        ox.Quad(b, p, ox.Literal("Lille\n\"x\"", language="fr"), G),
        ox.Quad(ox.NamedNode("http://example.org/s0"), ox.NamedNode("http://example.org/q"),
                ox.Literal(" 01.50 ", datatype=custom), G),
        ox.Quad(b, p, ox.Literal("d")),  # default graph
    ]
    gone = ox.Quad(ox.NamedNode("http://example.org/s1"), ox.NamedNode("http://example.org/p"),
                   ox.Literal("1"), G)
    store.apply(Changes(insert=added))  # a plain insertion is stored as given
    inside = set(store.quads(G.value))
    assert set(added[:2]) <= inside and gone in inside and len(inside) == 2002
    store.apply(Changes(delete=[gone]))
    assert set(store.quads(G.value)) == inside - {gone}
    found = store.match([(b, None, None, None), (None, None, added[1].object, G.value)])
    assert set(found[0]) >= {added[0]} and found[1] == [added[1]]
    # lookup patterns cross packed (wire.pack_patterns): each term exactly, choices too
    found = store.match([(b, p, added[0].object, G.value),
                         ((b, added[1].subject), None, (added[0].object, added[1].object), None)])
    assert found[0] == [added[0]] and set(found[1]) == set(added[:2])


def test_engine_crash_restarts_worker(store):
    deep = "SELECT * WHERE " + "{" * 6000 + "?s ?p ?o" + "}" * 6000
    pid = store.worker_pid
    with pytest.raises(StoreError, match="crashed"):
        store.query(deep, timeout=30)
    assert bool(store.query("ASK { ?s ?p ?o }", timeout=10))
    assert store.worker_pid != pid


# --- query_serialized: the child serialises, only bytes cross the pipe ------------------

SELECT_SOME = (
    "SELECT ?s ?o ?none WHERE { ?s <http://example.org/p> ?o "
    "OPTIONAL { ?s <http://example.org/none> ?none } } ORDER BY ?s LIMIT 50"
)
_OX_RESULTS = {"json": ox.QueryResultsFormat.JSON, "xml": ox.QueryResultsFormat.XML,
               "tsv": ox.QueryResultsFormat.TSV}


def _parsed_rows(body: bytes, name: str) -> list[tuple[ox.NamedNode | ox.Literal | None, ...]]:
    parsed = ox.parse_query_results(body, _OX_RESULTS[name])
    assert isinstance(parsed, ox.QuerySolutions)
    names = [v.value for v in parsed.variables]
    return [tuple(solution[v] for v in names) for solution in parsed]  # type: ignore[misc]


@pytest.mark.parametrize("name", ["json", "xml", "tsv"])
def test_query_serialized_parses_back_to_the_rows_of_query(store, name: str) -> None:  # type: ignore[no-untyped-def]
    expected = store.query(SELECT_SOME)
    out = store.query_serialized(SELECT_SOME, result_format(name), limit=1000)
    assert (out.form, out.rows, out.truncated) == ("SELECT", 50, False)
    assert _parsed_rows(out.body, name) == expected.rows


def test_query_serialized_csv_and_rdflib(store) -> None:  # type: ignore[no-untyped-def]
    expected = store.query(SELECT_SOME)
    out = store.query_serialized(SELECT_SOME, result_format("csv"))
    rows = list(csv.reader(io.StringIO(out.body.decode("utf-8"), newline="")))
    assert rows[0] == ["s", "o", "none"]
    assert rows[1:] == [[s.value, o.value, ""] for s, o, _ in expected.rows]
    xml = store.query_serialized(SELECT_SOME, result_format("xml")).body
    parsed = rdflib.query.Result.parse(io.BytesIO(xml), format="xml")
    assert [(str(r[0]), str(r[1])) for r in parsed] == [(s.value, o.value)
                                                        for s, o, _ in expected.rows]


def test_query_serialized_flags_truncation(store) -> None:  # type: ignore[no-untyped-def]
    out = store.query_serialized("SELECT * WHERE { ?s ?p ?o }", result_format("json"), limit=10)
    assert (out.rows, out.truncated) == (10, True)
    assert len(json.loads(out.body)["results"]["bindings"]) == 10
    whole = store.query_serialized("SELECT * WHERE { ?s ?p ?o }", result_format("tsv"),
                                   limit=2000)
    assert (whole.rows, whole.truncated) == (2000, False)
    triples = store.query_serialized("CONSTRUCT WHERE { ?s ?p ?o }", rdf_format("turtle"),
                                     limit=10)
    assert (triples.form, triples.rows, triples.truncated) == ("CONSTRUCT", 10, True)
    assert len(list(ox.parse(triples.body, ox.RdfFormat.TURTLE))) == 10


def test_query_serialized_honours_bindings_and_dataset(store) -> None:  # type: ignore[no-untyped-def]
    s7 = ox.NamedNode("http://example.org/s7")
    out = store.query_serialized("SELECT ?s ?o WHERE { ?s ?p ?o }", result_format("tsv"),
                                 bindings={"s": s7})
    assert _parsed_rows(out.body, "tsv") == [(s7, ox.Literal("7"))]
    other = Dataset(default_graphs=("http://example.org/other",))
    empty = store.query_serialized("ASK { ?s ?p ?o }", result_format("json"), dataset=other)
    assert (empty.form, json.loads(empty.body)["boolean"]) == ("ASK", False)


def test_query_serialized_errors_keep_their_class(store) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(QuerySyntaxError, match="1:"):
        store.query_serialized("SELECT * WHERE { ?s ?p }", result_format("json"))
    with pytest.raises(NotAcceptable):
        store.query_serialized("SELECT * WHERE { ?s ?p ?o }", rdf_format("turtle"))
    with pytest.raises(QueryTimeout):
        store.query_serialized(CARTESIAN, result_format("json"), timeout=1.0)
    assert eventually(lambda: store.restarts == 1)
    out = store.query_serialized("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }",
                                 result_format("csv"), timeout=20)
    assert out.body.split() == [b"n", b"2000"]


def test_serializing_is_decided_by_the_class(store) -> None:  # type: ignore[no-untyped-def]
    class Forwarding:  # overrides query(), forwards the rest: must not be bypassed
        def __init__(self, inner: IsolatedStore) -> None:
            self.inner = inner

        def query(self, sparql: str, **kwargs: object) -> Solutions:
            return Solutions([], [])

        def __getattr__(self, name: str) -> object:
            return getattr(self.inner, name)

    assert serializing(store) is store
    assert serializing(Forwarding(store)) is None  # type: ignore[arg-type]
    out = store.query_serialized(SELECT_SOME, result_format("json"))
    assert isinstance(out, SerializedResult) and out.media_type == "application/sparql-results+json"


def test_match_is_one_batch_of_bound_reads_with_the_same_answers_as_sparql(store) -> None:  # type: ignore[no-untyped-def]
    """store.base.match: the child answers with index lookups; the SPARQL form (what a
    remote store gets) finds the same quads, per pattern, with and without a limit."""
    from coopgraph.store.base import match, match_by_query

    p = ox.NamedNode("http://example.org/p")
    s7 = ox.NamedNode("http://example.org/s7")
    patterns = [
        (s7, None, None, None),
        (None, p, ox.Literal("8"), G.value),
        (None, p, None, None),
        (s7, p, ox.Literal("9"), None),
        (None, None, None, "http://example.org/no-such-graph"),
    ]
    native = match(store, patterns, limit=5)
    assert [len(found) for found in native] == [1, 1, 5, 0, 0]
    assert native[0][0] == ox.Quad(s7, p, ox.Literal("7"), G)

    def as_sets(found: list[list[ox.Quad]]) -> list[set[ox.Quad]]:
        return [set(quads) for quads in found]

    unlimited = [pat for pat in patterns if pat != (None, p, None, None)]
    assert as_sets(match(store, unlimited)) == as_sets(match_by_query(store, unlimited))
    by_query = match_by_query(store, patterns, limit=5)
    assert [len(found) for found in by_query] == [1, 1, 5, 0, 0]
    with pytest.raises(ValueError):
        match_by_query(store, [(ox.BlankNode(), None, None, None)])


@pytest.mark.parametrize("opener", [EmbeddedStore, IsolatedStore])
def test_memory_spelling_is_no_directory(opener, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """``:memory:`` is open_store's spelling for an in-memory store; given to a class that
    takes a directory, it is refused instead of creating a RocksDB folder of that name."""
    monkeypatch.chdir(tmp_path)
    with pytest.raises(StartupError, match="not a store directory"):
        opener(":memory:")
    assert not (tmp_path / ":memory:").exists()
