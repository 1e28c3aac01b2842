"""A write killed half-way leaves the whole entry or none of it (issue "Reasoning and
validated writes", part 5).

A child process adds (or replaces) a large entry in a disk store; it prints a marker just
before ``store.apply``, the test SIGKILLs it as soon as it reads the marker, reopens the
store and checks: the entry is all there or not at all (for a replacement: the old version
or the new one, never a mix), its provenance goes with it, and the inferred graph is what
a full rebuild computes. Then the same write succeeds on the reopened store.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pyoxigraph as ox
import pytest

from conftest import DATA
from coopgraph import entries
from coopgraph.load import load_project
from coopgraph.parse import parse_bytes
from coopgraph.reason import Reasoner
from coopgraph.settings import Settings
from coopgraph.store.base import Solutions
from coopgraph.store.embedded import EmbeddedStore
from coopgraph.validate import Validator
from coopgraph.vocab import ENTRY_GRAPH_PREFIX, ID, INFERRED_GRAPH, PROV, PROVENANCE_GRAPH

pytestmark = pytest.mark.slow  # make quick leaves it out

GRAPH = ENTRY_GRAPH_PREFIX + "crash"
#: IRIs the large entry points at: each one is a node whose inferences the write refreshes,
#: which makes the transaction long enough to be killed inside.
LINKS = 3000

CHILD = """
import sys
from pathlib import Path
from coopgraph import entries
from coopgraph.store.embedded import EmbeddedStore
from coopgraph.validate import Validator

store = EmbeddedStore(sys.argv[1])
real_apply = store.apply

def apply(changes):
    print("WRITING", flush=True)
    real_apply(changes)
    print("WRITTEN", flush=True)

store.apply = apply
write = entries.add_entry if sys.argv[2] == "add" else entries.replace_entry
write(store, Path(sys.argv[3]).read_bytes(), "turtle", graph="crash", agent="crash-test",
      source="large.ttl", validator=Validator(store))
print("DONE", flush=True)
"""


def large_entry() -> bytes:
    subject = f"<{ID['org/crash-test-commune']}>"
    lines = [
        "@prefix cg: <https://w3id.org/coopgraph/ontology#> .",
        "@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .",
        f'{subject} a cg:Commune ; rdfs:label "Commune de test"@fr , "Test municipality"@en , '
        f'"Testgemeente"@nl ; cg:partnerOf <{ID["org/ville-de-lille"]}> .',
    ]
    lines += [f"{subject} rdfs:seeAlso <https://example.org/crash-test/doc-{i}> ."
              for i in range(LINKS)]
    return "\n".join(lines).encode()


def entry_quads(data: bytes) -> set[ox.Quad]:
    return set(parse_bytes(data, "turtle", default_graph=GRAPH))


def attributed_to(store: EmbeddedStore) -> set[str]:
    result = store.query(
        f"SELECT * WHERE {{ GRAPH ?pg {{ ?g <{PROV.wasAttributedTo}> ?who }} }}",
        bindings={"g": ox.NamedNode(GRAPH), "pg": ox.NamedNode(PROVENANCE_GRAPH)},
    )
    assert isinstance(result, Solutions)
    return {row["who"].value for row in result.dicts()}  # type: ignore[union-attr]


def assert_inferences_complete(store: EmbeddedStore) -> None:
    kept = sorted(str(q) for q in store.quads(INFERRED_GRAPH))
    Reasoner(store).materialise()
    assert sorted(str(q) for q in store.quads(INFERRED_GRAPH)) == kept


def kill_inside_the_write(store_dir: Path, action: str, body: Path) -> int:
    """Run the child; SIGKILL it once it says it entered the write. Its exit status."""
    with subprocess.Popen(
        [sys.executable, "-c", CHILD, str(store_dir), action, str(body)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    ) as child:
        assert child.stdout is not None and child.stderr is not None
        line = child.stdout.readline()
        if line.strip() != "WRITING":
            child.wait()
            pytest.fail(f"the child never reached the write: {line!r} {child.stderr.read()}")
        os.kill(child.pid, signal.SIGKILL)
        return child.wait()


@pytest.mark.parametrize("action", ["add", "replace"])
def test_a_killed_write_is_all_or_nothing(tmp_path: Path, settings: Settings, action: str) -> None:
    store_dir = tmp_path / "store"
    body = tmp_path / "large.ttl"
    body.write_bytes(large_entry())
    new = entry_quads(body.read_bytes())
    old: set[ox.Quad] = set()

    store = EmbeddedStore(store_dir)
    load_project(store, settings)
    if action == "replace":
        first = (DATA / "valid" / "new-organisation.ttl").read_bytes()
        entries.add_entry(store, first, "turtle", graph="crash", agent="alice", source="old",
                          validator=Validator(store))
        old = entry_quads(first)
    store.close()

    status = kill_inside_the_write(store_dir, action, body)
    assert status in (-signal.SIGKILL, 0)

    store = EmbeddedStore(store_dir)
    found = set(store.quads(GRAPH))
    assert found in (old, new), f"a mix: {len(found)} quads (old {len(old)}, new {len(new)})"
    expected_agents = {str(ID["agent/crash-test"])} if found == new else (
        {str(ID["agent/alice"])} if old else set()
    )
    assert attributed_to(store) == expected_agents
    assert_inferences_complete(store)

    # the store still works: the same write goes through now
    write = entries.add_entry if found == old and action == "add" else entries.replace_entry
    write(store, body.read_bytes(), "turtle", graph="crash", agent="crash-test",
          source="large.ttl", validator=Validator(store))
    assert set(store.quads(GRAPH)) == new
    assert_inferences_complete(store)
    store.close()
