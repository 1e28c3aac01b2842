"""What the search index holds: which quads become rows, how text is folded, the SQLite
schema, and how the rows are read back from a store in one query."""

from __future__ import annotations

import functools
import hashlib
import re
import sqlite3
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

from coopgraph.formats import RESULT_FORMATS
from coopgraph.store.base import Solutions, Store, serializing
from coopgraph.vocab import (
    CG,
    DCTERMS,
    ID,
    INFERRED_GRAPH,
    OWL,
    PROV,
    PROVENANCE_GRAPH,
    RDFS,
    SCHEMA,
    SKOS,
)

#: Names: matched word by word, prefixes allowed (kind 0).
NAME_PROPERTIES = (
    str(RDFS.label), str(SKOS.prefLabel), str(SKOS.altLabel), str(SCHEMA.name),
    str(SCHEMA.alternateName),
)
#: Identifiers: matched whole, case and accents ignored (kind 1).
IDENTIFIER_PROPERTIES = (
    str(DCTERMS.identifier), str(SCHEMA.identifier), str(CG.inseeCode), str(CG.nutsCode),
    str(CG.countryCode), str(CG.sirenCode), str(CG.iatiIdentifier),
)
#: Linked IRIs: matched on their last segment (kind 2).
SAME_AS = str(OWL.sameAs)
ID_PREFIX = str(ID)
_KIND = {
    **{p: 0 for p in NAME_PROPERTIES}, **{p: 1 for p in IDENTIFIER_PROPERTIES}, SAME_AS: 2,
}
#: Graphs that are derived or are the activity log, not statements about actors.
SKIPPED_GRAPHS = frozenset({INFERRED_GRAPH, PROVENANCE_GRAPH})
FILE_NAME = "search-index.sqlite3"
#: Bumped when the schema or what is indexed changes: older files are rebuilt.
SCHEMA_VERSION = "3"

#: Tables. The full-text index reads names only (a view of kind 0 rows), so identifiers
#: never match word by word.
SCHEMA_SQL = """
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS terms(
  id INTEGER PRIMARY KEY, quad INTEGER NOT NULL, entity TEXT NOT NULL,
  via INTEGER NOT NULL, value TEXT NOT NULL, kind INTEGER NOT NULL, folded TEXT NOT NULL);
CREATE VIEW IF NOT EXISTS name_terms AS SELECT id, folded FROM terms WHERE kind = 0;
CREATE VIRTUAL TABLE IF NOT EXISTS names USING fts5(
  folded, content='name_terms', content_rowid='id',
  tokenize='unicode61 remove_diacritics 2', prefix='1 2 3');
"""
#: Indexes and the triggers keeping ``names`` in step: created after a bulk build (a
#: single FTS5 'rebuild' is much faster than one trigger call per row).
MAINTAIN_SQL = """
CREATE UNIQUE INDEX IF NOT EXISTS terms_quad ON terms(quad);
CREATE INDEX IF NOT EXISTS terms_folded ON terms(folded);
CREATE TRIGGER IF NOT EXISTS terms_in AFTER INSERT ON terms WHEN new.kind = 0 BEGIN
  INSERT INTO names(rowid, folded) VALUES (new.id, new.folded); END;
CREATE TRIGGER IF NOT EXISTS terms_out AFTER DELETE ON terms WHEN old.kind = 0 BEGIN
  INSERT INTO names(names, rowid, folded) VALUES ('delete', old.id, old.folded); END;
"""
INSERT_SQL = (
    "INSERT OR IGNORE INTO terms(id, quad, entity, via, value, kind, folded) "
    "VALUES (?, ?, ?, ?, ?, ?, ?)"
)
DELETE_SQL = "DELETE FROM terms WHERE quad = ?"
#: Whole values (names and identifiers) equal to the text: score 3.
EXACT_SQL = "SELECT entity, value, via FROM terms WHERE folded = ?"
#: Names matching an FTS5 expression, shortest first (ids are ordered by length), a page
#: at a time: broad prefixes ("vil") stop after a few pages instead of sorting 40k rows.
PAGE_SQL = (
    "SELECT t.id, t.entity, t.value, t.via, t.folded FROM (SELECT rowid AS r FROM names "
    "WHERE names MATCH :match AND rowid > :after ORDER BY rowid LIMIT :rows) "
    "JOIN terms t ON t.id = r ORDER BY t.id"
)
#: Names beginning with the text (``folded`` between ``lo`` and ``lo`` + U+10FFFF).
PREFIX_SQL = (
    "SELECT id, entity, value, via, folded FROM terms "
    "WHERE folded >= :lo AND folded < :hi AND kind = 0 LIMIT :cap"
)
NEAR_SQL = (
    "SELECT entity, value, via, folded FROM terms WHERE id IN "
    "(SELECT rowid FROM names WHERE names MATCH ? ORDER BY rank LIMIT 400)"
)
_ALL_TERMS = (
    "SELECT ?g ?s ?p ?o WHERE { VALUES ?p { "
    + " ".join(f"<{p}>" for p in _KIND)
    + f' }} GRAPH ?g {{ ?s ?p ?o }} FILTER(STRSTARTS(STR(?s), "{ID}")) }}'
)
_FINGERPRINT = (
    "SELECT (COUNT(?a) AS ?n) (MAX(STR(?a)) AS ?last) WHERE { "
    f"GRAPH <{PROVENANCE_GRAPH}> {{ ?a a <{PROV.Activity}> }} }}"
)
_TSV = next(f for f in RESULT_FORMATS if f.name == "tsv")


