"""store/isolated.py: the store in a child process; timeouts and crashes stop a worker only."""

from __future__ import annotations

import threading

import pyoxigraph as ox
import pytest

from coopgraph.errors import QuerySyntaxError, QueryTimeout, StoreError
from coopgraph.store import Changes, Solutions
from coopgraph.store.isolated import IsolatedStore

G = ox.NamedNode("https://w3id.org/coopgraph/graph/entry/test")
CARTESIAN = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?p ?x . ?b ?q ?y . ?c ?r ?z . ?d ?s ?w }"


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
    assert store.restarts == 1
    assert store.graph_sizes() == {G.value: 2000}


def test_engine_crash_restarts_worker(store):
    deep = "SELECT * WHERE " + "{" * 6000 + "?s ?p ?o" + "}" * 6000
    pid = store.worker_pid
    with pytest.raises(StoreError, match="crashed"):
        store.query(deep, timeout=30)
    assert bool(store.query("ASK { ?s ?p ?o }", timeout=10))
    assert store.worker_pid != pid
