"""The embedded store: pyoxigraph on disk (persistent, the default) or in memory (tests).

Queries run in the calling thread; pyoxigraph releases the GIL while it evaluates, so
threads use both cores. It cannot stop a running query: the server wraps this store in
:class:`~coopgraph.store.isolated.IsolatedStore` to get enforceable timeouts.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar, Unpack

import pyoxigraph as ox

from coopgraph.errors import QuerySyntaxError, StartupError, StoreError
from coopgraph.results import serialize_native
from coopgraph.store.base import (
    Changes,
    Dataset,
    Pattern,
    QueryOptions,
    QueryResult,
    SerializedResult,
    Term,
    changes_as_update,
    expand,
    materialise,
)

#: Quads of one subject read in a scan before it counts as a hub (EmbeddedStore.match).
_SCAN = 256

if TYPE_CHECKING:
    from coopgraph.formats import Format

_GRAPH_SIZES = "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"


_T = TypeVar("_T")


def _reading(read: Callable[[], _T]) -> _T:
    """``read()``, pyoxigraph's errors as coopgraph's.

    :raises QuerySyntaxError: the query does not parse.
    :raises StoreError: storage failure, or an evaluation error (e.g. a binding for a
        variable the query does not select).
    """
    try:
        return read()
    except SyntaxError as exc:
        raise QuerySyntaxError(str(exc)) from exc
    except OSError as exc:
        raise StoreError(f"store read failed: {exc}") from exc
    except RuntimeError as exc:
        raise StoreError(f"query evaluation failed: {exc}") from exc


def dataset_options(dataset: Dataset | None) -> dict[str, object]:
    """pyoxigraph ``query()`` keyword arguments for a :class:`Dataset`."""
    dataset = dataset or Dataset()
    options: dict[str, object] = {}
    if dataset.default_graphs is None:
        options["use_default_graph_as_union"] = True
    else:
        options["default_graph"] = [ox.NamedNode(g) for g in dataset.default_graphs]
    if dataset.named_graphs is not None:
        options["named_graphs"] = [ox.NamedNode(g) for g in dataset.named_graphs]
    return options


class EmbeddedStore:
    """pyoxigraph-backed :class:`~coopgraph.store.base.Store`.

    :param path: directory of the persistent store, or ``None`` for an in-memory store.
    :param read_only: open an existing directory read-only (a snapshot; writes fail).
    :raises StartupError: the directory is unusable or already opened by another process.
    """

    def __init__(self, path: str | Path | None = None, *, read_only: bool = False) -> None:
        if path is not None and str(path) == ":memory:":
            # a directory named ":memory:" is never what was meant (open_store's spelling)
            raise StartupError("':memory:' is not a store directory: open_store(':memory:') "
                               "or EmbeddedStore(None) opens a store in memory")
        self.path = Path(path) if path is not None else None
        self.read_only = read_only
        try:
            if self.path is None:
                self._store = ox.Store()
            elif read_only:
                self._store = ox.Store.read_only(str(self.path))
            else:
                self.path.mkdir(parents=True, exist_ok=True)
                self._store = ox.Store(str(self.path))
        except OSError as exc:
            raise StartupError(
                f"cannot open store {self.path}: {exc} (is another coopgraph using it?)"
            ) from exc

    @property
    def is_persistent(self) -> bool:
        return self.path is not None

    def query(self, sparql: str, **options: Unpack[QueryOptions]) -> QueryResult:
        result = self._evaluate(sparql, options)
        return _reading(lambda: materialise(result, options.get("limit")))

    def query_serialized(
        self, sparql: str, fmt: Format, **options: Unpack[QueryOptions]
    ) -> SerializedResult:
        """Run a query and serialise it here with pyoxigraph's writers
        (:func:`coopgraph.results.serialize_native`); see
        :meth:`~coopgraph.store.base.SerializingStore.query_serialized`."""
        result = self._evaluate(sparql, options)
        return _reading(lambda: serialize_native(result, fmt, limit=options.get("limit")))

    def _evaluate(
        self, sparql: str, options: QueryOptions
    ) -> ox.QuerySolutions | ox.QueryBoolean | ox.QueryTriples:
        """pyoxigraph's lazy result of ``sparql`` (``timeout`` is not enforced here).

        :raises QuerySyntaxError, StoreError: see :func:`_reading`.
        """
        arguments = dataset_options(options.get("dataset"))
        bindings = options.get("bindings")
        if bindings:
            arguments["substitutions"] = {ox.Variable(k): v for k, v in bindings.items()}
        prefixes = options.get("prefixes")
        if prefixes:
            arguments["prefixes"] = dict(prefixes)
        return _reading(lambda: self._store.query(sparql, **arguments))  # type: ignore[arg-type]

    def apply(self, changes: Changes) -> None:
        if changes.is_empty():
            return
        if not (changes.then or changes.before or changes.drop_graphs or changes.delete):
            # Plain insertion: extend() is transactional and skips SPARQL parsing.
            try:
                self._store.extend(changes.insert)
            except OSError as exc:
                raise StoreError(f"store write failed: {exc}") from exc
            return
        try:
            self._store.update(changes_as_update(changes))
        except (OSError, RuntimeError, SyntaxError) as exc:
            raise StoreError(f"store write failed, nothing was written: {exc}") from exc

    def graph_sizes(self) -> dict[str, int]:
        result = self._store.query(_GRAPH_SIZES)
        return {row[0].value: int(row[1].value) for row in result}  # type: ignore[union-attr]

    def graph_names(self) -> list[str]:
        return [g.value for g in self._store.named_graphs() if isinstance(g, ox.NamedNode)]

    def quads(self, graph: str | None = None) -> Iterator[ox.Quad]:
        g = ox.NamedNode(graph) if graph else None
        return iter(self._store.quads_for_pattern(None, None, None, g))

    def match(
        self, patterns: Sequence[Pattern], *, limit: int | None = None
    ) -> list[list[ox.Quad]]:
        """:func:`coopgraph.store.base.match` with index lookups, no query to parse.

        A pattern whose subject and object are both choices (every pair of two node
        sets) reads each subject's quads when it has few (one scan instead of one
        lookup per pair), and looks its pairs up one by one when it is a hub.
        """
        found = []
        try:
            for pattern in patterns:
                s, p, o, g = pattern
                graph = ox.NamedNode(g) if g is not None else None
                if limit is not None and any(isinstance(t, tuple) for t in pattern):
                    raise ValueError("a pattern with choices takes no limit")
                if isinstance(s, tuple) and isinstance(o, tuple) and not isinstance(p, tuple):
                    found.append(self._pairs(s, p, o, graph))
                    continue
                quads: list[ox.Quad] = []
                for subject, predicate, obj in expand(pattern):
                    if isinstance(subject, ox.Literal):
                        continue  # no quad has a literal subject (pyoxigraph: TypeError)
                    hits = self._store.quads_for_pattern(subject, predicate, obj, graph)
                    quads += itertools.islice(hits, limit)
                found.append(quads)
        except OSError as exc:
            raise StoreError(f"store read failed: {exc}") from exc
        return found

    def _pairs(
        self, subjects: tuple[Term, ...], p: ox.NamedNode | None, objects: tuple[Term, ...],
        graph: ox.NamedNode | None,
    ) -> list[ox.Quad]:
        wanted = set(objects)
        quads: list[ox.Quad] = []
        for s in subjects:
            if isinstance(s, ox.Literal):
                continue  # no quad has a literal subject
            scan = list(itertools.islice(
                self._store.quads_for_pattern(s, p, None, graph), _SCAN + 1
            ))
            if len(scan) <= _SCAN:
                quads += [q for q in scan if q.object in wanted]
                continue
            for o in objects:  # a hub: one lookup per pair
                quads += self._store.quads_for_pattern(s, p, o, graph)
        return quads

    def bulk_load(self, quads: Iterable[ox.Quad]) -> None:
        try:
            self._store.bulk_extend(quads)
        except OSError as exc:
            raise StoreError(f"bulk load failed: {exc}") from exc

    def bulk_load_nquads(self, data: bytes) -> None:
        """N-Quads through pyoxigraph's bulk loader, which parses and writes them without
        holding the GIL: another thread runs Python meanwhile (:class:`coopgraph.pending.
        Preload`; ``bulk_extend`` holds it while it reads Python objects).

        :raises StoreError: the load failed.
        """
        try:
            self._store.bulk_load(data, format=ox.RdfFormat.N_QUADS)
        except (OSError, SyntaxError) as exc:
            raise StoreError(f"bulk load failed: {exc}") from exc

    def insert_nquads(self, data: bytes) -> None:
        """N-Quads inserted in ONE transaction (pyoxigraph's ``load``: all or nothing),
        parsed and written without holding the GIL: the bulk import's provenance goes in
        while its materialisation runs (``Reasoner.materialise``, ``beside``). The quads
        must hold no blank node (the parser would give them new labels).

        :raises StoreError: the write failed and nothing was written.
        """
        try:
            self._store.load(data, format=ox.RdfFormat.N_QUADS)
        except (OSError, SyntaxError) as exc:
            raise StoreError(f"store write failed, nothing was written: {exc}") from exc

    def __len__(self) -> int:
        return len(self._store)

    def __bool__(self) -> bool:
        """Always true: without this, ``if store`` counts every quad (``__len__``: 0.6 s
        holding the store process at 1M triples, on every ``GET /data``; issue 16)."""
        return True

    def flush(self) -> None:
        if self.path is not None and not self.read_only:
            self._store.flush()

    def close(self) -> None:
        self.flush()
        del self._store
