"""The :class:`Reasoner`: what the rest of coopgraph calls (load, entries, explain, pages)."""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

from coopgraph import events, pending
from coopgraph.reason.closure import Closure, Key, rule_predicates
from coopgraph.reason.delta import Delta, inference_delta, to_nquads, to_quads
from coopgraph.reason.explain import Explanation, explain, explain_many
from coopgraph.reason.tbox import TBox, ontology_tbox
from coopgraph.store.base import Changes, Solutions, Store, match
from coopgraph.vocab import INFERRED_GRAPH, ONTOLOGY_GRAPH, PROVENANCE_GRAPH

__all__ = ["Reasoner", "ReasoningStats"]

_COUNT_INFERRED = f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{INFERRED_GRAPH}> {{ ?s ?p ?o }} }}"

#: The TBox of each open store, dropped when a commit touches the ontology (``load``).
_STORE_TBOX: weakref.WeakKeyDictionary[Store, TBox] = weakref.WeakKeyDictionary()
_WATCHED: weakref.WeakSet[Store] = weakref.WeakSet()
_LOCK = threading.Lock()


@dataclass(frozen=True)
class ReasoningStats:
    """What a materialisation did."""

    #: triples in ``cgg:inferred`` afterwards
    inferred: int
    #: wall-clock seconds
    seconds: float


def _forget(store_ref: weakref.ref[Store], commit: events.Commit) -> None:
    store = store_ref()
    if store is not None and (commit.everything or ONTOLOGY_GRAPH in commit.graphs):
        with _LOCK:
            _STORE_TBOX.pop(store, None)


def _keys(quads: Iterable[ox.Quad], wanted: frozenset[str]) -> Iterator[Key]:
    """The closure keys of the quads with a ``wanted`` predicate."""
    for q in quads:
        p = str(q.predicate)
        if p in wanted:
            yield str(q.subject), p, str(q.object)


def _in_thread(work: Callable[[], object] | None) -> Callable[[], None]:
    """``work`` started in a thread; the function returned waits for it and raises what
    it raised (nothing to wait for when ``work`` is None)."""
    if work is None:
        return lambda: None
    failed: list[BaseException] = []

    def run() -> None:
        try:
            work()
        except BaseException as exc:  # raised again in the caller's thread
            failed.append(exc)

    thread = threading.Thread(target=run, name="coopgraph-beside", daemon=True)
    thread.start()

    def wait() -> None:
        thread.join()
        if failed:
            raise failed[0]

    return wait


