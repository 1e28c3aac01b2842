"""Derived views kept in step with the store (the network, the graph totals of ``/stats``).

A :class:`View` builds its value once per store generation (:func:`coopgraph.events.generation`)
in a background thread and hands every reader the latest finished build, so no request
ever rebuilds it. After a write the previous build keeps answering (``stale`` says so)
until the new one is ready; writes that arrive during a build are coalesced into the next
one. A view can persist its value beside a disk store, keyed by a fingerprint of what it
was built from, so a restart on an unchanged store reads it back instead of rebuilding.

>>> class S: pass
>>> store = S()
>>> view = View("answer", store, lambda progress: 42)
>>> view.refresh().value, view.builds, view.stale
(42, 1, False)
>>> from coopgraph import events
>>> events.publish(store, events.Commit(graphs=("g",)))
>>> view.stale
True
"""

from __future__ import annotations

import logging
import os
import pickle
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

from coopgraph import events
from coopgraph.errors import CoopgraphError
from coopgraph.gcquiet import paused

__all__ = ["Built", "BodyCache", "View", "ViewNotReady", "preparing_view", "step"]

log = logging.getLogger(__name__)

T = TypeVar("T")
Progress = Callable[[str], None]

#: Bumped when what a view pickles changes shape: older files are then ignored.
PERSIST_FORMAT = 2


@contextmanager
def step(progress: Progress | None, message: str, *, after: float = 1.0) -> Iterator[None]:
    """Report ``message…`` if the step is still running after ``after`` seconds, and then
    how long it took: quick steps stay silent, slow ones never look stuck."""
    if progress is None:
        yield
        return
    start = time.perf_counter()
    timer = threading.Timer(after, progress, (f"{message}…",))
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        timer.cancel()
        seconds = time.perf_counter() - start
        if seconds > after:
            progress(f"{message}: done in {seconds:.1f} s")


#: (view, build) while a build's answers are being prepared in the building thread
_PREPARING: ContextVar[tuple[View[Any], Built[Any]] | None] = ContextVar("preparing", default=None)


def preparing_view() -> Any:
    """The view whose new build's answers this thread is rendering, else ``None``."""
    preparing = _PREPARING.get()
    return None if preparing is None else preparing[0]


class ViewNotReady(CoopgraphError):
    """The view's first build is still running (HTTP 503 with ``Retry-After``)."""

    status = 503
    title = "Service Unavailable"

    def __init__(self, message: str, *, retry_after: int = 5) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@dataclass(frozen=True)
class Built(Generic[T]):
    """One finished build: the value and the store generation it reflects."""

    value: T
    generation: int
    built_at: float  # time.time() at the end of the build
    seconds: float  # how long the build took
    fingerprint: str | None = None


