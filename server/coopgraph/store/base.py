"""The Store protocol every other module talks to, and the query result types.

Three implementations: :class:`~coopgraph.store.embedded.EmbeddedStore` (pyoxigraph, on
disk or in memory), :class:`~coopgraph.store.isolated.IsolatedStore` (the embedded store
run in a supervised child process, so a runaway query can be stopped) and
:class:`~coopgraph.store.remote.RemoteStore` (any SPARQL 1.1 Protocol endpoint).

Terms are pyoxigraph terms everywhere (``NamedNode``, ``BlankNode``, ``Literal``).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol, TypedDict, Unpack, runtime_checkable

import pyoxigraph as ox

if TYPE_CHECKING:
    from coopgraph.formats import Format

Term = ox.NamedNode | ox.BlankNode | ox.Literal


@dataclass
class Solutions:
    """SELECT results: variable names and rows (``None`` = unbound)."""

    variables: list[str]
    rows: list[tuple[Term | None, ...]]
    truncated: bool = False

    def dicts(self) -> list[dict[str, Term]]:
        """Rows as dicts, unbound variables left out."""
        return [
            {v: t for v, t in zip(self.variables, row, strict=True) if t is not None}
            for row in self.rows
        ]

    def values(self, variable: str) -> list[Term | None]:
        i = self.variables.index(variable)
        return [row[i] for row in self.rows]

    def __len__(self) -> int:
        return len(self.rows)


@dataclass
class Boolean:
    """ASK result."""

    value: bool
    truncated: bool = False

    def __bool__(self) -> bool:
        return self.value


@dataclass
class Triples:
    """CONSTRUCT / DESCRIBE result."""

    triples: list[ox.Triple]
    truncated: bool = False

    def __len__(self) -> int:
        return len(self.triples)


QueryResult = Solutions | Boolean | Triples


def materialise(result: object, limit: int | None) -> QueryResult:
    """Turn a lazy pyoxigraph result into a :data:`QueryResult`, stopping at ``limit``."""
    if isinstance(result, ox.QueryBoolean):
        return Boolean(bool(result))
    if isinstance(result, ox.QuerySolutions):
        variables = [v.value for v in result.variables]
        rows: list[tuple[Term | None, ...]] = []
        truncated = False
        for solution in result:
            if limit is not None and len(rows) >= limit:
                truncated = True
                break
            rows.append(tuple(solution))
        return Solutions(variables, rows, truncated)
    triples: list[ox.Triple] = []
    truncated = False
    for triple in result:  # type: ignore[attr-defined]
        if limit is not None and len(triples) >= limit:
            truncated = True
            break
        triples.append(triple)
    return Triples(triples, truncated)


@dataclass(frozen=True)
class Dataset:
    """The RDF dataset a query sees (SPARQL ``FROM``/``FROM NAMED`` or protocol params).

    ``default_graphs=None`` means the union of all named graphs (coopgraph's default);
    ``named_graphs=None`` means every named graph of the store.
    """

    default_graphs: tuple[str, ...] | None = None
    named_graphs: tuple[str, ...] | None = None


@dataclass
class Changes:
    """One atomic write, in this order: drop whole graphs, delete quads, run ``before``
    operations, insert quads, run ``then`` operations — one transaction where the store
    allows (embedded: always; remote: one update request)."""

    drop_graphs: Sequence[str] = ()
    delete: Sequence[ox.Quad] = ()
    #: trusted update operations run after the drops/deletes and before the insertion
    before: Sequence[str] = ()
    insert: Sequence[ox.Quad] = ()
    #: trusted update operations run last (inference rules)
    then: Sequence[str] = field(default_factory=list)

    def is_empty(self) -> bool:
        return not (self.drop_graphs or self.delete or self.before or self.insert or self.then)


class QueryOptions(TypedDict, total=False):
    """The options of a query, the same for every store (:meth:`Store.query`,
    :meth:`SerializingStore.query_serialized`); each may be left out or ``None``."""

    #: the dataset; default: union of all named graphs
    dataset: Dataset | None
    #: values substituted for variables before evaluation
    bindings: Mapping[str, Term] | None
    #: cap on rows/triples; the result's ``truncated`` says when it bit
    limit: int | None
    #: seconds; enforced by stores that can stop a query
    timeout: float | None
    #: prefix → namespace declared before the text (its own PREFIX declarations win);
    #: syntax errors keep the positions of the text given
    prefixes: Mapping[str, str] | None


@runtime_checkable
class Store(Protocol):
    """What coopgraph needs from a quad store."""

    def query(self, sparql: str, **options: Unpack[QueryOptions]) -> QueryResult:
        """Run a SPARQL query.

        :param sparql: the query text (already checked by ``sparql_guard`` when it comes
            from a request).
        :param options: see :class:`QueryOptions` (dataset, bindings, limit, timeout,
            prefixes).
        :raises QuerySyntaxError: unparseable query.
        :raises QueryTimeout: the query ran past ``timeout``.
        :raises StoreError: storage failure.
        """
        ...

    def apply(self, changes: Changes) -> None:
        """Apply one write atomically. Only code-built operations, never request text.

        :raises StoreError: the write failed and nothing was written.
        """
        ...

    def graph_sizes(self) -> dict[str, int]:
        """Number of quads per named graph."""
        ...

    def graph_names(self) -> list[str]:
        """The named graphs, nothing counted (pyoxigraph at 1M triples: 30 ms where
        :meth:`graph_sizes` takes 0.8 s); a graph emptied but not dropped may be listed."""
        ...

    def quads(self, graph: str | None = None) -> Iterator[ox.Quad]:
        """All quads, or those of one named graph."""
        ...

    def bulk_load(self, quads: Iterable[ox.Quad]) -> None:
        """Fast initial load, not transactional (used on an empty store only)."""
        ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class SerializedResult:
    """A query result already written out in one format: what the store process sends
    back instead of pickled terms (see :meth:`SerializingStore.query_serialized`)."""

    #: the kind of result: ``SELECT`` (solutions), ``ASK`` (boolean) or ``CONSTRUCT``
    #: (triples, also for ``DESCRIBE``)
    form: str
    #: the canonical media type of ``body`` (the format's first one)
    media_type: str
    body: bytes
    #: more rows or triples existed than ``limit``; ``body`` holds the first ``limit``
    truncated: bool = False
    #: solutions or triples in ``body`` (1 for ``ASK``)
    rows: int = 0


@runtime_checkable
class SerializingStore(Store, Protocol):
    """A store that can also run a query and hand back the serialised bytes.

    The three stores have it (the remote one parses the server's answer with pyoxigraph
    and writes it with pyoxigraph's writers); the web layer uses it when a store's class
    has it (:func:`serializing`) and falls back to :meth:`Store.query` plus
    :func:`coopgraph.results.serialize` otherwise (a wrapper that overrides ``query``).
    """

    def query_serialized(
        self, sparql: str, fmt: Format, **options: Unpack[QueryOptions]
    ) -> SerializedResult:
        """Run a SPARQL query and serialise its result in ``fmt`` where the store runs.

        Same parameters and errors as :meth:`Store.query`, plus:

        :param fmt: a format of ``RESULT_FORMATS`` (SELECT, ASK) or ``RDF_FORMATS``
            (CONSTRUCT, DESCRIBE).
        :returns: the bytes and what they hold; ``truncated`` as for :meth:`Store.query`.
        :raises NotAcceptable: ``fmt`` cannot carry the query's kind of result.
        """
        ...


def serializing(store: Store) -> SerializingStore | None:
    """``store`` when its class implements ``query_serialized``, else ``None``.

    Looked up on the class, not the instance: a wrapper that overrides ``query`` and
    forwards everything else through ``__getattr__`` must keep answering through its
    own ``query``.
    """
    if callable(getattr(type(store), "query_serialized", None)):
        return store  # type: ignore[return-value]
    return None


#: A quad pattern: (subject, predicate, object, graph IRI); ``None`` matches anything (the
#: graph: any named graph); a tuple of terms matches any of them (one pattern for all the
#: (subject, object) pairs of two node sets, say).
Pattern = tuple[
    Term | tuple[Term, ...] | None,
    ox.NamedNode | tuple[ox.NamedNode, ...] | None,
    Term | tuple[Term, ...] | None,
    str | None,
]


def expand(pattern: Pattern) -> Iterator[tuple[Term | None, ox.NamedNode | None, Term | None]]:
    """The single-term patterns (s, p, o) a pattern with choices stands for."""
    s, p, o, _ = pattern
    choices = [t if isinstance(t, tuple) else (t,) for t in (s, p, o)]
    yield from itertools.product(*choices)


def match(
    store: Store, patterns: Sequence[Pattern], *, limit: int | None = None
) -> list[list[ox.Quad]]:
    """Many bound reads in one call: for each pattern, the quads that match it.

    Stores whose class has a ``match`` method answer with index lookups (the embedded
    store; the isolated one in its child process: one round trip for the whole batch);
    any other store gets one SPARQL query (:func:`match_by_query`).

    >>> from coopgraph.store.embedded import EmbeddedStore
    >>> st = EmbeddedStore(None)
    >>> a, p, g = ox.NamedNode("http://x.org/a"), ox.NamedNode("http://x.org/p"), "http://x.org/g"
    >>> st.apply(Changes(insert=[ox.Quad(a, p, ox.Literal("1"), ox.NamedNode(g))]))
    >>> [len(found) for found in match(st, [(a, None, None, None), (None, None, a, g)])]
    [1, 0]
    >>> match_by_query(st, [(a, None, None, None), (None, None, a, g)]) == match(
    ...     st, [(a, None, None, None), (None, None, a, g)])
    True

    :param patterns: the patterns; a term must be nameable (no blank node: ``ValueError``).
    :param limit: at most this many quads per pattern (``None``: all); patterns with
        choices take no limit (``ValueError``).
    :returns: one list of quads per pattern, in the patterns' order.
    """
    native = getattr(type(store), "match", None)
    if callable(native):
        return native(store, patterns, limit=limit)  # type: ignore[no-any-return]
    return match_by_query(store, patterns, limit=limit)


def _sparql_term(term: object) -> str:
    if isinstance(term, ox.BlankNode):
        raise ValueError(f"a blank node cannot be named in a query: {term}")
    return str(term)


def match_by_query(
    store: Store, patterns: Sequence[Pattern], *, limit: int | None = None
) -> list[list[ox.Quad]]:
    """:func:`match` as one SPARQL query: patterns of the same shape share a ``VALUES``
    table; with a ``limit``, each pattern is a ``LIMIT``-ed sub-query."""
    found: list[list[ox.Quad]] = [[] for _ in patterns]
    if not patterns:
        return found
    names = ("s", "p", "o", "g")
    branches: list[str] = []
    shapes: dict[tuple[bool, ...], list[tuple[int, dict[str, str]]]] = {}
    for i, pattern in enumerate(patterns):
        if limit is not None and any(isinstance(t, tuple) for t in pattern):
            raise ValueError("a pattern with choices takes no limit")
        graph = pattern[3]
        for single in expand(pattern):
            terms = dict(zip(names, (*single, graph), strict=True))
            rendered = {
                n: f"<{t}>" if n == "g" else _sparql_term(t)
                for n, t in terms.items()
                if t is not None
            }
            shape = tuple(terms[n] is not None for n in names)
            shapes.setdefault(shape, []).append((i, rendered))
    for shape, rows in shapes.items():
        bound = [n for n, b in zip(names, shape, strict=True) if b]
        if limit is None:
            table = " ".join(
                "(" + " ".join([str(i), *(rendered[n] for n in bound)]) + ")"
                for i, rendered in rows
            )
            variables = " ".join(f"?{n}" for n in ["i", *bound])
            branches.append(f"{{ VALUES ({variables}) {{ {table} }}\nGRAPH ?g {{ ?s ?p ?o }} }}")
            continue
        for i, rendered in rows:
            term = {n: rendered.get(n, f"?{n}") for n in names}
            binds = " ".join(f"BIND({rendered[n]} AS ?{n})" for n in bound)
            branches.append(
                f"{{ SELECT * WHERE {{ GRAPH {term['g']} {{ {term['s']} {term['p']} {term['o']} }}"
                f" BIND({i} AS ?i) {binds} }} LIMIT {limit} }}"
            )
    if not branches:
        return found
    result = store.query("SELECT ?i ?s ?p ?o ?g WHERE {\n" + "\nUNION ".join(branches) + "\n}")
    assert isinstance(result, Solutions)
    for index, s, p, o, g in result.rows:
        assert isinstance(index, ox.Literal)
        found[int(index.value)].append(ox.Quad(s, p, o, g))  # type: ignore[arg-type]
    return found


def quad_data(quads: Iterable[ox.Quad], *, term: Callable[[object], str] = str) -> str:
    """Quads as the body of an ``INSERT DATA``/``DELETE DATA`` block (N-Quads-like syntax).

    Built from parsed terms, never from request text, so it cannot inject operations.

    :param term: how a subject or object is written (a server may name stored blank
        nodes its own way).
    """
    by_graph: dict[str, list[str]] = {}
    for q in quads:
        key = "" if isinstance(q.graph_name, ox.DefaultGraph) else str(q.graph_name)
        by_graph.setdefault(key, []).append(f"{term(q.subject)} {q.predicate} {term(q.object)} .")
    parts = []
    for graph, lines in by_graph.items():
        body = "\n".join(lines)
        parts.append(f"GRAPH {graph} {{\n{body}\n}}" if graph else body)
    return "\n".join(parts)


def changes_as_update(changes: Changes) -> str:
    """The SPARQL 1.1 Update text that performs ``changes`` as one request."""
    ops = [f"DROP SILENT GRAPH <{g}>" for g in changes.drop_graphs]
    if changes.delete:
        ops.append("DELETE DATA {\n" + quad_data(changes.delete) + "\n}")
    ops.extend(changes.before)
    if changes.insert:
        ops.append("INSERT DATA {\n" + quad_data(changes.insert) + "\n}")
    ops.extend(changes.then)
    return " ;\n".join(ops)
