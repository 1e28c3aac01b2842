"""The entry pipeline (coopgraph.entries) and its CLI commands add/replace/remove/explain.

Issue "Reasoning and validated writes", parts 2–5: a write is parse → validate → one
transaction holding the entry, its provenance and its inferences.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pyoxigraph as ox
import pytest
from click.testing import CliRunner

from conftest import DATA, store_fingerprint
from coopgraph import entries, provenance, vocab
from coopgraph.cli import main
from coopgraph.errors import BadRequest, Conflict, Forbidden, NotFound, ValidationFailed
from coopgraph.reason import Reasoner
from coopgraph.store import Store, open_store
from coopgraph.store.base import Boolean, Solutions
from coopgraph.validate import Validator
from coopgraph.vocab import CG, ENTRY_GRAPH_PREFIX, ID, INFERRED_GRAPH, ORG, PROV, PROVENANCE_GRAPH

PARTNERSHIP = DATA / "valid" / "new-partnership.ttl"
ORGANISATION = DATA / "valid" / "new-organisation.ttl"
FRANCE_VOLONTAIRES = ID["org/france-volontaires"]
NOUVELLE_AQUITAINE = ID["org/conseil-regional-nouvelle-aquitaine"]
TOURNAI = ID["org/test-commune-tournai"]


def holds(store: Store, s: str, p: str, o: str, graph: str | None = None) -> bool:
    """Is the triple in ``graph`` (any named graph when None)?"""
    bindings = {"s": ox.NamedNode(s), "p": ox.NamedNode(p), "o": ox.NamedNode(o)}
    if graph is not None:
        bindings["g"] = ox.NamedNode(graph)
    result = store.query("ASK { GRAPH ?g { ?s ?p ?o } }", bindings=bindings)
    assert isinstance(result, Boolean)
    return bool(result)


def inferred(store: Store) -> list[str]:
    return sorted(str(q) for q in store.quads(INFERRED_GRAPH))


def assert_inferences_complete(store: Store) -> None:
    """The incrementally maintained inferred graph equals a full rebuild."""
    before = inferred(store)
    Reasoner(store).materialise()
    assert inferred(store) == before


def activities(store: Store, graph: str) -> list[dict[str, str]]:
    """The provenance activities of ``graph`` as {kind, agent, used, digest}, sorted by kind
    (timestamps have one-second precision, so they cannot order quick writes)."""
    result = store.query(
        """SELECT * WHERE { GRAPH ?pg {
             ?a a ?kind ; ?p ?g ; <http://www.w3.org/ns/prov#wasAssociatedWith> ?who ;
                <http://www.w3.org/ns/prov#startedAtTime> ?t .
             ?who <http://www.w3.org/2000/01/rdf-schema#label> ?agent .
             OPTIONAL { ?a <http://www.w3.org/ns/prov#used> ?used }
             OPTIONAL { ?a <https://w3id.org/coopgraph/ontology#sourceDigest> ?digest }
             FILTER(?p IN (<http://www.w3.org/ns/prov#generated>,
                           <http://www.w3.org/ns/prov#invalidated>))
             FILTER(STRSTARTS(STR(?kind), "https://w3id.org/coopgraph/ontology#"))
           } }""",
        bindings={"g": ox.NamedNode(graph), "pg": ox.NamedNode(PROVENANCE_GRAPH)},
    )
    assert isinstance(result, Solutions)
    found = [
        {k: str(v.value).removeprefix(str(CG)) for k, v in row.items()
         if k in ("kind", "agent", "used", "digest")}
        for row in result.dicts()
    ]
    return sorted(found, key=lambda a: a["kind"])


@pytest.fixture
def validator(fresh_store: Store) -> Validator:
    return Validator(fresh_store)


def add_file(
    store: Store, validator: Validator, path: Path, graph: str | None, agent: str = "alice"
) -> entries.EntryResult:
    return entries.add_entry(
        store, path.read_bytes(), path.suffix, graph=graph, agent=agent, source=path.name,
        validator=validator,
    )


# -- names -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ref", "expected"),
    [
        ("lille-2026", ENTRY_GRAPH_PREFIX + "lille-2026"),
        ("cgg:entry/lille-2026", ENTRY_GRAPH_PREFIX + "lille-2026"),
        (ENTRY_GRAPH_PREFIX + "x1", ENTRY_GRAPH_PREFIX + "x1"),
        (f"<{ENTRY_GRAPH_PREFIX}x1>", ENTRY_GRAPH_PREFIX + "x1"),
    ],
)
def test_entry_graph_accepts_ids_and_iris(ref: str, expected: str) -> None:
    assert entries.entry_graph(ref) == expected


def test_entry_graph_generates_a_uuid_when_none_is_given() -> None:
    first, second = entries.entry_graph(None), entries.entry_graph(None)
    assert first.startswith(ENTRY_GRAPH_PREFIX) and first != second
    assert entries.SLUG.fullmatch(entries.entry_id(first))


@pytest.mark.parametrize(
    ("ref", "why"),
    [
        ("cgg:ontology", "coopgraph load"),
        ("cgg:shapes", "coopgraph load"),
        ("cgg:inferred", "reasoner"),
        ("cgg:provenance", "activity log"),
        ("cgg:seed/000", "seed"),
        ("cgg:reference/places", "reference data"),
        ("http://example.org/graph", "not an entry graph"),
    ],
)
def test_code_written_graphs_are_forbidden(ref: str, why: str) -> None:
    with pytest.raises(Forbidden) as info:
        entries.entry_graph(ref)
    assert why in info.value.message
    assert "cgg:entry/<id>" in info.value.message


@pytest.mark.parametrize("ref", ["Lille", "a b", "-x", "x-", "a/b", "é", "x" * 101])
def test_bad_entry_ids_are_bad_requests(ref: str) -> None:
    with pytest.raises(BadRequest, match="bad entry id"):
        entries.entry_graph(ref)


def test_expand_iri_knows_the_prefixes_and_refuses_unknown_ones() -> None:
    assert vocab.expand("cgid:place/oujda") == ID["place/oujda"]
    assert vocab.expand("a") == "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
    with pytest.raises(BadRequest, match="unknown prefix 'zz'"):
        vocab.expand("zz:x")


# -- add / replace / remove --------------------------------------------------------------


def test_add_writes_entry_provenance_and_inferences_together(
    fresh_store: Store, validator: Validator
) -> None:
    # the symmetric partnerOf triple is not there before the entry
    assert not holds(fresh_store, NOUVELLE_AQUITAINE, CG.partnerOf, FRANCE_VOLONTAIRES)
    result = add_file(fresh_store, validator, PARTNERSHIP, "test-partnership")

    graph = ENTRY_GRAPH_PREFIX + "test-partnership"
    assert (result.graph, result.action, result.previous) == (graph, "added", 0)
    assert result.triples == len(list(fresh_store.quads(graph))) > 5
    assert holds(fresh_store, FRANCE_VOLONTAIRES, CG.partnerOf, NOUVELLE_AQUITAINE, graph)
    # who, when, from where, which bytes
    assert holds(fresh_store, graph, PROV.wasAttributedTo, ID["agent/alice"], PROVENANCE_GRAPH)
    stamp = fresh_store.query(
        "SELECT * WHERE { GRAPH ?pg { ?g ?p ?t } }",
        bindings={"g": ox.NamedNode(graph), "p": ox.NamedNode(PROV.generatedAtTime),
                  "pg": ox.NamedNode(PROVENANCE_GRAPH)},
    )
    assert isinstance(stamp, Solutions) and len(stamp) == 1
    assert stamp.dicts()[0]["t"].datatype.value.endswith("#dateTime")  # type: ignore[union-attr]
    assert activities(fresh_store, graph) == [
        {"kind": provenance.ADDED, "agent": "alice", "used": "new-partnership.ttl",
         "digest": provenance.digest(PARTNERSHIP.read_bytes())}
    ]
    # the inference arrived in the same write
    assert holds(fresh_store, NOUVELLE_AQUITAINE, CG.partnerOf, FRANCE_VOLONTAIRES, INFERRED_GRAPH)
    assert_inferences_complete(fresh_store)


def test_remove_takes_the_entry_and_its_inferences_away(
    fresh_store: Store, validator: Validator
) -> None:
    assert not holds(fresh_store, TOURNAI, "http://www.w3.org/1999/02/22-rdf-syntax-ns#type",
                     ORG.Organization)
    add_file(fresh_store, validator, ORGANISATION, "tournai")
    rdf_type = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
    assert holds(fresh_store, TOURNAI, rdf_type, ORG.Organization, INFERRED_GRAPH)

    result = entries.remove_entry(fresh_store, "tournai", agent="bob", source="test")

    graph = ENTRY_GRAPH_PREFIX + "tournai"
    assert (result.action, result.triples) == ("removed", result.previous)
    assert list(fresh_store.quads(graph)) == []
    assert not holds(fresh_store, TOURNAI, rdf_type, ORG.Organization)
    assert [a["kind"] for a in activities(fresh_store, graph)] == sorted(
        [provenance.ADDED, provenance.REMOVED]
    )
    # no "current version" left for a removed graph
    assert not holds(fresh_store, graph, PROV.wasAttributedTo, ID["agent/alice"])
    assert_inferences_complete(fresh_store)


def test_replace_swaps_the_content_and_its_inferences(
    fresh_store: Store, validator: Validator
) -> None:
    first = add_file(fresh_store, validator, PARTNERSHIP, "swap")
    graph = ENTRY_GRAPH_PREFIX + "swap"
    result = entries.replace_entry(
        fresh_store, ORGANISATION.read_bytes(), "turtle", graph="cgg:entry/swap", agent="bob",
        source="new-organisation.ttl", validator=validator,
    )
    assert (result.action, result.previous) == ("replaced", first.triples)
    assert result.triples == len(list(fresh_store.quads(graph))) != first.triples
    assert not holds(fresh_store, FRANCE_VOLONTAIRES, CG.partnerOf, NOUVELLE_AQUITAINE)
    assert not holds(fresh_store, NOUVELLE_AQUITAINE, CG.partnerOf, FRANCE_VOLONTAIRES)
    assert holds(fresh_store, TOURNAI, "http://www.w3.org/1999/02/22-rdf-syntax-ns#type",
                 ORG.Organization, INFERRED_GRAPH)
    assert [a["kind"] for a in activities(fresh_store, graph)] == sorted(
        [provenance.ADDED, provenance.REPLACED]
    )
    # the current version is attributed to bob only
    assert holds(fresh_store, graph, PROV.wasAttributedTo, ID["agent/bob"], PROVENANCE_GRAPH)
    assert not holds(fresh_store, graph, PROV.wasAttributedTo, ID["agent/alice"])
    assert_inferences_complete(fresh_store)


def test_merge_validates_the_union_and_keeps_both_parts(
    fresh_store: Store, validator: Validator
) -> None:
    add_file(fresh_store, validator, ORGANISATION, "merged")
    extra = f"<{TOURNAI}> <{CG.partnerOf}> <{FRANCE_VOLONTAIRES}> .".encode()
    result = entries.merge_entry(
        fresh_store, extra, "ntriples", graph="merged", agent="alice", source="t",
        validator=validator,
    )
    assert result.action == "replaced" and result.triples == result.previous + 1
    assert holds(fresh_store, FRANCE_VOLONTAIRES, CG.partnerOf, TOURNAI, INFERRED_GRAPH)


def test_concurrent_merges_into_one_graph_lose_nothing(
    fresh_store: Store, validator: Validator
) -> None:
    """Issue 15: a merge read the entry under the write lock but validated and wrote
    outside it, so two merges at once each wrote "old + own part" and one part was lost.
    Validation is slowed so that, without the lock held throughout, both read the same
    old version."""
    add_file(fresh_store, validator, ORGANISATION, "merged-twice")

    class SlowValidator:
        def validate_quads(
            self, quads: list[ox.Quad], *, entry: str, text: str | None = None
        ) -> object:
            time.sleep(0.3)
            return validator.validate_quads(quads, entry=entry, text=text)

    partners = [FRANCE_VOLONTAIRES, NOUVELLE_AQUITAINE]
    failures: list[BaseException] = []

    def merge(partner: str) -> None:
        try:
            entries.merge_entry(
                fresh_store, f"<{TOURNAI}> <{CG.partnerOf}> <{partner}> .".encode(),
                "ntriples", graph="merged-twice", agent="alice", source=partner,
                validator=SlowValidator(),
            )
        except BaseException as exc:  # noqa: BLE001 - reported below
            failures.append(exc)

    threads = [threading.Thread(target=merge, args=(p,)) for p in partners]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
    graph = ENTRY_GRAPH_PREFIX + "merged-twice"
    for partner in partners:
        assert holds(fresh_store, TOURNAI, CG.partnerOf, partner, graph), partner
    assert_inferences_complete(fresh_store)


def test_add_to_an_existing_entry_is_a_conflict_and_changes_nothing(
    fresh_store: Store, validator: Validator
) -> None:
    add_file(fresh_store, validator, ORGANISATION, "twice")
    before = store_fingerprint(fresh_store)
    with pytest.raises(Conflict, match="already exists"):
        add_file(fresh_store, validator, PARTNERSHIP, "twice")
    assert store_fingerprint(fresh_store) == before


def test_replace_or_remove_of_an_unknown_entry_is_not_found(
    fresh_store: Store, validator: Validator
) -> None:
    before = store_fingerprint(fresh_store)
    with pytest.raises(NotFound, match="cgg:entry/ghost"):
        entries.replace_entry(
            fresh_store, ORGANISATION.read_bytes(), "turtle", graph="ghost", agent="alice",
            source="x", validator=validator,
        )
    with pytest.raises(NotFound, match="cgg:entry/ghost"):
        entries.remove_entry(fresh_store, "ghost", agent="alice", source="x")
    assert store_fingerprint(fresh_store) == before


def test_replace_with_create_adds_a_missing_entry(
    fresh_store: Store, validator: Validator
) -> None:
    result = entries.replace_entry(
        fresh_store, ORGANISATION.read_bytes(), "turtle", graph="put-new", agent="alice",
        source="x", validator=validator, create=True,
    )
    assert result.created and result.action == "added"


def test_a_rejected_entry_writes_nothing(fresh_store: Store, validator: Validator) -> None:
    before = store_fingerprint(fresh_store)
    with pytest.raises(ValidationFailed) as info:
        add_file(fresh_store, validator, DATA / "invalid" / "no-employer.ttl", "bad")
    assert "CG-OFFER-002" in info.value.message and "nothing was written" in info.value.message
    assert not info.value.report.conforms
    assert store_fingerprint(fresh_store) == before


def test_a_trig_entry_may_name_its_own_graph_only(
    fresh_store: Store, validator: Validator
) -> None:
    body = ORGANISATION.read_text("utf-8").split("\n")
    prefixes = "\n".join(line for line in body if line.startswith("@prefix"))
    triples = "\n".join(line for line in body if line and not line.startswith(("@", "#")))
    named = f"{prefixes}\n<{ENTRY_GRAPH_PREFIX}from-trig> {{\n{triples}\n}}\n".encode()

    # no --graph: the single entry graph the document names becomes the target
    result = entries.add_entry(
        fresh_store, named, "trig", graph=None, agent="alice", source="x.trig",
        validator=validator,
    )
    assert result.graph == ENTRY_GRAPH_PREFIX + "from-trig"

    before = store_fingerprint(fresh_store)
    with pytest.raises(BadRequest, match="exactly one graph"):
        entries.add_entry(
            fresh_store, named, "trig", graph="other", agent="alice", source="x.trig",
            validator=validator,
        )
    sneaky = named.replace(b"/graph/entry/from-trig", b"/graph/inferred")
    with pytest.raises(Forbidden, match="reasoner"):
        entries.add_entry(
            fresh_store, sneaky, "trig", graph=None, agent="alice", source="x.trig",
            validator=validator,
        )
    assert store_fingerprint(fresh_store) == before


def test_agent_names_must_fit_in_an_iri(fresh_store: Store, validator: Validator) -> None:
    with pytest.raises(BadRequest, match="bad agent name"):
        add_file(fresh_store, validator, ORGANISATION, "agent", agent="alice smith>")


# -- CLI ---------------------------------------------------------------------------------


@pytest.fixture
def cli_store(tmp_path: Path) -> str:
    return str(tmp_path / "store")


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def reopen(path: str) -> Store:
    return open_store(path)


def test_cli_add_replace_remove(cli_store: str) -> None:
    code, out, _ = run("add", str(PARTNERSHIP), "--graph", "cli-test", "--agent", "alice",
                       "--store", cli_store)
    assert code == 0, out
    assert "added https://w3id.org/coopgraph/graph/entry/cli-test" in out
    store = reopen(cli_store)
    graph = ENTRY_GRAPH_PREFIX + "cli-test"
    assert activities(store, graph) == [
        {"kind": provenance.ADDED, "agent": "alice", "used": PARTNERSHIP.name,
         "digest": provenance.digest(PARTNERSHIP.read_bytes())}
    ]
    assert holds(store, NOUVELLE_AQUITAINE, CG.partnerOf, FRANCE_VOLONTAIRES, INFERRED_GRAPH)
    store.close()

    code, _, err = run("add", str(ORGANISATION), "--graph", "cli-test", "--store", cli_store)
    assert code == 2 and "already exists" in err

    code, out, _ = run("replace", str(ORGANISATION), "--graph", "cgg:entry/cli-test",
                       "--agent", "bob", "--store", cli_store)
    assert code == 0 and "replaced" in out

    code, out, _ = run("remove", "--graph", "cli-test", "--agent", "bob", "--store", cli_store)
    assert code == 0 and "removed" in out
    store = reopen(cli_store)
    assert list(store.quads(graph)) == []
    assert [a["kind"] for a in activities(store, graph)] == sorted(
        [provenance.ADDED, provenance.REPLACED, provenance.REMOVED]
    )
    assert not holds(store, NOUVELLE_AQUITAINE, CG.partnerOf, FRANCE_VOLONTAIRES)
    store.close()

    code, _, err = run("remove", "--graph", "cli-test", "--store", cli_store)
    assert code == 2 and "no entry cgg:entry/cli-test" in err


def test_cli_rejected_add_prints_the_report_and_exits_1(cli_store: str) -> None:
    run("load", "--store", cli_store)
    store = reopen(cli_store)
    before = store_fingerprint(store)
    store.close()

    code, out, err = run("add", str(DATA / "invalid" / "no-employer.ttl"), "--lang", "en",
                         "--store", cli_store)
    assert code == 1
    assert "CG-OFFER-002" in out and "employer" in out  # the human report, on stdout
    assert "does not conform" in err
    store = reopen(cli_store)
    assert store_fingerprint(store) == before
    store.close()


def test_cli_refuses_code_written_graphs(cli_store: str) -> None:
    code, _, err = run("add", str(ORGANISATION), "--graph", "cgg:ontology", "--store", cli_store)
    assert code == 2 and "not writable" in err


def test_cli_explain_prints_rule_and_premises_with_their_graphs(cli_store: str) -> None:
    code, out, _ = run("explain", "cgid:place/oujda", "cg:within", "cgid:place/morocco",
                       "--lang", "en", "--store", cli_store)
    assert code == 0, out
    assert "[owl-transitive]" in out
    assert "cgid:place/oujda cg:within" in out
    assert "(graph cgg:reference/places)" in out


def test_cli_explain_says_when_there_is_nothing_to_explain(cli_store: str) -> None:
    code, _, err = run("explain", "cgid:place/oujda", "cg:within", "cgid:place/lille",
                       "--store", cli_store)
    assert code == 2 and "does not hold" in err
    code, _, err = run("explain", "nope:x", "cg:within", "cgid:place/lille", "--store", cli_store)
    assert code == 2 and "unknown prefix 'nope'" in err


def test_every_committed_write_is_published_and_a_rejected_one_is_not(
    fresh_store: Store, validator: Validator
) -> None:
    from coopgraph import events

    seen: list[events.Commit] = []
    events.subscribe(fresh_store, seen.append)
    start = events.generation(fresh_store)
    add_file(fresh_store, validator, ORGANISATION, "published")
    with pytest.raises(ValidationFailed):
        add_file(fresh_store, validator, DATA / "invalid" / "no-employer.ttl", "bad")
    entries.remove_entry(fresh_store, "published", agent="alice", source="x")
    graph = ENTRY_GRAPH_PREFIX + "published"
    assert [c.graphs for c in seen] == [(graph,), (graph,)]
    assert seen[0].inserted and not seen[0].removed
    assert set(seen[1].removed) == set(seen[0].inserted) and not seen[1].inserted
    assert events.generation(fresh_store) == start + 2
