"""The bulk import into a remote store (Virtuoso): each batch one SPARQL update, the same
batch validation as the embedded store (``Validator.validate_batch`` over the protocol,
without the validator's cache), no loading ahead of validation (that needs the embedded
store's loader), one materialisation at the end.

Its own throw-away Virtuoso: the session's serves ``test_remote_store``, which compares
it with the project alone.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import bench_module, build_store
from coopgraph import pending
from coopgraph.bulk import ImportOptions, run_import, source_for
from coopgraph.load import load_project
from coopgraph.settings import Settings
from coopgraph.store import Store
from coopgraph.store.remote import RemoteStore
from coopgraph.validate import Validator
from coopgraph.vocab import ENTRY_GRAPH_PREFIX

pytestmark = pytest.mark.virtuoso


@pytest.fixture(scope="module")
def virtuoso() -> Iterator[RemoteStore]:
    import shutil

    from virtuoso import INSTALL_HINT, Virtuoso

    if shutil.which("virtuoso-t") is None:
        pytest.fail(INSTALL_HINT)
    with Virtuoso() as server:
        store = RemoteStore(server.url, graph_store_url=server.graph_store_url, timeout=60.0)
        yield store
        store.close()


def _outcomes(store: Store, path: Path) -> list[tuple[str, str, tuple[str, ...]]]:
    report = run_import(store, [source_for(path)], validator=Validator(store),
                        options=ImportOptions(agent="tester", reference=True))
    return sorted((o.graph, o.status, tuple(o.rules)) for o in report.outcomes)


def test_bulk_import_into_virtuoso_matches_the_embedded_store(
    virtuoso: RemoteStore, settings: Settings, tmp_path: Path
) -> None:
    out = io.StringIO()
    bench_module("generate").write(out, 25, 3, False)
    path = tmp_path / "world.nq"
    path.write_text(out.getvalue(), "utf-8")
    load_project(virtuoso, settings)
    remote = _outcomes(virtuoso, path)
    embedded_store = build_store(settings)
    embedded = _outcomes(embedded_store, path)
    assert remote == embedded
    added = [g for g, status, _ in remote if status == "added"]
    assert len(added) > 20  # large batches: the pending path, not entry by entry
    assert not pending.is_pending(virtuoso)
    sizes, expected = virtuoso.graph_sizes(), embedded_store.graph_sizes()
    for graph in added:
        assert sizes.get(graph) == expected[graph], graph
    assert any(g.startswith(ENTRY_GRAPH_PREFIX) for g in added)
