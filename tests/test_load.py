"""load.py: the project loads into named graphs with provenance; a second load is a no-op."""

from __future__ import annotations

import shutil

import pytest

from coopgraph.errors import ParseError
from coopgraph.load import load_project, loaded_digests, project_sources
from coopgraph.settings import PROJECT_ROOT, Settings
from coopgraph.store import Solutions, open_store
from coopgraph.vocab import DCTERMS, GRAPH, INFERRED_GRAPH, ONTOLOGY_GRAPH, PROV, PROVENANCE_GRAPH


def test_every_source_is_recorded_with_its_digest(project_store, settings):
    digests = loaded_digests(project_store)
    assert set(digests) == {s.name for s in project_sources(settings)}
    assert all(len(d) == 64 for d in digests.values())


def test_graphs(project_store):
    sizes = project_store.graph_sizes()
    assert sizes[ONTOLOGY_GRAPH] > 0
    assert sizes[PROVENANCE_GRAPH] > 0
    assert sizes.get(INFERRED_GRAPH, 0) > 0
    seeds = sorted(g for g in sizes if g.startswith(GRAPH["seed/"]))
    assert seeds == [GRAPH[f"seed/{n:03d}"] for n in range(5)]


@pytest.mark.parametrize(
    "kind, link",
    [
        ("seed/", f"<{PROV.wasDerivedFrom}>"),
        ("reference/", f"<{PROV.wasDerivedFrom}>|<{DCTERMS.source}>"),
    ],
)
def test_every_data_graph_says_where_it_comes_from(project_store, kind, link):
    """Seed graphs are prov:wasDerivedFrom their document; reference graphs cite sources."""
    result = project_store.query(
        f"""SELECT DISTINCT ?g WHERE {{ GRAPH ?g {{ ?s ?p ?o }}
              FILTER(STRSTARTS(STR(?g), "{GRAPH[kind]}"))
              FILTER NOT EXISTS {{ GRAPH ?g {{ ?g {link} ?src }} }} }}"""
    )
    assert isinstance(result, Solutions)
    assert result.rows == []


def copy_project(tmp_path):
    home = tmp_path / "home"
    for name in ("ontology", "shapes", "data", "queries"):
        shutil.copytree(PROJECT_ROOT / name, home / name)
    return Settings(store=str(tmp_path / "store"), home=home)


def test_second_load_reloads_nothing_and_a_changed_file_only_itself(tmp_path):
    settings = copy_project(tmp_path)
    store = open_store(settings.store)
    first = load_project(store, settings)
    assert first.unchanged == [] and first.inferred > 0
    before = store.graph_sizes()
    second = load_project(store, settings)
    assert second.loaded == [] and store.graph_sizes() == before
    seed = (
        settings.home
        / "data"
        / "seeds"
        / sorted(p.name for p in (settings.home / "data" / "seeds").glob("*.trig"))[0]
    )
    text = seed.read_text("utf-8").rstrip()
    assert text.endswith("}")
    seed.write_text(
        text[:-1] + "\n  <https://w3id.org/coopgraph/id/test/x> "
        '<http://www.w3.org/2000/01/rdf-schema#label> "added" .\n}\n',
        "utf-8",
    )
    third = load_project(store, settings)
    assert third.loaded == [str(seed.relative_to(settings.home))]
    after = store.graph_sizes()
    changed = {g for g in after if after[g] != before.get(g)}
    assert GRAPH["seed/000"] in changed
    assert changed <= {GRAPH["seed/000"], PROVENANCE_GRAPH, INFERRED_GRAPH}
    store.close()


def test_store_survives_restart(tmp_path):
    settings = copy_project(tmp_path)
    store = open_store(settings.store)
    load_project(store, settings)
    sizes = store.graph_sizes()
    store.close()
    reopened = open_store(settings.store)
    assert reopened.graph_sizes() == sizes
    assert load_project(reopened, settings).loaded == []
    reopened.close()


def test_broken_data_file_writes_nothing(tmp_path):
    settings = copy_project(tmp_path)
    store = open_store(":memory:")
    load_project(store, settings)
    before = store.graph_sizes()
    (settings.home / "data" / "seeds" / "999-broken.trig").write_text(
        "@prefix ex: <http://example.org/> .\nex:g { ex:a ex:b }\n", "utf-8"
    )
    with pytest.raises(ParseError) as info:
        load_project(store, settings)
    assert "999-broken.trig:2" in info.value.message
    assert store.graph_sizes() == before


def test_data_file_with_default_graph_triples_is_refused(tmp_path):
    settings = copy_project(tmp_path)
    (settings.home / "data" / "stray.trig").write_text(
        "<http://example.org/a> <http://example.org/b> <http://example.org/c> .\n", "utf-8"
    )
    with pytest.raises(ParseError, match="outside a named graph"):
        load_project(open_store(":memory:"), settings)


def test_a_graph_of_several_files_has_one_generation_time(tmp_path, monkeypatch):
    """The ontology gathers several files: one load is one transaction, so the graph
    gets one prov:generatedAtTime even when reading the files spans a second boundary
    (the clock below moves a second at each reading; the times were once taken per file,
    which made a Virtuoso load and an embedded one differ, by chance, in size)."""
    from datetime import UTC, datetime, timedelta

    from coopgraph import provenance

    ticks = iter(range(10_000))
    monkeypatch.setattr(
        provenance, "now",
        lambda: datetime(2026, 1, 1, tzinfo=UTC) + timedelta(seconds=next(ticks)))
    settings = copy_project(tmp_path)
    assert sum(s.graph == ONTOLOGY_GRAPH for s in project_sources(settings)) > 1
    store = open_store(settings.store)
    load_project(store, settings, reason=False)
    times = store.query(
        f"SELECT ?t WHERE {{ GRAPH <{PROVENANCE_GRAPH}> "
        f"{{ <{ONTOLOGY_GRAPH}> <{PROV.generatedAtTime}> ?t }} }}")
    assert isinstance(times, Solutions)
    assert len(times.rows) == 1
    store.close()
