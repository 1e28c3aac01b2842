"""The lexical guard run before any engine sees request text (coopgraph.sparql_guard)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coopgraph.errors import BadRequest, QueryRefused, QuerySyntaxError
from coopgraph.sparql_guard import MAX_DEPTH, MAX_LENGTH, check
from coopgraph.sparql_text import tokenize
from coopgraph.store.base import Dataset
from coopgraph.vocab import GRAPH, INFERRED_GRAPH

SEED = GRAPH["seed/000"]


@pytest.mark.parametrize(
    ("query", "form"),
    [
        ("SELECT * WHERE { ?s ?p ?o }", "SELECT"),
        ("ask { ?s ?p ?o }", "ASK"),
        ("CONSTRUCT WHERE { ?s ?p ?o }", "CONSTRUCT"),
        ("DESCRIBE <https://w3id.org/coopgraph/id/org/x>", "DESCRIBE"),
        ("PREFIX ask: <http://e/> SELECT ?x WHERE { ?x ask:p 1 }", "SELECT"),
        ("# ASK\nSELECT * { { SELECT ?s { ?s ?p ?o } } }", "SELECT"),
        # keywords inside strings, comments, IRIs, variables and prefixed names are data
        ("SELECT * WHERE { ?s ?p 'INSERT DATA { <a> <b> <c> }' }", "SELECT"),
        ('SELECT * WHERE { ?s ?p """multi\nline DROP ALL \' "" """ }', "SELECT"),
        ("SELECT * WHERE { ?s ?p ?o } # LOAD <http://evil/> ; DROP ALL", "SELECT"),
        ("SELECT ?delete ?load WHERE { ?delete <http://e/service> ?load }", "SELECT"),
        ("PREFIX drop: <http://e/> SELECT * WHERE { ?s drop:load drop:service }", "SELECT"),
        ("SELECT * WHERE { ?s <http://e/x#SERVICE> ?o FILTER(?o < 3) }", "SELECT"),
        ("SELECT * WHERE { ?s ?p ?o FILTER(?o<3 && ?o>1) }", "SELECT"),
        ("BASE <http://e/> SELECT * WHERE { ?s <p> ?o }", "SELECT"),
    ],
)
def test_accepted_queries_and_their_form(query: str, form: str) -> None:
    assert check(query).form == form


@pytest.mark.parametrize(
    ("query", "words"),
    [
        ("SELECT * WHERE { SERVICE <http://evil.example/sparql> { ?s ?p ?o } }", "SERVICE"),
        ("SELECT * WHERE { service silent <http://127.0.0.1:8000/x> { ?s ?p ?o } }", "SERVICE"),
        ("PREFIX e: <http://evil.example/> SELECT * { SERVICE e:sparql { ?s ?p ?o } }", "SERVICE"),
        ("SELECT * WHERE { SERVICE ?endpoint { ?s ?p ?o } }", "SERVICE"),
        ("LOAD <http://evil.example/data.ttl>", "LOAD"),
        ("INSERT DATA { <http://a> <http://b> <http://c> }", "INSERT"),
        ("DELETE WHERE { ?s ?p ?o }", "DELETE"),
        ("delete data { <http://a> <http://b> <http://c> }", "DELETE"),
        ("CLEAR ALL", "CLEAR"),
        ("DROP GRAPH <http://a>", "DROP"),
        ("CREATE GRAPH <http://a>", "CREATE"),
        ("ADD DEFAULT TO <http://a>", "ADD"),
        ("MOVE <http://a> TO <http://b>", "MOVE"),
        ("COPY <http://a> TO <http://b>", "COPY"),
        ("WITH <http://a> DELETE { ?s ?p ?o } WHERE { ?s ?p ?o }", "WITH"),
        ("SELECT * WHERE { ?s ?p ?o } ; DROP ALL", "DROP"),
    ],
)
def test_refused_queries_name_the_keyword(query: str, words: str) -> None:
    with pytest.raises(QueryRefused) as info:
        check(query)
    assert words in info.value.message
    assert info.value.status == 400


