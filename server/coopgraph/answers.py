"""A view's heavy answers rendered in a forked child into files, served from them.

The whole-network answers of the network view (``/api/network.json``, the GraphML,
GEXF, CSV and JSON-LD exports: 30–60 MB each at 1M triples) take a minute of CPU per
build. Rendered in the web process they held its interpreter while writes and pages
waited (issue 12, item 2). :class:`AnswerFiles` renders them in a child forked from the
web process (:func:`coopgraph.forked.run_forked`: the child sees the build in memory,
nothing is pickled), one file per answer plus a manifest, in a folder per build; the web
process then streams each file to its clients (no copy of the body in Python).

Beside a disk store the folder is ``<store>.network-answers/``, and a restart serving
the same persisted build reuses its files instead of rendering them again; other stores
use a temporary folder, removed with the view. The two newest rendered builds are kept
(the previous one answers while the next is rendered); older folders are removed.
"""

from __future__ import annotations

import pickle
import shutil
import tempfile
import threading
import uuid
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from coopgraph.forked import run_forked

__all__ = ["AnswerFile", "AnswerFiles", "answer_bytes"]

MANIFEST = "manifest.pickle"
#: Rendered builds kept on disk: the newest, and the one it replaces while rendered.
KEEP = 2


@dataclass(frozen=True)
class AnswerFile:
    """A rendered answer kept in a file (``size`` bytes)."""

    path: Path
    size: int


class AnswerFiles:
    """Where a view's answers are rendered to (see the module doc).

    :param root: the folder (created when needed); ``None``: a temporary folder.
    """

    def __init__(self, root: Path | None = None) -> None:
        self._root = root
        self._temporary = root is None
        self._sink: dict[tuple[Any, ...], str] | None = None  # set in the rendering child only
        self._folder: Path | None = None
        self._kept: list[Path] = []
        self._rendering: set[Path] = set()
        self._lock = threading.Lock()

    @property
    def root(self) -> Path:
        if self._root is None:
            self._root = Path(tempfile.mkdtemp(prefix="coopgraph-answers-"))
            weakref.finalize(self, shutil.rmtree, self._root, True)
        return self._root

    @property
    def busy(self) -> bool:
        """Is a build's set of answers being rendered now?"""
        return bool(self._rendering)

    @property
    def writing(self) -> bool:
        """Is this the child rendering answers into files (:meth:`write` them)?"""
        return self._sink is not None

    def write(self, key: tuple[Any, ...], body: bytes) -> None:
        """In the rendering child: keep ``body`` as the answer to ``key``."""
        assert self._sink is not None and self._folder is not None
        name = f"{len(self._sink)}.answer"
        (self._folder / name).write_bytes(body)
        self._sink[key] = name

    def render(
        self, build: str, work: Callable[[], None], *, cancelled: Callable[[], bool]
    ) -> dict[tuple[Any, ...], AnswerFile] | None:
        """The answers of the build named ``build`` (a folder name): read back when a
        complete folder exists, else rendered by ``work()`` in a forked child (killed
        when ``cancelled()`` says a newer build came). ``None``: not rendered."""
        folder = self.root / build
        manifest = folder / MANIFEST
        if not manifest.exists():
            with self._lock:
                self._rendering.add(folder)
            try:
                done = run_forked(
                    lambda: self._child(folder, work), name=f"rendering answers into {folder}",
                    cancelled=cancelled,
                )
            finally:
                with self._lock:
                    self._rendering.discard(folder)
            if not done:
                shutil.rmtree(folder, ignore_errors=True)
                return None
        try:
            with manifest.open("rb") as f:
                names: dict[tuple[Any, ...], str] = pickle.load(f)  # noqa: S301 - our own file
            files = {k: AnswerFile(folder / n, (folder / n).stat().st_size)
                     for k, n in names.items()}
        except (OSError, pickle.UnpicklingError, EOFError):
            shutil.rmtree(folder, ignore_errors=True)
            return None
        self._keep(folder)
        return files

    def render_one(self, build: str, render: Callable[[], bytes]) -> AnswerFile | bytes:
        """One answer of the build named ``build``, rendered by ``render()`` in a forked
        child into a file (a request for an answer no background rendering prepared);
        rendered here when the child fails."""
        folder = self.root / build
        path = folder / f"{uuid.uuid4().hex}.answer"

        def child() -> None:
            folder.mkdir(parents=True, exist_ok=True)
            path.write_bytes(render())

        if run_forked(child, name=f"rendering {path}"):
            return AnswerFile(path, path.stat().st_size)
        return render()

    def _child(self, folder: Path, work: Callable[[], None]) -> None:
        """In the forked child: render every answer into ``folder``, then the manifest
        (written last: a folder without it is incomplete)."""
        folder.mkdir(parents=True, exist_ok=True)
        self._sink, self._folder = {}, folder
        work()
        tmp = folder / (MANIFEST + ".tmp")
        with tmp.open("wb") as f:
            pickle.dump(self._sink, f, protocol=5)
        tmp.replace(folder / MANIFEST)

    def _keep(self, folder: Path) -> None:
        """Keep ``folder`` and the one before; remove every other rendered folder (a
        client still reading a removed file keeps reading it: it is only unlinked)."""
        with self._lock:
            self._kept = [f for f in self._kept if f != folder][-(KEEP - 1):] + [folder]
            keep = set(self._kept) | self._rendering
        for other in self.root.iterdir():
            if other.is_dir() and other not in keep:
                shutil.rmtree(other, ignore_errors=True)

    def close(self) -> None:
        """Remove a temporary folder now (a store's folder stays for the next start)."""
        if self._temporary and self._root is not None:
            shutil.rmtree(self._root, ignore_errors=True)


def answer_bytes(body: Any) -> bytes:
    """The bytes of an answer, kept in memory or in a file (tests, small callers)."""
    if isinstance(body, AnswerFile):
        return body.path.read_bytes()
    assert isinstance(body, bytes)
    return body
