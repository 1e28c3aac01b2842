"""The remote store: any SPARQL 1.1 Protocol endpoint (Virtuoso, Fuseki, Oxigraph server…).

``coopgraph serve --store sparql+http://127.0.0.1:8890/sparql`` opens one through
:func:`~coopgraph.store.open_store`. Queries go to the query endpoint (POST, form
encoded), writes to the update endpoint (SPARQL 1.1 Update) and, when one is known, bulk
insertions to the Graph Store Protocol endpoint (one POST of N-Triples per graph).

Where the :class:`~coopgraph.store.base.Store` protocol and a server disagree, this module
chooses as follows (each choice is a keyword argument of :class:`RemoteStore`):

Default graph (``default_graph``)
    coopgraph's default graph is the union of all named graphs. ``"server"`` trusts the
    server to do that: Virtuoso does (its default graph is the union of *all* graphs,
    its own system graphs included, about 2 500 triples of ``virtrdf:`` mapping data),
    Fuseki does with ``tdb2:unionDefaultGraph true``, Oxigraph with
    ``--union-default-graph``. ``"explicit"`` works with any server and leaves out
    ``hidden_graphs``: when the query has no ``FROM``/``FROM NAMED`` of its own, the
    store lists the named graphs (one extra request) and sends each as a
    ``default-graph-uri`` and a ``named-graph-uri`` parameter. Default: ``"server"`` for
    Virtuoso, ``"explicit"`` for other servers.
    ``GRAPH ?g`` sees every graph of the server in both modes (Virtuoso: its system
    graphs too); :meth:`RemoteStore.graph_sizes` and :meth:`RemoteStore.quads` leave
    ``hidden_graphs`` out.
Bindings
    are injected as a ``VALUES`` block at the start of the query's outermost group
    pattern (``WHERE { VALUES (?s ?p) { (<…> <…>) } …``), so ``FILTER``\\ s, aggregates and
    ``LIMIT`` see them like pyoxigraph's substitutions; a query without a group
    (``DESCRIBE <x>``, ``CONSTRUCT WHERE``) gets a trailing ``VALUES`` clause. Terms are
    serialised by pyoxigraph (N-Triples syntax), never pasted from request text. Blank
    nodes cannot be bound (SPARQL forbids them in ``VALUES``): :class:`BadRequest`.
Limit and timeout
    ``limit`` is applied while parsing results (the query text is not changed).
    ``timeout`` becomes the HTTP read timeout and, on Virtuoso, its ``timeout`` parameter
    (milliseconds; Virtuoso then answers ``200`` with *partial* results flagged by the
    ``X-SQL-State: S1TAT`` header, which this store turns into :class:`QueryTimeout`).
Writes
    On servers other than Virtuoso, :meth:`RemoteStore.apply` sends
    :func:`~coopgraph.store.base.changes_as_update` as **one** request: atomic where the
    server runs a request in one transaction (Fuseki, Oxigraph, RDF4J, GraphDB do).
    Virtuoso 7 is not atomic even within one request (operations before a failing one
    stay written) and refuses requests whose generated SQL exceeds 10 000 lines (about
    2 000 triples) or that hold blank nodes in ``INSERT DATA``; so on Virtuoso ``apply``
    runs the changes as a sequence of requests (each operation alone, data in chunks,
    insertions through the Graph Store Protocol) and a failure says the write may be
    partial.
"""

from __future__ import annotations

import re
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, Unpack

import pyoxigraph as ox

from coopgraph.errors import (
    CoopgraphError,
    NotAcceptable,
    QuerySyntaxError,
    QueryTimeout,
    StartupError,
    StoreError,
)
from coopgraph.results import formats_for
from coopgraph.sparql_text import declares_dataset, inject_values, query_form
from coopgraph.store.base import (
    Changes,
    Dataset,
    QueryOptions,
    QueryResult,
    SerializedResult,
    Solutions,
    changes_as_update,
    quad_data,
)
from coopgraph.store.protocol_client import (
    JSON_RESULTS,
    N_TRIPLES,
    HTTPFailure,
    NoAnswer,
    read_result,
    send,
)

