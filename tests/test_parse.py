"""parse.py: every accepted format parses; bad input fails with file, line and column."""

from __future__ import annotations

import json
from pathlib import Path

import pyoxigraph as ox
import pytest

from coopgraph.errors import ParseError, UnsupportedFormat
from coopgraph.formats import RDF_FORMATS, rdf_format_for_path
from coopgraph.parse import SKOLEM_PREFIX, parse_bytes, parse_file, skolemise

TRIPLE = ox.Triple(
    ox.NamedNode("http://example.org/a"),
    ox.NamedNode("http://example.org/p"),
    ox.Literal("Lille", language="fr"),
)


@pytest.mark.parametrize("fmt", [f for f in RDF_FORMATS], ids=lambda f: f.name)
def test_every_rdf_format_round_trips(fmt):
    if fmt.quads:
        data = ox.serialize(
            [
                ox.Quad(
                    TRIPLE.subject,
                    TRIPLE.predicate,
                    TRIPLE.object,
                    ox.NamedNode("http://example.org/g"),
                )
            ],
            format=fmt.oxigraph,
        )
    else:
        data = ox.serialize([TRIPLE], format=fmt.oxigraph)
    quads = parse_bytes(data, fmt)
    assert [(q.subject, q.predicate, q.object) for q in quads] == [
        (TRIPLE.subject, TRIPLE.predicate, TRIPLE.object)
    ]


def test_turtle_syntax_error_names_line_and_column():
    data = b"@prefix ex: <http://example.org/> .\nex:a ex:p ex:b .\nex:c ex:p \n"
    with pytest.raises(ParseError) as info:
        parse_bytes(data, "turtle", source="entry.ttl")
    assert info.value.line == 4 or info.value.line == 3
    assert info.value.message.startswith("entry.ttl:")
    assert info.value.column is not None


@pytest.mark.parametrize(
    "data, expected",
    [
        (b"", "empty"),
        (b"   \n\t", "empty"),
        (b"\xff\xfe\x00\x01binary", "UTF-8"),
        (b"abc\x00def", "binary"),
    ],
)
def test_empty_and_binary_input(data, expected):
    with pytest.raises(ParseError, match=expected):
        parse_bytes(data, "turtle", source="x.ttl")


def test_remote_jsonld_context_is_refused_not_fetched():
    doc = {"@context": "http://127.0.0.1:9/context.jsonld", "@id": "http://example.org/a"}
    with pytest.raises(ParseError, match="remote JSON-LD context"):
        parse_bytes(json.dumps(doc).encode(), "jsonld")


def test_nested_remote_context_is_refused():
    doc = {
        "@context": [{"ex": "http://example.org/"}, "https://evil.example/ctx"],
        "@id": "http://example.org/a",
        "ex:p": "x",
    }
    with pytest.raises(ParseError, match="evil.example"):
        parse_bytes(json.dumps(doc).encode(), "jsonld")


def test_bundled_context_is_used_offline():
    doc = {
        "@context": "https://w3id.org/coopgraph/context.jsonld",
        "@id": "cgid:place/oujda",
        "rdfs:label": {"fr": "Oujda"},
    }
    quads = parse_bytes(json.dumps(doc).encode(), "jsonld")
    assert quads[0].subject == ox.NamedNode("https://w3id.org/coopgraph/id/place/oujda")


def test_invalid_json_has_position():
    with pytest.raises(ParseError) as info:
        parse_bytes(b'{"@id": "http://example.org/a",\n  "x": }', "jsonld")
    assert info.value.line == 2


