"""Load the project's ontology, shapes and data into a store: parse → validate → commit → reason.

Each source file is recorded in the provenance log with its sha256, so a second start on
the same store reloads only the files that changed (usually none: start-up stays fast).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox

from coopgraph import events, provenance
from coopgraph.errors import ParseError
from coopgraph.formats import rdf_format_for_path
from coopgraph.parse import parse_bytes, skolemise
from coopgraph.queries import internal_sparql
from coopgraph.settings import Settings
from coopgraph.store.base import Changes, Solutions, Store
from coopgraph.vocab import ONTOLOGY_GRAPH, SHAPES_GRAPH

LOADER_AGENT = "coopgraph-loader"

@dataclass
class SourceFile:
    """One file of the project and the graph its triples go to (``None``: named in the file)."""

    path: Path
    name: str  # path relative to the project home, recorded in provenance
    graph: str | None


@dataclass
class LoadSummary:
    loaded: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    graphs: list[str] = field(default_factory=list)
    quads: int = 0
    inferred: int = 0


def project_sources(settings: Settings) -> list[SourceFile]:
    """Every file the project loads, in a stable order."""
    home = settings.home
    files: list[SourceFile] = []
    for path in sorted(settings.ontology_dir.glob("*.ttl")):
        files.append(SourceFile(path, str(path.relative_to(home)), ONTOLOGY_GRAPH))
    for path in sorted(settings.shapes_dir.glob("*.ttl")):
        files.append(SourceFile(path, str(path.relative_to(home)), SHAPES_GRAPH))
    for path in sorted(settings.data_dir.rglob("*.trig")):
        files.append(SourceFile(path, str(path.relative_to(home)), None))
    return files


def parse_source(source: SourceFile, data: bytes) -> list[ox.Quad]:
    """Parse one project file; data files must put every triple in a named graph.

    The blank nodes of data files become skolem IRIs, graph by graph
    (:func:`coopgraph.parse.skolemise`), as an entry's do; the ontology and the shapes
    keep theirs (OWL and SHACL structures that no ABox rule reads).

    :raises ParseError: invalid file, or a data file with default-graph triples.
    """
    quads = parse_bytes(
        data, rdf_format_for_path(source.path), source=source.name, default_graph=source.graph
    )
    if source.graph is None:
        stray = [q for q in quads if isinstance(q.graph_name, ox.DefaultGraph)]
        if stray:
            raise ParseError(
                f"{len(stray)} triple(s) outside a named graph (first: {stray[0].subject} "
                f"{stray[0].predicate} …); a data file holds exactly one GRAPH block",
                source=source.name,
            )
        by_graph: dict[str, list[ox.Quad]] = {}
        for q in quads:
            by_graph.setdefault(q.graph_name.value, []).append(q)  # type: ignore[union-attr]
        quads = [q for graph, part in by_graph.items() for q in skolemise(part, graph)]
    return quads


def loaded_digests(store: Store) -> dict[str, str]:
    """``{file name: sha256}`` of the latest load of each project file."""
    result = store.query(internal_sparql("loaded-digests"))
    assert isinstance(result, Solutions)
    return {row["used"].value: row["digest"].value for row in result.dicts()}


def load_project(
    store: Store,
    settings: Settings,
    *,
    force: bool = False,
    reason: bool = True,
    progress: Callable[[str], None] | None = None,
) -> LoadSummary:
    """Bring the store up to date with the project's files.

    Files are all parsed before anything is written; changed files replace their graphs
    in one transaction with their provenance; then inferences are rebuilt.

    :param force: reload every file even when its digest is unchanged.
    :param reason: rebuild the inferred graph after loading.
    :raises ParseError: a project file is invalid (nothing is written).
    """
    summary = LoadSummary()
    from coopgraph import pending

    if pending.is_pending(store) and not (reason and force):
        # a batched write (the bulk import) was interrupted before its materialisation
        if progress:
            progress("inferences left pending by an interrupted import: rebuilding them")
        from coopgraph.reason import Reasoner

        Reasoner(store).repair()
    previous = {} if force else loaded_digests(store)
    # one time for the whole load (one transaction): a graph gathered from several files
    # (ontology, shapes) gets one prov:generatedAtTime, not one per file and second
    when = provenance.now()
    drop: set[str] = set()
    insert: list[ox.Quad] = []
    sources = project_sources(settings)
    for number, source in enumerate(sources, start=1):
        data = source.path.read_bytes()
        sha = provenance.digest(data)
        if previous.get(source.name) == sha:
            summary.unchanged.append(source.name)
            continue
        if progress:
            progress(f"[{number}/{len(sources)}] {source.name}")
        quads = parse_source(source, data)
        graphs = sorted({str(q.graph_name.value) for q in quads})  # type: ignore[union-attr]
        drop.update(graphs)
        insert.extend(quads)
        for graph in graphs:
            insert.extend(
                provenance.activity(
                    provenance.LOADED,
                    graph,
                    agent=LOADER_AGENT,
                    used=source.name,
                    source_digest=sha,
                    when=when,
                )
            )
        summary.loaded.append(source.name)
        summary.graphs.extend(graphs)
    if summary.loaded:
        # Shared graphs (ontology, shapes) gather several files: reload all of their files.
        for source in project_sources(settings):
            if source.graph in drop and source.name in summary.unchanged:
                data = source.path.read_bytes()
                insert.extend(parse_source(source, data))
        if drop & set(store.graph_sizes()):
            before = [provenance.current_generation_quads(g) for g in sorted(drop)]
            store.apply(Changes(drop_graphs=sorted(drop), before=before, insert=insert))
        else:  # empty store: a plain transactional insertion, no SPARQL text to parse
            store.apply(Changes(insert=insert))
        summary.quads = len(insert)
        events.publish(store, events.Commit(graphs=tuple(summary.graphs), everything=True))
    if reason and (summary.loaded or force):
        from coopgraph.reason import Reasoner

        if progress:
            progress("inferences (OWL 2 RL rules) into cgg:inferred")
        reasoner = Reasoner(store, cache_dir=Path(settings.cache_dir))
        summary.inferred = reasoner.materialise().inferred
        if pending.is_pending(store):
            pending.clear(store)
    from coopgraph.changes import add_missing_sequences

    # activities recorded before cg:sequence existed get theirs, once (the change feed)
    added = add_missing_sequences(store)
    if added and progress:
        progress(f"cg:sequence given to {added} earlier activities (the change feed's order)")
    return summary