def test_service_to_an_allowed_host_passes() -> None:
    query = "SELECT * WHERE { SERVICE <https://query.wikidata.org/sparql> { ?s ?p ?o } }"
    assert check(query, allowed_service_hosts=["query.wikidata.org"]).form == "SELECT"
    with pytest.raises(QueryRefused, match="wikidata"):
        check(query, allowed_service_hosts=["example.org"])


def test_a_comparison_cannot_hide_a_keyword_from_the_guard() -> None:
    # The engine reads "?a<?b)" as a comparison and "#> …" as a comment, so SERVICE on
    # the next line is live; a naive tokenizer would read <?b)#> as an IRI and the rest
    # as a long string.
    attack = (
        'SELECT * WHERE { ?s ?p ?a FILTER(?a<?b)#> """\n'
        "SERVICE <http://evil.example/> { ?s ?p ?o }\n"
        '# """\n}'
    )
    with pytest.raises(QueryRefused, match="SERVICE"):
        check(attack)


@pytest.mark.parametrize(
    "query",
    [
        # pyoxigraph reads SERVICE:x as SERVICE :x (and SILENT:x as SILENT :x)
        "PREFIX : <http://evil.example/> SELECT * WHERE { SERVICE:x { ?s ?p ?o } }",
        "PREFIX : <http://evil.example/> SELECT * WHERE { service silent:x { ?s ?p ?o } }",
        "PREFIX : <http://evil.example/> PREFIX SILENT: <http://good.example/> "
        "SELECT * WHERE { SERVICE SILENT:x { ?s ?p ?o } }",
        "SELECT * WHERE { SERVICE?x { ?s ?p ?o } }",
        "SELECT * WHERE { SERVICE<http://evil.example/>{ ?s ?p ?o } }",
    ],
)
def test_glued_service_forms_are_refused(query: str) -> None:
    with pytest.raises(QueryRefused, match="SERVICE"):
        check(query, allowed_service_hosts=["good.example"])


@pytest.mark.parametrize("prefix", ["from", "service", "silent", "named", "drop"])
def test_a_prefix_named_like_a_keyword_still_works_in_triples(prefix: str) -> None:
    query = f"PREFIX {prefix}: <http://e/> SELECT * WHERE {{ ?s {prefix}:x ?o . ?o ?p {prefix}:y }}"
    assert check(query).dataset is None


def test_depth_bound() -> None:
    ok = "SELECT * WHERE " + "{" * MAX_DEPTH + "}" * MAX_DEPTH
    assert check(ok).form == "SELECT"
    deep = "SELECT * WHERE " + "{" * 5000 + "}" * 5000
    with pytest.raises(QueryRefused, match="nested deeper than 200"):
        check(deep)
    parens = "SELECT * WHERE { FILTER(" + "(" * 300 + "1" + ")" * 300 + ") }"
    with pytest.raises(QueryRefused, match="nested"):
        check(parens)


def test_operator_and_pattern_chains_that_overflow_the_engine_are_refused() -> None:
    with pytest.raises(QueryRefused, match="operators"):
        check("SELECT * WHERE { FILTER(1" + "+1" * 8000 + " > 0) }")
    with pytest.raises(QueryRefused, match="group-pattern"):
        check("SELECT * WHERE { BIND(1 AS ?x) " + "OPTIONAL { BIND(1 AS ?y) } " * 4000 + "}")


def test_length_bound_and_empty_query() -> None:
    with pytest.raises(QueryRefused, match="longer than"):
        check("SELECT * WHERE { ?s ?p ?o } #" + "x" * MAX_LENGTH)
    with pytest.raises(BadRequest, match="empty"):
        check("  \n ")