def test_xml_external_entity_is_not_resolved(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    data = f"""<?xml version="1.0"?>
<!DOCTYPE r [<!ENTITY xxe SYSTEM "file://{secret}">]>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:e="http://e/">
<rdf:Description rdf:about="http://a"><e:p>&xxe;</e:p></rdf:Description></rdf:RDF>""".encode()
    try:
        quads = parse_bytes(data, "rdfxml")
    except ParseError:
        return
    assert all("TOP-SECRET" not in str(q.object) for q in quads)


def test_default_graph_is_moved_into_named_graph():
    quads = parse_bytes(
        b"<http://a> <http://b> <http://c> .",
        "ntriples",
        default_graph="https://w3id.org/coopgraph/graph/entry/x",
    )
    assert quads[0].graph_name == ox.NamedNode("https://w3id.org/coopgraph/graph/entry/x")


@pytest.mark.parametrize("name", ["entry.csv", "entry", "entry.docx"])
def test_unknown_extension(name):
    with pytest.raises(UnsupportedFormat):
        rdf_format_for_path(name)


def test_xml_entity_declarations_are_refused():
    data = b"""<?xml version="1.0"?>
<!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:e="http://e/">
<rdf:Description rdf:about="http://a"><e:p>&b;</e:p></rdf:Description></rdf:RDF>"""
    with pytest.raises(ParseError, match="ENTITY"):
        parse_bytes(data, "rdfxml")


def test_deeply_nested_xml_is_refused_before_parsing():
    depth = 5000
    body = "<e:p><rdf:Description>" * depth + "x" + "</rdf:Description></e:p>" * depth
    data = (
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:e="http://e/">'
        f'<rdf:Description rdf:about="http://a">{body}</rdf:Description></rdf:RDF>'
    ).encode()
    with pytest.raises(ParseError, match="nested"):
        parse_bytes(data, "rdfxml")


# --------------------------------------------------------------------------- skolemise

OFFER = Path(__file__).parent / "data" / "valid" / "new-offer.ttl"
ENTRY = "https://w3id.org/coopgraph/graph/entry/new-offer"


def _skolemised(data: bytes, fmt: str) -> set[ox.Quad]:
    return set(skolemise(parse_bytes(data, fmt), ENTRY))


def test_skolemise_replaces_every_blank_node_by_a_well_known_iri():
    raw = parse_file(OFFER)
    assert any(isinstance(t, ox.BlankNode) for q in raw for t in (q.subject, q.object))
    quads = skolemise(raw, ENTRY)
    assert len(set(quads)) == len(set(raw))
    assert not any(isinstance(t, ox.BlankNode) for q in quads for t in (q.subject, q.object))
    skolem = {t.value for q in quads for t in (q.subject, q.object)
              if isinstance(t, ox.NamedNode) and "/.well-known/genid/" in t.value}
    assert len(skolem) == len({t for q in raw for t in (q.subject, q.object)
                               if isinstance(t, ox.BlankNode)})
    assert all(iri.startswith(SKOLEM_PREFIX) for iri in skolem)
    assert SKOLEM_PREFIX == "https://w3id.org/coopgraph/id/.well-known/genid/"


def test_skolemise_is_deterministic_across_parses_syntaxes_and_order():
    """The same document written twice, or in another syntax or triple order, gives the
    same IRIs (the parser's blank-node labels differ on each parse)."""
    data = OFFER.read_bytes()
    first = _skolemised(data, "turtle")
    assert first == _skolemised(data, "turtle")
    nquads = ox.serialize(list(parse_bytes(data, "turtle")), format=ox.RdfFormat.N_QUADS)
    shuffled = b"\n".join(reversed(nquads.strip().split(b"\n"))) + b"\n"
    assert first == _skolemised(shuffled, "nquads")


def test_skolemise_depends_on_the_graph_and_keeps_unchanged_nodes():
    data = OFFER.read_bytes()
    first = _skolemised(data, "turtle")
    other = set(skolemise(parse_bytes(data, "turtle"), ENTRY + "-2"))
    genid = "/.well-known/genid/"

    def nodes(quads: set[ox.Quad]) -> set[str]:
        return {q.subject.value for q in quads if genid in q.subject.value}

    assert not nodes(first) & nodes(other)  # another entry: other IRIs
    edited = data.replace(b'"EUR"', b'"MAD"')
    changed = _skolemised(edited, "turtle")
    assert nodes(first) != nodes(changed)
    # the language requirement did not change: same IRI
    assert len(nodes(first) & nodes(changed)) >= 2


def test_skolemise_tells_apart_identical_blank_nodes_in_document_order():
    doc = b"<https://x.org/a> <https://x.org/p> [ <https://x.org/v> 1 ] , [ <https://x.org/v> 1 ] ."
    quads = skolemise(parse_bytes(doc, "turtle"), "https://x.org/g")
    objects = sorted(q.object.value for q in quads if q.predicate.value == "https://x.org/p")
    assert len(set(objects)) == 2
    assert objects[0] + "-1" == objects[1]
    assert set(quads) == set(skolemise(parse_bytes(doc, "turtle"), "https://x.org/g"))
