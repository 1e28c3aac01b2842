"""The reasoner: each rule on a fixture and on the seed data, owlrl as the reference,
incremental refresh equal to a full rebuild, explanations.

Every inference test first checks that the ASK fails without reasoning.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib

from coopgraph.load import load_project
from coopgraph.parse import parse_file
from coopgraph.reason import RULES, Reasoner, tbox_from_triples
from coopgraph.settings import Settings
from coopgraph.store.base import Boolean, Changes, Store
from coopgraph.store.embedded import EmbeddedStore
from coopgraph.vocab import (
    CG,
    ID,
    INFERRED_GRAPH,
    NS,
    ONTOLOGY_GRAPH,
    ORG,
    OWL,
    RDF,
    RDFS,
    SCHEMA,
    XSD,
)

FIXTURES = Path(__file__).parent / "data" / "reasoning"
EX = NS("https://example.org/fx#")
EXG = NS("https://example.org/graph/")
PLACE = NS(ID["place/"])
ORGID = NS(ID["org/"])


# --------------------------------------------------------------------------- helpers


def fixture_store(*, with_entry: bool = False) -> EmbeddedStore:
    store = EmbeddedStore(None)
    quads = parse_file(FIXTURES / "ontology.ttl", default_graph=ONTOLOGY_GRAPH)
    quads += parse_file(FIXTURES / "data.trig")
    if with_entry:
        quads += parse_file(FIXTURES / "entry.trig")
    store.apply(Changes(insert=quads))
    return store


def seed_store(*, reason: bool) -> EmbeddedStore:
    store = EmbeddedStore(None)
    load_project(store, Settings(store=":memory:"), reason=reason)
    return store


def ask(store: Store, sparql: str) -> bool:
    result = store.query(sparql)
    assert isinstance(result, Boolean)
    return bool(result)


def inferred(store: Store) -> set[ox.Triple]:
    return {ox.Triple(q.subject, q.predicate, q.object) for q in store.quads(INFERRED_GRAPH)}


def asserted(store: Store) -> set[ox.Triple]:
    return {
        ox.Triple(q.subject, q.predicate, q.object)
        for q in store.quads()
        if q.graph_name != ox.NamedNode(INFERRED_GRAPH)
    }


def t(s: str, p: str, o: str) -> ox.Triple:
    return ox.Triple(ox.NamedNode(s), ox.NamedNode(p), ox.NamedNode(o))


@pytest.fixture(scope="module")
def seeds_plain() -> EmbeddedStore:
    return seed_store(reason=False)


@pytest.fixture(scope="module")
def seeds() -> EmbeddedStore:
    return seed_store(reason=True)


# --------------------------------------------------------------------------- TBox


def test_tbox_keeps_schema_closure_without_meta_terms() -> None:
    tbox = tbox_from_triples(
        ox.Triple(q.subject, q.predicate, q.object)
        for q in parse_file(FIXTURES / "ontology.ttl")
    )
    assert (EX.Town, EX.Org) in tbox.sub_classes  # closed transitively by owlrl
    assert (EX["in"], EX.Place) in tbox.domains
    assert (EX.has, EX["in"]) in tbox.inverses and (EX["in"], EX.has) in tbox.inverses
    assert tbox.transitive == {EX["in"], EX.has}
    assert tbox.symmetric == {EX.twin}
    assert not any(d in (OWL.Thing, RDFS.Resource) for _, d in tbox.sub_classes)
    assert OWL.sameAs not in tbox.symmetric


# --------------------------------------------------------------------------- fixture

FIXTURE_CASES = {
    "owl-transitive": f"ASK {{ <{EX.quarter}> <{EX['in']}> <{EX.country}> }}",
    "owl-inverse": f"ASK {{ <{EX.country}> <{EX.has}> <{EX.quarter}> }}",
    "owl-inverse-declared-on-other-side": f"ASK {{ <{EX.branch}> <{EX.childOf}> <{EX.ngo}> }}",
    "owl-symmetric": f"ASK {{ <{EX.partner}> <{EX.twin}> <{EX.cityhall}> }}",
    "rdfs9-subclass": f"ASK {{ <{EX.cityhall}> a <{EX.Org}> }}",
    "rdfs7-subproperty": f"ASK {{ <{EX.quarter}> <{EX.near}> <{EX.country}> }}",
    "rdfs2-domain": f"ASK {{ <{EX.quarter}> a <{EX.Place}> }}",
    "rdfs3-range": f"ASK {{ <{EX.country}> a <{EX.Place}> }}",
    "rdfs2-domain-on-literal-property": f"ASK {{ <{EX.cityhall}> a <{EX.Town}> }}",
    "rdfs3-range-symmetric": f"ASK {{ <{EX.partner}> a <{EX.Org}> }}",
}


@pytest.mark.parametrize("case", sorted(FIXTURE_CASES))
def test_fixture_inference(case: str) -> None:
    store = fixture_store()
    query = FIXTURE_CASES[case]
    if case == "rdfs2-domain-on-literal-property":
        assert ask(store, query)  # asserted: the rule must not copy it into inferred
        Reasoner(store).materialise()
        assert t(EX.cityhall, RDF.type, EX.Town) not in inferred(store)
        return
    assert not ask(store, query), "holds without reasoning: the test proves nothing"
    Reasoner(store).materialise()
    assert ask(store, query)


def test_fixture_sameas_not_propagated_and_inferred_graph_only_new() -> None:
    store = fixture_store()
    stats = Reasoner(store).materialise()
    facts = inferred(store)
    assert stats.inferred == len(facts) > 0
    assert not facts & asserted(store)
    wikidata = "http://www.wikidata.org/entity/Q142"
    assert not any(wikidata in (f.subject.value, str(f.object.value)) for f in facts)
    assert not any(f.predicate.value == OWL.sameAs for f in facts)
    assert not any(f.object == ox.NamedNode(OWL.Thing) for f in facts)


def test_materialise_twice_is_stable() -> None:
    store = fixture_store()
    reasoner = Reasoner(store)
    first = reasoner.materialise()
    before = inferred(store)
    second = reasoner.materialise()
    assert second.inferred == first.inferred
    assert inferred(store) == before


def test_sparql_engine_reaches_the_same_fixpoint() -> None:
    store = fixture_store(with_entry=True)
    reasoner = Reasoner(store)
    reasoner.materialise(engine="python")
    python = inferred(store)
    stats = reasoner.materialise(engine="sparql")
    assert stats.passes >= 2  # the last pass finds nothing
    assert inferred(store) == python and stats.inferred == len(python)


def test_sparql_engine_on_seed_data(seeds: Store) -> None:
    copy = EmbeddedStore(None)
    copy.apply(Changes(insert=list(seeds.quads())))
    Reasoner(copy).materialise(engine="sparql")
    assert inferred(copy) == inferred(seeds)


def test_unknown_engine() -> None:
    with pytest.raises(ValueError):
        Reasoner(fixture_store()).materialise(engine="magic")


def test_materialise_on_empty_store() -> None:
    assert Reasoner(EmbeddedStore(None)).materialise().inferred == 0


# --------------------------------------------------------------------------- seed data

SEED_CASES = {
    "oujda-within-morocco": f"ASK {{ <{PLACE.oujda}> <{CG.within}> <{PLACE.morocco}> }}",
    "oujda-within-oriental": f"ASK {{ <{PLACE.oujda}> <{CG.within}> <{PLACE.oriental}> }}",
    "lille-within-nord": f"ASK {{ <{PLACE.lille}> <{CG.within}> <{PLACE.nord}> }}",
    "lille-within-hauts-de-france": (
        f"ASK {{ <{PLACE.lille}> <{CG.within}> <{PLACE['hauts-de-france']}> }}"
    ),
    "lille-within-france": f"ASK {{ <{PLACE.lille}> <{CG.within}> <{PLACE.france}> }}",
    "kortrijk-within-belgium": f"ASK {{ <{PLACE.kortrijk}> <{CG.within}> <{PLACE.belgium}> }}",
    "kortrijk-within-west-vlaanderen-chain": (
        f"ASK {{ <{PLACE.kortrijk}> <{CG.within}> <{PLACE['flemish-region']}> }}"
    ),
    "oujda-partner-of-lille": (
        f"ASK {{ <{ORGID['commune-oujda']}> <{CG.partnerOf}> <{ORGID['ville-de-lille']}> }}"
    ),
    "commune-is-local-authority": (
        f"ASK {{ <{ORGID['ville-de-lille']}> a <{CG.LocalAuthority}> }}"
    ),
    "commune-is-organization": f"ASK {{ <{ORGID['ville-de-lille']}> a <{ORG.Organization}> }}",
    "france-contains-lille": f"ASK {{ <{PLACE.france}> <{CG.contains}> <{PLACE.lille}> }}",
    "suborganization-inverse": (
        f"ASK {{ <{ORGID['ville-de-lille-relations-internationales']}> "
        f"<{ORG.subOrganizationOf}> <{ORGID['ville-de-lille']}> }}"
    ),
    "within-subproperty-containedinplace": (
        f"ASK {{ <{PLACE.lille}> <{SCHEMA.containedInPlace}> <{PLACE.france}> }}"
    ),
    "within-range-place": f"ASK {{ <{PLACE.morocco}> a <{SCHEMA.Place}> }}",
}


@pytest.mark.parametrize("case", sorted(SEED_CASES))
def test_seed_inference(case: str, seeds_plain: Store, seeds: Store) -> None:
    query = SEED_CASES[case]
    assert not ask(seeds_plain, query), "holds without reasoning: the test proves nothing"
    assert ask(seeds, query)


def test_seed_inferred_graph_holds_only_new_facts(seeds: Store) -> None:
    facts = inferred(seeds)
    assert facts and not facts & asserted(seeds)


# --------------------------------------------------------------------------- owlrl reference

_META = (str(RDF), str(RDFS), str(OWL), str(XSD))
_SCHEMA_PREDICATES = {
    RDF.type, RDFS.subClassOf, RDFS.subPropertyOf, RDFS.domain, RDFS.range, RDF.first, RDF.rest
}


_BNODES: dict[str, rdflib.BNode] = {}  # one blank-node label space for every parse


def _to_rdflib(triples: Iterable[ox.Triple]) -> rdflib.Graph:
    graph = rdflib.Graph()
    triples = list(triples)
    if triples:
        graph.parse(
            data=ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES),
            format="nt",
            bnode_context=_BNODES,
        )
    return graph


def _covered(triple: tuple[rdflib.term.Node, ...]) -> bool:
    """An ABox triple of a kind the reasoner produces (owlrl's axiomatic noise left out)."""
    s, p, o = triple
    if isinstance(s, rdflib.Literal) or str(s).startswith(_META):
        return False
    if str(p) == RDF.type:
        return isinstance(o, rdflib.URIRef) and not str(o).startswith(_META)
    return str(p) not in _SCHEMA_PREDICATES and not str(p).startswith(str(OWL))


def owlrl_reference(store: Store) -> set[tuple[rdflib.term.Node, ...]]:
    """owlrl's OWL RL closure of everything asserted, restricted to the covered rules.

    ``owl:sameAs`` links are left out of the input: coopgraph treats them as external
    identifiers (see ``coopgraph.reason``), so owlrl must not propagate across them either.
    """
    import owlrl

    facts = [f for f in asserted(store) if f.predicate.value != OWL.sameAs]
    graph = _to_rdflib(facts)
    base = set(graph)
    owlrl.DeductiveClosure(
        owlrl.OWLRL_Semantics, axiomatic_triples=False, datatype_axioms=False
    ).expand(graph)
    return {tr for tr in set(graph) - base if _covered(tr)}


def _diff(store: Store) -> tuple[set[str], set[str]]:
    reference = owlrl_reference(store)
    ours = set(_to_rdflib(inferred(store)))
    missing = {" ".join(n.n3() for n in tr) for tr in reference - ours}
    extra = {" ".join(n.n3() for n in tr) for tr in ours - reference}
    return missing, extra


def test_fixture_equals_owlrl_reference() -> None:
    store = fixture_store(with_entry=True)
    store.apply(Changes(insert=parse_file(FIXTURES / "blank-entry.trig")))
    Reasoner(store).materialise()
    assert any(isinstance(f.subject, ox.BlankNode) for f in inferred(store))
    missing, extra = _diff(store)
    assert (sorted(missing), sorted(extra)) == ([], [])


def test_seed_data_equals_owlrl_reference(seeds: Store) -> None:
    missing, extra = _diff(seeds)
    print(f"owlrl reference: {len(inferred(seeds))} inferred; missing {len(missing)}, "
          f"extra {len(extra)}")
    assert (sorted(missing)[:20], sorted(extra)[:20]) == ([], [])


# --------------------------------------------------------------------------- incremental


#: the two incremental paths: SPARQL rule updates, and the delta computed in Python
PATHS = ["updates", "delta"]


def _refresh(
    reasoner: Reasoner, path: str, added: list[ox.Quad], removed: list[ox.Quad]
) -> list[str]:
    """What entries.py does, by either path: affected nodes read before the write."""
    nodes = reasoner.affected_nodes([*removed, *added])
    if path == "updates":
        return reasoner.refresh_updates(nodes)
    ops = reasoner.refresh_changes(added, removed, nodes)
    blank = any(isinstance(t, ox.BlankNode) for q in [*added, *removed] for t in q)
    if path == "delta":  # an IRI-only change never falls back to the SPARQL rules
        assert blank or all(op.startswith(("DELETE DATA", "INSERT DATA")) for op in ops)
    return ops


def _write(
    store: Store,
    reasoner: Reasoner,
    path: str,
    *,
    add: list[ox.Quad] = (),  # type: ignore[assignment]
    drop: str = "",
    delete: list[ox.Quad] = (),  # type: ignore[assignment]
) -> None:
    """One apply: drop a graph / delete quads, insert quads, refresh inferences."""
    removed = [*delete, *(store.quads(drop) if drop else [])]
    store.apply(
        Changes(
            drop_graphs=[drop] if drop else [],
            delete=delete,
            insert=add,
            then=_refresh(reasoner, path, list(add), removed),
        )
    )


def _rebuilt(store: Store) -> set[ox.Triple]:
    copy = EmbeddedStore(None)
    copy.apply(
        Changes(insert=[q for q in store.quads() if q.graph_name != ox.NamedNode(INFERRED_GRAPH)])
    )
    Reasoner(copy).materialise()
    return inferred(copy)


@pytest.mark.parametrize("path", PATHS)
def test_incremental_add_then_remove_equals_full_rebuild(path: str) -> None:
    store = fixture_store()
    reasoner = Reasoner(store)
    reasoner.materialise()
    initial = inferred(store)
    entry = parse_file(FIXTURES / "entry.trig")

    _write(store, reasoner, path, add=entry)
    after_add = inferred(store)
    assert t(EX.block, EX["in"], EX.country) in after_add  # crosses graphs
    assert t(EX.country, EX.has, EX.block) in after_add
    assert t(EX.cityhall, EX.twin, EX.newtown) in after_add
    assert after_add == _rebuilt(store)

    _write(store, reasoner, path, drop=EXG.entry)
    assert inferred(store) == initial == _rebuilt(store)


@pytest.mark.parametrize("path", PATHS)
def test_incremental_remove_middle_link_and_asserted_duplicate(path: str) -> None:
    store = fixture_store(with_entry=True)
    reasoner = Reasoner(store)
    reasoner.materialise()
    assert t(EX.block, EX["in"], EX.country) in inferred(store)
    # remove the middle of the chain: everything below it loses the ancestors
    middle = ox.Quad(
        ox.NamedNode(EX.city), ox.NamedNode(EX["in"]), ox.NamedNode(EX.region),
        ox.NamedNode(EXG.places),
    )
    nodes = reasoner.affected_nodes([middle])
    assert {EX.block, EX.street, EX.quarter, EX.city, EX.region, EX.country} <= nodes
    _write(store, reasoner, path, delete=[middle])
    assert t(EX.block, EX["in"], EX.country) not in inferred(store)
    assert inferred(store) == _rebuilt(store)
    # asserting a fact that was inferred removes it from the inferred graph
    twin = ox.Quad(
        ox.NamedNode(EX.partner), ox.NamedNode(EX.twin), ox.NamedNode(EX.cityhall),
        ox.NamedNode(EXG.extra),
    )
    assert t(EX.partner, EX.twin, EX.cityhall) in inferred(store)
    _write(store, reasoner, path, add=[twin])
    assert t(EX.partner, EX.twin, EX.cityhall) not in inferred(store)
    assert inferred(store) == _rebuilt(store)


@pytest.mark.parametrize("path", PATHS)
def test_incremental_removal_keeps_a_second_route(path: str) -> None:
    """A place with two parents keeps its ancestors when one link goes (a DAG, not a tree)."""
    store = fixture_store()
    reasoner = Reasoner(store)
    reasoner.materialise()
    second = [
        ox.Quad(ox.NamedNode(EX.city), ox.NamedNode(EX["in"]), ox.NamedNode(EX.region2),
                ox.NamedNode(EXG.dag)),
        ox.Quad(ox.NamedNode(EX.region2), ox.NamedNode(EX["in"]), ox.NamedNode(EX.country),
                ox.NamedNode(EXG.dag)),
    ]
    _write(store, reasoner, path, add=second)
    assert inferred(store) == _rebuilt(store)
    first = ox.Quad(ox.NamedNode(EX.city), ox.NamedNode(EX["in"]), ox.NamedNode(EX.region),
                    ox.NamedNode(EXG.places))
    _write(store, reasoner, path, delete=[first])
    assert t(EX.quarter, EX["in"], EX.country) in inferred(store)  # via region2
    assert t(EX.quarter, EX["in"], EX.region) not in inferred(store)
    assert inferred(store) == _rebuilt(store)


@pytest.mark.parametrize("path", PATHS)
def test_incremental_on_seed_data(path: str) -> None:
    store = seed_store(reason=True)
    reasoner = Reasoner(store)
    before = inferred(store)
    graph = ox.NamedNode(ID["graph-test"])
    entry = [
        ox.Quad(ox.NamedNode(PLACE["wazemmes-test"]), ox.NamedNode(CG.within),
                ox.NamedNode(PLACE.lille), graph),
        ox.Quad(ox.NamedNode(ORGID["test-asso"]), ox.NamedNode(RDF.type),
                ox.NamedNode(CG.Association), graph),
        ox.Quad(ox.NamedNode(ORGID["test-asso"]), ox.NamedNode(CG.partnerOf),
                ox.NamedNode(ORGID["commune-oujda"]), graph),
    ]
    _write(store, reasoner, path, add=entry)
    assert t(PLACE["wazemmes-test"], CG.within, PLACE.france) in inferred(store)
    assert t(ORGID["commune-oujda"], CG.partnerOf, ORGID["test-asso"]) in inferred(store)
    assert inferred(store) == _rebuilt(store)
    _write(store, reasoner, path, drop=graph.value)
    assert inferred(store) == before


@pytest.mark.parametrize("path", PATHS)
def test_incremental_blank_nodes_equal_full_rebuild(path: str) -> None:
    store = fixture_store()
    reasoner = Reasoner(store)
    reasoner.materialise()
    initial = inferred(store)
    entry = parse_file(FIXTURES / "blank-entry.trig")
    nodes = reasoner.affected_nodes(entry)
    assert nodes.blank_graphs == {EXG.blank}
    _write(store, reasoner, path, add=entry)
    about_blank = {f for f in inferred(store) if isinstance(f.subject, ox.BlankNode)}
    assert any(f.object == ox.NamedNode(EX.Org) for f in about_blank)  # subclass + range
    assert inferred(store) == _rebuilt(store)
    _write(store, reasoner, path, drop=EXG.blank)
    assert inferred(store) == initial


def test_refresh_with_a_plain_set_and_the_rebuild_fallback(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import coopgraph.reason as reason

    store = fixture_store()
    reasoner = Reasoner(store)
    reasoner.materialise()
    entry = parse_file(FIXTURES / "entry.trig")
    plain = set(reasoner.affected_nodes(entry))  # loses the bookkeeping: still correct
    store.apply(Changes(insert=entry, then=reasoner.refresh_updates(plain)))
    assert inferred(store) == _rebuilt(store)
    monkeypatch.setattr(reason, "HUB_LIMIT", 1)
    ops = reasoner.refresh_updates({EX.city, EX.region})
    assert ops[0].startswith("DROP SILENT GRAPH")
    store.apply(Changes(delete=[q for q in entry if q.predicate.value == EX.twin], then=ops))
    assert inferred(store) == _rebuilt(store)


def test_refresh_with_no_nodes_is_a_no_op() -> None:
    store = fixture_store()
    reasoner = Reasoner(store)
    reasoner.materialise()
    assert reasoner.refresh_updates(set()) == []
    assert reasoner.refresh(set()).inferred == len(inferred(store))


def test_refresh_rejects_non_iri_nodes() -> None:
    reasoner = Reasoner(fixture_store())
    with pytest.raises(ValueError):
        reasoner.refresh_updates({"> } ; DROP ALL ; INSERT DATA { <a"})


# --------------------------------------------------------------------------- explain


@pytest.fixture(scope="module")
def explained() -> Reasoner:
    store = fixture_store(with_entry=True)
    reasoner = Reasoner(store)
    reasoner.materialise()
    return reasoner


def test_explain_transitive(explained: Reasoner) -> None:
    found = explained.explain(EX.quarter, EX["in"], EX.country)
    assert found and found[0].rule == "owl-transitive"
    first, second = found[0].premises
    assert first.triple.subject == ox.NamedNode(EX.quarter)
    assert second.triple.object == ox.NamedNode(EX.country)
    assert first.triple.object == second.triple.subject  # the middle link
    assert {t(EX.quarter, EX["in"], EX.city), t(EX.region, EX["in"], EX.country)} & {
        p.triple for p in found[0].premises if p.graph == EXG.places
    }
    assert {p.inferred for p in found[0].premises} == {False, True}
    nested = next(p for p in found[0].premises if p.inferred)
    assert nested.explanations and nested.explanations[0].rule == "owl-transitive"


def test_explain_symmetric(explained: Reasoner) -> None:
    found = explained.explain(EX.partner, EX.twin, EX.cityhall)
    assert [e.rule for e in found] == ["owl-symmetric"]
    assert found[0].premises[0].triple == t(EX.cityhall, EX.twin, EX.partner)
    assert found[0].premises[0].graph == EXG.orgs
    assert (found[0].label_fr, found[0].label_en) == RULES["owl-symmetric"]


def test_explain_subclass(explained: Reasoner) -> None:
    found = explained.explain(EX.cityhall, RDF.type, EX.Org)
    rules = {e.rule for e in found}
    assert "rdfs9-subclass" in rules
    best = found[0]
    assert best.rule == "rdfs9-subclass"
    assert best.premises[0].triple == t(EX.cityhall, RDF.type, EX.Town)
    assert best.axioms == [(EX.Town, RDFS.subClassOf, EX.Org)]


def test_explain_inverse(explained: Reasoner) -> None:
    found = explained.explain(EX.branch, EX.childOf, EX.ngo)
    assert [e.rule for e in found] == ["owl-inverse"]
    assert found[0].premises[0].triple == t(EX.ngo, EX.parentOf, EX.branch)
    assert found[0].premises[0].graph == EXG.orgs


def test_explain_domain_and_range(explained: Reasoner) -> None:
    domain = explained.explain(EX.quarter, RDF.type, EX.Place)
    assert domain[0].rule == "rdfs2-domain"
    assert domain[0].premises[0].triple.subject == ox.NamedNode(EX.quarter)
    rng = explained.explain(EX.country, RDF.type, EX.Place)
    assert rng[0].rule == "rdfs3-range"
    assert rng[0].premises[0].triple.object == ox.NamedNode(EX.country)


def test_explain_asserted_or_unknown_is_empty(explained: Reasoner) -> None:
    assert explained.explain(EX.quarter, EX["in"], EX.city) == []
    assert explained.explain(EX.country, EX["in"], EX.quarter) == []


def test_explain_on_seed_data(seeds: Store) -> None:
    found = Reasoner(seeds).explain(PLACE.oujda, CG.within, PLACE.morocco)
    assert found and found[0].rule == "owl-transitive"
    assert found[0].to_dict()["label"]["en"] == RULES["owl-transitive"][1]


_RANDOM_NODES = [EX[f"n{i}"] for i in range(7)]
_RANDOM_PROPERTIES = [EX["in"], EX["in"], EX.has, EX.twin, EX.parentOf, EX.childOf, EX.near]
_RANDOM_CLASSES = [EX.Town, EX.Authority, EX.Place, EX.Org]


def _random_quad(rng: random.Random) -> ox.Quad:
    graph = ox.NamedNode(EXG[f"g{rng.randrange(3)}"])
    s = ox.NamedNode(rng.choice(_RANDOM_NODES))
    kind = rng.random()
    if kind < 0.2:
        return ox.Quad(s, ox.NamedNode(RDF.type), ox.NamedNode(rng.choice(_RANDOM_CLASSES)),
                       graph)
    if kind < 0.3:
        return ox.Quad(s, ox.NamedNode(EX.mayor), ox.Literal(f"m{rng.randrange(2)}"), graph)
    o = ox.NamedNode(rng.choice(_RANDOM_NODES))
    return ox.Quad(s, ox.NamedNode(rng.choice(_RANDOM_PROPERTIES)), o, graph)


@pytest.mark.parametrize(
    ("seed", "limit"), [(s, 64) for s in range(12)] + [(s, 1) for s in range(6)]
)
def test_incremental_delta_equals_full_rebuild_on_random_changes(
    seed: int, limit: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Random small graphs (cycles, duplicates across graphs, literals), random adds,
    deletes and graph drops: after each write the Python delta equals a full rebuild.
    With a walk limit of 1 the middles come from either end or a full walk of a hub."""
    import coopgraph.reason as reason

    monkeypatch.setattr(reason, "MIDDLE_LIMIT", limit)
    rng = random.Random(seed)
    store = fixture_store()
    reasoner = Reasoner(store)
    store.apply(Changes(insert=[_random_quad(rng) for _ in range(12)]))
    reasoner.materialise()
    for _ in range(8):
        existing = [q for q in store.quads() if q.graph_name.value.startswith(EXG[""])]
        action = rng.random()
        if action < 0.45 or not existing:
            _write(store, reasoner, "delta", add=[_random_quad(rng) for _ in range(3)])
        elif action < 0.85:
            _write(store, reasoner, "delta", delete=rng.sample(existing, min(2, len(existing))))
        else:
            _write(store, reasoner, "delta", drop=rng.choice(existing).graph_name.value)
        assert inferred(store) == _rebuilt(store)


def test_delta_keeps_a_type_an_unaffected_triple_supports() -> None:
    """Removing an asserted type that a domain still implies moves it to the inferred
    graph; removing the last support removes it."""
    store = fixture_store()
    reasoner = Reasoner(store)
    reasoner.materialise()
    town = ox.Quad(ox.NamedNode(EX.cityhall), ox.NamedNode(RDF.type), ox.NamedNode(EX.Town),
                   ox.NamedNode(EXG.orgs))
    delta = reasoner.inference_delta([], [town], reasoner.affected_nodes([town]))
    assert delta is not None
    delete, insert = delta
    assert t(EX.cityhall, RDF.type, EX.Town) in {q.triple for q in insert}
    assert not delete
    _write(store, reasoner, "delta", delete=[town])
    assert t(EX.cityhall, RDF.type, EX.Town) in inferred(store)
    assert inferred(store) == _rebuilt(store)
    mayor = next(q for q in store.quads(EXG.orgs) if q.predicate.value == EX.mayor)
    _write(store, reasoner, "delta", delete=[mayor])
    assert t(EX.cityhall, RDF.type, EX.Town) not in inferred(store)
    assert inferred(store) == _rebuilt(store)


def test_delta_falls_back_for_blank_nodes_and_hubs(monkeypatch: pytest.MonkeyPatch) -> None:
    import coopgraph.reason as reason

    store = fixture_store()
    reasoner = Reasoner(store)
    reasoner.materialise()
    blank = parse_file(FIXTURES / "blank-entry.trig")
    assert reasoner.inference_delta(blank, [], reasoner.affected_nodes(blank)) is None
    entry = parse_file(FIXTURES / "entry.trig")
    assert reasoner.inference_delta(entry, [], reasoner.affected_nodes(entry)) is not None
    # more affected nodes than HUB_LIMIT: the SPARQL rules take over
    monkeypatch.setattr(reason, "HUB_LIMIT", 2)
    assert reasoner.inference_delta(entry, [], reasoner.affected_nodes(entry)) is None
    _write(store, reasoner, "fallback", add=entry)
    assert inferred(store) == _rebuilt(store)


@pytest.mark.parametrize("limit", [0, 1, 2])
def test_delta_walks_the_cheap_direction(monkeypatch: pytest.MonkeyPatch, limit: int) -> None:
    """With a tiny walk limit the middles of a chain are found from the other end, or
    by walking a hub in full: the result is the same."""
    import coopgraph.reason as reason

    monkeypatch.setattr(reason, "MIDDLE_LIMIT", limit)
    store = fixture_store(with_entry=True)
    reasoner = Reasoner(store)
    reasoner.materialise()
    second = [
        ox.Quad(ox.NamedNode(EX.city), ox.NamedNode(EX["in"]), ox.NamedNode(EX.region2),
                ox.NamedNode(EXG.dag)),
        ox.Quad(ox.NamedNode(EX.region2), ox.NamedNode(EX["in"]), ox.NamedNode(EX.country),
                ox.NamedNode(EXG.dag)),
    ]
    _write(store, reasoner, "delta", add=second)
    assert inferred(store) == _rebuilt(store)
    first = ox.Quad(ox.NamedNode(EX.city), ox.NamedNode(EX["in"]), ox.NamedNode(EX.region),
                    ox.NamedNode(EXG.places))
    _write(store, reasoner, "delta", delete=[first])
    assert t(EX.block, EX["in"], EX.country) in inferred(store)  # via region2
    assert inferred(store) == _rebuilt(store)