@pytest.mark.parametrize(
    ("query", "dataset"),
    [
        ("SELECT * WHERE { ?s ?p ?o }", None),
        (f"SELECT * FROM <{SEED}> WHERE {{ ?s ?p ?o }}", Dataset((SEED,), ())),
        (
            f"PREFIX cgg: <{GRAPH}> SELECT * FROM cgg:inferred FROM NAMED <{SEED}> "
            "WHERE { ?s ?p ?o }",
            Dataset((INFERRED_GRAPH,), (SEED,)),
        ),
        (f"SELECT * FROM NAMED <{SEED}> WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}", Dataset((), (SEED,))),
        (
            f"BASE <{GRAPH}> SELECT * FROM <seed/000> FROM <seed/000> WHERE {{ ?s ?p ?o }}",
            Dataset((SEED,), ()),
        ),
        (
            f"PREFIX : <{GRAPH}> SELECT * FROM:inferred FROM NAMED:inferred WHERE {{ }}",
            Dataset((INFERRED_GRAPH,), (INFERRED_GRAPH,)),
        ),
        # FROM inside a string or a comment is not a dataset clause
        ("SELECT * WHERE { ?s ?p 'FROM <http://x>' } # FROM <http://y>", None),
    ],
)
def test_dataset_extraction(query: str, dataset: Dataset | None) -> None:
    assert check(query).dataset == dataset


def test_from_needs_an_absolute_graph_iri() -> None:
    with pytest.raises(QueryRefused, match="absolute IRI"):
        check("SELECT * FROM <relative> WHERE { ?s ?p ?o }")
    with pytest.raises(QuerySyntaxError, match="undefined prefix nope:"):
        check("SELECT * FROM nope:g WHERE { ?s ?p ?o }")
    with pytest.raises(QuerySyntaxError, match="FROM must be followed"):
        check("SELECT * FROM ?g WHERE { ?s ?p ?o }")


def test_tokenizer_kinds() -> None:
    kinds = [(t.kind, t.text) for t in tokenize("SELECT ?x { <a#b> p:q 'it''s' } # c")]
    assert kinds == [
        ("word", "SELECT"), ("var", "?x"), ("punct", "{"), ("iri", "<a#b>"),
        ("pname", "p:q"), ("string", "'it'"), ("string", "'s'"), ("punct", "}"),
    ]


@pytest.mark.parametrize("module", [
    "coopgraph.sparql_guard", "coopgraph.results", "coopgraph.queries",
    "coopgraph.web.negotiate", "coopgraph.web.entities", "coopgraph.events"])
def test_module_doctests(module: str) -> None:
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(module))
    assert result.attempted > 0 and result.failed == 0


# --- properties ------------------------------------------------------------------------

_DANGEROUS = ["SERVICE", "LOAD", "INSERT", "DELETE", "DROP", "CLEAR", "WITH", "COPY"]
_text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=60)


@settings(max_examples=200, deadline=None)
@given(payload=_text)
def test_anything_inside_a_long_string_is_data(payload: str) -> None:
    body = payload.replace("\\", "").replace('"', "")
    query = f'SELECT * WHERE {{ ?s ?p """{body} SERVICE <http://e/> DROP ALL""" }}'
    assert check(query).form == "SELECT"


@settings(max_examples=200, deadline=None)
@given(payload=st.text(alphabet=st.characters(blacklist_characters="\n\r",
                                              blacklist_categories=("Cs",)), max_size=60))
def test_anything_inside_a_comment_is_data(payload: str) -> None:
    assert check(f"SELECT * WHERE {{ ?s ?p ?o }} # {payload} LOAD <http://e/>\n").form == "SELECT"


@settings(max_examples=200, deadline=None)
@given(
    keyword=st.sampled_from(_DANGEROUS),
    case=st.sampled_from([str.upper, str.lower, str.title]),
    before=st.sampled_from(["", " ", "\n", "\t", "# c\n", "} ", "{ "]),
)
def test_a_bare_dangerous_keyword_is_always_refused(keyword: str, case, before: str) -> None:  # type: ignore[no-untyped-def]
    query = f"SELECT * WHERE {{ ?s ?p ?o {before}{case(keyword)} <http://evil.example/> {{ }} }}"
    with pytest.raises(QueryRefused):
        check(query)


@settings(max_examples=100, deadline=None)
@given(depth=st.integers(min_value=MAX_DEPTH + 1, max_value=3 * MAX_DEPTH),
       bracket=st.sampled_from(["{}", "()", "[]"]))
def test_any_nesting_past_the_bound_is_refused(depth: int, bracket: str) -> None:
    with pytest.raises(QueryRefused):
        check("SELECT * WHERE { " + bracket[0] * depth + bracket[1] * depth + " }")
