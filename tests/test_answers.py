"""The network view's heavy answers are rendered in a forked child, never in the web
process's interpreter (issue 12, item 2: writes right after a start waited on it), are
served from files, are reused by a restart on the same build, and are never served as
fresh while they come from an older build (``X-Coopgraph-Stale``)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from coopgraph import entries, forked, netview
from coopgraph.answers import AnswerFile, AnswerFiles, answer_bytes
from coopgraph.netview import NetworkView
from coopgraph.settings import Settings
from coopgraph.validate import Validator
from coopgraph.vocab import ID

PARTNERSHIP = Path(__file__).parent / "data" / "valid" / "new-partnership.ttl"
VIA = ID["partnership/test-france-volontaires-so-cooperation-volontariat"]


def _pid() -> bytes:
    return str(os.getpid()).encode()


def test_forked_work_runs_in_another_process(tmp_path: Path) -> None:
    out = tmp_path / "pid"
    assert forked.run_forked(lambda: out.write_bytes(_pid()), name="test")
    assert out.read_bytes() != _pid()
    assert not forked.run_forked(lambda: 1 / 0, name="failing test")  # type: ignore[func-returns-value]


def test_a_forked_computation_returns_its_result() -> None:
    result = forked.compute_forked(lambda: {"pid": os.getpid(), "x": [1.5]}, name="test")
    assert result["x"] == [1.5] and result["pid"] != os.getpid()
    with pytest.raises(RuntimeError, match="failing test"):
        forked.compute_forked(lambda: 1 / 0, name="failing test")


def test_a_cancelled_child_is_stopped(tmp_path: Path) -> None:
    started = time.monotonic()
    done = forked.run_forked(lambda: time.sleep(60), name="slow", cancelled=lambda: True)
    assert not done and time.monotonic() - started < 30


def test_a_child_keeps_none_of_the_parents_descriptors(tmp_path: Path) -> None:
    """A forked child closes what it inherited: a peer of the parent (the store process,
    which exits on EOF and so releases the store's lock) sees the parent close its end
    even while the child still runs."""
    import select
    import threading

    read_end, write_end = os.pipe()
    started, stop = tmp_path / "started", threading.Event()
    runner = threading.Thread(target=forked.run_forked, args=(
        lambda: (started.write_text("yes"), time.sleep(60)),
    ), kwargs={"name": "sleeper", "cancelled": stop.is_set})
    runner.start()
    try:
        deadline = time.monotonic() + 30
        while not started.exists() and time.monotonic() < deadline:  # a poll
            time.sleep(0.02)
        os.close(write_end)
        readable, _, _ = select.select([read_end], [], [], 20)
        assert readable and os.read(read_end, 1) == b""  # EOF: no copy left in the child
    finally:
        stop.set()
        runner.join()
        os.close(read_end)


def test_a_heavy_answer_is_rendered_in_a_child(project_store) -> None:
    """A whole-network answer nobody prepared is rendered on demand in a forked child
    into a file; a light one in this process."""
    view = NetworkView(project_store)
    built = view.refresh()
    heavy, source = view.rendered(built, ("heavy",), _pid, heavy=True)
    assert isinstance(heavy, AnswerFile) and source is built
    assert answer_bytes(heavy) != _pid() and heavy.size == len(answer_bytes(heavy))
    assert view.rendered(built, ("heavy",), _pid, heavy=True)[0] is heavy  # kept
    assert view.rendered(built, ("light",), _pid)[0] == _pid()
    view.close()


def test_answer_files_keep_the_two_newest_builds(tmp_path: Path) -> None:
    files = AnswerFiles(tmp_path)
    for n in range(3):
        rendered = files.render(f"b{n}", lambda: None, cancelled=lambda: False)
        assert rendered == {}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b1", "b2"]


def test_a_restart_reuses_the_rendered_answers(tmp_path: Path, settings: Settings) -> None:
    """Beside a disk store, a restart serving the same persisted build reads its answer
    files back instead of rendering them again."""
    from coopgraph.load import load_project
    from coopgraph.store import open_store
    from coopgraph.web import create_app

    store = open_store(str(tmp_path / "store"))
    try:
        load_project(store, settings)
        app = create_app(settings, store=store)
        view = app.extensions["coopgraph"].network
        view.refresh()
        folder = tmp_path / "store.network-answers"
        (manifest,) = folder.glob("*/manifest.pickle")
        stamp = manifest.stat().st_mtime_ns
        first = app.test_client().get("/export/network.gexf").data
        view.close()

        again = create_app(settings, store=store)
        second_view = again.extensions["coopgraph"].network
        loaded = second_view.load()
        assert loaded is not None
        second_view._prepare(loaded)  # as serve does with a build read back
        assert manifest.stat().st_mtime_ns == stamp
        resp = again.test_client().get("/export/network.gexf")
        assert resp.data == first and resp.headers["X-Coopgraph-Stale"] == "false"
        assert second_view.bodies.renders == 0
        second_view.close()
    finally:
        store.close()


def test_no_answer_of_an_older_build_is_served_as_fresh(settings, fresh_store) -> None:
    """After a write, the whole-network answers come from the previous build, marked
    stale, until the new build's files are rendered; then from the new build, fresh,
    with the write in them."""
    from coopgraph.web import create_app

    app = create_app(settings, store=fresh_store)
    client = app.test_client()
    view = app.extensions["coopgraph"].network
    view.answer_after_quiet = 1.0
    first = view.refresh()
    entries.add_entry(
        fresh_store, PARTNERSHIP.read_bytes(), "ttl", graph="test-partnership", agent="alice",
        source=PARTNERSHIP.name, validator=Validator(fresh_store),
    )
    second = view.catch_up()  # the patch; its answers are rendered after 1 s
    assert view.answering is second
    old = client.get("/export/network.graphml")
    assert old.headers["X-Coopgraph-Stale"] == "true"
    assert old.headers["X-Coopgraph-Generation"] == str(first.generation)
    assert VIA.encode() not in old.data
    deadline = time.monotonic() + 120
    while view.answering is not None and time.monotonic() < deadline:  # a poll
        time.sleep(0.05)
    new = client.get("/export/network.graphml")
    assert new.headers["X-Coopgraph-Stale"] == "false"
    assert new.headers["X-Coopgraph-Generation"] == str(second.generation)
    assert VIA.encode() in new.data
    whole = client.get("/api/network.json")
    assert whole.headers["X-Coopgraph-Generation"] == str(second.generation)
    assert any(link.get("via") == VIA for link in whole.get_json()["links"])
    view.close()


def test_persisted_answers_folder_is_beside_the_store(tmp_path: Path) -> None:
    from coopgraph.store import open_store

    store = open_store(str(tmp_path / "s"))
    try:
        view = NetworkView(store, persist=netview.persist_path(store))
        assert view.answers.root == tmp_path / "s.network-answers"
    finally:
        store.close()


def test_a_build_read_back_is_patched_while_its_answers_render(tmp_path: Path) -> None:
    """At a start, the build read back from disk has its answers rendered beside the
    view's loop: a write right after the start is patched in without waiting for them."""
    import threading

    from coopgraph import events
    from coopgraph.views import View

    class S:
        pass

    store = S()
    path = tmp_path / "v.pickle"
    View("v", store, lambda progress: 0, fingerprint=lambda: "f", persist=path).refresh()
    release = threading.Event()
    view: View[int] = View(
        "v", store, lambda progress: 0, fingerprint=lambda: "f", persist=path,
        update=lambda value, commits, progress: value + len(commits),
    )
    view.answer_in_background = True
    view.preparers.append(lambda built: release.wait(60))
    view.start()
    try:
        deadline = time.monotonic() + 30
        while view.latest is None and time.monotonic() < deadline:  # a poll
            time.sleep(0.02)
        assert view.builds == 0  # read back, not built
        events.publish(store, events.Commit(graphs=("g",)))
        while view.get().value != 1 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert view.get().value == 1 and not release.is_set()
    finally:
        release.set()
        view.close()



def test_whole_network_requests_wait_for_answers_on_their_way(project_store, monkeypatch) -> None:
    """While a build's answers are being rendered, a whole-network request waits for
    them instead of rendering one more copy; with none after ANSWER_WAIT, a 503."""
    import threading

    from coopgraph.views import ViewNotReady

    view = NetworkView(project_store)
    built = view.refresh()
    view.answering = built  # as while its answers are on their way

    def never() -> bytes:
        raise AssertionError("rendered again")

    def arrive() -> None:
        time.sleep(0.3)
        with view._answers_ready:
            view.last_bodies.put(("heavy",), (built, b"rendered meanwhile"))
            view._answers_ready.notify_all()

    threading.Thread(target=arrive).start()
    assert view.rendered(built, ("heavy",), never, heavy=True) == (b"rendered meanwhile", built)
    monkeypatch.setattr(netview, "ANSWER_WAIT", 0.3)
    with pytest.raises(ViewNotReady):
        view.rendered(built, ("other",), never, heavy=True)
    view.answering = None  # nothing on its way: rendered for this request, in a child
    assert isinstance(view.rendered(built, ("other",), _pid, heavy=True)[0], AnswerFile)
    view.close()


_PARENT = """
import os, time
from coopgraph import forked

def work():
    print(os.getpid(), flush=True)
    time.sleep(120)

forked.compute_forked(work, name="slow figures")
"""


def test_a_forked_computation_dies_with_the_server(tmp_path: Path) -> None:
    """The child computing betweenness (:func:`coopgraph.forked.compute_forked`) is
    killed when the process that started it dies, instead of computing on for minutes."""
    import os
    import signal
    import subprocess
    import sys
    import time

    script = tmp_path / "parent.py"
    script.write_text(_PARENT)
    with subprocess.Popen(
        [sys.executable, str(script)], stdout=subprocess.PIPE, text=True
    ) as parent:
        assert parent.stdout is not None
        worker = int(parent.stdout.readline())
        assert worker != parent.pid
        os.kill(worker, 0)  # alive while the parent is
        parent.send_signal(signal.SIGKILL)
        parent.wait(timeout=30)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                os.kill(worker, 0)
            except ProcessLookupError:
                break
            if _zombie(worker):
                break
            time.sleep(0.1)
        else:
            os.kill(worker, signal.SIGKILL)
            raise AssertionError(f"child {worker} outlived its parent")


def _zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return False