class Reasoner:
    """Materialise and maintain ``cgg:inferred`` for a store.

    >>> from coopgraph.store.embedded import EmbeddedStore
    >>> Reasoner(EmbeddedStore(None)).materialise().inferred
    0

    :param store: any :class:`~coopgraph.store.base.Store`; the TBox is read from its
        ``cgg:ontology`` graph on first use and kept for the store until a commit
        touches the ontology.
    :param cache_dir: where the owlrl closure of each ontology version is kept between
        processes (``Settings.cache_dir``); ``None``: in memory only.
    """

    def __init__(self, store: Store, *, cache_dir: Path | None = None) -> None:
        self.store = store
        self.cache_dir = cache_dir
        self._premise_terms: tuple[TBox, frozenset[ox.NamedNode]] | None = None

    @property
    def tbox(self) -> TBox:
        """The ontology closure (computed once per ontology content, see
        :func:`~coopgraph.reason.tbox.ontology_tbox`)."""
        try:
            with _LOCK:
                cached = _STORE_TBOX.get(self.store)
        except TypeError:  # a store that cannot be weakly referenced: no per-store cache
            return ontology_tbox(self.store, self.cache_dir)
        if cached is not None:
            return cached
        tbox = ontology_tbox(self.store, self.cache_dir)
        with _LOCK:
            _STORE_TBOX[self.store] = tbox
            watch = self.store not in _WATCHED
            _WATCHED.add(self.store)
        if watch:
            store_ref = weakref.ref(self.store)
            events.subscribe(self.store, lambda commit: _forget(store_ref, commit))
        return tbox

    def warm(self) -> TBox:
        """Compute the TBox now (``serve`` calls it at start-up, so that the first write
        does not pay for owlrl)."""
        return self.tbox

    def _count(self) -> int:
        result = self.store.query(_COUNT_INFERRED)
        assert isinstance(result, Solutions)
        return int(result.rows[0][0].value)  # type: ignore[union-attr]

    def premises(self, quads: Iterable[ox.Quad]) -> list[Key]:
        """The triples of ``quads`` the rules read or conclude, as closure keys: what
        :meth:`materialise` needs of a graph the caller holds (``given``)."""
        tbox = self.tbox
        if self._premise_terms is None or self._premise_terms[0] is not tbox:
            # pyoxigraph terms: a set lookup without building each predicate's string
            nodes = frozenset(ox.NamedNode(p[1:-1]) for p in rule_predicates(tbox))
            self._premise_terms = (tbox, nodes)
        wanted = self._premise_terms[1]
        return [
            (str(q.subject), str(q.predicate), str(q.object)) for q in quads
            if q.predicate in wanted
        ]

    def materialise(
        self, *, given: Mapping[str, Sequence[Key]] | None = None,
        beside: Callable[[], object] | None = None,
    ) -> ReasoningStats:
        """Rebuild ``cgg:inferred`` from every asserted quad: one read of the store, the
        closure (:class:`~coopgraph.reason.closure.Closure`), one write.

        Only the triples the rules read or conclude are read. The write replaces the
        inferred graph with the store's bulk loader under the :mod:`coopgraph.pending`
        marker (set in the transaction that drops the old graph, cleared after the load
        unless a batched write had set it): a crash in between leaves the marker, and the
        next open rebuilds the inferences.

        :param given: graph IRI → its asserted triples as keys (:meth:`premises`), for
            graphs the caller holds in memory (a bulk import's entries): those graphs are
            not read back from the store.
        :param beside: a write run in a thread while the closure of ``given`` and of
            the graphs but ``cgg:provenance`` is computed (the bulk import's last commit,
            whose provenance goes in without holding the GIL: both cores work; run first
            when nothing is given); it may write ``cgg:provenance`` and the graphs of
            ``given`` only, and its error is raised here before ``cgg:inferred`` is
            touched. ``cgg:provenance`` is read after it.
        :returns: :class:`ReasoningStats` (triples inferred, seconds).
        :raises StoreError: a read or the write failed.
        """
        start = time.perf_counter()
        with _LOCK:  # the ontology may have been reloaded by another process
            _STORE_TBOX.pop(self.store, None)
        tbox = self.tbox
        wanted = rule_predicates(tbox)
        found = Closure(tbox)
        graphs = self.store.graph_names()
        if not given:
            if beside is not None:
                beside()  # (nothing held in memory to work on meanwhile)
            found.add(_keys(self._everything(), wanted))
        else:
            wait = _in_thread(beside)
            try:
                found.add(k for triples in given.values() for k in triples)
                kept = set(graphs) - set(given) - {INFERRED_GRAPH, PROVENANCE_GRAPH}
                found.add(_keys((q for g in sorted(kept) for q in self.store.quads(g)), wanted))
            finally:
                wait()
            found.add(_keys(self._provenance(wanted), wanted))
        inferred = found.inferred()
        marked = not pending.is_pending(self.store)
        drop = [INFERRED_GRAPH] if INFERRED_GRAPH in graphs else []
        self.store.apply(Changes(drop_graphs=drop, insert=[pending.MARKER] if marked else []))
        if inferred:
            load = getattr(self.store, "bulk_load_nquads", None)
            blank = any(s.startswith("_:") or o.startswith("_:") for s, _p, o in inferred)
            if load is not None and not blank:  # N-Quads straight to the loader
                load(to_nquads(inferred))
            else:  # (the loader would give blank nodes new labels)
                self.store.bulk_load(to_quads(inferred))
        if marked:
            pending.clear(self.store)
        return ReasoningStats(len(inferred), time.perf_counter() - start)

    def repair(self) -> bool:
        """After a batched write that did not finish (the :mod:`coopgraph.pending` marker
        is set): drop the graphs it left unfinished, rematerialise and clear the marker;
        ``True`` when there was something to repair.

        >>> from coopgraph.store.embedded import EmbeddedStore
        >>> store = EmbeddedStore(None)
        >>> store.apply(Changes(insert=[pending.MARKER]))
        >>> Reasoner(store).repair(), pending.is_pending(store), Reasoner(store).repair()
        (True, False, False)
        """
        if not pending.is_pending(self.store):
            return False
        pending.drop_unfinished(self.store)
        self.materialise()
        pending.clear(self.store)
        return True

    def _everything(self) -> Iterable[ox.Quad]:
        """Every quad of the named graphs but ``cgg:inferred`` (one scan)."""
        inferred = ox.NamedNode(INFERRED_GRAPH)
        return (
            q
            for q in self.store.quads()
            if isinstance(q.graph_name, ox.NamedNode) and q.graph_name != inferred
        )

    def _provenance(self, wanted: Iterable[str]) -> list[ox.Quad]:
        """The quads of ``cgg:provenance`` with a ``wanted`` predicate (``<iri>`` keys), by
        index lookups (after a 1M import: 30k of its 120k quads; an entry graph is read
        whole as fast as by its rule predicates)."""
        predicates = tuple(ox.NamedNode(p[1:-1]) for p in sorted(wanted))
        return match(self.store, [(None, predicates, None, PROVENANCE_GRAPH)])[0]

    def delta(self, added: Sequence[ox.Quad], removed: Sequence[ox.Quad] = ()) -> Delta:
        """The inferred quads a write deletes and inserts, read *before* the write (see
        :mod:`coopgraph.reason.delta`). Put ``delete`` and ``insert`` in the write's own
        :class:`~coopgraph.store.base.Changes`, so that data and inferences are one
        transaction (:meth:`changes` does it).

        :param added: the quads the write inserts (already present ones are fine).
        :param removed: the quads the write deletes (a dropped graph: all its quads).
        """
        return inference_delta(self.store, self.tbox, added, removed)

    def changes(
        self,
        *,
        insert: Sequence[ox.Quad] = (),
        delete: Sequence[ox.Quad] = (),
        drop_graphs: Sequence[str] = (),
        removed: Sequence[ox.Quad] = (),
        before: Sequence[str] = (),
    ) -> tuple[Changes, Delta]:
        """One write with its inferences: ``drop_graphs`` and ``delete`` go, ``before``
        runs, ``insert`` comes in, and ``cgg:inferred`` follows.

        :param removed: every asserted quad the write takes away (the dropped graphs'
            quads, ``delete``, what ``before`` deletes); ``delete`` is added to it.
        :returns: the :class:`~coopgraph.store.base.Changes` to apply and the delta.
        """
        delta = self.delta(insert, [*removed, *delete])
        changes = Changes(
            drop_graphs=drop_graphs,
            delete=[*delete, *delta.delete],
            before=before,
            insert=[*insert, *delta.insert],
        )
        return changes, delta

    def explain(
        self, s: str, p: str, o: ox.NamedNode | ox.BlankNode | ox.Literal | str, *,
        depth: int = 4
    ) -> list[Explanation]:
        """Why an inferred triple holds: each rule instance that derives it.

        :param s: subject IRI.
        :param p: predicate IRI.
        :param o: object (an IRI string is read as a ``NamedNode``).
        :param depth: how deep inferred premises are explained in turn.
        :returns: explanations, those with fewest inferred premises first; ``[]`` when
            the triple is asserted in some graph or not inferred at all.
        """
        obj = ox.NamedNode(o) if isinstance(o, str) else o
        triple = ox.Triple(ox.NamedNode(s), ox.NamedNode(p), obj)
        return explain(self.store, self.tbox, triple, depth)

    def explain_many(
        self, triples: Sequence[ox.Triple], *, depth: int = 4
    ) -> dict[ox.Triple, list[Explanation]]:
        """:meth:`explain` of each triple, read from the store in a few batched calls
        (an entity page explains up to 40 statements)."""
        return explain_many(self.store, self.tbox, triples, depth)
