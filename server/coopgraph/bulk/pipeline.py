"""The bulk import: stream files → validate each entry → commit in batches → reason once.

Entries go through the same pipeline as one ``coopgraph add`` (:func:`coopgraph.entries.
commit`: the entry, its PROV-O activity and the "current version" triples in one
transaction), only many at a time:

1. **Read** candidates from each file (:mod:`coopgraph.bulk.sources`), ``batch_quads``
   quads at a time.
2. **Skip** an entry whose content digest (:func:`coopgraph.provenance.content_digest`,
   recorded as ``cg:contentDigest`` by every write) equals the current version's: a re-run
   on the same files writes nothing; a changed entry replaces the old version whole.
3. **Validate** each entry against the shapes with the store as context *plus the other
   entries of its batch* (:class:`~coopgraph.validate.Validator` ``overlay``), so entries
   of one dataset may point at each other in any order within a batch. An entry that
   fails is not rejected yet: it is **deferred** and validated again at the end of the run
   together with every other deferred entry, when everything else is in the store — so a
   reference to an entry later in the file resolves too. Only the final verdict rejects
   (with the rule IDs). An accepted entry that points at a deferred one is re-checked
   without it, so nothing accepted relies on something rejected.
4. **Commit** the accepted entries of a batch in one transaction. Small batches (at most
   ``SMALL_BATCH`` entries, e.g. a few files or a short sheet) refresh their inferences
   entry by entry, like ``coopgraph add``. Large ones record the
   :mod:`coopgraph.pending` marker in the same transaction instead, and the run
   materialises the inferences once at the end (the graphs it wrote from memory, the
   others read from the store), then clears the marker. A run killed
   in between leaves whole entries only, and the marker makes the next open of the store
   rebuild the inferences (``load_project`` → :meth:`coopgraph.reason.Reasoner.repair`).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterable, Sequence
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import pyoxigraph as ox

from coopgraph import entries, pending, provenance
from coopgraph.auth import TOKEN_NAME
from coopgraph.bulk.report import STATUSES, BulkReport, Outcome
from coopgraph.bulk.sources import Candidate, Source, candidates
from coopgraph.errors import BadRequest, Conflict, CoopgraphError, NotFound
from coopgraph.gcquiet import paused
from coopgraph.store.base import Solutions, Store
from coopgraph.store.embedded import EmbeddedStore
from coopgraph.validate import Candidate as Checked
from coopgraph.validate.batch import Overlays
from coopgraph.validate.parallel import FORK_AT, workers
from coopgraph.vocab import CG, ID, PROV, PROVENANCE_GRAPH, RDF

ID_BASE = str(ID)

__all__ = ["SMALL_BATCH", "ImportOptions", "Progress", "run_import"]

#: Batches with at most this many entries to write refresh inferences entry by entry.
SMALL_BATCH = 20
#: Entries validated together (``Validator.validate_batch``: one context query, one index).
VALIDATE_MANY = 2000

_CURRENT_DIGESTS = f"""SELECT ?g ?d WHERE {{ GRAPH <{PROVENANCE_GRAPH}> {{
  ?g <{PROV.wasGeneratedBy}> ?a . ?a <{CG.contentDigest}> ?d }} }}"""
_PROJECT_GRAPHS = f"""SELECT DISTINCT ?g WHERE {{ GRAPH <{PROVENANCE_GRAPH}> {{
  ?a a <{CG[provenance.LOADED]}> ; <{PROV.generated}> ?g }} }}"""


class Progress(Protocol):
    """What the run tells while it goes (the CLI draws a progress bar with it)."""

    def advance(self, nbytes: int) -> None: ...

    def counts(self, counts: dict[str, int]) -> None: ...

    def note(self, text: str) -> None: ...


@dataclass
class ImportOptions:
    """How to run an import."""

    #: who writes (prov:wasAttributedTo)
    agent: str
    #: ``False``: validate and report only, write nothing
    write: bool = True
    #: accept ``cgg:reference/<id>`` graphs (places, programmes: reference data)
    reference: bool = False
    #: quads read before a batch is validated and committed
    batch_quads: int = 50_000
    #: spreadsheets: kind of rows (default: guessed from the headers) and language
    kind: str | None = None
    lang: str | None = None
    #: spreadsheet reports (:class:`~coopgraph.tabular.ImportReport`), filled by the run
    sheets: list[Any] = field(default_factory=list)
    #: where the ontology's owlrl closure is kept between runs (``Settings.cache_dir``)
    cache_dir: Path | None = None


@dataclass(eq=False)  # compared by identity: `in` on lists of them stays cheap
class _Todo:
    candidate: Candidate
    digest: str
    exists: bool
    #: the validation report of the last check
    report: Any = None
    _checked: Checked | None = None

    @property
    def checked(self) -> Checked:
        """The entry as the validator takes it (made once: it remembers what the entry
        needs as context, :func:`coopgraph.validate.context.needs`)."""
        if self._checked is None:
            c = self.candidate  # its blank nodes were skolemised when read (sources.py)
            self._checked = Checked(c.quads, c.origin, skolemised=True)
        return self._checked


class _Run:
    def __init__(
        self, store: Store, validator: Any, options: ImportOptions, progress: Progress | None
    ) -> None:
        self.store = store
        self.validator = validator
        self.options = options
        self.progress = progress
        self.report = BulkReport(check_only=not options.write)
        self.report.timings = {"validate": 0.0, "commit": 0.0, "materialise": 0.0}
        #: outcomes by status so far (``BulkReport.counts`` recounts every outcome)
        self.tally: Counter[str] = Counter()
        result = store.query(_CURRENT_DIGESTS)
        assert isinstance(result, Solutions)
        self.digests = {row[0].value: row[1].value for row in result.rows}  # type: ignore[union-attr]
        result = store.query(_PROJECT_GRAPHS)
        assert isinstance(result, Solutions)
        self.project = {row[0].value for row in result.rows}  # type: ignore[union-attr]
        self.deferred: list[_Todo] = []
        self.pending = False
        # New entries go in with the store's bulk loader when this process owns an
        # embedded store (the CLI); a served store keeps one transaction per batch, so
        # readers never see part of an entry (coopgraph.pending.bulk_insert).
        self.mode = "fast" if isinstance(store, EmbeddedStore) else "pending"
        #: check-only runs write nothing: what earlier batches accepted stays in the overlay
        self.accepted_overlay: dict[str, list[ox.Triple]] = {}
        from coopgraph.reason import Reasoner

        self.reasoner = Reasoner(store, cache_dir=options.cache_dir)
        #: what the rules need of each graph written (the materialisation does not read
        #: these graphs back from the store)
        self.written: dict[str, list[Any]] = {}
        #: the final round's accepted entries, loaded ahead: their provenance is committed
        #: while the inferences are computed (:meth:`finish`)
        self.last: tuple[list[_Todo], pending.Preload] | None = None

    # -- outcomes ------------------------------------------------------------------------

    def outcome(self, c: Candidate, status: str, *, rules: Sequence[str] = (), message: str = "",
                triples: int | None = None) -> None:
        self.report.outcomes.append(
            Outcome(c.graph, status, c.origin, len(c.quads) if triples is None else triples,
                    list(rules), message)
        )
        if c.row is not None and status in ("added", "replaced") and self.options.write:
            sheet, row = c.row
            sheet.added[row.number] = c.graph
        self.tally[status] += 1
        if self.progress:
            self.progress.counts({s: self.tally[s] for s in STATUSES})

    def reject(self, todo: _Todo) -> None:
        report = todo.report
        violations = sorted(
            (f for f in report.findings if f.severity == "Violation"),
            key=lambda f: (f.focus, f.path or "", f.rule or "", f.message("en")),
        )  # the same first one whichever order the checks ran in
        first = violations[0] if violations else None
        message = "does not conform to the shapes"
        if first is not None:
            where = f" ({first.focus_label or first.focus})" if first.focus else ""
            message = f"{len(violations)} violation(s), first{where}: {first.message('en')}"
        self.outcome(todo.candidate, "rejected",
                     rules=sorted({f.rule for f in violations if f.rule}), message=message)

    # -- one batch -----------------------------------------------------------------------

    def batch(self, batch: list[Candidate], *, final: bool = False) -> None:
        todos: list[_Todo] = []
        for c in batch:
            if c.refused:
                self.outcome(c, "rejected", rules=c.rules, message=c.refused, triples=0)
            elif c.graph in self.project:
                self.outcome(c, "rejected", triples=0, message=(
                    "written by `coopgraph load` from the project's data/ folder; change "
                    "the file there instead"))
            else:
                digest = provenance.content_digest(c.quads)
                if self.digests.get(c.graph) == digest:
                    self.outcome(c, "unchanged")
                else:
                    todos.append(_Todo(c, digest, c.graph in self.digests))
        if todos:
            self.settle(todos, final=final)

    def unresolved(self, todos: list[_Todo]) -> list[_Todo]:
        """The entries that name a coopgraph IRI (``cgid:…``) described neither in the store
        nor in the batch: they cannot pass yet, so they wait for the final round without
        a first, wasted validation."""
        named = [_names(t.candidate.quads) for t in todos]
        described: set[str] = set().union(*(subjects for subjects, _ in named))
        wanted = {id(t): refs - described for t, (_, refs) in zip(todos, named, strict=True)}
        names = sorted(set().union(*wanted.values()))
        if not names:
            return []
        known: set[str] = set()
        for start in range(0, len(names), 2000):
            values = " ".join(f"<{n}>" for n in names[start:start + 2000])
            result = self.store.query(
                f"SELECT ?s WHERE {{ VALUES ?s {{ {values} }} "
                "FILTER EXISTS { GRAPH ?g { ?s ?p ?o } } }"
            )
            assert isinstance(result, Solutions)
            known |= {row[0].value for row in result.rows}  # type: ignore[union-attr]
        known |= set(self.accepted_overlay)
        return [t for t in todos if wanted[id(t)] - known]

    def settle(self, todos: list[_Todo], *, final: bool) -> None:
        """Validate (with the batch as overlay), defer or reject failures, commit the rest."""
        start = time.perf_counter()
        failed: list[_Todo] = []
        if not final:
            waiting = self.unresolved(todos)
            if waiting:
                self.deferred += waiting
                later = set(map(id, waiting))
                todos = [t for t in todos if id(t) not in later]
        ok = [t for t in todos if t.candidate.validated]
        check = [t for t in todos if not t.candidate.validated]
        self.report.timings["validate"] += time.perf_counter() - start
        preload = self.preload(todos, check)  # (times itself)
        start = time.perf_counter()
        # the entries loaded ahead: their context is the store as it was before
        unseen = frozenset(preload.graphs) if preload is not None else frozenset()
        while check:
            overlays = Overlays(
                ((t.candidate.graph, t.candidate.quads) for t in [*ok, *check]),
                self.accepted_overlay,
            )
            newly: list[_Todo] = []
            runs = _runs(check)
            batches = self.validator.validate_batches(
                [[t.checked for t in run] for run in runs], overlays, unseen
            )
            with closing(batches):  # stops the validating children on an error
                checked = 0
                for run, reports in zip(runs, batches, strict=True):
                    for t, report in zip(run, reports, strict=True):
                        t.report = report
                        (ok if report.conforms else newly).append(t)
                    checked += len(run)
                    if final and self.progress and len(check) > VALIDATE_MANY:
                        self.progress.note(f"{checked} of {len(check)} deferred entries checked")
            failed += newly
            # an accepted entry that points at a newly failed one is checked again without it
            gone = {s for t in newly for s in _subjects(t.candidate.quads)}
            check = [t for t in ok if gone and not t.candidate.validated
                     and _objects(t.candidate.quads) & gone]
            again = set(map(id, check))
            ok = [t for t in ok if id(t) not in again]
        self.report.timings["validate"] += time.perf_counter() - start
        if final:
            for t in failed:
                self.reject(t)
        else:
            self.deferred += failed
        if preload is not None:
            start = time.perf_counter()
            preload.discard(t.candidate.graph for t in failed)
            self.report.timings["commit"] += time.perf_counter() - start
        if final and preload is not None:
            self.last = (ok, preload)  # committed beside the materialisation (finish)
        else:
            self.commit(ok, preload)

    def preload(self, todos: list[_Todo], check: list[_Todo]) -> pending.Preload | None:
        """New entries handed to the store's bulk loader now, in the background, while
        they are validated (:class:`coopgraph.pending.Preload`): a large batch of new
        entries only (not spreadsheet rows, whose identifiers may be taken). The store's
        context of those to ``check`` is read first (into the validator's cache), while
        the store does not hold them: validation leaves their graphs out anyway. So it is
        for any batch large enough to be validated in forked children, which read their
        context from that cache only (:mod:`coopgraph.validate.parallel`)."""
        loads = not (
            not self.options.write or self.mode != "fast" or len(todos) <= SMALL_BATCH
            or any(t.exists or t.candidate.row is not None or t.candidate.new_only
                   for t in todos)
        )
        prefetch = getattr(self.validator, "prefetch", None)  # (a server's: in-process)
        if prefetch is not None and (loads or len(check) >= FORK_AT):
            # also what the validation children read their context from (parallel.py)
            start = time.perf_counter()
            prefetch([t.checked for t in check], VALIDATE_MANY)
            self.report.timings["validate"] += time.perf_counter() - start
        if not loads:
            return None
        start = time.perf_counter()
        found = pending.Preload.start(
            self.store, {t.candidate.graph: t.candidate.quads for t in todos}
        )
        if found is not None:
            self.pending = True
        self.report.timings["commit"] += time.perf_counter() - start
        return found

    def commit(self, todos: list[_Todo], preload: pending.Preload | None = None) -> None:
        if not todos:
            return
        if not self.options.write:
            for t in todos:
                self.outcome(t.candidate, "replaced" if t.exists else "added")
                for q in t.candidate.quads:
                    if isinstance(q.subject, ox.NamedNode):
                        self.accepted_overlay.setdefault(q.subject.value, []).append(
                            ox.Triple(q.subject, q.predicate, q.object))
            return
        start = time.perf_counter()
        if len(todos) > SMALL_BATCH or self.pending:
            for chunk in self.chunks(todos):  # the final round can hold the whole dataset
                writes = [self.write_of(t) for t in chunk]
                try:
                    if preload is not None:
                        preload.wait()
                    results = entries.commit(
                        self.store, writes, agent=self.options.agent, inferences=self.mode,
                        preloaded=preload.graphs if preload is not None else (),
                    )
                    self.pending = True
                    self.done(chunk, results)
                except (Conflict, NotFound):  # one taken spreadsheet id: each on its own
                    self.one_by_one(chunk, writes, "pending")
        else:
            self.one_by_one(todos, [self.write_of(t) for t in todos], "refresh")
        self.report.timings["commit"] += time.perf_counter() - start

    def chunks(self, todos: list[_Todo]) -> Iterable[list[_Todo]]:
        """``todos`` in runs of about ``batch_quads`` quads: one transaction each. New
        entries for the bulk loader go in one run: each bulk load adds files RocksDB
        merges later, so many small loads cost more than one large one."""
        if self.mode == "fast" and not any(t.exists for t in todos):
            yield todos
            return
        chunk: list[_Todo] = []
        size = 0
        for t in todos:
            chunk.append(t)
            size += len(t.candidate.quads)
            if size >= self.options.batch_quads:
                yield chunk
                chunk, size = [], 0
        if chunk:
            yield chunk

    def one_by_one(self, todos: list[_Todo], writes: list[entries.Write], mode: str) -> None:
        for t, w in zip(todos, writes, strict=True):
            try:
                results = entries.commit(self.store, [w], agent=self.options.agent,
                                         inferences=mode)
            except (Conflict, NotFound) as exc:
                self.outcome(t.candidate, "rejected", message=exc.message, triples=0)
                continue
            self.pending = self.pending or mode == "pending"
            self.done([t], results)

    def done(self, todos: list[_Todo], results: list[entries.EntryResult]) -> None:
        for t, r in zip(todos, results, strict=True):
            self.digests[t.candidate.graph] = t.digest
            if t.candidate.graph not in self.written:  # (finish: read before the commit)
                self.written[t.candidate.graph] = self.reasoner.premises(t.candidate.quads)
            self.outcome(t.candidate, r.action)

    @staticmethod
    def write_of(t: _Todo) -> entries.Write:
        warnings = (
            [f.to_dict("en") for f in t.report.findings if f.severity != "Violation"]
            if t.report is not None else []
        )
        return entries.Write(
            t.candidate.graph, t.candidate.quads, t.candidate.source, "", "", t.digest,
            warnings, True if t.candidate.new_only else None,
        )

    # -- the end ---------------------------------------------------------------------------

    def finish(self) -> None:
        if self.deferred:
            if self.progress:
                self.progress.note(
                    f"checking again {len(self.deferred)} entries that referred to entries "
                    "read later"
                )
            todos, self.deferred = self.deferred, []
            for t in todos:
                t.report = None
            self.settle(todos, final=True)
        beside = None
        if self.last is not None:
            # The entries are in the store already (loaded ahead): their provenance, the
            # commit, goes in (without holding the GIL: EmbeddedStore.insert_nquads) while
            # the closure of everything else is computed on the other core; the
            # provenance graph is read after it.
            ok, preload = self.last
            self.last = None
            for t in ok:
                self.written[t.candidate.graph] = self.reasoner.premises(t.candidate.quads)

            def beside() -> None:
                self.commit(ok, preload)

        if self.pending:
            if self.progress:
                self.progress.note("materialising inferences (OWL 2 RL rules) into cgg:inferred")
            start = time.perf_counter()
            self.report.inferred = self.reasoner.materialise(
                given=self.written, beside=beside
            ).inferred
            pending.clear(self.store)
            self.report.timings["materialise"] = time.perf_counter() - start
        elif beside is not None:
            beside()


def _runs(todos: list[_Todo]) -> list[list[_Todo]]:
    """``todos`` in runs validated together (one shared index each), at most
    ``VALIDATE_MANY`` entries, as many as a multiple of the cores validating them."""
    cores = workers()
    count = -(-len(todos) // VALIDATE_MANY)
    count = -(-count // cores) * cores
    size = max(FORK_AT, -(-len(todos) // count))
    return [todos[first:first + size] for first in range(0, len(todos), size)]


def _subjects(quads: Iterable[ox.Quad]) -> set[str]:
    return {q.subject.value for q in quads if isinstance(q.subject, ox.NamedNode)}


_TYPE = ox.NamedNode(RDF.type)


def _names(quads: Iterable[ox.Quad]) -> tuple[set[str], set[str]]:
    """An entry's subject IRIs, and the coopgraph IRIs (``cgid:…``) it points at (objects,
    not classes): one pass (each ``.value`` read is a copy)."""
    subjects: set[str] = set()
    refs: set[str] = set()
    named, base, rdf_type = ox.NamedNode, ID_BASE, _TYPE
    for q in quads:
        s, o = q.subject, q.object
        if isinstance(s, named):
            subjects.add(s.value)
        if isinstance(o, named):
            iri = o.value
            if iri.startswith(base) and q.predicate != rdf_type:
                refs.add(iri)
    return subjects, refs


def _objects(quads: Iterable[ox.Quad]) -> set[str]:
    return {q.object.value for q in quads if isinstance(q.object, ox.NamedNode)}


def run_import(
    store: Store,
    sources: Sequence[Source],
    *,
    validator: Any,
    options: ImportOptions,
    progress: Progress | None = None,
) -> BulkReport:
    """Import ``sources`` into ``store``; see the module docstring for the steps.

    :param validator: a :class:`~coopgraph.validate.Validator` on ``store``.
    :returns: the :class:`BulkReport` (every entry's outcome).
    :raises BadRequest: a bad agent name (before anything is read).
    :raises StoreError: a write failed (the batch in progress is not written; the entries
        committed before it stay, whole, and the inferences are rebuilt at next open).

    A file that cannot be read or parsed is reported in ``report.errors`` and the run goes
    on with the next file (for a streamed file, after the complete entries before the
    error).
    """
    if not TOKEN_NAME.fullmatch(options.agent):
        raise BadRequest(
            f"bad agent name {options.agent!r}: use ASCII letters, digits, '.', '_' or '-'"
        )
    started = time.perf_counter()
    # The run holds millions of long-lived objects (quads, terms, indexes) and makes few
    # reference cycles: the cyclic collector's full passes over them cost 15-25 % of the
    # CPU at 100k-1M triples and find almost nothing. Back on afterwards (what is still
    # alive then is frozen, not walked again: gcquiet).
    with paused():
        run = _Run(store, validator, options, progress)
        for source in sources:
            _read(run, source)
        run.finish()
    run.report.seconds = time.perf_counter() - started
    return run.report


def _read(run: _Run, source: Source) -> None:
    """Read ``source`` in batches of about ``batch_quads`` quads, each validated and
    committed (:meth:`_Run.batch`); an unreadable file goes in ``report.errors``."""
    options, progress = run.options, run.progress
    sheet_options: dict[str, Any] = {"kind": options.kind, "lang": options.lang,
                                     "sheets": options.sheets}
    batch: list[Candidate] = []
    size = 0
    try:
        for c in candidates(source, reference=options.reference,
                            advance=progress.advance if progress else lambda n: None,
                            store=run.store, validator=run.validator,
                            sheet_options=sheet_options):
            batch.append(c)
            size += len(c.quads)
            if size >= options.batch_quads:
                run.batch(batch)
                batch, size = [], 0
    except CoopgraphError as exc:
        if exc.exit_code == 4:
            raise
        run.report.errors.append(exc.message)
    run.batch(batch)
