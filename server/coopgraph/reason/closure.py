"""The one ABox engine: the seven rules evaluated semi-naively in Python.

Used for everything: the full materialisation (all asserted triples of the store) and the
incremental delta (the asserted neighbourhood of a change). Terms are N-Triples strings
(``<iri>``, ``"lit"@fr``; ``_:b`` works too): hashing them is much cheaper than hashing
pyoxigraph objects, and they go back into the store as N-Quads text.
"""

from __future__ import annotations

from collections.abc import Iterable

from coopgraph.reason.tbox import TYPE, TBox

__all__ = ["Closure", "Key", "closure", "is_literal", "rule_predicates"]

#: A triple as N-Triples terms: (subject, predicate, object)
Key = tuple[str, str, str]


def is_literal(term: str) -> bool:
    """Whether an N-Triples term string is a literal."""
    return term.startswith('"')


def rule_predicates(tbox: TBox) -> frozenset[str]:
    """The predicates (as ``<iri>`` keys) the rules read or conclude: a triple with any
    other predicate neither derives anything nor can be derived, so :func:`closure` may be
    given only these and conclude the same."""
    found = {f"<{TYPE}>"}
    for pairs in (tbox.sub_properties, tbox.inverses):
        for p, q in pairs:
            found |= {f"<{p}>", f"<{q}>"}
    for pairs in (tbox.domains, tbox.ranges):
        found |= {f"<{p}>" for p, _c in pairs}
    found |= {f"<{p}>" for p in (*tbox.symmetric, *tbox.transitive)}
    return frozenset(found)


def _table(pairs: Iterable[tuple[str, str]]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for a, b in pairs:
        out.setdefault(f"<{a}>", []).append(f"<{b}>")
    return out


def closure(tbox: TBox, triples: Iterable[Key]) -> set[Key]:
    """Close ``triples`` under the rules of ``tbox``; return only what is new.

    Semi-naive: each round applies the rules to the triples found in the previous round
    only (joined with everything known for transitivity), so nothing is derived twice.
    ``owl:sameAs`` is not a rule (see :mod:`coopgraph.reason`).

    >>> from coopgraph.reason.tbox import TBox
    >>> tb = TBox(transitive=frozenset({"p"}))
    >>> sorted(closure(tb, [("<a>", "<p>", "<b>"), ("<b>", "<p>", "<c>")]))
    [('<a>', '<p>', '<c>')]

    :param tbox: the schema closure.
    :param triples: asserted (subject, predicate, object) keys.
    :returns: the inferred keys that are not among ``triples``.
    """
    found = Closure(tbox)
    found.add(triples)
    return found.inferred()


class Closure:
    """A closure grown by parts: :meth:`add` asserts more triples and derives what follows
    from them with everything added before, so adding A then B ends where adding A and B
    at once does (the rules are monotone, and a triple's consequences are derived when it
    first becomes known). The materialisation adds what it holds while a write it
    waits for goes on (:meth:`coopgraph.reason.Reasoner.materialise`, ``beside``).

    >>> from coopgraph.reason.tbox import TBox
    >>> tb = TBox(transitive=frozenset({"p"}))
    >>> both = Closure(tb)
    >>> both.add([("<a>", "<p>", "<b>")])
    >>> both.add([("<b>", "<p>", "<c>"), ("<a>", "<p>", "<c>")])
    >>> sorted(both.inferred()), closure(tb, [("<a>", "<p>", "<b>"), ("<b>", "<p>", "<c>")])
    ([], {('<a>', '<p>', '<c>')})
    """

    def __init__(self, tbox: TBox) -> None:
        self.supers, self.spo = _table(tbox.sub_classes), _table(tbox.sub_properties)
        self.inv, self.dom, self.rng = (
            _table(tbox.inverses), _table(tbox.domains), _table(tbox.ranges)
        )
        self.symmetric = {f"<{p}>" for p in tbox.symmetric}
        # When p and q are inverse transitive properties, closing p is enough: every q edge
        # has its p twin (inverse rule) and the p closure maps back onto q's closure.
        joined = [f"<{p}>" for p in tbox.composed()]
        self.out: dict[str, dict[str, set[str]]] = {p: {} for p in joined}
        self.into: dict[str, dict[str, set[str]]] = {p: {} for p in joined}
        self.known: set[Key] = set()
        self.asserted: set[Key] = set()

    def inferred(self) -> set[Key]:
        """Every key derived and not asserted."""
        return self.known - self.asserted

    def add(self, triples: Iterable[Key]) -> None:
        """Assert ``triples`` and derive their consequences."""
        supers, spo, inv, dom, rng = self.supers, self.spo, self.inv, self.dom, self.rng
        symmetric, out, into, known = self.symmetric, self.out, self.into, self.known
        rdf_type = f"<{TYPE}>"
        fresh = set(triples)
        self.asserted |= fresh
        delta = fresh - known
        known |= delta
        while delta:
            for s, p, o in delta:
                if p in out and not is_literal(o):
                    out[p].setdefault(s, set()).add(o)
                    into[p].setdefault(o, set()).add(s)
            derived: set[Key] = set()
            add = derived.add
            for s, p, o in delta:
                if p == rdf_type:
                    for d in supers.get(o, ()):
                        add((s, rdf_type, d))
                    continue
                for q in spo.get(p, ()):
                    add((s, q, o))
                for c in dom.get(p, ()):
                    add((s, rdf_type, c))
                if is_literal(o):
                    continue
                for c in rng.get(p, ()):
                    add((o, rdf_type, c))
                for q in inv.get(p, ()):
                    add((o, q, s))
                if p in symmetric:
                    add((o, p, s))
                if p in out:
                    for z in out[p].get(o, ()):
                        add((s, p, z))
                    for x in into[p].get(s, ()):
                        add((x, p, o))
            delta = derived - known
            known |= delta
