"""Names typed in cells resolved to IRIs of the store: organisations, places and
programmes through :func:`coopgraph.lookup.lookup`, concept labels (contract types,
skills, themes…) against their scheme; each answer cached for the sheet.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass

import pyoxigraph as ox

from coopgraph.errors import BadRequest
from coopgraph.lookup import fold, lookup, suggest
from coopgraph.queries import internal_sparql
from coopgraph.store.base import Boolean, Solutions, Store
from coopgraph.tabular.cells import CellError, q, quoted
from coopgraph.vocab import CG, ID, ORG, RDFS, SCHEMA, compact, expand

__all__ = ["TYPES", "Resolver"]


def _variants(label: str) -> set[str]:
    """Looser forms of a label: without its parentheses, their content, each side of " / "."""
    out = set()
    inner = re.findall(r"\(([^)]*)\)", label)
    outer = re.sub(r"\s*\([^)]*\)", "", label)
    head = re.split(r"\s*:\s", outer)[0]  # "ODD 17 : Partenariats…" → "ODD 17"
    for part in [outer, head, *inner, *re.split(r"\s*/\s*", outer)]:
        for piece in re.split(r"\s*,\s*", part):
            if piece.strip():
                out.add(fold(piece).strip())
    return out


@dataclass
class _Index:
    exact: dict[str, set[str]]
    loose: dict[str, set[str]]
    labels: dict[str, dict[str, str]]  # iri → lang → label


_WHAT = {
    "org": ("une organisation connue", "a known organisation"),
    "place": ("un lieu connu", "a known place"),
    "programme": (
        "un programme ou un appel à projets connu",
        "a known programme or call for projects",
    ),
}
#: Allowed types (full IRIs) for each kind of name.
TYPES = {
    "org": (ORG.Organization,),
    "place": (SCHEMA.Place,),
    "programme": (CG.Programme, CG.CallForProjects),
}
_TYPES_OF = "SELECT ?t ?s WHERE { ?s a ?t }"
_CLASSES = (
    f"SELECT ?c ?l WHERE {{ ?c <{RDFS.subClassOf}>* <{ORG.Organization}> ; <{RDFS.label}> ?l "
    "FILTER(isIRI(?c)) }"
)
_ASK = "ASK { ?s ?p ?o }"


class Resolver:
    """Turns names typed in cells into IRIs of the store, caching each answer for the sheet."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._names: dict[tuple[str, str], str] = {}
        self._indexes: dict[str, _Index] = {}

    # entities (lookup) ------------------------------------------------------------------

    def entity(self, text: str, kind: str) -> str:
        """The IRI of the organisation / place / programme named ``text``.

        :raises CellError: unknown, ambiguous, or of the wrong kind.
        """
        key = (kind, fold(text).strip())
        if key not in self._names:
            self._names[key] = self._entity(text.strip(), kind)
        return self._names[key]

    def _entity(self, text: str, kind: str) -> str:
        what_fr, what_en = _WHAT[kind]
        allowed = set(TYPES[kind])
        iri = self._as_iri(text)
        if iri is not None:
            types = self.types_of(iri)
            if types & allowed:
                return iri
            raise CellError(
                *quoted(
                    "{} n'est pas " + what_fr + " (IRI inconnue ou d'un autre genre)",
                    "{} is not " + what_en + " (unknown IRI or of another kind)",
                    text,
                )
            )
        try:
            matches = lookup(self.store, text, limit=50)
        except BadRequest:
            matches = []
        wanted = fold(text).strip()
        fitting = [m for m in matches if {expand(t) for t in m.types} & allowed]
        exact = {m.iri for m in fitting if m.score == 3}
        if not exact:
            exact = {m.iri for m in fitting if wanted in _variants(m.matched)}
        if len(exact) == 1:
            return exact.pop()
        if exact:
            shown = ", ".join(compact(i) for i in sorted(exact))
            raise CellError(
                *quoted(
                    "{} désigne plusieurs ressources ("
                    + shown
                    + ") : écrivez le nom complet ou l'IRI",
                    "{} names several resources (" + shown + "): write the full name or the IRI",
                    text,
                )
            )
        near = list(dict.fromkeys(m.matched for m in fitting))[:3] or self._close(text, kind)
        hint_fr = f" ; vouliez-vous dire {', '.join(q(n, 'fr') for n in near)} ?" if near else ""
        hint_en = f"; did you mean {', '.join(q(n, 'en') for n in near)}?" if near else ""
        raise CellError(
            *quoted(
                "{} n'est pas "
                + what_fr
                + " : écrivez son nom exact (cherchez-le avec « coopgraph lookup ») ou son IRI"
                + hint_fr,
                "{} is not "
                + what_en
                + ": write its exact name (find it with “coopgraph lookup”) or its IRI"
                + hint_en,
                text,
            )
        )

    def _close(self, text: str, kind: str) -> list[str]:
        """Names of the right kind spelt nearly like ``text`` ("Mairie de Lilles"), from
        the search index (:func:`coopgraph.lookup.suggest`)."""
        allowed = set(TYPES[kind])
        try:
            near = suggest(self.store, text, limit=10, cutoff=0.8)
        except BadRequest:
            return []
        fitting = [m.matched for m in near if {expand(t) for t in m.types} & allowed]
        return list(dict.fromkeys(fitting))[:3]

    def _as_iri(self, text: str) -> str | None:
        if text.startswith(("http://", "https://", "<")) or re.fullmatch(
            r"[a-z]+:[^\s:]+/[^\s]+", text
        ):
            try:
                return expand(text)
            except BadRequest:
                return None
        return None

    def types_of(self, iri: str) -> set[str]:
        result = self.store.query(_TYPES_OF, bindings={"s": ox.NamedNode(iri)})
        assert isinstance(result, Solutions)
        return {row[0].value for row in result.rows if row[0] is not None}

    def exists(self, iri: str) -> bool:
        """Does the store say anything about ``iri``?"""
        result = self.store.query(_ASK, bindings={"s": ox.NamedNode(iri)})
        assert isinstance(result, Boolean)
        return bool(result)

    def defined_in(self, iri: str, graph: str) -> bool:
        """Does named graph ``graph`` hold statements about ``iri``?"""
        ask = f"ASK {{ GRAPH {ox.NamedNode(graph)} {{ {ox.NamedNode(iri)} ?p ?o }} }}"
        result = self.store.query(ask)
        assert isinstance(result, Boolean)
        return bool(result)

    # concepts and classes ---------------------------------------------------------------

    def concept(self, text: str, scheme: str | tuple[str, ...], what: tuple[str, str]) -> str:
        """The concept of ``scheme`` (or one of several) whose label, alternative label,
        notation or IRI ending is ``text``.

        :param what: (fr, en) name of the list for messages, e.g. ("type de contrat", …).
        """
        schemes = (scheme,) if isinstance(scheme, str) else scheme
        index = self._merged(schemes)
        return self._pick(text, index, what)

    def organisation_class(self, text: str) -> str:
        if "class" not in self._indexes:
            result = self.store.query(_CLASSES)
            assert isinstance(result, Solutions)
            self._indexes["class"] = self._index(result.rows)
        return self._pick(
            text, self._indexes["class"], ("type d'organisation", "organisation type")
        )

    def _merged(self, schemes: tuple[str, ...]) -> _Index:
        key = " ".join(schemes)
        if key not in self._indexes:
            rows: list[Sequence[object]] = []
            for scheme in schemes:
                result = self.store.query(
                    internal_sparql("concept-labels"),
                    bindings={"scheme": ox.NamedNode(ID["scheme/" + scheme])},
                )
                assert isinstance(result, Solutions)
                rows += result.rows
            self._indexes[key] = self._index(rows)
        return self._indexes[key]

    @staticmethod
    def _index(rows: Sequence[Sequence[object]]) -> _Index:
        index = _Index({}, {}, {})
        for concept, label, *_ in rows:
            assert isinstance(concept, ox.NamedNode) and isinstance(label, ox.Literal)
            iri = concept.value
            for key in (
                fold(label.value).strip(),
                fold(iri.rstrip("/").rsplit("/", 1)[-1].rsplit("#", 1)[-1]),
            ):
                index.exact.setdefault(key, set()).add(iri)
            for key in _variants(label.value):
                index.loose.setdefault(key, set()).add(iri)
            if label.language:
                index.labels.setdefault(iri, {}).setdefault(label.language, label.value)
        return index

    def _pick(self, text: str, index: _Index, what: tuple[str, str]) -> str:
        iri = self._as_iri(text.strip())
        if iri is not None and iri in index.labels:
            return iri
        wanted = fold(text).strip()
        for table in (index.exact, index.loose):
            found = table.get(wanted, set())
            if len(found) == 1:
                return next(iter(found))
            if found:
                break
        names = {
            lang: sorted({labels.get(lang, "") for labels in index.labels.values()} - {""})
            for lang in ("fr", "en")
        }
        hints = {}
        for lang in ("fr", "en"):
            close = difflib.get_close_matches(text, names[lang], n=3, cutoff=0.5)
            if not close:
                close = [n for n in names[lang] if wanted and wanted in fold(n)][:3]
            hints[lang] = ", ".join(q(c, lang) for c in close)
        raise CellError(
            *quoted(
                "{} n'est pas dans la liste « "
                + what[0]
                + " »"
                + (f" ; proches : {hints['fr']}" if hints["fr"] else ""),
                "{} is not in the “"
                + what[1]
                + "” list"
                + (f"; close: {hints['en']}" if hints["en"] else ""),
                text,
            )
        )
