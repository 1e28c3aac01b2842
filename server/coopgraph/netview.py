"""The actor network as a maintained view: projection, metrics and layout computed once
per store generation (:mod:`coopgraph.views`), read by every page, export and command.

* :func:`build_snapshot` runs the projection (:mod:`coopgraph.network`), computes the
  metrics (betweenness exact up to :data:`~coopgraph.network.EXACT_BETWEENNESS_MAX_NODES`
  nodes, estimated from a fixed seeded sample above) and a layout (:func:`layout`).
* :class:`NetworkView` keeps the newest :class:`NetworkSnapshot` for the app or a command,
  derives period/type-filtered snapshots from it (cached per build), persists it beside a
  disk store keyed by :func:`store_fingerprint`, and caches rendered answers. After a
  write it patches the snapshot (:mod:`coopgraph.netpatch`: the graph first, its
  components and layout once no other write waits, betweenness in a forked child).
* :func:`select` cuts a readable part out of a snapshot: ``focus``/``depth`` (a
  neighbourhood) and ``limit`` (the most important nodes).
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import re
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import networkx as nx

from coopgraph import network, views
from coopgraph.answers import AnswerFiles
from coopgraph.errors import BadRequest
from coopgraph.netlayout import layout
from coopgraph.netsnapshot import NetworkSnapshot, snapshot_of
from coopgraph.store.base import Solutions, Store
from coopgraph.views import BodyCache, Built, Progress, View, preparing_view, step
from coopgraph.vocab import PROV, PROVENANCE_GRAPH

log = logging.getLogger(__name__)

#: Deepest neighbourhood ``select`` returns (3 hops already reach most of a dense network).
MAX_DEPTH = 3
#: Seconds without a newer build before a patched build's whole-network answers are
#: rendered (:attr:`coopgraph.views.View.answer_after_quiet`).
ANSWER_AFTER_QUIET = 2.0
#: Seconds a whole-network request waits for answers being rendered before a 503.
ANSWER_WAIT = 10.0
#: Bumped when the snapshot's content changes: persisted snapshots are then rebuilt.
SNAPSHOT_VERSION = "network-1"

_COMMENT_LINE = re.compile(r"^[ \t]*#.*\n?", re.M)
_PROVENANCE_MARK = f"""SELECT (COUNT(?a) AS ?n) (MAX(STR(?t)) AS ?last) WHERE {{
  GRAPH <{PROVENANCE_GRAPH}> {{ ?a <{PROV.startedAtTime}> ?t }} }}"""


# --------------------------------------------------------------------------- building


def build_snapshot(
    store: Store, queries_dir: Path | None = None, progress: Progress | None = None
) -> NetworkSnapshot:
    """Project the store's network and compute everything the pages need."""
    with step(progress, "network: projecting the store (queries/network/*.rq)"):
        graph = network.build_graph(store, queries_dir=queries_dir)
    return snapshot_of(graph, progress=progress)


def store_fingerprint(store: Store, queries_dir: Path | None = None) -> str:
    """What a persisted snapshot must match: the projection queries' text and the
    provenance log's size and last time (every write of the pipeline records an activity).
    """
    result = store.query(_PROVENANCE_MARK)
    assert isinstance(result, Solutions)
    row = result.rows[0] if result.rows else ()
    mark = " ".join(t.value if t is not None else "" for t in row)
    queries = network.projection_queries(queries_dir)
    digest = hashlib.sha256(SNAPSHOT_VERSION.encode())
    for name, text in queries.items():
        # whole-line comments (titles, #@restrict markers) do not change the answers
        text = _COMMENT_LINE.sub("", text)
        digest.update(f"\0{name}\0{text}".encode())
    digest.update(f"\0{mark}".encode())
    return digest.hexdigest()


def persist_path(store: Store, view: str = "network") -> Path | None:
    """Where a view of a disk store is kept: ``<store dir>.<view>.pickle`` beside it;
    ``None`` for an in-memory or remote store (rebuilt at each start)."""
    path = getattr(store, "path", None)
    if not isinstance(path, Path):
        return None
    return path.with_name(f"{path.name}.{view}.pickle")


# --------------------------------------------------------------------------- the view


