"""Writing a whole search index file, in this process or in a separate low-priority one.

A rebuild at 1M triples folds and digests 143,000 names in Python: about 9 s holding the
interpreter. ``serve`` rebuilds a stale index in the background right after its start,
exactly when the first writes come; in the web process that rebuild took the
interpreter from them (issue 12: write p99 1.7 s right after a start). So a background
rebuild of an index file runs here as ``python -m coopgraph.search.build TARGET
FINGERPRINT`` under ``nice``: the store's process answers the one query as TSV bytes,
the web process only hands them over and waits, and the other core does the folding.
Both ways write the file with :func:`write_index`.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from collections.abc import Iterable

from coopgraph.forked import in_background
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
    """Write the index file ``target`` from the rows query's TSV answer in a separate
    process at lower priority (this thread waits without the interpreter); returns the
    rows written.

    :raises RuntimeError: the build failed (its stderr says why).
    """
    done = subprocess.run(
        [sys.executable, "-m", "coopgraph.search.build", target, fingerprint],
        input=tsv, capture_output=True, check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(
            f"the search index build failed (exit {done.returncode}): "
            + done.stderr.decode("utf-8", "replace")[-2000:]
        )
    return int(done.stdout)


def _main(target: str, fingerprint: str) -> None:
    in_background()
    conn = open_target(target)
    try:
        count = write_index(conn, tsv_rows(sys.stdin.buffer.read()), fingerprint)
    finally:
        conn.close()
    sys.stdout.write(f"{count}\n")


if __name__ == "__main__":
    _main(sys.argv[1], sys.argv[2])