if TYPE_CHECKING:
    from coopgraph.formats import Format

__all__ = [
    "VIRTUOSO_SYSTEM_GRAPHS",
    "RemoteStore",
    "chunked",
    "declares_dataset",
    "inject_values",
    "query_form",
]

Dialect = Literal["auto", "virtuoso", "generic"]
DefaultGraphMode = Literal["server", "explicit"]

#: Graphs a fresh Virtuoso 7 holds for itself; hidden from coopgraph by default.
VIRTUOSO_SYSTEM_GRAPHS: tuple[str, ...] = (
    "http://www.openlinksw.com/schemas/virtrdf#",
    "http://www.w3.org/ns/ldp#",
    "http://localuriqaserver/sparql",
)

#: IRI standing for "no graph at all" when a Dataset names an empty default graph.
_EMPTY_GRAPH = "urn:x-coopgraph:empty-graph"
#: Seconds added to Virtuoso's HTTP timeout so its own timeout answers first.
_GRACE = 5.0
_GRAPH_SIZES = "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"
# ``GRAPH ?g {}`` would be cheaper but Virtuoso 7 answers it wrongly (one empty row), and
# there ``SELECT DISTINCT ?g`` scans every quad (5 s for 8 000) where GROUP BY takes 5 ms.
_GRAPH_NAMES = "SELECT ?g WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"
_QUADS = "SELECT ?s ?p ?o ?g WHERE { GRAPH ?g { ?s ?p ?o } }"
_GRAPH_TRIPLES = "SELECT ?s ?p ?o WHERE { GRAPH ?g { ?s ?p ?o } }"
# Virtuoso error codes meaning "the query text is wrong".
_VIRTUOSO_SYNTAX = re.compile(r"\b(SP030|SP031|SQ200|37000)\b")
# Virtuoso error codes meaning "stopped for time": anytime timeout, estimated cost too high.
_VIRTUOSO_TIMEOUT = re.compile(r"\b(S1T00|S1TAT|SR171|SR177)\b|timed? ?out|exceeds the limit", re.I)

# ---------------------------------------------------------------------------------------
# Writes
# ---------------------------------------------------------------------------------------


