"""What crosses the pipe between :mod:`coopgraph.store.isolated` and its store process:
quads as N-Quads bytes, lookup patterns as their terms in N-Triples plus indexes, errors
as (class name, message, details).

Quads are not pickled: pickling pyoxigraph terms one by one took 9.7 s for the 126,000
quads of a 10 MiB entry (and 7.4 s to read back), N-Quads 0.45 s (0.85 s back), and the
pickler holds the interpreter all along, so every read of the web process waited behind
a big write (issue 16). The N-Quads round trip is exact (blank node labels, literals'
lexical forms, the default graph).

The reasoning's lookups (:meth:`~coopgraph.store.isolated.IsolatedStore.match`, thousands
of patterns per write) were pickled term by term too, and an ``ASK`` sent during a 10 MiB
write waited 1.5-1.9 s behind them (issue 16); each distinct term now crosses once, as a
line of N-Triples, and the patterns as indexes into those lines.

>>> q = ox.Quad(ox.NamedNode("http://e/s"), ox.NamedNode("http://e/p"), ox.Literal("1.50"))
>>> unpack_quads(pack_quads([q])) == [q], unpack_quads(pack_quads([]))
(True, [])
>>> p = [(q.subject, None, (ox.Literal("é", language="fr"), q.subject), "http://e/g")]
>>> unpack_patterns(pack_patterns(p)) == p
True
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import pyoxigraph as ox

from coopgraph import errors
from coopgraph.errors import CoopgraphError, StoreError
from coopgraph.store.base import Changes, Pattern, Term

__all__ = [
    "OVER_BUDGET",
    "error_payload",
    "pack_changes",
    "pack_patterns",
    "pack_quads",
    "rebuild_error",
    "unpack_changes",
    "unpack_patterns",
    "unpack_quads",
]

OVER_BUDGET = (
    "the store process went over its memory budget (memory_limit_mib) while answering and "
    "was restarted; the request was stopped (for a query: add LIMIT or narrow the patterns)"
)

#: An error as it crosses the pipe: class name in :mod:`coopgraph.errors`, message, details.
ErrorPayload = tuple[str, str, dict[str, Any]]


def pack_quads(quads: Iterable[ox.Quad]) -> bytes:
    """Quads as N-Quads bytes (``b""`` for none)."""
    return ox.serialize(list(quads), format=ox.RdfFormat.N_QUADS) or b""


def unpack_quads(data: bytes) -> list[ox.Quad]:
    """The quads :func:`pack_quads` wrote."""
    return list(ox.parse(data, format=ox.RdfFormat.N_QUADS)) if data else []


def pack_changes(changes: Changes) -> tuple[list[str], bytes, list[str], bytes, list[str]]:
    """One write, its quads packed (see the module doc)."""
    return (list(changes.drop_graphs), pack_quads(changes.delete), list(changes.before),
            pack_quads(changes.insert), list(changes.then))


def unpack_changes(packed: tuple[list[str], bytes, list[str], bytes, list[str]]) -> Changes:
    """The write :func:`pack_changes` packed."""
    drop_graphs, delete, before, insert, then = packed
    return Changes(drop_graphs=drop_graphs, delete=unpack_quads(delete), before=before,
                   insert=unpack_quads(insert), then=then)


#: A pattern's place as it crosses: a term's line number, a tuple of them, or ``None``.
_Ref = int | tuple[int, ...] | None
PackedPatterns = tuple[bytes, list[tuple[_Ref, _Ref, _Ref, str | None]]]
#: The subject and predicate of the N-Triples line that carries a term as its object.
_CARRIER = "<urn:t> <urn:t> "


def pack_patterns(patterns: Sequence[Pattern]) -> PackedPatterns:
    """Lookup patterns as (their distinct terms as N-Triples lines, the patterns with
    each term replaced by its line number)."""
    lines: dict[Term, int] = {}

    def ref(term: Any) -> _Ref:
        if term is None:
            return None
        if isinstance(term, tuple):
            return tuple(lines.setdefault(t, len(lines)) for t in term)
        return lines.setdefault(term, len(lines))

    rows = [(ref(s), ref(p), ref(o), g) for s, p, o, g in patterns]
    text = "".join(f"{_CARRIER}{term} .\n" for term in lines)
    return text.encode("utf-8"), rows


def unpack_patterns(packed: PackedPatterns) -> list[Pattern]:
    """The patterns :func:`pack_patterns` packed."""
    data, rows = packed
    terms = [t.object for t in ox.parse(data, format=ox.RdfFormat.N_TRIPLES)] if data else []

    def term(ref: _Ref) -> Any:
        if ref is None:
            return None
        if isinstance(ref, tuple):
            return tuple(terms[i] for i in ref)
        return terms[ref]

    return [(term(s), term(p), term(o), g) for s, p, o, g in rows]


def error_payload(exc: BaseException) -> ErrorPayload:
    """How the store process reports ``exc`` (a MemoryError: over the memory budget)."""
    if isinstance(exc, CoopgraphError):
        return type(exc).__name__, exc.message, exc.details
    if isinstance(exc, MemoryError):
        return "OverBudget", OVER_BUDGET, {}
    return "StoreError", f"{type(exc).__name__}: {exc}", {}


def rebuild_error(payload: ErrorPayload) -> CoopgraphError:
    """The :class:`CoopgraphError` an :func:`error_payload` stands for (StoreError when
    the name is not one of :mod:`coopgraph.errors`)."""
    name, message, details = payload
    cls = getattr(errors, name, StoreError)
    if not (isinstance(cls, type) and issubclass(cls, CoopgraphError)):
        cls = StoreError
    err = cls.__new__(cls)
    CoopgraphError.__init__(err, message, details=details)
    return err