def fold(text: str) -> str:
    """Lower case without accents: ``"Métropole"`` → ``"metropole"``.

    >>> fold("Eurométropole Lille-Kortrijk-Tournai")
    'eurometropole lille-kortrijk-tournai'
    """
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def words(text: str) -> list[str]:
    """The words FTS5's ``unicode61`` tokenizer sees in ``fold(text)`` (letters, digits).

    >>> words("Ville d'Oujda (Maroc)")
    ['ville', 'd', 'oujda', 'maroc']
    """
    return re.findall(r"[^\W_]+", fold(text))


@dataclass(frozen=True)
class Hit:
    """One entity found: the value that matched, through which property, how well
    (3 the whole value, 2 its beginning, 1 words inside it)."""

    entity: str
    matched: str
    via: str
    score: int


Row = tuple[str, str, str, str, str, str]  # graph, entity, via, value, lang, datatype


_PLAIN = {"http://www.w3.org/2001/XMLSchema#string",
          "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"}


def _datatype(datatype: str, lang: str) -> str:
    """The datatype part of a row's identity: empty for plain and language-tagged
    strings, which stores report differently (Virtuoso)."""
    return "" if lang or datatype in _PLAIN else datatype


def quad_row(quad: ox.Quad) -> Row | None:
    """The index row of a quad, or ``None`` when the quad is not indexed."""
    return term_row(quad.graph_name, quad.subject, quad.predicate, quad.object)


def term_row(graph: object, subject: object, predicate: object, obj: object) -> Row | None:
    """The index row of a quad given as terms: literals of names and identifiers, IRIs
    of ``sameAs``, about subjects under ``cgid:``, outside the skipped graphs."""
    if not isinstance(predicate, ox.NamedNode) or not isinstance(subject, ox.NamedNode):
        return None
    via = predicate.value
    kind = _KIND.get(via)
    if kind is None or not subject.value.startswith(ID_PREFIX):
        return None
    g = graph.value if isinstance(graph, ox.NamedNode) else ""
    if g in SKIPPED_GRAPHS:
        return None
    if isinstance(obj, ox.Literal) and kind != 2:
        lang = obj.language or ""
        return (g, subject.value, via, obj.value, lang, _datatype(obj.datatype.value, lang))
    if isinstance(obj, ox.NamedNode) and kind == 2:
        return (g, subject.value, via, obj.value, "", "")
    return None


