"""Writing a whole search index file, in this process or in a forked low-priority child.

A rebuild at 1M triples folds and digests 143,000 names in Python: about 9 s holding the
interpreter. ``serve`` rebuilds a stale index in the background right after its start,
exactly when the first writes come; in the web process that rebuild took the
interpreter from them (issue 12: write p99 1.7 s right after a start). So a background
rebuild of an index file runs in a child forked at lower priority
(:func:`coopgraph.forked.compute_forked`, ``background=True``): the store's process
answers the one query as TSV bytes, the child reads them copy-on-write and folds on the
other core, the web process only waits. Both ways write the file with
:func:`write_index`.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable

from coopgraph.forked import compute_forked
from coopgraph.search.terms import (
    INSERT_SQL,
    MAINTAIN_SQL,
    SCHEMA_SQL,
    SCHEMA_VERSION,
    Record,
    Row,
    record,
    set_meta,
    tsv_rows,
)

__all__ = ["build_elsewhere", "open_target", "write_index"]


def open_target(target: str) -> sqlite3.Connection:
    """A new index file (or ``:memory:``) to fill, without a journal: it is swapped in
    whole or thrown away."""
    conn = sqlite3.connect(target, check_same_thread=False, isolation_level=None)
    conn.execute("PRAGMA journal_mode=OFF")
    conn.execute("PRAGMA synchronous=OFF")
    return conn


def write_index(conn: sqlite3.Connection, rows: Iterable[Row], fingerprint: str) -> int:
    """Fill an empty index with ``rows`` (shortest values first) and record the store's
    ``fingerprint``; returns the rows written (a quad read twice counts once)."""
    ordered = sorted(rows, key=lambda r: (len(r[3]), r[1], r[2], r[3]))
    conn.executescript(SCHEMA_SQL)
    conn.execute("BEGIN")
    records: dict[int, Record] = {}
    for seq, row in enumerate(ordered):
        stored = record(row, seq)
        records.setdefault(stored[1], stored)
    conn.executemany(INSERT_SQL, records.values())
    conn.execute("INSERT INTO names(names) VALUES ('rebuild')")
    conn.execute("COMMIT")
    conn.executescript(MAINTAIN_SQL)
    conn.execute("BEGIN")
    set_meta(conn, "schema", SCHEMA_VERSION)
    set_meta(conn, "fingerprint", fingerprint)
    set_meta(conn, "seq", str(len(ordered)))
    conn.execute("COMMIT")
    return len(records)


def build_elsewhere(target: str, fingerprint: str, tsv: bytes) -> int:
    """Write the index file ``target`` from the rows query's TSV answer in a forked child
    at lower priority (this thread waits without the interpreter); returns the rows
    written.

    :raises RuntimeError: the build failed (its traceback is on stderr).
    """

    def build() -> int:
        conn = open_target(target)
        try:
            return write_index(conn, tsv_rows(tsv), fingerprint)
        finally:
            conn.close()

    return compute_forked(build, name=f"building the search index {target}", background=True)