def _components(quads: Sequence[ox.Quad]) -> list[list[ox.Quad]]:
    """Quads grouped so that quads sharing a blank node stay together (in input order)."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    keys: list[str | None] = []
    for q in quads:
        labels = [t.value for t in (q.subject, q.object) if isinstance(t, ox.BlankNode)]
        for other in labels[1:]:
            parent[find(other)] = find(labels[0])
        keys.append(labels[0] if labels else None)
    groups: dict[str, list[ox.Quad]] = {}
    out: list[list[ox.Quad]] = []
    for q, key in zip(quads, keys, strict=True):
        if key is None:
            out.append([q])
            continue
        root = find(key)
        if root not in groups:
            groups[root] = []
            out.append(groups[root])
        groups[root].append(q)
    return out


def chunked(quads: Sequence[ox.Quad], size: int) -> list[list[ox.Quad]]:
    """Quads in chunks of about ``size``, never splitting quads that share a blank node."""
    chunks: list[list[ox.Quad]] = []
    current: list[ox.Quad] = []
    for group in _components(quads):
        if current and len(current) + len(group) > size:
            chunks.append(current)
            current = []
        current.extend(group)
    if current:
        chunks.append(current)
    return chunks


def _virtuoso_term(term: object) -> str:
    if isinstance(term, ox.BlankNode):
        return f"<nodeID://{term.value}>"  # how Virtuoso names a stored blank node
    return str(term)


@dataclass(frozen=True)
class _Post:
    """One Graph Store Protocol POST: append ``triples`` to ``graph``."""

    graph: str | None
    triples: list[ox.Triple]


_Step = str | _Post


# ---------------------------------------------------------------------------------------
# The store
# ---------------------------------------------------------------------------------------


class RemoteStore:
    """:class:`~coopgraph.store.base.Store` over the SPARQL 1.1 Protocol.

    :param query_url: the query endpoint, e.g. ``http://127.0.0.1:8890/sparql``.
    :param update_url: the update endpoint; default: ``query_url``.
    :param graph_store_url: a Graph Store Protocol endpoint used for bulk insertions;
        default: Virtuoso's ``/sparql-graph-crud`` next to ``query_url`` on Virtuoso,
        none elsewhere (insertions then go through SPARQL Update).
    :param timeout: default seconds for a query (HTTP read timeout; Virtuoso's
        ``timeout`` parameter too).
    :param write_timeout: seconds for one write request.
    :param dialect: ``"virtuoso"``, ``"generic"`` or ``"auto"`` (read from the
        ``Server`` header of a first ``ASK {}``, sent on first use).
    :param default_graph: ``"server"`` or ``"explicit"`` (see the module docs); default
        by dialect.
    :param hidden_graphs: server-owned graphs left out of :meth:`graph_sizes`,
        :meth:`quads` and the ``"explicit"`` default graph; default
        :data:`VIRTUOSO_SYSTEM_GRAPHS` on Virtuoso, none elsewhere.
    :param chunk_size: most quads in one ``INSERT DATA``/``DELETE DATA`` request when a
        write must be split (Virtuoso).
    :raises StartupError: a URL that is not ``http(s)://``.
    """

    def __init__(
        self,
        query_url: str,
        *,
        update_url: str | None = None,
        graph_store_url: str | None = None,
        timeout: float = 30.0,
        write_timeout: float = 600.0,
        dialect: Dialect = "auto",
        default_graph: DefaultGraphMode | None = None,
        hidden_graphs: Sequence[str] | None = None,
        chunk_size: int = 1000,
    ) -> None:
        for url in (query_url, update_url, graph_store_url):
            if url is not None and urllib.parse.urlsplit(url).scheme not in ("http", "https"):
                raise StartupError(f"remote store URL {url!r} is not http(s)://…")
        self.query_url = query_url
        self.update_url = update_url or query_url
        self.timeout = timeout
        self.write_timeout = write_timeout
        self.chunk_size = chunk_size
        self._graph_store_url = graph_store_url
        self._dialect: Dialect = dialect
        self._default_graph = default_graph
        self._hidden_graphs = tuple(hidden_graphs) if hidden_graphs is not None else None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"RemoteStore({self.query_url!r}, update_url={self.update_url!r})"

    # -- configuration resolved on first use -------------------------------------------

    @property
    def dialect(self) -> Literal["virtuoso", "generic"]:
        """The server kind, asked of the server on first use when ``"auto"``.

        :raises StoreError: the server cannot be reached.
        """
        if self._dialect == "auto":
            with self._lock:
                if self._dialect == "auto":
                    self._dialect = self._probe()
        return self._dialect

    def _probe(self) -> Literal["virtuoso", "generic"]:
        try:
            with send(self.query_url, {"query": "ASK {}"}, JSON_RESULTS, self.timeout) as r:
                server = r.headers.get("Server", "")
                r.read()
        except (HTTPFailure, NoAnswer) as exc:
            raise StoreError(
                f"remote store {self.query_url} does not answer ASK {{}}: {exc}"
            ) from None
        return "virtuoso" if server.startswith("Virtuoso") else "generic"

    @property
    def is_virtuoso(self) -> bool:
        return self.dialect == "virtuoso"

    @property
    def default_graph(self) -> DefaultGraphMode:
        if self._default_graph is not None:
            return self._default_graph
        return "server" if self.is_virtuoso else "explicit"

    @property
    def hidden_graphs(self) -> tuple[str, ...]:
        if self._hidden_graphs is not None:
            return self._hidden_graphs
        return VIRTUOSO_SYSTEM_GRAPHS if self.is_virtuoso else ()

    @property
    def graph_store_url(self) -> str | None:
        if self._graph_store_url is not None:
            return self._graph_store_url
        if self.is_virtuoso:
            return urllib.parse.urljoin(self.query_url, "/sparql-graph-crud")
        return None

    # -- HTTP ----------------------------------------------------------------------------

    # -- reads ---------------------------------------------------------------------------

    def query(self, sparql: str, **options: Unpack[QueryOptions]) -> QueryResult:
        """Run a query on the remote endpoint (see :meth:`Store.query`).

        :raises QuerySyntaxError: the server refused the query text (its message).
        :raises QueryTimeout: the server stopped it for time, or no answer in time.
        :raises StoreError: the server cannot be reached or failed.
        :raises BadRequest: a blank node in ``bindings``.
        """
        text, params, timeout = self._request(sparql, options)
        return self._run(text, params, options.get("limit"), timeout)  # type: ignore[return-value]

    def query_serialized(
        self, sparql: str, fmt: Format, **options: Unpack[QueryOptions]
    ) -> SerializedResult:
        """Run a query on the remote endpoint and write its answer in ``fmt``: the
        server's results go through pyoxigraph's parser straight to its writers
        (:func:`coopgraph.results.serialize_native`), as the embedded store's do.

        :raises NotAcceptable: ``fmt`` cannot carry the query's kind of result (before
            anything is sent).
        :raises QuerySyntaxError, QueryTimeout, StoreError, BadRequest: as :meth:`query`.
        """
        if fmt not in formats_for(query_form(sparql)):
            raise NotAcceptable(f"{fmt.label} cannot carry the answer of this query")
        text, params, timeout = self._request(sparql, options)
        return self._run(  # type: ignore[return-value]
            text, params, options.get("limit"), timeout, written_as=fmt
        )

    def _request(
        self, sparql: str, options: QueryOptions
    ) -> tuple[str, dict[str, list[str]], float]:
        """The text, protocol parameters and timeout of one query."""
        timeout = options.get("timeout")
        timeout = self.timeout if timeout is None else timeout
        bindings, prefixes = options.get("bindings"), options.get("prefixes")
        text = inject_values(sparql, bindings) if bindings else sparql
        if prefixes:  # the server needs them in the text (on the first line: lines hold)
            text = "".join(f"PREFIX {p}: <{iri}> " for p, iri in prefixes.items()) + text
        params = self._dataset_params(text, options.get("dataset") or Dataset(), timeout)
        return text, params, timeout

    def _run(
        self,
        text: str,
        params: dict[str, list[str]],
        limit: int | None,
        timeout: float,
        *,
        written_as: Format | None = None,
    ) -> QueryResult | SerializedResult:
        params = {**params, "query": [text]}
        virtuoso = self.is_virtuoso
        if virtuoso:
            params["timeout"] = [str(max(int(timeout * 1000), 1))]
        form = query_form(text)
        accept = N_TRIPLES if form in ("CONSTRUCT", "DESCRIBE") else JSON_RESULTS
        try:
            # Virtuoso stops a query itself (and answers) up to ~2 s after its budget.
            wait = timeout + (_GRACE if virtuoso else 1.0)
            with send(self.query_url, params, accept, wait) as response:
                if response.headers.get("X-SQL-State") == "S1TAT":
                    # Virtuoso's "anytime" answer: partial results, status 200.
                    raise QueryTimeout(f"query stopped after {timeout:g} s (server timeout)")
                content_type = response.headers.get("Content-Type", accept)
                return read_result(
                    response, content_type, limit, virtuoso=virtuoso, written_as=written_as
                )
        except NoAnswer as exc:
            raise QueryTimeout(f"query stopped after {timeout:g} s: {exc}") from None
        except HTTPFailure as exc:
            raise self._query_error(exc) from None
        except TimeoutError:
            raise QueryTimeout(f"query stopped after {timeout:g} s (reading results)") from None
        except SyntaxError as exc:
            raise StoreError(f"unreadable results from {self.query_url}: {exc}") from exc

    def _dataset_params(self, text: str, dataset: Dataset, timeout: float) -> dict[str, list[str]]:
        """Protocol parameters giving ``text`` coopgraph's dataset.

        Protocol parameters replace a query's whole dataset, and naming only default
        graphs leaves a standard server with no named graphs: so in "explicit" mode both
        lists are sent, and a query with its own ``FROM``/``FROM NAMED`` gets none.
        """
        params: dict[str, list[str]] = {}
        if dataset == Dataset() and any(declares_dataset(text)):
            return params
        explicit = self.default_graph == "explicit"
        names: list[str] = []
        if dataset.default_graphs is not None:
            params["default-graph-uri"] = list(dataset.default_graphs) or [_EMPTY_GRAPH]
        elif explicit:
            names = self._graph_names(timeout)
            params["default-graph-uri"] = names or [_EMPTY_GRAPH]
        if dataset.named_graphs is not None:
            params["named-graph-uri"] = list(dataset.named_graphs) or [_EMPTY_GRAPH]
        elif params and explicit:
            names = names or self._graph_names(timeout)
            params["named-graph-uri"] = names or [_EMPTY_GRAPH]
        # Virtuoso's ``define input:default-graph-exclude`` / ``named-graph-exclude`` would
        # hide its system graphs, but with either one ``GRAPH <iri>`` matches nothing
        # (7.2.5): in "server" mode the default graph and ``GRAPH ?g`` see them. Virtuoso
        # keeps every graph reachable through GRAPH whatever the default graph is.
        return params

    def _graph_names(self, timeout: float) -> list[str]:
        """The server's named graphs but the hidden ones (on the server's own dataset)."""
        result = self._run(_GRAPH_NAMES, {}, None, timeout)
        assert isinstance(result, Solutions)
        hidden = set(self.hidden_graphs)
        return sorted(
            t.value
            for t in result.values("g")
            if isinstance(t, ox.NamedNode) and t.value not in hidden
        )

    def _query_error(self, failure: HTTPFailure) -> CoopgraphError:
        message = failure.message
        if failure.status == 400 or (self.is_virtuoso and _VIRTUOSO_SYNTAX.search(message)):
            return QuerySyntaxError(message)
        if failure.status in (503, 504) or (self.is_virtuoso and _VIRTUOSO_TIMEOUT.search(message)):
            return QueryTimeout(f"query stopped by the server: {message}")
        return StoreError(f"remote query failed ({failure.status}): {message}")

    def graph_sizes(self) -> dict[str, int]:
        result = self.query(_GRAPH_SIZES)
        assert isinstance(result, Solutions)
        return {
            row[0].value: int(row[1].value)  # type: ignore[union-attr]
            for row in result.rows
            if row[0] is not None and row[0].value not in self.hidden_graphs
        }

    def graph_names(self) -> list[str]:
        return self._graph_names(self.timeout)

    def quads(self, graph: str | None = None) -> Iterator[ox.Quad]:
        """All quads (hidden graphs left out), or those of one named graph.

        Note: Virtuoso caps every answer at its ``[SPARQL] ResultSetMaxRows``.
        """
        if graph is not None:
            g = ox.NamedNode(graph)
            result = self.query(_GRAPH_TRIPLES, bindings={"g": g})
            assert isinstance(result, Solutions)
            return iter([ox.Quad(s, p, o, g) for s, p, o in result.rows])  # type: ignore[arg-type]
        result = self.query(_QUADS)
        assert isinstance(result, Solutions)
        hidden = set(self.hidden_graphs)
        return iter(
            [
                ox.Quad(s, p, o, g)  # type: ignore[arg-type]
                for s, p, o, g in result.rows
                if g is not None and g.value not in hidden
            ]
        )

    # -- writes --------------------------------------------------------------------------

    def apply(self, changes: Changes) -> None:
        """Apply one write: one update request, or (Virtuoso) a sequence of requests.

        :raises StoreError: the write failed; on Virtuoso the message says which step
            failed and that earlier steps stay written.
        """
        if changes.is_empty():
            return
        if not self.is_virtuoso:
            self._update(changes_as_update(changes))
            return
        self._run_steps(self._virtuoso_steps(changes))

    def bulk_load(self, quads: Iterable[ox.Quad]) -> None:
        """Insert quads fast (Graph Store Protocol when known), not transactional."""
        quads = list(quads)
        if not quads:
            return
        if self.graph_store_url is not None:
            self._run_steps(self._posts(quads))
        else:
            self._run_steps(self._insert_ops(quads))

    def _virtuoso_steps(self, changes: Changes) -> list[_Step]:
        steps: list[_Step] = [f"DROP SILENT GRAPH <{g}>" for g in changes.drop_graphs]
        for chunk in chunked(list(changes.delete), self.chunk_size):
            steps.append("DELETE DATA {\n" + quad_data(chunk, term=_virtuoso_term) + "\n}")
        steps.extend(changes.before)
        if changes.insert:
            insert = list(changes.insert)
            if self.graph_store_url is not None:
                steps.extend(self._posts(insert))
            else:
                steps.extend(self._insert_ops(insert))
        steps.extend(changes.then)
        return steps

    def _insert_ops(self, quads: Sequence[ox.Quad]) -> list[_Step]:
        ops: list[_Step] = []
        for chunk in chunked(quads, self.chunk_size):
            data = quad_data(chunk)
            has_bnode = any(
                isinstance(t, ox.BlankNode) for q in chunk for t in (q.subject, q.object)
            )
            if has_bnode and self.is_virtuoso:
                # Virtuoso refuses blank nodes in INSERT DATA; a template makes fresh ones.
                ops.append("INSERT {\n" + data + "\n} WHERE { }")
            else:
                ops.append("INSERT DATA {\n" + data + "\n}")
        return ops

    @staticmethod
    def _posts(quads: Sequence[ox.Quad]) -> list[_Step]:
        by_graph: dict[str | None, list[ox.Triple]] = {}
        for q in quads:
            key = None if isinstance(q.graph_name, ox.DefaultGraph) else q.graph_name.value
            by_graph.setdefault(key, []).append(q.triple)
        return [_Post(g, triples) for g, triples in by_graph.items()]

    def _run_steps(self, steps: Sequence[_Step]) -> None:
        for i, step in enumerate(steps):
            try:
                if isinstance(step, _Post):
                    self._post(step)
                else:
                    self._update(step)
            except StoreError as exc:
                if i == 0:
                    raise
                raise StoreError(
                    f"remote write failed at step {i + 1} of {len(steps)}; the {i} step(s) "
                    f"before it stay written (this server does not roll back): {exc.message}"
                ) from exc

    def _update(self, update: str) -> None:
        try:
            with send(self.update_url, {"update": update}, JSON_RESULTS, self.write_timeout) as r:
                r.read()
        except NoAnswer as exc:
            raise StoreError(f"remote write: {exc}; its outcome is unknown") from None
        except HTTPFailure as exc:
            raise StoreError(f"remote write refused ({exc.status}): {exc.message}") from None

    def _post(self, post: _Post) -> None:
        assert self.graph_store_url is not None
        where = {"graph": post.graph} if post.graph else {"default": ""}
        if self.is_virtuoso and post.graph:
            where = {"graph-uri": post.graph}
        url = self.graph_store_url + "?" + urllib.parse.urlencode(where)
        body = ox.serialize(post.triples, format=ox.RdfFormat.N_TRIPLES)
        assert body is not None
        try:
            with send(
                url, None, "*/*", self.write_timeout, body=body, content_type=N_TRIPLES
            ) as r:
                r.read()
        except NoAnswer as exc:
            raise StoreError(f"remote write: {exc}; its outcome is unknown") from None
        except HTTPFailure as exc:
            raise StoreError(f"graph store POST refused ({exc.status}): {exc.message}") from None

    def close(self) -> None:
        """Nothing to release: every request opens and closes its own connection."""
