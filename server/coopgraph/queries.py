"""The query catalog: ``queries/**/*.rq`` with their ``#+ key: value`` headers; and the
queries the code itself runs, ``queries/internal/<name>.rq``, loaded by name
(:func:`internal_sparql`) and left out of the catalog.

Each file stays plain SPARQL; its header (see docs/conventions.md) carries the title and
description per language (``title@fr``), ``tags``, and ``expect`` (``ordered``,
``unordered`` or ``none``). When ``expect`` is not ``none``, the exact answer is in the
sibling ``<name>.expected.tsv`` (SPARQL 1.1 TSV results).

>>> q = parse_query_text("demo", "#+ title@fr: Bonjour\\n#+ title@en: Hello\\nASK {}")
>>> q.title("en"), q.title("de"), q.expect
('Hello', 'Bonjour', 'none')
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox

from coopgraph.errors import ParseError
from coopgraph.settings import PROJECT_ROOT
from coopgraph.store.base import Solutions, Term

_HEADER = re.compile(r"^#\+\s*([A-Za-z_][\w-]*)(?:@([A-Za-z]+(?:-[A-Za-z0-9]+)*))?\s*:\s?(.*)$")
EXPECT_VALUES = ("ordered", "unordered", "none")
#: Language used when a query has no title/description in the visitor's language.
FALLBACK_LANG = "fr"
#: The folder (under a queries folder) of the queries the code runs: not in the gallery.
INTERNAL = "internal"
#: Where they are read from: they belong to the program, so a custom ``queries_dir`` (the
#: gallery a deployment shows) does not replace them.
INTERNAL_DIR = PROJECT_ROOT / "queries" / INTERNAL


@functools.cache
def internal_sparql(name: str) -> str:
    """The text of ``queries/internal/<name>.rq``, read once (its ``#+`` header is SPARQL
    comments: the text runs as it is).

    >>> "SELECT ?used ?digest" in internal_sparql("loaded-digests")
    True
    """
    return (INTERNAL_DIR / f"{name}.rq").read_text("utf-8")


@dataclass
class CatalogQuery:
    """One query of the catalog."""

    #: path relative to the queries folder, without ``.rq`` (``network/offer``)
    name: str
    #: the whole file, header included (it is valid SPARQL: the header is comments)
    text: str
    path: Path | None = None
    #: ``{"title": {"fr": …, "en": …}, "description": {…}}``
    localised: dict[str, dict[str, str]] = field(default_factory=dict)
    #: other header keys (``tags``, ``expect``…), raw values
    meta: dict[str, str] = field(default_factory=dict)

    def _pick(self, key: str, lang: str) -> str:
        values = self.localised.get(key, {})
        return values.get(lang) or values.get(FALLBACK_LANG) or next(iter(values.values()), "")

    def title(self, lang: str) -> str:
        """Title in ``lang``, else French, else any, else the query's name."""
        return self._pick("title", lang) or self.name

    def description(self, lang: str) -> str:
        return self._pick("description", lang)

    @property
    def tags(self) -> list[str]:
        return [t.strip() for t in self.meta.get("tags", "").split(",") if t.strip()]

    @property
    def expect(self) -> str:
        return self.meta.get("expect", "none").strip().lower()

    @property
    def expected_path(self) -> Path | None:
        if self.path is None:
            return None
        return self.path.with_name(self.path.name.removesuffix(".rq") + ".expected.tsv")

    @property
    def body(self) -> str:
        """The SPARQL without the ``#+`` header lines."""
        return "\n".join(
            line for line in self.text.splitlines() if not _HEADER.match(line)
        ).strip() + "\n"

    def expected(self) -> Solutions | None:
        """The expected answer from ``<name>.expected.tsv`` (``None`` when ``expect: none``).

        :raises ParseError: missing or invalid expected file.
        """
        if self.expect == "none":
            return None
        path = self.expected_path
        if path is None or not path.is_file():
            raise ParseError(f"expect: {self.expect} but {path} is missing", source=self.name)
        return read_expected_tsv(path)

    def to_dict(self, lang: str) -> dict[str, object]:
        return {
            "name": self.name,
            "title": self.title(lang),
            "description": self.description(lang),
            "tags": self.tags,
            "expect": self.expect,
            "query": self.text,
        }


def parse_query_text(name: str, text: str, path: Path | None = None) -> CatalogQuery:
    """A :class:`CatalogQuery` from a file's text.

    :raises ParseError: an ``expect`` value other than ordered/unordered/none.
    """
    query = CatalogQuery(name=name, text=text, path=path)
    for number, line in enumerate(text.splitlines(), start=1):
        match = _HEADER.match(line.strip())
        if not match:
            continue
        key, lang, value = match.group(1).lower(), match.group(2), match.group(3).strip()
        if lang:
            query.localised.setdefault(key, {})[lang.lower()] = value
        else:
            query.meta[key] = value
        if key == "expect" and value.lower() not in EXPECT_VALUES:
            raise ParseError(
                f"expect must be one of {', '.join(EXPECT_VALUES)}, not {value!r}",
                source=str(path or name),
                line=number,
            )
    return query


def load_catalog(queries_dir: Path) -> list[CatalogQuery]:
    """Every ``*.rq`` under ``queries_dir`` but the ``internal/`` ones, sorted by name
    (top-level first).

    :raises ParseError: a file with a bad header.
    """
    if not queries_dir.is_dir():
        return []
    paths = sorted(
        (p for p in queries_dir.rglob("*.rq") if p.relative_to(queries_dir).parts[0] != INTERNAL),
        key=lambda p: (len(p.relative_to(queries_dir).parts), str(p)),
    )
    return [
        parse_query_text(
            str(p.relative_to(queries_dir).with_suffix("").as_posix()), p.read_text("utf-8"), p
        )
        for p in paths
    ]


def read_expected_tsv(path: Path) -> Solutions:
    """Parse a SPARQL 1.1 TSV results file into :class:`Solutions`.

    :raises ParseError: the file is not valid TSV results.
    """
    try:
        parsed = ox.parse_query_results(path.read_bytes(), ox.QueryResultsFormat.TSV)
    except (SyntaxError, ValueError) as exc:
        raise ParseError(str(exc), source=str(path)) from None
    assert isinstance(parsed, ox.QuerySolutions)
    variables = [v.value for v in parsed.variables]
    rows: list[tuple[Term | None, ...]] = [
        tuple(solution[v] for v in variables) for solution in parsed
    ]
    return Solutions(variables, rows)
