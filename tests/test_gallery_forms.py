"""The gallery's fast forms answer exactly as the plain forms they replace (issue 12 item 6).

To answer in ≤ 1 s at 1M triples on pyoxigraph 0.5, several ``queries/*.rq`` read their
patterns through sub-selects (hash joins), sort on a key string made per row, start from
a one-row ``VALUES`` or use the materialised ``cg:within`` closure instead of
``cg:within*`` (docs/conventions.md, "Queries that stay fast at 1M triples").
``tests/data/gallery-plain/<name>.rq`` keeps the plain form of each such question (the
query as first written). The expected files check the seeds, where few rows tie; here both
forms run on the project plus a generated world of a few hundred offers and partnerships
(``benchmarks/generate.py``), and must give the same rows in the same order (the
network projections, ``tests/data/gallery-plain/network/``: the same triples).
GROUP_CONCAT's order is not defined by SPARQL, so concatenated names are compared as
multisets.
"""

from __future__ import annotations

import importlib.util
import io
import sys
from collections import Counter
from pathlib import Path

import pyoxigraph as ox
import pytest

from coopgraph.formats import rdf_format
from coopgraph.load import load_project
from coopgraph.parse import parse_bytes
from coopgraph.reason import Reasoner
from coopgraph.settings import PROJECT_ROOT, Settings
from coopgraph.store.base import Solutions, Triples
from coopgraph.store.embedded import EmbeddedStore

PLAIN = Path(__file__).parent / "data" / "gallery-plain"
QUERIES = PROJECT_ROOT / "queries"
#: columns holding a GROUP_CONCAT (compared as multisets of their parts)
CONCATENATED = {("actors-by-country", "names"): " ; "}


def _generated(orgs: int, seed: int) -> str:
    path = PROJECT_ROOT / "benchmarks" / "generate.py"
    spec = importlib.util.spec_from_file_location("coopgraph_bench_generate_forms", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    out = io.StringIO()
    module.write(out, orgs, seed, False)
    return out.getvalue()


@pytest.fixture(scope="module")
def world() -> EmbeddedStore:
    """The project, a generated world of 120 organisations, and the inferences."""
    store = EmbeddedStore(None)
    load_project(store, Settings(store=":memory:"))
    quads = parse_bytes(_generated(120, 3).encode(), rdf_format("nquads"), source="generated")
    store.bulk_load(quads)
    Reasoner(store).materialise()
    return store


def _rows(store: EmbeddedStore, name: str, text: str) -> tuple[list[str], list[tuple[object, ...]]]:
    result = store.query(text)
    assert isinstance(result, Solutions)
    rows = []
    for row in result.rows:
        cells: list[object] = []
        for variable, term in zip(result.variables, row, strict=True):
            separator = CONCATENATED.get((name, variable))
            if separator is not None and isinstance(term, ox.Literal):
                cells.append(Counter(term.value.split(separator)))
            else:
                cells.append(None if term is None else str(term))
        rows.append(tuple(cells))
    return result.variables, rows


def _triples(store: EmbeddedStore, text: str) -> set[str]:
    result = store.query(text)
    assert isinstance(result, Triples)
    return {str(t) for t in result.triples}


def plain_forms() -> list[str]:
    return sorted(p.relative_to(PLAIN).with_suffix("").as_posix() for p in PLAIN.rglob("*.rq"))


def test_every_plain_form_has_its_gallery_query() -> None:
    assert plain_forms(), "no plain forms to compare"
    assert all((QUERIES / f"{name}.rq").is_file() for name in plain_forms())


@pytest.mark.parametrize("name", plain_forms())
def test_fast_form_answers_as_the_plain_form(world: EmbeddedStore, name: str) -> None:
    if name.startswith("network/"):  # a CONSTRUCT: the same set of triples
        plain_triples = _triples(world, (PLAIN / f"{name}.rq").read_text("utf-8"))
        assert plain_triples, f"{name}: no triples on the generated world, nothing compared"
        assert _triples(world, (QUERIES / f"{name}.rq").read_text("utf-8")) == plain_triples
        return
    plain_vars, plain = _rows(world, name, (PLAIN / f"{name}.rq").read_text("utf-8"))
    fast_vars, fast = _rows(world, name, (QUERIES / f"{name}.rq").read_text("utf-8"))
    assert plain, f"{name}: no rows on the generated world, nothing compared"
    assert fast_vars == plain_vars
    assert fast == plain