@dataclass(frozen=True)
class Filters:
    """What a request narrows the network to (see :func:`coopgraph.network.filter_period`)."""

    as_of: date | None = None
    between: tuple[date, date] | None = None
    types: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        return self.as_of is None and self.between is None and not self.types


class NetworkView(View[NetworkSnapshot]):
    """The app's (or a command's) network: the newest snapshot, its filtered variants and
    rendered answers, all computed once per build."""

    def __init__(
        self,
        store: Store,
        *,
        queries_dir: Path | None = None,
        persist: Path | None = None,
        progress: Progress | None = None,
    ) -> None:
        super().__init__(
            "network view",
            store,
            lambda report: build_snapshot(store, queries_dir, report),
            fingerprint=lambda: store_fingerprint(store, queries_dir),
            persist=persist,
            progress=progress,
            update=lambda previous, commits, report: _patched(
                store, previous, commits, queries_dir, report
            ),
        )
        self.derived = BodyCache(size=16)
        #: whole-network answers rendered in a forked child, served from files
        self.answers = AnswerFiles(
            persist.with_name(persist.name.replace(".pickle", "-answers")) if persist else None
        )
        self.bodies = BodyCache(size=32)
        #: the newest body of each answer, whatever its build (served while the answers
        #: of a patched build are rendered)
        self.last_bodies = BodyCache(size=32)
        self.answer_in_background = True
        self.save_in_child = True
        self.answer_after_quiet = ANSWER_AFTER_QUIET
        #: the answers the background renders for each new build (see :meth:`rendered`)
        self._prepared_keys: set[tuple[Any, ...]] = set()
        self._answers_ready = threading.Condition()  # notified when answers are rendered
        self.summarise = summary_of
        self._completing: threading.Thread | None = None
        # the tie index is ready before the first write after a start needs it
        self.preparers.append(lambda built: built.value.tie_index())

    @property
    def stale(self) -> bool:
        """A write is not in the served build yet, or a figure of it is being recomputed."""
        built = self.latest
        return super().stale or built is None or bool(built.value.pending)

    def catch_up(self) -> Built[NetworkSnapshot]:
        """:meth:`View.catch_up` (a large network's patch is served at stage 1 of
        :mod:`coopgraph.netpatch`), then stage 2 (:meth:`finish`) unless another write
        waits (its patch comes first); when serving, betweenness is then recomputed in a
        background thread (:meth:`complete`)."""
        built = self.finish(super().catch_up())
        self._complete_in_background(built)
        if not self.waiting:
            built.value.prepare_ranks()
        return built

    def finish(self, built: Built[NetworkSnapshot]) -> Built[NetworkSnapshot]:
        """Serve ``built`` with its provisional components and layout recomputed
        (:func:`coopgraph.netpatch.finished_snapshot`) if it has any and no write waits
        (abandoned if one comes meanwhile); the latest build then."""
        from coopgraph import netpatch

        if not set(netpatch.PROVISIONAL) & set(built.value.pending) or self.waiting:
            return built
        with step(self.progress, "network: components and layout after a write"):
            finished = netpatch.finished_snapshot(built.value, lambda: self.waiting)
        done = None if finished is None else self.replace(built, finished)
        return done or self.latest or built

    def load(self) -> Built[NetworkSnapshot] | None:
        """:meth:`View.load`; a build saved with figures pending gets them now (its
        components and layout before it is served, betweenness in the background)."""
        from coopgraph import netpatch

        built = super().load()
        if built is not None and set(netpatch.PROVISIONAL) & set(built.value.pending):
            finished = netpatch.finished_snapshot(built.value)
            assert finished is not None  # never abandoned: nothing to wait for
            built = dataclasses.replace(built, value=finished)
            self._set(built)
        if built is not None:
            self._complete_in_background(built)
        return built

    def _complete_in_background(self, built: Built[NetworkSnapshot]) -> None:
        if "betweenness" in built.value.pending and self._thread is not None:
            running = self._completing
            if running is None or not running.is_alive():
                self._completing = threading.Thread(
                    target=self._complete_quietly, name="view:network betweenness", daemon=True
                )
                self._completing.start()

    def complete(self) -> Built[NetworkSnapshot] | None:
        """Recompute the pending betweenness of the latest build and serve the result,
        again if the graph changed meanwhile (a build of the same graph finished
        meanwhile by :meth:`finish` takes it); the latest build then."""
        from coopgraph import netpatch

        while True:
            built = self.latest
            if built is None or "betweenness" not in built.value.pending:
                return built
            with step(self.progress, "network: betweenness after a write"):
                between = netpatch.recompute_betweenness(built.value)
            latest = self.latest
            while latest is not None and latest.value.graph is built.value.graph:
                done = self.replace(latest, netpatch.with_betweenness(latest.value, between))
                if done is not None:
                    done.value.prepare_ranks()
                    return done
                latest = self.latest

    def _complete_quietly(self) -> None:
        try:
            self.complete()
        except Exception:  # the carried-over figures keep being served, marked pending
            log.exception("network: recomputing betweenness failed")

    def render_answers(self, built: Built[NetworkSnapshot], work: Any) -> None:
        """Have ``work()`` (requests for the answers to prepare) render ``built``'s
        answers in a forked child (:class:`~coopgraph.answers.AnswerFiles`), then serve
        them from their files; a newer build cancels it."""

        def newer() -> bool:  # and older answers to serve meanwhile: else finish these
            latest = self.latest
            return (latest is not None and latest is not built
                    and latest.built_at > built.built_at and bool(self._prepared_keys))

        rendered = self.answers.render(_folder_name(built), work, cancelled=newer) or {}
        with self._answers_ready:
            for key, answer in rendered.items():
                self._prepared_keys.add(key)
                self.bodies.put((built.generation, built.built_at) + key, answer)
                last = self.last_bodies.peek(key)
                if last is None or last[0].built_at <= built.built_at:
                    self.last_bodies.put(key, (built, answer))
            self._answers_ready.notify_all()

    def _rendered_meanwhile(
        self, built: Built[NetworkSnapshot], key: tuple[Any, ...]
    ) -> tuple[Any, Built[NetworkSnapshot]] | None:
        """While a build's answers are on their way (at a start, after a write), the
        answer to ``key`` once they are (this build's, else an older one, stale), not one
        more rendering of it; ``None`` when none is on its way.

        :raises ViewNotReady: none came within :data:`ANSWER_WAIT` seconds.
        """
        deadline = time.monotonic() + ANSWER_WAIT
        with self._answers_ready:
            while self.answers.busy or self.answering is not None:
                body = self.bodies.peek((built.generation, built.built_at) + key)
                if body is not None:
                    return body, built
                last = self.last_bodies.peek(key)
                if last is not None:
                    return last[1], last[0]
                if time.monotonic() > deadline:
                    raise views.ViewNotReady("the network's answers are being rendered; retry",
                                       retry_after=int(ANSWER_WAIT))
                self._answers_ready.wait(0.2)
        return None

    def close(self) -> None:
        super().close()
        self.answers.close()

    def snapshot(self, filters: Filters = Filters(), *, wait: float = 0.0) -> tuple[
        NetworkSnapshot, Built[NetworkSnapshot]
    ]:
        """The snapshot narrowed by ``filters`` (computed once per build) and the build.

        :raises ViewNotReady: no build yet after ``wait`` seconds.
        :raises BadRequest: bad filters (both asOf and between, unknown type…).
        """
        built = self.get(wait=wait)
        if filters.empty:
            return built.value, built
        base = built.value
        network.check_types(filters.types)

        def derive() -> NetworkSnapshot:
            graph = network.filter_period(
                base.graph, as_of=filters.as_of, between=filters.between
            )
            if filters.types:
                graph = network.filter_types(graph, filters.types)
            return snapshot_of(graph, positions=base.layout)

        key = (built.generation, built.built_at, filters)
        return self.derived.get(key, derive), built

    def rendered(
        self, built: Built[NetworkSnapshot], key: tuple[Any, ...], render: Any,
        *, heavy: bool = False,
    ) -> tuple[Any, Built[NetworkSnapshot]]:
        """``render()`` once per build and ``key`` (JSON bodies, export files), and the
        build it was rendered from. While a patched build's answers are being rendered in
        the background (:attr:`answering`), a ``heavy`` answer (a whole-network one:
        seconds of CPU at 1M) or one the background renders comes from the previous
        build, and the response says it is stale; any other answer is rendered for the
        new build at once, a ``heavy`` one in a forked child (never in this interpreter)."""
        if self.answers.writing:  # the child rendering a build's answers into files
            body = render()
            self.answers.write(key, body)
            return body, built
        full_key = (built.generation, built.built_at) + key
        body = self.bodies.peek(full_key)
        if body is not None:
            return body, built
        if preparing_view() is self:
            self._prepared_keys.add(key)
        elif self.answering is built and (heavy or key in self._prepared_keys):
            last = self.last_bodies.peek(key)
            if last is not None:
                return last[1], last[0]
        if heavy and preparing_view() is not self:  # rendered on the other core
            if not self._prepared_keys or key in self._prepared_keys:
                waited = self._rendered_meanwhile(built, key)
                if waited is not None:
                    return waited
            folder = _folder_name(built)
            body = self.bodies.get(full_key, lambda: self.answers.render_one(folder, render))
        else:
            body = self.bodies.get(full_key, render)
        last = self.last_bodies.peek(key)
        if last is None or last[0].built_at <= built.built_at:
            self.last_bodies.put(key, (built, body))
        return body, built


