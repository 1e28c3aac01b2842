"""Prefixes declared beside a query text (``Store.query(prefixes=…)``), never pasted into
it (issue 15): the text's own declarations win and error positions stay the user's."""

from __future__ import annotations

import pytest

from coopgraph.errors import QuerySyntaxError
from coopgraph.sparql_guard import check
from coopgraph.store import Store
from coopgraph.store.base import Boolean
from coopgraph.vocab import INFERRED_GRAPH, PREFIXES, compact, expand

OUJDA_IN_MOROCCO = (
    "ASK { <https://w3id.org/coopgraph/id/place/oujda> cg:within "
    "<https://w3id.org/coopgraph/id/place/morocco> }"
)


def test_the_store_reads_prefixes_given_beside_the_text(project_store: Store) -> None:
    result = project_store.query(OUJDA_IN_MOROCCO, prefixes=PREFIXES)
    assert isinstance(result, Boolean) and result.value


def test_the_texts_own_declaration_wins(project_store: Store) -> None:
    text = "PREFIX cg: <http://example.org/> " + OUJDA_IN_MOROCCO
    result = project_store.query(text, prefixes=PREFIXES)
    assert isinstance(result, Boolean) and not result.value


def test_without_them_the_prefix_is_unknown(project_store: Store) -> None:
    with pytest.raises(QuerySyntaxError):
        project_store.query(OUJDA_IN_MOROCCO)


def test_the_guard_resolves_from_with_the_given_prefixes() -> None:
    checked = check("SELECT * FROM cgg:inferred WHERE { ?s ?p ?o }", prefixes=PREFIXES)
    assert checked.dataset is not None
    assert checked.dataset.default_graphs == (INFERRED_GRAPH,)
    with pytest.raises(QuerySyntaxError, match="undefined prefix cgg"):
        check("SELECT * FROM cgg:inferred WHERE { ?s ?p ?o }")


@pytest.mark.parametrize("iri", [INFERRED_GRAPH, "https://w3id.org/coopgraph/id/org/x"])
def test_compact_and_expand_are_inverse(iri: str) -> None:
    assert compact(iri) != iri and expand(compact(iri)) == iri