Record = tuple[int, int, str, int, str, int, str]  # id, quad, entity, via, value, kind, folded
PROPERTIES = tuple(_KIND)
_VIA = {p: i for i, p in enumerate(PROPERTIES)}


def quad_key(row: Row) -> int:
    """A 64-bit digest of the quad: the row's identity (the same label from two graphs
    is two rows), cheaper to index than the strings."""
    digest = hashlib.blake2b("\x1f".join(row).encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


@functools.lru_cache(maxsize=65536)
def _folded(text: str) -> str:
    """``fold(text).strip()``, cached: a rebuild folds the same labels (fr, en) often."""
    return fold(text).strip()


def record(row: Row, seq: int) -> Record:
    """The stored row. Its id is ``len(value) << 32 | seq``, so the full-text index lists
    matches shortest first and the best ones are read first."""
    via = row[2]
    kind = _KIND[via]
    value = row[3]
    key = value.rstrip("/").rsplit("/", 1)[-1] if kind == 2 else value  # wd:Q648 → Q648
    return (
        min(len(value), 0x7FFFFFFF) << 32 | seq, quad_key(row), row[1].removeprefix(ID_PREFIX),
        _VIA[via], value, kind, _folded(key),
    )


def store_fingerprint(store: Store) -> str:
    """``<activities>:<greatest activity IRI>``: changes with every coopgraph write."""
    result = store.query(_FINGERPRINT)
    assert isinstance(result, Solutions)
    n, last = result.rows[0] if result.rows else (None, None)
    return f"{n.value if n is not None else 0}:{last.value if last is not None else ''}"


def store_rows(store: Store) -> Iterator[Row]:
    """Every indexed quad of the store, read in one query. A store that can serialise
    (the isolated store's child) sends TSV bytes parsed here by pyoxigraph: no term
    objects are pickled across the process boundary. The query selects plain terms:
    computing STR/LANG/DATATYPE in SPARQL tripled its time at 1M."""
    body = store_tsv(store)
    if body is not None:
        yield from tsv_rows(body)
        return
    result = store.query(_ALL_TERMS)
    assert isinstance(result, Solutions)
    for g, s, p, o in result.rows:
        row = term_row(g, s, p, o)
        if row is not None:
            yield row


def store_tsv(store: Store) -> bytes | None:
    """The rows query's answer as TSV bytes, or ``None`` when the store cannot
    serialise (then :func:`store_rows` reads terms)."""
    fast = serializing(store)
    return None if fast is None else fast.query_serialized(_ALL_TERMS, _TSV).body


def tsv_rows(body: bytes) -> Iterator[Row]:
    """The index rows of the rows query's TSV answer (:func:`store_tsv`)."""
    table: Iterable[Sequence[object]] = ox.parse_query_results(
        body, ox.QueryResultsFormat.TSV
    )  # type: ignore[assignment]
    for g, s, p, o in table:
        row = term_row(g, s, p, o)
        if row is not None:
            yield row


def connect(path: Path, *, read_only: bool = False) -> sqlite3.Connection:
    """Open an existing index file (WAL: another process may read it while we write).
    The schema is not touched: a file of another schema version is rebuilt, not altered."""
    if read_only:
        uri = path.resolve().as_uri() + "?mode=ro"
        return sqlite3.connect(uri, uri=True, check_same_thread=False, isolation_level=None)
    conn = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=OFF")  # a derived cache: a power cut means a rebuild
    return conn


def get_meta(conn: sqlite3.Connection, key: str) -> str | None:
    try:
        row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    except sqlite3.DatabaseError:  # not an index file, or an older schema
        return None
    return row[0] if row else None


def set_meta(conn: sqlite3.Connection, key: str, value: str) -> None:
    conn.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", (key, value))