def _patched(
    store: Store, previous: NetworkSnapshot, commits: list[Any], queries_dir: Path | None,
    progress: Progress | None,
) -> NetworkSnapshot:
    """:func:`coopgraph.netpatch.patched_snapshot` (imported when a write comes)."""
    from coopgraph import netpatch

    return netpatch.patched_snapshot(store, previous, commits, queries_dir, progress)


def _folder_name(built: Built[NetworkSnapshot]) -> str:
    """The folder of a build's answer files (:class:`~coopgraph.answers.AnswerFiles`)."""
    return f"{(built.fingerprint or 'build')[:16]}-{built.built_at:.6f}"


#: Organisations kept in the persisted summary (``coopgraph network stats --top``).
SUMMARY_TOP = 100


def summary_of(snapshot: NetworkSnapshot) -> dict[str, Any]:
    """What ``coopgraph network stats`` prints, without the graph: the figures (no
    per-node metrics), the :data:`SUMMARY_TOP` organisations by degree, the method."""
    return {
        "stats": dataclasses.replace(snapshot.stats, metrics={}),
        "top": snapshot.ranking("degree")[:SUMMARY_TOP],
        "betweenness": snapshot.betweenness,
    }


# --------------------------------------------------------------------------- selection


def select(
    snapshot: NetworkSnapshot,
    *,
    focus: str | None = None,
    depth: int = 1,
    limit: int | None = None,
    by: str = "degree",
) -> nx.MultiGraph:
    """A readable part of the network: the nodes within ``depth`` ties of ``focus`` (all
    nodes without a focus), then, with ``limit``, the ``limit`` most important of them by
    ``by`` (then the other metrics, then label; the focus always kept), with every tie
    between kept nodes. Metrics stay those of the whole network.

    :raises BadRequest: depth outside 0…MAX_DEPTH, limit < 1, unknown metric.
    :raises NotFound: the focus is not a node.
    """
    graph = snapshot.graph
    if not 0 <= depth <= MAX_DEPTH:
        raise BadRequest(f"depth: expected 0 to {MAX_DEPTH}")
    if limit is not None and limit < 1:
        raise BadRequest("limit: expected a positive number")
    keep: Iterable[str]
    centre = None
    if focus is not None:
        centre = snapshot.resolve(focus)
        keep = nx.single_source_shortest_path_length(graph, centre, cutoff=depth).keys()
    else:
        keep = graph.nodes
    kept = set(keep)
    if limit is not None and len(kept) > limit:
        order = network.rank_order(graph, by=by, kinds=(), metrics=snapshot.metrics,
                                   among=kept)
        chosen = [n for n in order if n != centre][: limit - (centre is not None)]
        kept = set(chosen) | ({centre} if centre is not None else set())
    if len(kept) == graph.number_of_nodes():
        return graph
    return graph.subgraph(kept)


__all__ = [
    "Filters",
    "MAX_DEPTH",
    "NetworkSnapshot",
    "NetworkView",
    "build_snapshot",
    "layout",
    "persist_path",
    "select",
    "snapshot_of",
    "store_fingerprint",
    "summary_of",
]
