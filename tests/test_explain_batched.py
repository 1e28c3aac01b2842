"""Batched explanations (``reason.explain.Batched``, what entity pages use) equal the
one-query-per-read ones (``OneByOne``) on the seeds, in a few store calls (issue 12:
an organisation's page made ~170 store queries, each a round trip to the store process)."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pyoxigraph as ox
import pytest

from coopgraph.reason import Reasoner
from coopgraph.reason import explain as explain_module
from coopgraph.reason.explain import Batched, OneByOne, explain, explain_many
from coopgraph.store import Store
from coopgraph.store.base import match
from coopgraph.vocab import CG, ID, INFERRED_GRAPH


class Counting:
    """A store that counts the calls made to it (``query`` and ``match``)."""

    def __init__(self, store: Store) -> None:
        self.inner = store
        self.calls: Counter[str] = Counter()

    def query(self, sparql: str, **options: Any) -> Any:
        self.calls["query"] += 1
        return self.inner.query(sparql, **options)

    def match(self, patterns: Any, *, limit: int | None = None) -> list[list[ox.Quad]]:
        self.calls["match"] += 1
        return match(self.inner, patterns, limit=limit)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


@pytest.fixture(scope="module")
def inferred(project_store: Store) -> list[ox.Triple]:
    return [q.triple for q in project_store.quads(INFERRED_GRAPH)]


def test_batched_equals_one_by_one_on_every_inferred_seed_triple(
    project_store: Store, inferred: list[ox.Triple]
) -> None:
    tbox = Reasoner(project_store).tbox
    plain = explain_many(project_store, tbox, inferred, 1, OneByOne(project_store))
    batched = explain_many(project_store, tbox, inferred, 1)
    assert batched == plain
    assert all(plain[t] for t in inferred)  # every inferred seed triple has a why
    rules = {e.rule for found in plain.values() for e in found}
    assert {"owl-transitive", "rdfs9-subclass", "rdfs2-domain", "rdfs3-range"} <= rules


def test_batched_equals_one_by_one_in_depth(
    project_store: Store, inferred: list[ox.Triple]
) -> None:
    """Depth 4 (``coopgraph explain``): inferred premises explained in turn."""
    tbox = Reasoner(project_store).tbox
    places = [t for t in inferred if t.predicate == ox.NamedNode(CG.within)]
    assert places
    plain = explain_many(project_store, tbox, places, 4, OneByOne(project_store))
    assert explain_many(project_store, tbox, places, 4) == plain
    assert any(p.explanations for found in plain.values() for e in found for p in e.premises)
    for t in places[:5]:  # one triple alone: the same as in a batch
        assert explain(project_store, tbox, t, 4) == plain[t]


def test_patterns_over_the_batch_size_fall_back_to_one_by_one(
    project_store: Store, inferred: list[ox.Triple], monkeypatch: pytest.MonkeyPatch
) -> None:
    """With one quad per pattern in a batch, every lookup (and the middles of every
    transitive step) overflows and is read by OneByOne: still the same answers."""
    monkeypatch.setattr(explain_module, "BATCH_QUADS", 1)
    tbox = Reasoner(project_store).tbox
    sample = inferred[::7]
    plain = explain_many(project_store, tbox, sample, 2, OneByOne(project_store))
    assert explain_many(project_store, tbox, sample, 2) == plain


def test_a_page_of_explanations_takes_a_few_store_calls(
    project_store: Store, inferred: list[ox.Triple]
) -> None:
    """What an organisation's page asks: all its inferred statements at depth 1."""
    org = ox.NamedNode(ID["org/ville-de-lille"])
    triples = [t for t in inferred if t.subject == org]
    assert len(triples) >= 8
    tbox = Reasoner(project_store).tbox
    counting = Counting(project_store)
    found = explain_many(counting, tbox, triples, 1)  # type: ignore[arg-type]
    assert found == explain_many(project_store, tbox, triples, 1, OneByOne(project_store))
    assert counting.calls["query"] == 0
    assert 1 <= counting.calls["match"] <= 3
    one_by_one = Counting(project_store)
    explain_many(one_by_one, tbox, triples, 1, OneByOne(one_by_one))  # type: ignore[arg-type]
    assert one_by_one.calls["query"] > 3 * len(triples) // 2  # what pages used to make


def test_fetch_reads_only_what_was_asked(project_store: Store) -> None:
    reads = Batched(project_store)
    assert reads.fetch() is False
    oujda = ox.NamedNode(ID["place/oujda"])
    within = ox.NamedNode(CG.within)
    morocco = ox.NamedNode(ID["place/morocco"])
    assert reads.found(oujda, within, None) is None  # asked, not read yet
    assert reads.fetch() is True
    found = reads.found(oujda, within, None)
    assert found and ox.Triple(oujda, within, morocco) in found
    assert reads.graphs_of(ox.Triple(oujda, within, morocco)) == [INFERRED_GRAPH]
    assert reads.fetch() is False  # the graphs came with the lookup's quads