class View(Generic[T]):
    """A value derived from ``store``, rebuilt after each committed write.

    :param build: computes the value; receives a ``progress(message)`` callback.
    :param fingerprint: what the value was built from (store content, queries); needed to
        persist it.
    :param persist: a file to keep the value in between runs (``None``: not kept).
    :param progress: where steps longer than a second are reported (e.g. stderr).
    :param update: brings a value up to date with the commits since it was built (a
        patch instead of a build); ``None`` or a commit that changed ``everything``: build.
    """

    def __init__(
        self,
        name: str,
        store: object,
        build: Callable[[Progress], T],
        *,
        fingerprint: Callable[[], str] | None = None,
        persist: Path | None = None,
        progress: Progress | None = None,
        update: Callable[[T, list[events.Commit], Progress], T] | None = None,
    ) -> None:
        self.name = name
        self._update = update
        #: commits not yet in the latest value, each with the generation it made
        self._commits: list[tuple[int, events.Commit]] = []
        self._commits_lock = threading.Lock()
        #: when the oldest of :attr:`_commits` came (``time.monotonic()``)
        self._waiting_since = 0.0
        self.patches = 0
        self.store = store
        self._build = build
        self._fingerprint = fingerprint
        self._persist = persist if fingerprint is not None else None
        self.progress = progress or (lambda message: log.info("%s", message))
        self._latest: Built[T] | None = None
        self._ready = threading.Condition()
        self._dirty = threading.Event()
        self._build_lock = threading.RLock()  # catch_up may fall back on refresh
        self._thread: threading.Thread | None = None
        self._closed = False
        self.builds = 0
        self.last_error: str | None = None
        #: seconds between a write and the rebuild it triggers (a burst shares one build)
        self.settle = 0.2
        #: longest pause after a build before the next one (a pause as long as the build)
        self.max_pause = 60.0
        #: a small digest of the value kept at the head of the persisted file, so a
        #: command can read it alone (:meth:`load_summary`)
        self.summarise: Callable[[T], Any] | None = None
        #: called with each new build before readers get it (render common answers)
        self.preparers: list[Callable[[Built[T]], None]] = []
        #: a patched build is served at once and its answers rendered after, in another
        #: thread (a full build renders them first: nothing older is worth serving)
        self.answer_in_background = False
        self.answering: Built[T] | None = None
        #: with :attr:`answer_in_background`, seconds a patched build must stay the newest
        #: before its answers are rendered: a burst of writes renders them once, after
        #: its last write, instead of once per write while the writes wait on the
        #: interpreter (the whole-network exports take a minute of CPU at 1M triples)
        self.answer_after_quiet = 0.0
        #: least seconds between two saves of patched builds, and from a patch to its save
        #: (pickling the 1M-triple network holds the interpreter for seconds: not while
        #: the answers of a write are wanted)
        self.save_every = 30.0
        self.save_after = 10.0
        #: pickle the value in a forked child (:mod:`coopgraph.forked`): the web process
        #: only waits for it, its interpreter stays with the requests
        self.save_in_child = False
        self._saved_at = -1e9
        self._save_timer: threading.Timer | None = None
        self._save_lock = threading.Lock()
        #: the build the persisted file holds (read back or written by this process)
        self._saved: Built[T] | None = None
        events.subscribe(store, self._on_commit)

    # -- reading ---------------------------------------------------------------------------

    @property
    def latest(self) -> Built[T] | None:
        """The newest finished build, or ``None`` before the first one."""
        return self._latest

    @property
    def waiting(self) -> bool:
        """Is a committed write waiting for the next patch or build?"""
        with self._commits_lock:
            return bool(self._commits)

    @property
    def stale(self) -> bool:
        """Has a write been committed since the build being served started?"""
        built = self._latest
        return built is None or built.generation < events.generation(self.store)

    def get(self, *, wait: float = 0.0) -> Built[T]:
        """The newest build; before the first one (started by the first reader if
        :meth:`start` was not called), wait up to ``wait`` seconds.

        :raises ViewNotReady: still no build after ``wait`` seconds (or the build failed).
        """
        preparing = _PREPARING.get()
        if preparing is not None and preparing[0] is self:
            return preparing[1]
        built = self._latest
        if built is not None:
            return built
        if self._thread is None:  # first reader: start keeping the view
            self.start()
        with self._ready:
            self._ready.wait_for(lambda: self._latest is not None, timeout=wait)
        if self._latest is None:
            why = f" (last attempt failed: {self.last_error})" if self.last_error else ""
            raise ViewNotReady(f"the {self.name} is being computed; retry shortly{why}")
        return self._latest

    # -- building --------------------------------------------------------------------------

    def refresh(self) -> Built[T]:
        """Build now, in the calling thread (CLI commands, tests), and keep the result."""
        with self._build_lock:
            generation = events.generation(self.store)
            self._take_commits(generation)
            fingerprint = self._fingerprint() if self._fingerprint else None
            start = time.perf_counter()
            value = self._build(self.progress)
            seconds = time.perf_counter() - start
            built = Built(value, generation, time.time(), seconds, fingerprint)
            self._prepare(built)
            self._set(built)
            self.builds += 1
            self.last_error = None
        with step(self.progress, f"{self.name}: saving to {self._persist}"):
            self._save(built)
        return built

    def _take_commits(self, upto: int | None = None) -> tuple[int | None, list[events.Commit]]:
        """Forget (and return) the commits a build at generation ``upto`` includes (all
        when ``None``) and the newest generation among them."""
        with self._commits_lock:
            taken = [(g, c) for g, c in self._commits if upto is None or g <= upto]
            self._commits = [(g, c) for g, c in self._commits if upto is not None and g > upto]
        return (max(g for g, _ in taken) if taken else None), [c for _, c in taken]

    def catch_up(self) -> Built[T]:
        """Bring the value up to date with the commits since the latest build: a patch
        (:attr:`_update`) when possible, else a full build; in the calling thread."""
        with self._build_lock:
            latest = self._latest
            fingerprint = self._fingerprint() if self._fingerprint else None
            generation, commits = self._take_commits()
            if latest is not None and not commits:
                return latest  # a wake-up for commits an earlier patch already took
            if (
                latest is None or self._update is None
                or any(c.everything for c in commits)
            ):
                return self.refresh()
            start = time.perf_counter()
            try:
                value = self._update(latest.value, commits, self.progress)
            except Exception:  # a patch that fails: a full build is always right
                log.exception("%s: patch failed; rebuilding", self.name)
                value = self._build(self.progress)
                self.builds += 1
            else:
                self.patches += 1
            seconds = time.perf_counter() - start
            built = Built(
                value, max(generation or 0, latest.generation), time.time(), seconds,
                fingerprint,
            )
            self.last_error = None
            self._publish(built)
        return built

    def replace(self, base: Built[T], value: T) -> Built[T] | None:
        """Serve ``value`` instead of ``base`` (a figure finished in the background) if
        ``base`` is still the latest build; ``None`` when a newer one replaced it."""
        with self._build_lock:
            if self._latest is not base:
                return None
            built = Built(
                value, base.generation, time.time(), base.seconds, base.fingerprint
            )
            self._publish(built)
        return built

    def _publish(self, built: Built[T]) -> None:
        """Serve ``built`` (a patch or a figure finished later), then render its common
        answers and persist it: at once in this thread, or with
        :attr:`answer_in_background` in another one while the previous answers are served
        (:attr:`answering` names the build whose answers are on their way)."""
        if not self.answer_in_background:
            self._prepare(built)
            self._set(built)
            self._save_soon(built)
            return
        self._set(built)
        self._answer_later(built, self.answer_after_quiet, save=True)

    def _answer_later(self, built: Built[T], quiet: float, *, save: bool) -> None:
        """Render ``built``'s common answers in another thread once it stayed the newest
        build for ``quiet`` seconds (:attr:`answering` names it meanwhile)."""
        self.answering = built

        def answer() -> None:
            try:
                if self._still_newest(built, quiet):
                    self._prepare(built)
                if save:
                    self._save_later()
            finally:
                if self.answering is built:
                    self.answering = None

        threading.Thread(target=answer, name=f"view:{self.name} answers", daemon=True).start()

    def _still_newest(self, built: Built[T], seconds: float) -> bool:
        """Is ``built`` still the newest build after ``seconds`` (checked every 0.1 s)?"""
        deadline = time.monotonic() + seconds
        while self._latest is built and time.monotonic() < deadline and not self._closed:
            time.sleep(0.1)
        return self._latest is built

    def _save_soon(self, built: Built[T]) -> None:
        """Persist ``built`` unless a newer build is already served (one save at a time:
        :meth:`close` may save while the timer's save runs)."""
        with self._save_lock:
            if self._latest is built:
                with step(self.progress, f"{self.name}: saving to {self._persist}"):
                    self._save(built)

    def _save_later(self) -> None:
        """Persist the latest build at most every :attr:`save_every` seconds (a save of
        the 1M-triple network takes seconds; a burst of writes makes one save)."""
        if self._persist is None:
            return
        with self._commits_lock:
            if self._save_timer is not None and self._save_timer.is_alive():
                return  # the pending save will take the latest build
            delay = max(self.save_after, self._saved_at + self.save_every - time.monotonic())

            def save() -> None:
                built = self._latest
                self._saved_at = time.monotonic()
                if built is not None:
                    self._save_soon(built)

            self._save_timer = threading.Timer(delay, save)
            self._save_timer.daemon = True
            self._save_timer.start()

    def load_or_refresh(self) -> Built[T]:
        """The persisted value when its fingerprint matches the store, else a build."""
        return self.load() or self.refresh()

    def _prepare(self, built: Built[T]) -> None:
        """Run the :attr:`preparers` on a new build before readers see it; meanwhile
        :meth:`get` in this thread (and only here) returns the new build."""
        if not self.preparers:
            return
        token = _PREPARING.set((self, built))
        try:
            for prepare in self.preparers:
                with step(self.progress, f"{self.name}: preparing answers"):
                    prepare(built)
        except Exception:  # an answer that cannot be prepared is rendered when asked
            log.exception("%s: preparing answers failed", self.name)
        finally:
            _PREPARING.reset(token)

    def _read(self, *, summary_only: bool) -> tuple[str, Any, Any] | None:
        """(fingerprint now, summary, build) from the persisted file when it matches the
        store (the build is not read with ``summary_only``)."""
        if self._persist is None or self._fingerprint is None or not self._persist.exists():
            return None
        fingerprint = self._fingerprint()
        try:
            with self._persist.open("rb") as f:
                fmt, saved_fingerprint = pickle.load(f)  # noqa: S301 - our own file
                if fmt != PERSIST_FORMAT or saved_fingerprint != fingerprint:
                    return None
                summary = pickle.load(f)  # noqa: S301
                if summary_only:
                    return fingerprint, summary, None
                with step(self.progress, f"{self.name}: reading {self._persist}"), paused():
                    built = pickle.load(f)  # noqa: S301
        except Exception as exc:  # a truncated or foreign file: rebuild
            log.warning("%s: cannot read %s (%s); rebuilding", self.name, self._persist, exc)
            return None
        return fingerprint, summary, built

    def load_summary(self) -> Any:
        """The persisted :attr:`summarise` result, without reading the whole value, when
        it was built from what the store holds now (else ``None``)."""
        found = self._read(summary_only=True)
        return None if found is None else found[1]

    def load(self) -> Built[T] | None:
        """Read the persisted value back if it was built from what the store holds now."""
        generation = events.generation(self.store)  # before the fingerprint: never ahead
        found = self._read(summary_only=False)
        if found is None:
            return None
        fingerprint, _, saved = found
        built = Built(saved.value, generation, saved.built_at, saved.seconds, fingerprint)
        self._take_commits(generation)
        self._set(built)
        self._saved = built
        return built

    def start(self) -> None:
        """Keep the view fresh in a background thread from now on: it first reads the
        persisted value back if it matches the store, else builds at once."""
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name=f"view:{self.name}", daemon=True)
        self._thread.start()

    def close(self) -> None:
        """Stop the background thread (a build under way finishes first), and save a
        patched build whose save was still waiting: a restart reads it back instead of
        rebuilding (at 1M triples the network takes a minute and a half to rebuild)."""
        self._closed = True
        self._dirty.set()
        with self._commits_lock:
            timer, self._save_timer = self._save_timer, None
        if timer is not None:
            timer.cancel()
        built = self._latest
        if self._persist is not None and built is not None and built is not self._saved:
            self._save_soon(built)

    def _on_commit(self, commit: events.Commit) -> None:
        if self._thread is None and self._latest is None:
            return  # nothing kept yet: the first build will read the store as it is
        with self._commits_lock:
            if not self._commits:
                self._waiting_since = time.monotonic()
            self._commits.append((events.generation(self.store), commit))
        if self._thread is not None:
            self._dirty.set()

    def _run(self) -> None:
        try:
            loaded = self.load()
        except Exception:  # the store cannot say what it holds yet: build instead
            log.exception("%s: cannot check the persisted view", self.name)
            loaded = None
        if loaded is None:
            self._dirty.set()
        elif self.answer_in_background:  # read back and served: its answers are rendered
            self._answer_later(loaded, 0.0, save=False)  # beside the patches of new writes
        else:
            self._prepare(loaded)
        while True:
            self._dirty.wait()
            if self._closed:
                return
            # let a burst of writes land: one build for all (writes that came during the
            # previous build or patch have waited long enough: taken at once)
            time.sleep(max(0.0, self.settle - (time.monotonic() - self._waiting_since)))
            self._dirty.clear()
            try:
                builds = self.builds
                built = self.catch_up()
                if self.builds > builds:
                    # rebuilding at most half of the time leaves the store to the requests
                    # when writes keep coming (a 1M-triple network takes minutes to build);
                    # a patch takes a moment: the next write is patched at once
                    time.sleep(min(built.seconds, self.max_pause))
            except Exception as exc:  # keep serving the previous build
                self.last_error = f"{type(exc).__name__}: {exc}"
                log.exception("%s: build failed; serving the previous one", self.name)
                with self._ready:
                    self._ready.notify_all()

    def _set(self, built: Built[T]) -> None:
        with self._ready:
            if self._latest is None or built.generation >= self._latest.generation:
                self._latest = built
            self._ready.notify_all()

    def _save(self, built: Built[T]) -> None:
        if self._persist is None or built.fingerprint is None:
            return
        if self.save_in_child:
            from coopgraph.forked import run_forked

            run_forked(lambda: self._write(built), name=f"{self.name}: saving")
        else:
            self._write(built)
        self._saved = built

    def _write(self, built: Built[T]) -> None:
        assert self._persist is not None
        tmp = self._persist.with_name(self._persist.name + f".{os.getpid()}.tmp")
        try:
            with tmp.open("wb") as f:
                pickle.dump((PERSIST_FORMAT, built.fingerprint), f, protocol=5)
                summary = self.summarise(built.value) if self.summarise else None
                pickle.dump(summary, f, protocol=5)
                pickle.dump(built, f, protocol=5)
            tmp.replace(self._persist)
        except OSError as exc:  # a read-only folder: the view just is not kept
            log.warning("%s: cannot write %s: %s", self.name, self._persist, exc)
            tmp.unlink(missing_ok=True)


