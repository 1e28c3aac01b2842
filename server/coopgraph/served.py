"""Which server holds a disk store: ``coopgraph serve`` writes ``<store>.server.json``
(its URL and process id) beside the store while it runs, so that a write command that
finds the store locked can send its file to that server instead (issue 13: staff import
while the site runs).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class ServedBy:
    """The server process holding a store, and where it answers."""

    url: str
    pid: int


def record_path(store: str) -> Path | None:
    """``<store>.server.json`` for a disk store; None for ``:memory:`` or a remote one."""
    if store == ":memory:" or "://" in store:
        return None
    return Path(store.rstrip("/") + ".server.json")


def record(store: str, url: str) -> Path | None:
    """Say that this process serves ``store`` at ``url`` (removed by :func:`forget`)."""
    path = record_path(store)
    if path is None:
        return None
    path.write_text(json.dumps({"url": url, "pid": os.getpid()}), encoding="utf-8")
    return path


def forget(store: str) -> None:
    """Remove this process's record of serving ``store`` (not another process's)."""
    path = record_path(store)
    if path is None:
        return
    found = served_by(store)
    if found is not None and found.pid == os.getpid():
        path.unlink(missing_ok=True)


def served_by(store: str) -> ServedBy | None:
    """The live server that recorded serving ``store``, else None (no record, an
    unreadable one, or a process that is gone)."""
    path = record_path(store)
    if path is None or not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        url, pid = str(data["url"]), int(data["pid"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    try:
        os.kill(pid, 0)  # signal 0: does the process exist?
    except ProcessLookupError:
        return None
    except PermissionError:
        pass  # it exists, under another user
    return ServedBy(url, pid)
