"""The index of one store: SQLite FTS5 tables, searched shortest name first, updated by
each commit, rebuilt (at once or in a background thread) when it does not match."""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
import weakref
from collections.abc import Callable, Iterable
from pathlib import Path

from coopgraph import events
from coopgraph.search.build import build_elsewhere, open_target, write_index
from coopgraph.search.terms import (
    DELETE_SQL,
    EXACT_SQL,
    ID_PREFIX,
    INSERT_SQL,
    NEAR_SQL,
    PAGE_SQL,
    PREFIX_SQL,
    PROPERTIES,
    SCHEMA_VERSION,
    Hit,
    connect,
    fold,
    get_meta,
    quad_key,
    quad_row,
    record,
    set_meta,
    store_fingerprint,
    store_rows,
    store_tsv,
    words,
)
from coopgraph.store.base import Store

log = logging.getLogger(__name__)

Progress = Callable[[str], None]


class SearchIndex:
    """The index of one store; thread-safe. Get it with :func:`index_for` / :func:`attach`.

    :param store: the store indexed.
    :param path: the SQLite file, or ``None`` for an in-memory index.
    :param read_only: the store is a read-only snapshot: never write the file; when it
        does not match the store, build a private in-memory index instead.
    """

    def __init__(self, store: Store, path: Path | None, *, read_only: bool = False) -> None:
        self._store = weakref.ref(store) if weakrefable(store) else (lambda: store)
        self.path = path
        self.read_only = read_only
        self._lock = threading.RLock()
        self._conn: sqlite3.Connection | None = None
        #: ``ready``, ``stale`` (rebuilt at the next search) or ``building`` (background)
        self.state = "stale"
        self._pending: list[events.Commit] | None = None  # commits seen while building
        self._builder: threading.Thread | None = None
        self.background = False
        #: the store's fingerprint as (activities, greatest activity IRI) when known, kept
        #: from each commit's activities: no query of the whole log on a write's path
        self._mark: tuple[int, str] | None = None
        self._open()

    # -- opening and fingerprint ---------------------------------------------------------

    @property
    def store(self) -> Store:
        store = self._store()
        assert store is not None, "the store of this index was closed"
        return store

    def _open(self) -> None:
        """Open the file when it exists; ``ready`` when its fingerprint matches the store."""
        if self.path is None or not self.path.exists():
            return
        try:
            conn = connect(self.path, read_only=self.read_only)
        except sqlite3.DatabaseError as exc:
            log.warning("search index %s unreadable (%s): it will be rebuilt", self.path, exc)
            return
        self._conn = conn
        fingerprint = store_fingerprint(self.store)
        if (
            get_meta(conn, "schema") == SCHEMA_VERSION
            and get_meta(conn, "fingerprint") == fingerprint
        ):
            self.state = "ready"
            self._mark = _parse_mark(fingerprint)

    def ensure(self, progress: Progress | None = None) -> None:
        """Rebuild now when the index is stale (``building`` in the background: answer
        from what is there)."""
        with self._lock:
            if self.state != "stale":
                return
            if self.background:
                self._start_background()
                return
        self.rebuild(progress)

    # -- reading -------------------------------------------------------------------------

    def search(self, text: str, *, limit: int = 20) -> list[Hit]:
        """The best hit per entity, best first: whole value, then beginning, then words;
        shorter values first, then IRIs. Identifiers and ``sameAs`` match whole only.
        """
        self.ensure()
        wanted = fold(text).strip()
        tokens = words(text)
        best: dict[str, Hit] = {}
        with self._lock:
            conn = self._conn
            if conn is None:
                return []
            for entity, value, via in conn.execute(EXACT_SQL, (wanted,)):
                _keep(best, _hit(entity, value, via, 3))
            if tokens and not _beginnings(conn, tokens, wanted, best, limit):
                _walk(conn, " ".join(f'"{t}"*' for t in tokens), wanted, best, limit, 1)
        ranked = sorted(best.values(), key=lambda h: (-h.score, len(h.matched), h.entity))
        return ranked[:limit]

    def suggest(self, text: str, *, limit: int = 5, cutoff: float = 0.75) -> list[Hit]:
        """Names spelt nearly like ``text`` ("Mairie de Lilles"): candidates sharing a
        word beginning (3 letters), ranked by :class:`difflib.SequenceMatcher` ratio."""
        import difflib

        self.ensure()
        wanted = fold(text).strip()
        stems = sorted({w[:3] for w in words(text) if len(w) >= 3})
        if not stems:
            return []
        with self._lock:
            if self._conn is None:
                return []
            rows = self._conn.execute(NEAR_SQL, (" OR ".join(f'"{s}"*' for s in stems),))
            scored: dict[str, tuple[float, Hit]] = {}
            for entity, value, via, folded in rows:
                ratio = difflib.SequenceMatcher(None, wanted, folded).ratio()
                if ratio >= cutoff and ratio > scored.get(entity, (0.0, None))[0]:
                    scored[entity] = (ratio, _hit(entity, value, via, 0))
        ranked = sorted(scored.values(), key=lambda x: (-x[0], x[1].matched, x[1].entity))
        return [hit for _, hit in ranked[:limit]]

    def size(self) -> int:
        """Rows indexed (names and identifiers)."""
        with self._lock:
            if self._conn is None:
                return 0
            return int(self._conn.execute("SELECT COUNT(*) FROM terms").fetchone()[0])

    # -- writing -------------------------------------------------------------------------

    def on_commit(self, commit: events.Commit) -> None:
        """Apply one committed write (the :mod:`coopgraph.events` listener)."""
        with self._lock:
            if self.state == "building" and self._pending is not None:
                self._pending.append(commit)
                return
            if _undescribed(commit) or self.read_only:
                self.state = "stale"
                if self._conn is not None and not self.read_only:
                    set_meta(self._conn, "fingerprint", "stale")
                if self.background:
                    self._start_background()
                return
            if self.state != "ready" or self._conn is None:
                return  # stale: rebuilt at the next search
            self._apply(self._conn, [commit])

    def _apply(self, conn: sqlite3.Connection, commits: Iterable[events.Commit]) -> None:
        conn.execute("BEGIN")
        try:
            for commit in commits:
                if _undescribed(commit):
                    raise _Rebuild
                removed = filter(None, map(quad_row, commit.removed))
                conn.executemany(DELETE_SQL, ((quad_key(row),) for row in removed))
                inserted = [row for row in map(quad_row, commit.inserted) if row is not None]
                seq = int(get_meta(conn, "seq") or 0)
                conn.executemany(
                    INSERT_SQL, (record(row, seq + i) for i, row in enumerate(inserted))
                )
                set_meta(conn, "seq", str(seq + len(inserted)))
            mark = self._mark
            for commit in commits:  # each activity counted and compared as the query does
                if mark is None or not commit.activities or commit.everything:
                    mark = None
                    break
                mark = (mark[0] + len(commit.activities), max(mark[1], *commit.activities))
            fingerprint = (f"{mark[0]}:{mark[1]}" if mark is not None
                           else store_fingerprint(self.store))
            set_meta(conn, "fingerprint", fingerprint)
            conn.execute("COMMIT")
            self._mark = _parse_mark(fingerprint)
        except _Rebuild:
            conn.execute("ROLLBACK")
            self.state, self._mark = "stale", None
        except BaseException:
            conn.execute("ROLLBACK")
            self.state = "stale"
            raise

    def rebuild(self, progress: Progress | None = None) -> int:
        """Build the index from the store, then swap it in; returns the rows indexed.

        :param progress: told what happens when the build takes more than a second.
        """
        with self._lock:
            if self.state == "building" and self._builder is not threading.current_thread():
                return 0
            self.state = "building"
            if self._pending is None:
                self._pending = []
        try:
            conn, target, rows = self._build(progress)
        except BaseException:
            with self._lock:
                self.state, self._pending = "stale", None
            raise
        with self._lock:
            pending, self._pending = self._pending or [], None
            self.state = "ready"
            if self.path is not None and target != ":memory:":
                conn.close()
                if self._conn is not None:
                    self._conn.close()
                for suffix in ("-wal", "-shm"):
                    Path(f"{self.path}{suffix}").unlink(missing_ok=True)
                os.replace(target, self.path)
                conn = connect(self.path)
            elif self._conn is not None:
                self._conn.close()
            self._conn = conn
            self._mark = None if pending else _parse_mark(get_meta(conn, "fingerprint") or "")
            if pending:  # the fingerprint may hold some of them already: asked again
                self._apply(conn, pending)
            if self.state == "stale" and self.background:
                self._start_background()  # a full load arrived while building
        return rows

    def _build(self, progress: Progress | None) -> tuple[sqlite3.Connection, str, int]:
        """A new index of the whole store: (its open connection, its file, rows). In the
        background (``serve``) a file index is written by a forked low-priority child
        (:mod:`coopgraph.search.build`: the writes right after a start keep this one's
        interpreter); otherwise here."""
        start = time.monotonic()
        # progress only when the build lasts more than a second (most of it is the query)
        timer = threading.Timer(1.0, progress or (lambda _: None), (
            "search index: rebuilding (reading names and identifiers from the store)…",))
        timer.daemon = True
        timer.start()
        target = ":memory:"
        if self.path is not None and not self.read_only:
            target = f"{self.path}.building"
            Path(target).unlink(missing_ok=True)
        elsewhere = self.background and target != ":memory:"
        try:
            fingerprint = store_fingerprint(self.store)
            tsv = store_tsv(self.store) if elsewhere else None
            rows = [] if tsv is not None else list(store_rows(self.store))
        finally:
            timer.cancel()
        if tsv is not None:
            count = build_elsewhere(target, fingerprint, tsv)
            conn = open_target(target)
        else:
            conn = open_target(target)
            count = write_index(conn, rows, fingerprint)
        if progress and time.monotonic() - start > 1.0:
            progress(f"search index: {count:,} names and identifiers indexed "
                     f"in {time.monotonic() - start:.1f} s")
        return conn, target, count

    def _start_background(self) -> None:
        """Rebuild in a daemon thread (``serve``); searches answer from the current index."""
        with self._lock:
            builder, me = self._builder, threading.current_thread()
            if builder is not None and builder.is_alive() and builder is not me:
                return
            self.state = "building"
            self._pending = []

            def run() -> None:
                try:
                    rows = self.rebuild(lambda m: log.warning("%s", m))
                    log.warning("search index ready: %s rows", f"{rows:,}")
                except Exception:
                    log.exception("search index rebuild failed; lookups use the old index")

            self._builder = threading.Thread(target=run, name="search-index", daemon=True)
            self._builder.start()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for a background rebuild; ``True`` when the index is ready."""
        builder = self._builder
        if builder is not None:
            builder.join(timeout)
        return self.state == "ready"

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None


def _parse_mark(fingerprint: str) -> tuple[int, str] | None:
    """``"12:https://…"`` (:func:`store_fingerprint`) → ``(12, "https://…")``."""
    count, sep, last = fingerprint.partition(":")
    return (int(count), last) if sep and count.isdigit() else None


class _Rebuild(Exception):
    """A queued commit that changed everything: rebuild instead of replaying."""


def _undescribed(commit: events.Commit) -> bool:
    """A full load: ``everything`` and no quads to apply (the bulk import also sets
    ``everything``, for the inferences it defers, but lists its asserted quads)."""
    return commit.everything and not (commit.removed or commit.inserted)


def _hit(entity: str, value: str, via: int, score: int) -> Hit:
    return Hit(ID_PREFIX + entity, value, PROPERTIES[via], score)


#: Names beginning with the text are read from the B-tree when there are fewer than this.
_RANGE_CAP = 200


def _beginnings(
    conn: sqlite3.Connection, tokens: list[str], wanted: str, best: dict[str, Hit], limit: int
) -> bool:
    """Names that begin with the text (score 2) into ``best``: a range of the ``folded``
    index when it is small ("ville de belvalta"), else the FTS5 initial-phrase query read
    shortest first ("vil"). :returns: whether ``limit`` entities score 2 or more."""
    found = conn.execute(
        PREFIX_SQL, {"lo": wanted, "hi": wanted + "\U0010ffff", "cap": _RANGE_CAP}
    ).fetchall()
    if len(found) >= _RANGE_CAP:
        return _walk(conn, f'^"{" ".join(tokens)}"*', wanted, best, limit, 2)
    for _, entity, value, via, folded in found:
        _keep(best, _hit(entity, value, via, 3 if folded == wanted else 2))
    return sum(1 for hit in best.values() if hit.score >= 2) >= limit


def _walk(
    conn: sqlite3.Connection, match: str, wanted: str, best: dict[str, Hit], limit: int,
    minimum: int,
) -> bool:
    """Read the names matching ``match`` shortest first, a page at a time, into ``best``;
    stop once ``limit`` entities score at least ``minimum`` and the names grow longer
    (ties of length are all read, so the IRI order among them is exact).

    :returns: whether it stopped early (enough entities; longer names cannot rank higher).
    """
    qualified = {e for e, h in best.items() if h.score >= minimum}
    after, rows, cut = -1, max(limit * 4, 64), None
    while True:
        page = conn.execute(PAGE_SQL, {"match": match, "after": after, "rows": rows}).fetchall()
        for row_id, entity, value, via, folded in page:
            length = row_id >> 32
            if cut is not None and length > cut:
                return True
            score = 3 if folded == wanted else 2 if folded.startswith(wanted) else 1
            hit = _hit(entity, value, via, score)
            _keep(best, hit)
            if score >= minimum:
                qualified.add(hit.entity)
                if cut is None and len(qualified) >= limit:
                    cut = length
        if len(page) < rows:
            return cut is not None
        after, rows = page[-1][0], rows * 2


def _keep(best: dict[str, Hit], hit: Hit) -> None:
    """Keep ``hit`` when it beats the entity's current best (score, then shorter)."""
    old = best.get(hit.entity)
    if old is None or (hit.score, -len(hit.matched)) > (old.score, -len(old.matched)):
        best[hit.entity] = hit


def weakrefable(obj: object) -> bool:
    try:
        weakref.ref(obj)
    except TypeError:
        return False
    return True