class BodyCache:
    """Rendered answers (JSON, export files) of recent builds, keyed by what was asked,
    so a repeated request costs a dictionary lookup; least recently used entries go first.

    Concurrent requests for the same key wait for one rendering instead of each doing it.
    """

    def __init__(self, size: int = 32) -> None:
        self._size = size
        self._items: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()
        self._pending: dict[Hashable, threading.Lock] = {}
        self.renders = 0

    def peek(self, key: Hashable) -> Any:
        """The value kept for ``key``, or ``None`` (nothing is rendered)."""
        with self._lock:
            return self._items.get(key)

    def put(self, key: Hashable, value: Any) -> None:
        """Keep ``value`` for ``key`` (the newest first out of the least recently used)."""
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self._size:
                self._items.popitem(last=False)

    def get(self, key: Hashable, render: Callable[[], Any]) -> Any:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
            pending = self._pending.setdefault(key, threading.Lock())
        with pending:
            with self._lock:
                if key in self._items:
                    return self._items[key]
            try:
                value = render()
            except BaseException:
                with self._lock:
                    self._pending.pop(key, None)
                raise
            with self._lock:
                self.renders += 1
                self._items[key] = value
                self._items.move_to_end(key)
                while len(self._items) > self._size:
                    self._items.popitem(last=False)
                self._pending.pop(key, None)
            return value
