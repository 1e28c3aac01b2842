"""``coopgraph query``: run a query on a local store and render it for a terminal or a file."""

from __future__ import annotations

from coopgraph.errors import NotAcceptable
from coopgraph.formats import rdf_format, result_format
from coopgraph.results import serialize
from coopgraph.sparql_guard import check
from coopgraph.store.base import Boolean, Dataset, QueryResult, Store, Triples, serializing
from coopgraph.vocab import INFERRED_GRAPH, PREFIXES, compact


def render_table(result: QueryResult) -> str:
    """A fixed-width text table (prefixed names) for people."""
    if isinstance(result, Boolean):
        return "true" if result.value else "false"
    if isinstance(result, Triples):
        rows: list[tuple[str, ...]] = [
            (_cell(t.subject), _cell(t.predicate), _cell(t.object)) for t in result.triples
        ]
        header = ["subject", "predicate", "object"]
    else:
        header = list(result.variables)
        rows = [tuple("" if t is None else _cell(t) for t in row) for row in result.rows]
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(header)]
    out = ["  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True))]
    out.append("  ".join("-" * w for w in widths))
    out += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    out.append(f"({len(rows)} row(s){', truncated' if result.truncated else ''})")
    return "\n".join(out)


def _cell(term: object) -> str:
    import pyoxigraph as ox

    if isinstance(term, ox.NamedNode):
        return compact(term.value)
    if isinstance(term, ox.Literal):
        return term.value + (f"@{term.language}" if term.language else "")
    return str(term)


def run_local_query(store: Store, text: str, fmt: str, *, include_inferred: bool = True) -> bytes:
    """Run ``text`` and serialise the result as ``fmt`` (``table`` or a formats.py name).

    The usual prefixes (``cg:``, ``cgid:``, ``schema:``…) are predeclared; the query's own
    declarations override them. They are passed beside the text
    (``Store.query(prefixes=…)``), so syntax errors give the positions of the text given.

    :raises QueryRefused: SERVICE/LOAD/updates (same guard as the endpoint).
    :raises QuerySyntaxError: invalid SPARQL.
    :raises NotAcceptable: ``fmt`` cannot carry this kind of result.
    """
    checked = check(text, prefixes=PREFIXES)
    dataset = checked.dataset
    if not include_inferred and (dataset is None or dataset.default_graphs is None):
        # the asserted graphs only; a query's own FROM NAMED is kept (issue 15: this
        # crashed with AttributeError when the query had no FROM at all)
        graphs = tuple(g for g in store.graph_sizes() if g != INFERRED_GRAPH)
        named = None if dataset is None else dataset.named_graphs
        dataset = Dataset(default_graphs=graphs, named_graphs=named)
    if fmt != "table" and checked.form is not None:
        # written where the store runs, by pyoxigraph's writers, as /sparql answers
        wanted = rdf_format if checked.form in ("CONSTRUCT", "DESCRIBE") else result_format
        fast = serializing(store)
        if fast is not None:
            try:
                return fast.query_serialized(
                    text, wanted(fmt), dataset=dataset, prefixes=PREFIXES
                ).body
            except NotAcceptable:
                pass  # the guard misread the form: run it below, pick by the result
    result = store.query(text, dataset=dataset, prefixes=PREFIXES)
    if fmt == "table":
        return (render_table(result) + "\n").encode("utf-8")
    return serialize(result, rdf_format(fmt) if isinstance(result, Triples) else result_format(fmt))
